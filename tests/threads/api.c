/* tests/threads/api.c — the rest of the pthread layer's API that portable programs call: spin
 * locks under contention (no lost update), timed mutex and read-write lock waits that time out
 * while another thread holds the lock and succeed once it lets go, process-shared and clock
 * attributes read back as set, the attributes that only record, cancel state and atfork; a
 * thread on a stack of the app's (pthread_attr_setstack), the concurrency level, the mutex
 * protocol, and GNU's thread names, tryjoin and timedjoin.
 * Prints "api: ok", or the first check that failed, and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define CHECK(cond)                                               \
  do {                                                            \
    if (!(cond)) {                                                \
      printf("api: FAILED at line %d: %s\n", __LINE__, #cond);    \
      return 1;                                                   \
    }                                                             \
  } while (0)

static pthread_spinlock_t spin;
static long spun;
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_barrier_t gate;

/* Where a local of a thread on the app's stack lives. */
static _Alignas(16) char own_stack[256 << 10];
static void *where(void *arg) {
  volatile char local = 1;
  *(char *volatile *)arg = (char *)&local;
  return NULL;
}
/* Waits at the gate twice: running until then. */
static void *gated(void *arg) {
  (void)arg;
  pthread_barrier_wait(&gate);
  pthread_barrier_wait(&gate);
  return (void *)7;
}

static void *spinner(void *arg) {
  (void)arg;
  for (int i = 0; i < 100000; i++) {
    pthread_spin_lock(&spin);
    spun++;
    pthread_spin_unlock(&spin);
  }
  return NULL;
}

/* Holds the mutex and the write lock from the first barrier to the second. */
static void *holder(void *arg) {
  (void)arg;
  pthread_mutex_lock(&held);
  pthread_rwlock_wrlock(&rw);
  pthread_barrier_wait(&gate);
  pthread_barrier_wait(&gate);
  pthread_rwlock_unlock(&rw);
  pthread_mutex_unlock(&held);
  return NULL;
}

static struct timespec in_ms(long ms) {
  struct timespec t;
  clock_gettime(CLOCK_REALTIME, &t);
  t.tv_sec += ms / 1000;
  t.tv_nsec += ms % 1000 * 1000000;
  t.tv_sec += t.tv_nsec / 1000000000;
  t.tv_nsec %= 1000000000;
  return t;
}

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

