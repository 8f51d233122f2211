/* tests/threads/c11.c — C11 <threads.h>, semaphores, read-write locks and barriers from the
 * pthread layer, with results that must be exact:
 *   N C11 threads (thrd_create) count under an mtx_t and meet at a barrier after each of PHASES
 *   phases (every thread must see all N arrivals of the phase; one is the serial thread);
 *   readers under a read lock always see the pair a == b that writers change under the write
 *   lock; a semaphore hands over ITEMS posts one by one; call_once runs once, tss values are
 *   each thread's own and their destructors run; thrd_join returns each start's int; errno
 *   set by libc (strtol's ERANGE) and by the layer (sem_trywait's EAGAIN) reaches the app.
 * Prints "ok" and exits 0, or says what is wrong. */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <threads.h>
#include <time.h>

#define N 4
#define PHASES 50
#define ITEMS 2000
static mtx_t mtx;
static long counted;
static pthread_barrier_t barrier;
static atomic_int arrived[PHASES], serial, phase_bad;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static long pair_a, pair_b;
static atomic_int torn;
static sem_t items;
static once_flag once = ONCE_FLAG_INIT;
static atomic_int once_calls, dtor_calls;
static tss_t key;

static void init_once(void) { atomic_fetch_add(&once_calls, 1); }
static void dtor(void *v) { atomic_fetch_add(&dtor_calls, v != NULL); }

static int worker(void *arg) {
  int id = (int)(long)arg;
  call_once(&once, init_once);
  tss_set(key, arg + 1);
  for (int p = 0; p < PHASES; p++) {
    for (int i = 0; i < 100; i++) {
      mtx_lock(&mtx);
      counted++;
      mtx_unlock(&mtx);
    }
    pthread_rwlock_wrlock(&rw);
    pair_a++, pair_b++;
    pthread_rwlock_unlock(&rw);
    for (int i = 0; i < 10; i++) {
      pthread_rwlock_rdlock(&rw);
      if (pair_a != pair_b) atomic_fetch_add(&torn, 1);
      pthread_rwlock_unlock(&rw);
    }
    atomic_fetch_add(&arrived[p], 1);
    if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD) atomic_fetch_add(&serial, 1);
    if (atomic_load(&arrived[p]) != N) atomic_fetch_add(&phase_bad, 1);
  }
  if (tss_get(key) != arg + 1) return -1;
  return id + 1000;
}

static int poster(void *arg) {
  (void)arg;
  for (int i = 0; i < ITEMS; i++) sem_post(&items);
  return 0;
}

int main(void) {
  if (mtx_init(&mtx, mtx_plain) != thrd_success || tss_create(&key, dtor) != thrd_success ||
      pthread_barrier_init(&barrier, NULL, N) != 0 || sem_init(&items, 0, 0) != 0)
    return 1;
  thrd_t t[N], p;
  for (long i = 0; i < N; i++)
    if (thrd_create(&t[i], worker, (void *)i) != thrd_success) return 1;
  if (thrd_create(&p, poster, NULL) != thrd_success) return 1;
  int got = 0;
  for (int i = 0; i < ITEMS; i++) got += sem_wait(&items) == 0;
  int bad = 0, v = -1;
  for (int i = 0; i < N; i++) {
    int r;
    if (thrd_join(t[i], &r) != thrd_success || r != i + 1000) bad++;
  }
  thrd_join(p, NULL);
  sem_getvalue(&items, &v);
  int try_empty = sem_trywait(&items) == -1 && errno == EAGAIN;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += 50 * 1000000;
  if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
  int timed_out = sem_timedwait(&items, &until) == -1 && errno == ETIMEDOUT;
  errno = 0;
  int erange = strtol("99999999999999999999", NULL, 10) == 0x7fffffffL && errno == ERANGE;
  printf("counted %ld, serial %d, phase errors %d, torn %d, sem %d taken %d left, once %d, dtors %d, bad %d\n",
         counted, atomic_load(&serial), atomic_load(&phase_bad), atomic_load(&torn), got, v, atomic_load(&once_calls),
         atomic_load(&dtor_calls), bad);
  if (counted != (long)N * PHASES * 100 || atomic_load(&serial) != PHASES || atomic_load(&phase_bad) ||
      atomic_load(&torn) || got != ITEMS || v != 0 || !try_empty || !timed_out || atomic_load(&once_calls) != 1 ||
      atomic_load(&dtor_calls) != N || bad || pair_a != (long)N * PHASES || !erange)
    return 1;
  puts("ok");
  return 0;
}
