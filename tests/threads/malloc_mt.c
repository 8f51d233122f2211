/* tests/threads/malloc_mt.c — malloc across threads (pthread/malloc.c): blocks made by one
 * thread and freed by another, of every size from 1 byte to past the per-thread caches' 4 KiB,
 * each filled with a pattern its maker's id and number give and checked by the thread that
 * frees it, with calloc, realloc and aligned_alloc churn in between; then many rounds of
 * short-lived threads that fill their caches and end, after which the memory must not have
 * grown: an ending thread's cached blocks must go back.
 *   malloc_mt [PAIRS BLOCKS ROUNDS]   (default 4 20000 300) */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int pairs = 4, blocks = 20000, rounds = 300;

#define RING 256
static struct {
  pthread_mutex_t lock;
  pthread_cond_t nonempty, nonfull;
  unsigned char *slot[RING];
  unsigned head, tail;
} ring = {.lock = PTHREAD_MUTEX_INITIALIZER, .nonempty = PTHREAD_COND_INITIALIZER, .nonfull = PTHREAD_COND_INITIALIZER};
static int bad;

static uint32_t next_rand(uint32_t *s) {
  *s ^= *s << 13, *s ^= *s >> 17, *s ^= *s << 5;
  return *s;
}

/* A block: its size (4 bytes), its maker and number (4 + 4), then bytes of a pattern of both. */
static unsigned char *make(uint32_t maker, uint32_t n, uint32_t size) {
  unsigned char *p = malloc(size);
  if (!p) return NULL;
  memcpy(p, &size, 4), memcpy(p + 4, &maker, 4), memcpy(p + 8, &n, 4);
  for (uint32_t i = 12; i < size; i++) p[i] = (unsigned char)(maker * 31 + n * 7 + i);
  return p;
}

static int check(const unsigned char *p) {
  uint32_t size, maker, n;
  memcpy(&size, p, 4), memcpy(&maker, p + 4, 4), memcpy(&n, p + 8, 4);
  for (uint32_t i = 12; i < size; i++)
    if (p[i] != (unsigned char)(maker * 31 + n * 7 + i)) return 0;
  return 1;
}

/* Into the ring, waiting for room (NULL: one consumer's end mark). */
static void ring_put(unsigned char *p) {
  pthread_mutex_lock(&ring.lock);
  while (ring.tail - ring.head == RING) pthread_cond_wait(&ring.nonfull, &ring.lock);
  ring.slot[ring.tail++ % RING] = p;
  pthread_cond_signal(&ring.nonempty);
  pthread_mutex_unlock(&ring.lock);
}

static void *producer(void *arg) {
  uint32_t id = (uint32_t)(intptr_t)arg, seed = 2463534242u + id;
  for (int n = 0; n < blocks; n++) {
    /* sizes 12..6000: most in the cached range, some past it */
    unsigned char *p = make(id, (uint32_t)n, 12 + next_rand(&seed) % 5989);
    /* churn of its own: calloc, realloc, aligned_alloc, freed by this thread */
    char *c = calloc(1 + next_rand(&seed) % 300, 3);
    if (c && c[0]) bad = 1;
    c = realloc(c, 1 + next_rand(&seed) % 2000);
    void *a = aligned_alloc(64, 128);
    if (!p || !c || !a || ((uintptr_t)a & 63)) {
      fprintf(stderr, "producer %u: allocation %d failed\n", id, n);
      bad = 1;
      free(p), free(c), free(a);
      break;
    }
    free(c), free(a);
    ring_put(p);
  }
  return NULL;
}

static void *consumer(void *arg) {
  (void)arg;
  long taken = 0;
  for (;;) {
    pthread_mutex_lock(&ring.lock);
    while (ring.tail == ring.head) pthread_cond_wait(&ring.nonempty, &ring.lock);
    unsigned char *p = ring.slot[ring.head++ % RING];
    pthread_cond_signal(&ring.nonfull);
    pthread_mutex_unlock(&ring.lock);
    if (!p) break; /* the end */
    if (!check(p)) bad = 1;
    free(p);
    taken++;
  }
  return (void *)taken;
}

/* A thread of the rounds: fills its cache (blocks of 1 KiB and 2 KiB, freed), then ends. */
static void *brief(void *arg) {
  (void)arg;
  void *p[96];
  for (int i = 0; i < 96; i++) p[i] = malloc(i % 2 ? 1024 : 2000);
  for (int i = 0; i < 96; i++) free(p[i]);
  return NULL;
}

int main(int argc, char **argv) {
  if (argc == 4) pairs = atoi(argv[1]), blocks = atoi(argv[2]), rounds = atoi(argv[3]);
  pthread_t pt[16], ct[16];
  if (pairs < 1 || pairs > 16) return 2;
  for (int i = 0; i < pairs; i++) {
    pthread_create(&pt[i], NULL, producer, (void *)(intptr_t)i);
    pthread_create(&ct[i], NULL, consumer, NULL);
  }
  for (int i = 0; i < pairs; i++) pthread_join(pt[i], NULL);
  for (int i = 0; i < pairs; i++) ring_put(NULL); /* one end mark per consumer */
  long checked = 0;
  for (int i = 0; i < pairs; i++) {
    void *r;
    pthread_join(ct[i], &r);
    checked += (long)r;
  }
  if (bad || checked != (long)pairs * blocks) {
    printf("malloc_mt: FAILED: %ld of %ld blocks checked, bad=%d\n", checked, (long)pairs * blocks, bad);
    return 1;
  }
  size_t pages_before = 0;
  for (int r = 0; r < rounds; r++) {
    if (r == 10) pages_before = __builtin_wasm_memory_size(0);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
      if (pthread_create(&t[i], NULL, brief, NULL)) {
        printf("malloc_mt: FAILED: round %d: no thread\n", r);
        return 1;
      }
    for (int i = 0; i < 4; i++) pthread_join(t[i], NULL);
  }
  size_t pages = __builtin_wasm_memory_size(0);
  /* A leak of what the ended threads cached would be about 64 KiB a thread (a page). */
  if (rounds > 10 && pages > pages_before + 16) {
    printf("malloc_mt: FAILED: memory grew from %zu to %zu pages over %d rounds of ending threads\n", pages_before,
           pages, rounds - 10);
    return 1;
  }
  printf("malloc_mt: %ld blocks made and freed across %d thread pairs checked; %d rounds of 4 ending threads: "
         "memory steady\n",
         checked, pairs, rounds);
  return 0;
}
