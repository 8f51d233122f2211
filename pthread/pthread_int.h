/* pthread/pthread_int.h — the internal interface of the pthread layer, grouped by file. */
#ifndef KILN_PTHREAD_INT_H
#define KILN_PTHREAD_INT_H

#include <pthread.h>
#include <stdint.h>

/* ---- pthread/pthread.c ---- */
struct __pthread {
  void *stack_top; /* offset 0: wasi_thread_start loads it into __stack_pointer */
  void *stack_low; /* offset 4: and this into __kiln_stack_limit (aot/abi.h §4) */
  void *tls;       /* this thread's TLS block */
  void *(*start)(void *);
  void *arg, *result;
  int32_t tid;     /* from thread-spawn; 0 for the main thread */
  int state;       /* RUNNING, EXITED, DETACHED: joiners wait on it */
  int cancel_pending;   /* pthread_cancel was called; sleeps wait on this word */
  int cancel_disabled;  /* pthread_setcancelstate */
  int cancel_async;     /* pthread_setcanceltype: recorded, acts as deferred */
  int *wait_word;       /* the word it sleeps on in a cancellation point, for pthread_cancel */
  struct __ptcb *cleanup; /* pthread_cleanup_push's handlers, the last pushed first */
  char name[16];          /* pthread_setname_np */
  void *tsd[PTHREAD_KEYS_MAX];
};
struct __pthread *kiln_pthread_self(void);

/* Cancellation points: acts on a pending request (exits with PTHREAD_CANCELED) */
void kiln_testcancel(void);
/* A cancellable sleep on *word begins: *word is recorded for
 * pthread_cancel to wake; returns the timeout to sleep with (timeout_ns, or a slice of it once
 * the app has canceled a thread, so that no wake-up can be missed) and sets *cut when it is a
 * slice. kiln_cancel_wait_end unrecords it. */
int64_t kiln_cancel_wait_begin(int *word, int64_t timeout_ns, int *cut);
void kiln_cancel_wait_end(void);
/* Whether the app ever created a thread: until then nothing can cancel a sleep but the thread
 * itself, and sleeps stay libc's (WASI poll_oneoff, where a restart policy can stop a waiting
 * instance: README "Restart policies, metrics, memory back to the host"; an app with threads is not restarted in place). */
extern int kiln_pthread_spawned;

/* ---- pthread/sync.c: time for the timed waits ---- */
int64_t kiln_ns_until(clockid_t clock, const struct timespec *abs); /* to abs on clock (<= 0: passed) */
int kiln_bad_timespec(const struct timespec *abs);                  /* tv_nsec out of range */
int64_t kiln_now_ns(void);                                          /* CLOCK_MONOTONIC */

/* ---- pthread/sync.c: a lock word of the futex kind (0 free, 1 held, 2 held with waiters) ---- */
void kiln_lock_word(int *w);
int kiln_trylock_word(int *w);
void kiln_unlock_word(int *w);

/* ---- pthread/malloc.c ---- */
/* The calling thread is ending: its cached blocks go back to malloc. */
void kiln_malloc_thread_end(void);

#endif
