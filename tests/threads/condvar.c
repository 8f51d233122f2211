/* tests/threads/condvar.c — producer/consumer over a small bounded queue with one mutex and
 * two condition variables: P producers put ITEMS numbers each, C consumers take them all; the
 * sum and count of what was taken must be exactly what was put. Then a timed wait that
 * nobody signals must time out (ETIMEDOUT) after about its time, not before.
 *   condvar [PRODUCERS CONSUMERS ITEMS]   (default 3 3 20000) */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define QSIZE 8
static int queue[QSIZE], head, count;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t not_full = PTHREAD_COND_INITIALIZER, not_empty = PTHREAD_COND_INITIALIZER;
static int items = 20000, producers_left;
static long long taken_sum, taken_count;

static void *producer(void *arg) {
  long id = (long)arg;
  for (int i = 1; i <= items; i++) {
    pthread_mutex_lock(&lock);
    while (count == QSIZE) pthread_cond_wait(&not_full, &lock);
    queue[(head + count++) % QSIZE] = (int)(id * items + i);
    pthread_cond_signal(&not_empty);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  if (--producers_left == 0) pthread_cond_broadcast(&not_empty); /* consumers may stop */
  pthread_mutex_unlock(&lock);
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  long long sum = 0, n = 0;
  for (;;) {
    pthread_mutex_lock(&lock);
    while (count == 0 && producers_left > 0) pthread_cond_wait(&not_empty, &lock);
    if (count == 0) {
      pthread_mutex_unlock(&lock);
      break;
    }
    sum += queue[head];
    head = (head + 1) % QSIZE, count--, n++;
    pthread_cond_signal(&not_full);
    pthread_mutex_unlock(&lock);
  }
  pthread_mutex_lock(&lock);
  taken_sum += sum, taken_count += n;
  pthread_mutex_unlock(&lock);
  return NULL;
}

int main(int argc, char **argv) {
  int np = argc > 3 ? atoi(argv[1]) : 3, nc = argc > 3 ? atoi(argv[2]) : 3;
  if (argc > 3) items = atoi(argv[3]);
  pthread_t p[16], c[16];
  if (np < 1 || np > 16 || nc < 1 || nc > 16) return 2;
  producers_left = np;
  for (long i = 0; i < nc; i++) pthread_create(&c[i], NULL, consumer, NULL);
  for (long i = 0; i < np; i++) pthread_create(&p[i], NULL, producer, (void *)i);
  for (int i = 0; i < np; i++) pthread_join(p[i], NULL);
  for (int i = 0; i < nc; i++) pthread_join(c[i], NULL);
  long long want_sum = 0;
  for (long id = 0; id < np; id++)
    for (int i = 1; i <= items; i++) want_sum += id * items + i;
  printf("taken %lld items, sum %lld (want %lld, %lld)\n", taken_count, taken_sum, (long long)np * items, want_sum);
  if (taken_count != (long long)np * items || taken_sum != want_sum) return 1;

  /* a timed wait nobody signals */
  struct timespec t0, t1, until;
  clock_gettime(CLOCK_REALTIME, &t0);
  until = t0;
  until.tv_nsec += 200 * 1000000;
  if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
  pthread_mutex_lock(&lock);
  int r;
  do r = pthread_cond_timedwait(&not_empty, &lock, &until); while (r == 0); /* spurious wake-ups are allowed */
  pthread_mutex_unlock(&lock);
  clock_gettime(CLOCK_REALTIME, &t1);
  long ms = (long)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
  printf("timedwait: %s after %s200 ms\n", r == ETIMEDOUT ? "ETIMEDOUT" : "no timeout", ms >= 195 ? ">= " : "< ");
  return r == ETIMEDOUT && ms >= 195 ? 0 : 1;
}
