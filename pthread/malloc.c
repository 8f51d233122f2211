/* pthread/malloc.c — a thread-safe malloc over wasi-libc's dlmalloc, which has no locks: one
 * lock around it, and in front of the lock a cache of small blocks per thread, as glibc's
 * tcache. The app links with wasm-ld's --wrap for each function below
 * (pthread/kiln-pthread.rsp): every call of malloc, in the app and inside libc alike, reaches
 * __wrap_malloc, which calls the real one (__real_malloc).
 *
 * Why the cache: with the lock alone, every malloc and free of every thread took one lock.
 * examples/broker, hosted, with 8 sender threads on 2 CPUs: all of its futex calls were that
 * lock's, its threads slept and woke on it and preempted the load's, and it ran at 0.35 of
 * the native broker (glibc's arenas and tcache never contended). With the cache a thread
 * takes the lock once per batch of blocks.
 *
 * A block of dlmalloc's with usable size U (malloc_usable_size: a multiple of 16 less its
 * header, read without the lock, since the caller owns the block) serves any request up to U;
 * bin c holds blocks with U >= 16c, for requests of 16(c-1)+1..16c bytes, up to 4 KiB.
 * malloc takes from its thread's bin, or, the bin empty, fills it with a batch of blocks under
 * one lock; free puts a block into its thread's bin, and a full bin (or a thread holding more
 * than TC_BYTES in all) gives half of its blocks back under one lock. So blocks move between
 * threads (a producer's mallocs, a consumer's frees) in batches. A thread's blocks go back
 * when it ends (kiln_malloc_thread_end, from pthread.c), so what the caches hold is bounded
 * by the live threads: at most TC_BYTES (128 KiB) each. calloc, realloc and the aligned
 * allocations take the lock (their blocks are dlmalloc's, and free caches them as any). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pthread/pthread_int.h"

#define TC_BINS 256                 /* bins 1..256: requests up to 4 KiB */
#define TC_BIN_BYTES (32u << 10)    /* a bin holds about this much (4..64 blocks) */
#define TC_BYTES (128u << 10)       /* a thread's cache holds at most this much */

void *__real_malloc(size_t n);
void __real_free(void *p);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t align, size_t n);
int __real_posix_memalign(void **p, size_t align, size_t n);
size_t __real_malloc_usable_size(void *p);

static int malloc_lock;

/* A cached block's first word links it to the next in its bin. */
struct tcache {
  void *head[TC_BINS + 1];
  uint16_t count[TC_BINS + 1];
  uint32_t bytes; /* the blocks' sizes (16c for bin c) */
  int ended;      /* the thread is ending: no more caching (its TLS goes with its stack) */
};
static _Thread_local struct tcache tc;

static unsigned bin_cap(unsigned c) {
  unsigned n = TC_BIN_BYTES / (16 * c);
  return n < 4 ? 4 : n > 64 ? 64 : n;
}

static void bin_push(unsigned c, void *p) {
  *(void **)p = tc.head[c];
  tc.head[c] = p;
  tc.count[c]++;
  tc.bytes += 16 * c;
}

/* The first block of bin c, taken out; NULL if it is empty. */
static void *bin_pop(unsigned c) {
  void *p = tc.head[c];
  if (p) {
    tc.head[c] = *(void **)p;
    tc.count[c]--;
    tc.bytes -= 16 * c;
  }
  return p;
}

/* Gives back the first n blocks of bin c; under malloc's lock. */
static void bin_drain(unsigned c, unsigned n) {
  for (void *p; n && (p = bin_pop(c)); n--) __real_free(p);
}

/* The depot: chains of blocks that threads' bins gave up, per bin, for other threads' bins to
 * take whole. Under its lock a chain moves in a few instructions, where dlmalloc would take a
 * call per block under malloc's: a producer thread's mallocs are then mostly a consumer's
 * frees coming back. It holds at most DEPOT_BYTES in all; beyond, chains go to dlmalloc. */
#define DEPOT_CHAINS 8
#define DEPOT_BYTES (2u << 20)
static struct depot {
  int lock;
  unsigned n;
  void *chain[DEPOT_CHAINS];
  uint16_t count[DEPOT_CHAINS];
} depot[TC_BINS + 1];
static uint32_t depot_bytes;

