/* tests/threads/pool.c — a threaded program as a user writes one, run beside its native build:
 * a pool of threads takes chunks of a generated data set from an atomic counter, sorts and sums
 * each in thread-local scratch (qsort, malloc, memcpy), keeps a line per chunk in a cache under
 * a read-write lock (strdup), meets at a barrier between the phases, and reports from every
 * worker under a mutex (stderr, in any order). stdout and DIR/result.txt are the same for every
 * run and every number of threads.
 *   pool THREADS DIR */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NCHUNK 64
#define CHUNK 20000
static unsigned data[NCHUNK * CHUNK];
static unsigned long long sums[NCHUNK];
static unsigned medians[NCHUNK];
static atomic_int next_chunk, done;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t phase;
static pthread_rwlock_t cache_lock = PTHREAD_RWLOCK_INITIALIZER;
static char *cache[NCHUNK];
static _Thread_local unsigned *scratch;
static _Thread_local int my_work;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static int nthreads = 4;

static int cmp(const void *a, const void *b) {
  unsigned x = *(const unsigned *)a, y = *(const unsigned *)b;
  return x < y ? -1 : x > y;
}
static void init_data(void) {
  unsigned s = 12345;
  for (int i = 0; i < NCHUNK * CHUNK; i++) s = s * 1103515245u + 12345u, data[i] = s >> 8;
}
static void *worker(void *arg) {
  long id = (long)arg;
  pthread_once(&once, init_data);
  scratch = malloc(CHUNK * sizeof *scratch);
  pthread_barrier_wait(&phase);
  int c;
  while ((c = atomic_fetch_add(&next_chunk, 1)) < NCHUNK) {
    memcpy(scratch, data + c * CHUNK, CHUNK * sizeof *scratch);
    qsort(scratch, CHUNK, sizeof *scratch, cmp);
    unsigned long long s = 0;
    for (int i = 0; i < CHUNK; i++) s += scratch[i];
    sums[c] = s, medians[c] = scratch[CHUNK / 2];
    char buf[64];
    snprintf(buf, sizeof buf, "chunk %d: median %u", c, medians[c]);
    pthread_rwlock_wrlock(&cache_lock);
    cache[c] = strdup(buf);
    pthread_rwlock_unlock(&cache_lock);
    my_work++;
    atomic_fetch_add(&done, 1);
  }
  pthread_barrier_wait(&phase);
  /* phase 2: every thread reads the cache */
  int seen = 0;
  pthread_rwlock_rdlock(&cache_lock);
  for (int i = 0; i < NCHUNK; i++) seen += cache[i] != NULL;
  pthread_rwlock_unlock(&cache_lock);
  pthread_mutex_lock(&out_lock);
  fprintf(stderr, "worker %ld did %d chunks, saw %d\n", id, my_work, seen);
  pthread_mutex_unlock(&out_lock);
  free(scratch);
  return (void *)(long)seen;
}
int main(int argc, char **argv) {
  if (argc != 3 || (nthreads = atoi(argv[1])) < 1 || nthreads > 64) {
    fprintf(stderr, "usage: pool THREADS DIR\n");
    return 2;
  }
  pthread_t t[64];
  pthread_barrier_init(&phase, NULL, nthreads);
  for (long i = 0; i < nthreads; i++) pthread_create(&t[i], NULL, worker, (void *)i);
  long total_seen = 0;
  for (int i = 0; i < nthreads; i++) {
    void *r;
    pthread_join(t[i], &r);
    total_seen += (long)r;
  }
  unsigned long long all = 0;
  for (int i = 0; i < NCHUNK; i++) all += sums[i];
  for (int i = 0; i < NCHUNK; i += 16) printf("%s\n", cache[i]);
  printf("done %d chunks, sum %llu, seen %ld\n", atomic_load(&done), all, total_seen);
  char path[256];
  snprintf(path, sizeof path, "%s/result.txt", argv[2]);
  FILE *f = fopen(path, "w");
  if (!f || fprintf(f, "sum %llu, medians %u %u %u\n", all, medians[0], medians[31], medians[63]) < 0 || fclose(f)) {
    perror(path);
    return 1;
  }
  return 0;
}
