/* tests/threads/once_tsd.c — pthread_once from many threads at once runs its function exactly
 * once, before any of them goes on; thread-specific data is each thread's own and its
 * destructor runs once per thread that set a value; detached threads run to the end (they
 * report through a counter and a condition variable); a joined thread's result comes back.
 * Prints "ok" and exits 0, or says what is wrong. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N 8
static pthread_once_t once = PTHREAD_ONCE_INIT;
static atomic_int init_calls, saw_uninit, dtor_calls, dtor_bad;
static int initialized;
static pthread_key_t key;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;
static int detached_done;

static void init(void) {
  atomic_fetch_add(&init_calls, 1);
  for (volatile int i = 0; i < 100000; i++) {} /* let the others pile up in pthread_once */
  initialized = 1;
}

static void dtor(void *v) {
  atomic_fetch_add(&dtor_calls, 1);
  if (*(long *)v < 0 || *(long *)v >= 2 * N) atomic_fetch_add(&dtor_bad, 1);
  free(v);
}

static void *worker(void *arg) {
  long id = (long)arg;
  pthread_once(&once, init);
  if (!initialized) atomic_fetch_add(&saw_uninit, 1);
  long *mine = malloc(sizeof *mine);
  *mine = id;
  pthread_setspecific(key, mine);
  for (int i = 0; i < 1000; i++) {
    long *v = pthread_getspecific(key);
    if (!v || *v != id) return (void *)-1L; /* another thread's value */
  }
  return (void *)(id + 100);
}

static void *detached(void *arg) {
  void *r = worker(arg);
  pthread_mutex_lock(&lock);
  detached_done += r == (void *)((long)arg + 100);
  pthread_cond_signal(&done_cv);
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(void) {
  if (pthread_key_create(&key, dtor) != 0) return 1;
  pthread_t t[N], d[N];
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (long i = 0; i < N; i++) {
    if (pthread_create(&t[i], NULL, worker, (void *)i) != 0) return 1;
    if (pthread_create(&d[i], &attr, detached, (void *)(N + i)) != 0) return 1;
  }
  int bad = 0;
  for (long i = 0; i < N; i++) {
    void *r;
    pthread_join(t[i], &r);
    if (r != (void *)(i + 100)) bad++;
  }
  pthread_mutex_lock(&lock);
  while (detached_done < N) pthread_cond_wait(&done_cv, &lock);
  pthread_mutex_unlock(&lock);
  /* the joinable ones have run their destructors; the detached ones may be finishing theirs,
   * on another CPU that the host may not be running just now: wait up to 10 s (1000 yields
   * were once not enough under TCG with -smp 2) */
  struct timespec t0, now;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  do {
    sched_yield();
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (atomic_load(&dtor_calls) < 2 * N && now.tv_sec - t0.tv_sec < 10);
  if (pthread_getspecific(key) != NULL) bad++; /* the main thread never set one */
  printf("init %d, uninit seen %d, bad results %d, destructors %d (bad %d)\n", atomic_load(&init_calls),
         atomic_load(&saw_uninit), bad, atomic_load(&dtor_calls), atomic_load(&dtor_bad));
  if (atomic_load(&init_calls) != 1 || atomic_load(&saw_uninit) || bad || atomic_load(&dtor_calls) != 2 * N ||
      atomic_load(&dtor_bad))
    return 1;
  puts("ok");
  return 0;
}