/* Moves the first n blocks of bin c to the depot; 0 if it had no room. */
static int depot_put(unsigned c, unsigned n) {
  uint32_t bytes = 16 * c * n;
  if (__atomic_add_fetch(&depot_bytes, bytes, __ATOMIC_RELAXED) > DEPOT_BYTES) {
    __atomic_sub_fetch(&depot_bytes, bytes, __ATOMIC_RELAXED);
    return 0;
  }
  void *first = tc.head[c], **link = &tc.head[c];
  for (unsigned i = 0; i < n; i++) link = (void **)*link;
  struct depot *d = &depot[c];
  kiln_lock_word(&d->lock);
  if (d->n == DEPOT_CHAINS) {
    kiln_unlock_word(&d->lock);
    __atomic_sub_fetch(&depot_bytes, bytes, __ATOMIC_RELAXED);
    return 0;
  }
  tc.head[c] = *link; /* the rest of the bin */
  *link = NULL;
  d->chain[d->n] = first;
  d->count[d->n++] = (uint16_t)n;
  kiln_unlock_word(&d->lock);
  tc.count[c] -= n;
  tc.bytes -= bytes;
  return 1;
}

/* Fills the empty bin c with a chain from the depot; 0 if it had none. */
static int depot_take(unsigned c) {
  struct depot *d = &depot[c];
  if (!__atomic_load_n(&d->n, __ATOMIC_RELAXED)) return 0;
  kiln_lock_word(&d->lock);
  if (!d->n) {
    kiln_unlock_word(&d->lock);
    return 0;
  }
  d->n--;
  tc.head[c] = d->chain[d->n];
  tc.count[c] = d->count[d->n];
  kiln_unlock_word(&d->lock);
  tc.bytes += 16 * c * tc.count[c];
  __atomic_sub_fetch(&depot_bytes, 16 * c * tc.count[c], __ATOMIC_RELAXED);
  return 1;
}

#define MALLOC_LOCKED(type, call)   \
  do {                              \
    kiln_lock_word(&malloc_lock);   \
    type r_ = call;                 \
    kiln_unlock_word(&malloc_lock); \
    return r_;                      \
  } while (0)

void *__wrap_malloc(size_t n) {
  unsigned c = n ? (unsigned)((n + 15) >> 4) : 1;
  if (n > 16u * TC_BINS || tc.ended) MALLOC_LOCKED(void *, __real_malloc(n));
  void *p = bin_pop(c);
  if (p || (depot_take(c) && (p = bin_pop(c)))) return p;
  /* One for the caller and half a bin for the next calls, under one lock. */
  unsigned want = bin_cap(c) / 2;
  kiln_lock_word(&malloc_lock);
  p = __real_malloc(16 * c);
  for (unsigned i = 0; p && i < want && tc.bytes + 16 * c <= TC_BYTES; i++) {
    void *q = __real_malloc(16 * c);
    if (!q) break;
    bin_push(c, q);
  }
  kiln_unlock_word(&malloc_lock);
  return p;
}

void __wrap_free(void *p) {
  if (!p) return;
  size_t u = __real_malloc_usable_size(p);
  unsigned c = (unsigned)(u >> 4);
  if (tc.ended || c == 0 || c > TC_BINS) {
    kiln_lock_word(&malloc_lock);
    __real_free(p);
    kiln_unlock_word(&malloc_lock);
    return;
  }
  bin_push(c, p);
  if (tc.count[c] > bin_cap(c) || tc.bytes > TC_BYTES) {
    /* half the bin goes, or all of it when the thread holds too much */
    unsigned k = tc.count[c] > bin_cap(c) ? tc.count[c] / 2 : tc.count[c];
    if (depot_put(c, k)) return;
    kiln_lock_word(&malloc_lock);
    bin_drain(c, k);
    kiln_unlock_word(&malloc_lock);
  }
}

/* The thread is ending: its cached blocks go back, and its later frees (its own block, the
 * key destructors' and the stack's) go straight to dlmalloc. */
void kiln_malloc_thread_end(void) {
  tc.ended = 1;
  if (!tc.bytes) return;
  kiln_lock_word(&malloc_lock);
  for (unsigned c = 1; c <= TC_BINS; c++) bin_drain(c, tc.count[c]);
  kiln_unlock_word(&malloc_lock);
}

void *__wrap_calloc(size_t n, size_t size) { MALLOC_LOCKED(void *, __real_calloc(n, size)); }
void *__wrap_realloc(void *p, size_t n) { MALLOC_LOCKED(void *, __real_realloc(p, n)); }
void *__wrap_aligned_alloc(size_t align, size_t n) { MALLOC_LOCKED(void *, __real_aligned_alloc(align, n)); }
int __wrap_posix_memalign(void **p, size_t align, size_t n) { MALLOC_LOCKED(int, __real_posix_memalign(p, align, n)); }
size_t __wrap_malloc_usable_size(void *p) { return p ? __real_malloc_usable_size(p) : 0; }
