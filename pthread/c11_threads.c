/* pthread/c11_threads.c — C11 <threads.h> (the sysroot has the header, libc has none of it)
 * over the pthread layer: thrd_t is a pthread_t, mtx_t and cnd_t have the layout of
 * pthread_mutex_t and pthread_cond_t (musl's types), tss_t is a pthread_key_t. */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>

#include "pthread/pthread_int.h"

_Static_assert(sizeof(mtx_t) == sizeof(pthread_mutex_t), "mtx_t is musl's pthread_mutex_t");
_Static_assert(sizeof(cnd_t) == sizeof(pthread_cond_t), "cnd_t is musl's pthread_cond_t");

typedef struct c11_start {
  thrd_start_t fn;
  void *arg;
} c11_start;

/* A C11 start function returns int: carried through the pthread's void * result. */
static void *c11_trampoline(void *p) {
  c11_start s = *(c11_start *)p;
  free(p);
  return (void *)(intptr_t)s.fn(s.arg);
}

int thrd_create(thrd_t *t, thrd_start_t fn, void *arg) {
  c11_start *s = malloc(sizeof *s);
  if (!s) return thrd_nomem;
  *s = (c11_start){fn, arg};
  int e = pthread_create(t, NULL, c11_trampoline, s);
  if (e) free(s);
  return e == 0 ? thrd_success : e == ENOMEM ? thrd_nomem : thrd_error;
}

int thrd_join(thrd_t t, int *res) {
  void *r;
  if (pthread_join(t, &r) != 0) return thrd_error;
  if (res) *res = (int)(intptr_t)r;
  return thrd_success;
}

int thrd_detach(thrd_t t) { return pthread_detach(t) == 0 ? thrd_success : thrd_error; }
thrd_t thrd_current(void) { return pthread_self(); }
#undef thrd_equal
int thrd_equal(thrd_t a, thrd_t b) { return a == b; }
_Noreturn void thrd_exit(int res) { pthread_exit((void *)(intptr_t)res); }
void thrd_yield(void) { sched_yield(); }

int thrd_sleep(const struct timespec *d, struct timespec *rem) {
  if (nanosleep(d, rem) == 0) return 0;
  return errno == EINTR ? -1 : -2;
}

void call_once(once_flag *flag, void (*fn)(void)) { pthread_once(flag, fn); }

int mtx_init(mtx_t *m, int type) {
  pthread_mutexattr_t a;
  pthread_mutexattr_init(&a);
  pthread_mutexattr_settype(&a, type & mtx_recursive ? PTHREAD_MUTEX_RECURSIVE : PTHREAD_MUTEX_NORMAL);
  return pthread_mutex_init((pthread_mutex_t *)m, &a) == 0 ? thrd_success : thrd_error;
}
void mtx_destroy(mtx_t *m) { pthread_mutex_destroy((pthread_mutex_t *)m); }
int mtx_lock(mtx_t *m) { return pthread_mutex_lock((pthread_mutex_t *)m) == 0 ? thrd_success : thrd_error; }
int mtx_unlock(mtx_t *m) { return pthread_mutex_unlock((pthread_mutex_t *)m) == 0 ? thrd_success : thrd_error; }

int mtx_trylock(mtx_t *m) {
  int e = pthread_mutex_trylock((pthread_mutex_t *)m);
  return e == 0 ? thrd_success : e == EBUSY ? thrd_busy : thrd_error;
}

/* Tries again each time the lock word changes, until the CLOCK_REALTIME time abs. */
int mtx_timedlock(mtx_t *restrict m, const struct timespec *restrict abs) {
  for (;;) {
    int r = mtx_trylock(m);
    if (r != thrd_busy) return r;
    int64_t ns = kiln_ns_until(CLOCK_REALTIME, abs);
    if (ns <= 0) return thrd_timedout;
    int *word = (int *)&((pthread_mutex_t *)m)->__u.__vi[0];
    int seen = __atomic_load_n(word, __ATOMIC_SEQ_CST);
    if (seen) __builtin_wasm_memory_atomic_wait32(word, seen, ns);
  }
}

int cnd_init(cnd_t *c) { return pthread_cond_init((pthread_cond_t *)c, NULL) == 0 ? thrd_success : thrd_error; }
void cnd_destroy(cnd_t *c) { pthread_cond_destroy((pthread_cond_t *)c); }
int cnd_signal(cnd_t *c) { return pthread_cond_signal((pthread_cond_t *)c) == 0 ? thrd_success : thrd_error; }
int cnd_broadcast(cnd_t *c) { return pthread_cond_broadcast((pthread_cond_t *)c) == 0 ? thrd_success : thrd_error; }
int cnd_wait(cnd_t *c, mtx_t *m) {
  return pthread_cond_wait((pthread_cond_t *)c, (pthread_mutex_t *)m) == 0 ? thrd_success : thrd_error;
}
int cnd_timedwait(cnd_t *restrict c, mtx_t *restrict m, const struct timespec *restrict abs) {
  int e = pthread_cond_timedwait((pthread_cond_t *)c, (pthread_mutex_t *)m, abs);
  return e == 0 ? thrd_success : e == ETIMEDOUT ? thrd_timedout : thrd_error;
}

int tss_create(tss_t *key, tss_dtor_t dtor) { return pthread_key_create(key, dtor) == 0 ? thrd_success : thrd_error; }
void tss_delete(tss_t key) { pthread_key_delete(key); }
int tss_set(tss_t key, void *v) { return pthread_setspecific(key, v) == 0 ? thrd_success : thrd_error; }
void *tss_get(tss_t key) { return pthread_getspecific(key); }