int main(void) {
  pthread_t t[4];
  CHECK(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE) == 0);
  for (int i = 0; i < 4; i++) CHECK(pthread_create(&t[i], NULL, spinner, NULL) == 0);
  for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  CHECK(spun == 400000);
  CHECK(pthread_spin_trylock(&spin) == 0);
  CHECK(pthread_spin_trylock(&spin) == EBUSY);
  CHECK(pthread_spin_unlock(&spin) == 0 && pthread_spin_destroy(&spin) == 0);

  /* timed waits: time out while held (not before the deadline), succeed after */
  pthread_barrierattr_t ba;
  int v;
  CHECK(pthread_barrierattr_init(&ba) == 0 && pthread_barrierattr_setpshared(&ba, PTHREAD_PROCESS_SHARED) == 0);
  CHECK(pthread_barrierattr_getpshared(&ba, &v) == 0 && v == PTHREAD_PROCESS_SHARED);
  CHECK(pthread_barrier_init(&gate, &ba, 2) == 0 && pthread_barrierattr_destroy(&ba) == 0);
  CHECK(pthread_create(&t[0], NULL, holder, NULL) == 0);
  pthread_barrier_wait(&gate);
  double t0 = now_s();
  struct timespec dl = in_ms(50);
  CHECK(pthread_mutex_timedlock(&held, &dl) == ETIMEDOUT);
  CHECK(now_s() - t0 >= 0.045);
  dl = in_ms(20);
  CHECK(pthread_rwlock_timedrdlock(&rw, &dl) == ETIMEDOUT);
  dl = in_ms(20);
  CHECK(pthread_rwlock_timedwrlock(&rw, &dl) == ETIMEDOUT);
  struct timespec bad = {0, 1000000000};
  CHECK(pthread_mutex_timedlock(&held, &bad) == EINVAL);
  pthread_barrier_wait(&gate);
  dl = in_ms(10000);
  CHECK(pthread_mutex_timedlock(&held, &dl) == 0);
  dl = in_ms(10000);
  CHECK(pthread_rwlock_timedrdlock(&rw, &dl) == 0);
  dl = in_ms(10);
  CHECK(pthread_rwlock_timedwrlock(&rw, &dl) == ETIMEDOUT); /* we read it ourselves */
  CHECK(pthread_rwlock_unlock(&rw) == 0 && pthread_mutex_unlock(&held) == 0);
  pthread_join(t[0], NULL);

  /* a recursive mutex through timedlock */
  pthread_mutexattr_t ma;
  pthread_mutex_t rec;
  CHECK(pthread_mutexattr_init(&ma) == 0 && pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE) == 0);
  CHECK(pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED) == 0);
  CHECK(pthread_mutexattr_gettype(&ma, &v) == 0 && v == PTHREAD_MUTEX_RECURSIVE);
  CHECK(pthread_mutexattr_getpshared(&ma, &v) == 0 && v == PTHREAD_PROCESS_SHARED);
  CHECK(pthread_mutexattr_setpshared(&ma, 7) == EINVAL);
  CHECK(pthread_mutex_init(&rec, &ma) == 0);
  dl = in_ms(10);
  CHECK(pthread_mutex_lock(&rec) == 0 && pthread_mutex_timedlock(&rec, &dl) == 0);
  CHECK(pthread_mutex_unlock(&rec) == 0 && pthread_mutex_unlock(&rec) == 0 && pthread_mutex_unlock(&rec) == EPERM);

  pthread_condattr_t ca;
  clockid_t clock;
  CHECK(pthread_condattr_init(&ca) == 0 && pthread_condattr_getclock(&ca, &clock) == 0 && clock == CLOCK_REALTIME);
  CHECK(pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED) == 0);
  CHECK(pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) == 0);
  CHECK(pthread_condattr_getclock(&ca, &clock) == 0 && clock == CLOCK_MONOTONIC);
  CHECK(pthread_condattr_getpshared(&ca, &v) == 0 && v == PTHREAD_PROCESS_SHARED);
  pthread_rwlockattr_t ra;
  CHECK(pthread_rwlockattr_init(&ra) == 0 && pthread_rwlockattr_getpshared(&ra, &v) == 0 && v == PTHREAD_PROCESS_PRIVATE);
  CHECK(pthread_rwlockattr_setpshared(&ra, PTHREAD_PROCESS_SHARED) == 0 && pthread_rwlockattr_destroy(&ra) == 0);

  pthread_attr_t a;
  size_t n;
  CHECK(pthread_attr_init(&a) == 0 && pthread_attr_setguardsize(&a, 8192) == 0);
  CHECK(pthread_attr_getguardsize(&a, &n) == 0 && n == 8192);
  CHECK(pthread_attr_setscope(&a, PTHREAD_SCOPE_SYSTEM) == 0 && pthread_attr_setscope(&a, PTHREAD_SCOPE_PROCESS) == ENOTSUP);
  CHECK(pthread_attr_getscope(&a, &v) == 0 && v == PTHREAD_SCOPE_SYSTEM);
  CHECK(pthread_attr_setinheritsched(&a, PTHREAD_EXPLICIT_SCHED) == 0 && pthread_attr_setinheritsched(&a, 9) == EINVAL);
  CHECK(pthread_attr_setstacksize(&a, 1 << 20) == 0 && pthread_attr_getstacksize(&a, &n) == 0 && n == 1 << 20);
  CHECK(pthread_create(&t[0], &a, holder, NULL) == 0 && pthread_attr_destroy(&a) == 0);
  pthread_barrier_wait(&gate);
  pthread_barrier_wait(&gate);
  pthread_join(t[0], NULL);

  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &v) == 0 && v == PTHREAD_CANCEL_ENABLE);
  CHECK(pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &v) == 0 && v == PTHREAD_CANCEL_DISABLE);
  CHECK(pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, &v) == 0 && v == PTHREAD_CANCEL_DEFERRED);
  CHECK(pthread_setcancelstate(5, NULL) == EINVAL);
  pthread_testcancel();
  CHECK(pthread_atfork(NULL, NULL, NULL) == 0);

  void *addr, *res;
  char *seen = NULL;
  CHECK(pthread_attr_init(&a) == 0 && pthread_attr_setstack(&a, own_stack, sizeof own_stack) == 0);
  CHECK(pthread_attr_getstack(&a, &addr, &n) == 0 && addr == own_stack && n == sizeof own_stack);
  CHECK(pthread_create(&t[0], &a, where, &seen) == 0 && pthread_join(t[0], NULL) == 0);
  CHECK(seen >= own_stack && seen < own_stack + sizeof own_stack);
  CHECK(pthread_attr_destroy(&a) == 0);
  CHECK(pthread_setconcurrency(4) == 0 && pthread_getconcurrency() == 4 && pthread_setconcurrency(-1) == EINVAL);
  CHECK(pthread_mutexattr_init(&ma) == 0 && pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_NONE) == 0);
  CHECK(pthread_mutexattr_getprotocol(&ma, &v) == 0 && v == PTHREAD_PRIO_NONE);
  v = pthread_mutexattr_setprotocol(&ma, PTHREAD_PRIO_INHERIT); /* native Linux has it */
  CHECK(v == 0 || v == ENOTSUP);

  char name[16];
  CHECK(pthread_setname_np(pthread_self(), "main-thread") == 0);
  CHECK(pthread_getname_np(pthread_self(), name, sizeof name) == 0 && !strcmp(name, "main-thread"));
  CHECK(pthread_setname_np(pthread_self(), "a name far too long") == ERANGE);
  CHECK(pthread_getname_np(pthread_self(), name, 4) == ERANGE);
  CHECK(pthread_create(&t[0], NULL, gated, NULL) == 0);
  CHECK(pthread_setname_np(t[0], "worker") == 0 && pthread_getname_np(t[0], name, sizeof name) == 0 && !strcmp(name, "worker"));
  CHECK(pthread_tryjoin_np(t[0], &res) == EBUSY);
  struct timespec soon;
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_nsec += 20000000;
  if (soon.tv_nsec >= 1000000000) soon.tv_sec++, soon.tv_nsec -= 1000000000;
  CHECK(pthread_timedjoin_np(t[0], &res, &soon) == ETIMEDOUT);
  pthread_barrier_wait(&gate);
  pthread_barrier_wait(&gate);
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_sec += 60;
  CHECK(pthread_timedjoin_np(t[0], &res, &soon) == 0 && res == (void *)7);
  printf("api: ok\n");
  return 0;
}
