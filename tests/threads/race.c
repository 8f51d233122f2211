/* tests/threads/race.c — many rounds of short-lived threads racing on shared data: each round
 * starts THREADS threads that each add 1 ITER times to a counter under a mutex, to a C11
 * atomic, and through a compare-exchange loop, and pass a token around a ring with
 * memory.atomic.wait/notify (pthread condition variables); a single lost update or handoff
 * fails the round. Run under many rounds, it catches missing atomicity or ordering.
 *   race [ROUNDS THREADS ITER]   (default 200 4 2000) */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

static int threads = 4, iter = 2000;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static long locked;
static atomic_long added, cas;
static int turn, passes; /* the ring: thread `turn` may pass the token */

static void *racer(void *arg) {
  int id = (int)(long)arg;
  for (int i = 0; i < iter; i++) {
    pthread_mutex_lock(&lock);
    locked++;
    pthread_mutex_unlock(&lock);
    atomic_fetch_add_explicit(&added, 1, memory_order_relaxed);
    long v = atomic_load(&cas);
    while (!atomic_compare_exchange_weak(&cas, &v, v + 1)) {}
  }
  for (int k = 0; k < 10; k++) { /* ten laps of the ring */
    pthread_mutex_lock(&lock);
    while (turn != id) pthread_cond_wait(&turn_cv, &lock);
    passes++;
    turn = (turn + 1) % threads;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&lock);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int rounds = argc > 3 ? atoi(argv[1]) : 200;
  if (argc > 3) threads = atoi(argv[2]), iter = atoi(argv[3]);
  pthread_t t[32];
  if (threads < 1 || threads > 32) return 2;
  for (int r = 0; r < rounds; r++) {
    locked = 0, passes = 0, turn = 0;
    atomic_store(&added, 0);
    atomic_store(&cas, 0);
    for (long i = 0; i < threads; i++)
      if (pthread_create(&t[i], NULL, racer, (void *)i) != 0) {
        printf("round %d: pthread_create failed\n", r);
        return 1;
      }
    for (int i = 0; i < threads; i++) pthread_join(t[i], NULL);
    long want = (long)threads * iter;
    if (locked != want || atomic_load(&added) != want || atomic_load(&cas) != want || passes != 10 * threads) {
      printf("round %d: locked %ld atomic %ld cas %ld passes %d, want %ld and %d\n", r, locked, atomic_load(&added),
             atomic_load(&cas), passes, want, 10 * threads);
      return 1;
    }
  }
  printf("%d rounds of %d threads: no lost update\n", rounds, threads);
  return 0;
}
