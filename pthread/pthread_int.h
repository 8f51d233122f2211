/* pthread/pthread_int.h — the internal interface of the pthread layer, grouped by file. */
#ifndef KILN_PTHREAD_INT_H
#define KILN_PTHREAD_INT_H

#include <pthread.h>
#include <stdint.h>

/* ---- pthread/pthread.c ---- */
struct __pthread {
  void *stack_top; /* offset 0: wasi_thread_start loads it into __stack_pointer */
  void *tls;       /* this thread's TLS block */
  void *(*start)(void *);
  void *arg, *result;
  int32_t tid;     /* from thread-spawn; 0 for the main thread */
  int state;       /* RUNNING, EXITED, DETACHED: joiners wait on it */
  void *tsd[PTHREAD_KEYS_MAX];
};
struct __pthread *kiln_pthread_self(void);

/* ---- pthread/sync.c: a lock word of the futex kind (0 free, 1 held, 2 held with waiters) ---- */
void kiln_lock_word(int *w);
int kiln_trylock_word(int *w);
void kiln_unlock_word(int *w);

/* ---- pthread/malloc.c ---- */
/* The calling thread is ending: its cached blocks go back to malloc. */
void kiln_malloc_thread_end(void);

#endif
