/* tests/threads/sum.c — N threads add into a mutex-protected counter and a C11 atomic one,
 * each M times; the totals are exact or the program says which is wrong. Also: printf from
 * every thread (stdio under its lock) and malloc/free in the loop (malloc under its lock).
 *   sum [THREADS [ITERATIONS]]   (default 4 x 100000) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long long locked_total;
static atomic_llong atomic_total;
static int iterations = 100000;

static void *work(void *arg) {
  long id = (long)arg;
  for (int i = 0; i < iterations; i++) {
    pthread_mutex_lock(&lock);
    locked_total += id + 1;
    pthread_mutex_unlock(&lock);
    atomic_fetch_add(&atomic_total, id + 1);
    if (i % 1000 == 0) free(malloc((size_t)(16 + i % 4096)));
  }
  printf("thread %ld done\n", id);
  return (void *)(id * 10);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4;
  if (argc > 2) iterations = atoi(argv[2]);
  pthread_t t[64];
  if (n < 1 || n > 64) return 2;
  for (long i = 0; i < n; i++)
    if (pthread_create(&t[i], NULL, work, (void *)i) != 0) {
      printf("FAIL pthread_create %ld\n", i);
      return 1;
    }
  long long results = 0;
  for (int i = 0; i < n; i++) {
    void *r;
    if (pthread_join(t[i], &r) != 0) {
      printf("FAIL pthread_join %d\n", i);
      return 1;
    }
    results += (long)r;
  }
  long long want = (long long)iterations * n * (n + 1) / 2;
  printf("locked %lld atomic %lld want %lld results %lld\n", locked_total, (long long)atomic_total, want, results);
  return locked_total == want && atomic_total == want && results == 10LL * n * (n - 1) / 2 ? 0 : 1;
}
