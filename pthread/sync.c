/* pthread/sync.c — mutexes, condition variables, read-write locks, barriers and semaphores
 * over memory.atomic.wait32/notify.
 *
 * A lock word has three states (Drepper, "Futexes Are Tricky", mutex 2): 0 free, 1 held,
 * 2 held and maybe waited for, so an unlock without waiters makes no runtime call. A mutex is
 * musl's pthread_mutex_t: word 0 the lock, word 1 the owner (tid + 1, recursive and
 * error-checking mutexes), word 2 the recursion depth, word 3 the type. A condition variable
 * is a sequence number that signal and broadcast bump, and waiters sleep on, and a count of
 * its waiters, so that a signal nobody waits for makes no runtime call either. */
#include <errno.h>
#include <sched.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdint.h>
#include <time.h>

#include "pthread/pthread_int.h"

/* Loads a contended lock word spins on before it sleeps: malloc's lock and the app's mutexes
 * guard a few hundred instructions, so on several CPUs the holder usually lets go within the
 * spin, and the sleep (a runtime call, a futex wait hosted) and the unlock's wake are saved. */
#define LOCK_SPINS 100

#define FAR_S 4000000000ll /* seconds (126 years): a wait this long or longer is a wait for ever */

/* Nanoseconds from now on `clock` to the absolute time abs (<= 0: it has passed). */
int64_t kiln_ns_until(clockid_t clock, const struct timespec *abs) {
  struct timespec now;
  clock_gettime(clock, &now);
  int64_t s = (int64_t)abs->tv_sec - now.tv_sec; /* far times (INT64_MAX seconds) without overflow */
  if (s > FAR_S || s < -FAR_S) return s > 0 ? FAR_S * 1000000000 : -1;
  return s * 1000000000 + (abs->tv_nsec - now.tv_nsec);
}

int kiln_bad_timespec(const struct timespec *abs) { return abs->tv_nsec < 0 || abs->tv_nsec >= 1000000000; }

int64_t kiln_now_ns(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* Takes the lock word: 0; with abs, ETIMEDOUT once CLOCK_REALTIME passes it (EINVAL for a bad
 * abs, when the word is held). */
static int lock_word(int *w, const struct timespec *abs) {
  int c = 0;
  if (__atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return 0;
  if (abs && kiln_bad_timespec(abs)) return EINVAL;
  for (int i = 0; i < LOCK_SPINS; i++) {
    c = __atomic_load_n(w, __ATOMIC_RELAXED);
    if (c == 0 && __atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return 0;
  }
  if (c != 2) c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
  while (c != 0) {
    int64_t ns = -1;
    if (abs && (ns = kiln_ns_until(CLOCK_REALTIME, abs)) <= 0) return ETIMEDOUT;
    __builtin_wasm_memory_atomic_wait32(w, 2, ns);
    c = __atomic_exchange_n(w, 2, __ATOMIC_ACQUIRE);
  }
  return 0;
}

void kiln_lock_word(int *w) { lock_word(w, NULL); }

int kiln_trylock_word(int *w) {
  int c = 0;
  return __atomic_compare_exchange_n(w, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void kiln_unlock_word(int *w) {
  if (__atomic_exchange_n(w, 0, __ATOMIC_RELEASE) == 2) __builtin_wasm_memory_atomic_notify(w, 1);
}

#define ATTR_PSHARED 0x80u /* in an attribute word: PTHREAD_PROCESS_SHARED was set */

#define M_LOCK(m) ((int *)&(m)->__u.__vi[0])
#define M_OWNER(m) ((m)->__u.__i[1])
#define M_DEPTH(m) ((m)->__u.__i[2])
#define M_TYPE(m) ((m)->__u.__i[3])

int pthread_mutexattr_init(pthread_mutexattr_t *a) {
  a->__attr = PTHREAD_MUTEX_NORMAL;
  return 0;
}
int pthread_mutexattr_destroy(pthread_mutexattr_t *a) { return 0; }
int pthread_mutexattr_settype(pthread_mutexattr_t *a, int type) {
  if (type < PTHREAD_MUTEX_NORMAL || type > PTHREAD_MUTEX_ERRORCHECK) return EINVAL;
  a->__attr = (a->__attr & ATTR_PSHARED) | (unsigned)type;
  return 0;
}
int pthread_mutexattr_gettype(const pthread_mutexattr_t *a, int *type) {
  *type = (int)(a->__attr & ~ATTR_PSHARED);
  return 0;
}

int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *a) {
  *m = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
  M_TYPE(m) = a ? (int)(a->__attr & ~ATTR_PSHARED) : PTHREAD_MUTEX_NORMAL;
  return 0;
}
int pthread_mutex_destroy(pthread_mutex_t *m) { return 0; }

static int me(void) { return kiln_pthread_self()->tid + 1; }

/* The checks of recursive and error-checking mutexes; 0 to go on with the lock word, else
 * the result. */
static int owner_check(pthread_mutex_t *m, int *result) {
  if (M_TYPE(m) == PTHREAD_MUTEX_NORMAL || M_OWNER(m) != me()) return 0;
  if (M_TYPE(m) == PTHREAD_MUTEX_ERRORCHECK) return *result = EDEADLK, 1;
  M_DEPTH(m)++;
  return *result = 0, 1;
}

int pthread_mutex_lock(pthread_mutex_t *m) {
  int r;
  if (owner_check(m, &r)) return r;
  kiln_lock_word(M_LOCK(m));
  if (M_TYPE(m) != PTHREAD_MUTEX_NORMAL) M_OWNER(m) = me(), M_DEPTH(m) = 1;
  return 0;
}

int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abs) {
  int r;
  if (owner_check(m, &r)) return r;
  if ((r = lock_word(M_LOCK(m), abs))) return r;
  if (M_TYPE(m) != PTHREAD_MUTEX_NORMAL) M_OWNER(m) = me(), M_DEPTH(m) = 1;
  return 0;
}

int pthread_mutex_trylock(pthread_mutex_t *m) {
  int r;
  if (M_TYPE(m) == PTHREAD_MUTEX_RECURSIVE && owner_check(m, &r)) return r;
  if (!kiln_trylock_word(M_LOCK(m))) return EBUSY;
  if (M_TYPE(m) != PTHREAD_MUTEX_NORMAL) M_OWNER(m) = me(), M_DEPTH(m) = 1;
  return 0;
}

int pthread_mutex_unlock(pthread_mutex_t *m) {
  if (M_TYPE(m) != PTHREAD_MUTEX_NORMAL) {
    if (M_OWNER(m) != me()) return EPERM;
    if (--M_DEPTH(m) > 0) return 0;
    M_OWNER(m) = 0;
  }
  kiln_unlock_word(M_LOCK(m));
  return 0;
}

#define C_SEQ(c) ((int *)&(c)->__u.__vi[0])
#define C_CLOCK(c) ((c)->__u.__i[1]) /* 1: CLOCK_MONOTONIC, else CLOCK_REALTIME */
#define C_WAITERS(c) ((int *)&(c)->__u.__vi[2])

int pthread_condattr_init(pthread_condattr_t *a) {
  a->__attr = 0;
  return 0;
}
int pthread_condattr_destroy(pthread_condattr_t *a) { return 0; }
int pthread_condattr_setclock(pthread_condattr_t *a, clockid_t clock) {
  if (clock != CLOCK_MONOTONIC && clock != CLOCK_REALTIME) return EINVAL;
  a->__attr = (a->__attr & ATTR_PSHARED) | (clock == CLOCK_MONOTONIC);
  return 0;
}

int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *a) {
  *c = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
  C_CLOCK(c) = a ? (int)(a->__attr & 1) : 0;
  return 0;
}
int pthread_cond_destroy(pthread_cond_t *c) { return 0; }

/* Wait for the sequence to move past the value read under the mutex: a signal between the
 * unlock and the wait changes it, so the wait returns at once and nothing is lost. Spurious
 * wake-ups are allowed, as POSIX says. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, int64_t timeout_ns) {
  kiln_testcancel();
  /* Counted before the sequence is read (both sequentially consistent, as in signal, the
   * other way round): a signal that comes after this read sees the count and notifies. */
  __atomic_add_fetch(C_WAITERS(c), 1, __ATOMIC_SEQ_CST);
  int seq = __atomic_load_n(C_SEQ(c), __ATOMIC_SEQ_CST);
  int depth = M_DEPTH(m); /* a recursive mutex comes back at its depth */
  if (M_TYPE(m) != PTHREAD_MUTEX_NORMAL) M_DEPTH(m) = 1;
  pthread_mutex_unlock(m);
  /* Before sleeping, the CPU to whoever is runnable: often the thread that will signal. A
   * sleep and its wake-up cost a runtime call each (a futex call each hosted), and the wake-up
   * preempts the signaller: examples/broker's receivers (hosted, transfer 10/10 on 2 CPUs)
   * slept and woke for every message, at 0.5 of the native broker, whose receivers never slept. */
  if (__atomic_load_n(C_SEQ(c), __ATOMIC_SEQ_CST) == seq) sched_yield();
  /* A cancellation point: a request wakes the sleep, and acts once the mutex is held again
   * (POSIX: the cleanup handlers run with it). A slice that ends early is a spurious wake-up. */
  int cut = 0, r = 0;
  if (__atomic_load_n(C_SEQ(c), __ATOMIC_SEQ_CST) == seq) { /* a signal during the yield: no sleep */
    int64_t ns = kiln_cancel_wait_begin(C_SEQ(c), timeout_ns, &cut);
    if (ns) r = __builtin_wasm_memory_atomic_wait32(C_SEQ(c), seq, ns);
    kiln_cancel_wait_end();
  }
  __atomic_sub_fetch(C_WAITERS(c), 1, __ATOMIC_SEQ_CST);
  pthread_mutex_lock(m);
  if (M_TYPE(m) != PTHREAD_MUTEX_NORMAL) M_DEPTH(m) = depth;
  kiln_testcancel();
  return r == 2 && !cut ? ETIMEDOUT : 0;
}

int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m) { return cond_wait(c, m, -1); }

int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abs) {
  if (kiln_bad_timespec(abs)) return EINVAL;
  int64_t ns = kiln_ns_until(C_CLOCK(c) == 1 ? CLOCK_MONOTONIC : CLOCK_REALTIME, abs);
  if (ns <= 0) return ETIMEDOUT;
  return cond_wait(c, m, ns);
}

/* A notify is a runtime call (a futex wake hosted; in the VM the scheduler's lock and a walk
 * of its blocked threads): the broker signals once per message, mostly with nobody waiting. */
int pthread_cond_signal(pthread_cond_t *c) {
  __atomic_add_fetch(C_SEQ(c), 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(C_WAITERS(c), __ATOMIC_SEQ_CST)) __builtin_wasm_memory_atomic_notify(C_SEQ(c), 1);
  return 0;
}

int pthread_cond_broadcast(pthread_cond_t *c) {
  __atomic_add_fetch(C_SEQ(c), 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(C_WAITERS(c), __ATOMIC_SEQ_CST)) __builtin_wasm_memory_atomic_notify(C_SEQ(c), UINT32_MAX);
  return 0;
}

/* ---- read-write locks: a lock word, the readers, a writer flag, and a sequence that every
 * unlock bumps and the blocked sleep on ---- */

#define RW_LOCK(rw) ((int *)&(rw)->__u.__vi[0])
#define RW_READERS(rw) ((rw)->__u.__i[1])
#define RW_WRITER(rw) ((rw)->__u.__i[2])
#define RW_SEQ(rw) ((int *)&(rw)->__u.__vi[3])

int pthread_rwlock_init(pthread_rwlock_t *rw, const pthread_rwlockattr_t *a) {
  *rw = (pthread_rwlock_t)PTHREAD_RWLOCK_INITIALIZER;
  return 0;
}
int pthread_rwlock_destroy(pthread_rwlock_t *rw) { return 0; }

/* Takes rw for reading (writer 0) or writing; with try, EBUSY instead of waiting; with abs,
 * ETIMEDOUT once CLOCK_REALTIME passes it. */
static int rw_take(pthread_rwlock_t *rw, int writer, int try, const struct timespec *abs) {
  if (abs && kiln_bad_timespec(abs)) return EINVAL;
  for (;;) {
    kiln_lock_word(RW_LOCK(rw));
    if (!RW_WRITER(rw) && (!writer || !RW_READERS(rw))) {
      if (writer) RW_WRITER(rw) = 1;
      else RW_READERS(rw)++;
      kiln_unlock_word(RW_LOCK(rw));
      return 0;
    }
    int seq = __atomic_load_n(RW_SEQ(rw), __ATOMIC_SEQ_CST);
    kiln_unlock_word(RW_LOCK(rw));
    if (try) return EBUSY;
    int64_t ns = abs ? kiln_ns_until(CLOCK_REALTIME, abs) : -1;
    if (abs && ns <= 0) return ETIMEDOUT;
    __builtin_wasm_memory_atomic_wait32(RW_SEQ(rw), seq, ns);
  }
}

int pthread_rwlock_rdlock(pthread_rwlock_t *rw) { return rw_take(rw, 0, 0, NULL); }
int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw) { return rw_take(rw, 0, 1, NULL); }
int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abs) { return rw_take(rw, 0, 0, abs); }
int pthread_rwlock_wrlock(pthread_rwlock_t *rw) { return rw_take(rw, 1, 0, NULL); }
int pthread_rwlock_trywrlock(pthread_rwlock_t *rw) { return rw_take(rw, 1, 1, NULL); }
int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abs) { return rw_take(rw, 1, 0, abs); }

int pthread_rwlock_unlock(pthread_rwlock_t *rw) {
  kiln_lock_word(RW_LOCK(rw));
  if (RW_WRITER(rw)) RW_WRITER(rw) = 0;
  else if (RW_READERS(rw) > 0) RW_READERS(rw)--;
  __atomic_add_fetch(RW_SEQ(rw), 1, __ATOMIC_SEQ_CST);
  kiln_unlock_word(RW_LOCK(rw));
  __builtin_wasm_memory_atomic_notify(RW_SEQ(rw), UINT32_MAX);
  return 0;
}

/* ---- barriers: the last of `count` arrivals starts a new generation and wakes the rest ---- */

#define B_LOCK(b) ((int *)&(b)->__u.__vi[0])
#define B_COUNT(b) ((b)->__u.__i[1])
#define B_WAITING(b) ((b)->__u.__i[2])
#define B_GEN(b) ((int *)&(b)->__u.__vi[3])

int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *a, unsigned count) {
  if (count == 0) return EINVAL;
  *b = (pthread_barrier_t){{{0}}};
  B_COUNT(b) = (int)count;
  return 0;
}
int pthread_barrier_destroy(pthread_barrier_t *b) { return 0; }

int pthread_barrier_wait(pthread_barrier_t *b) {
  kiln_lock_word(B_LOCK(b));
  int gen = __atomic_load_n(B_GEN(b), __ATOMIC_SEQ_CST);
  if (++B_WAITING(b) == B_COUNT(b)) {
    B_WAITING(b) = 0;
    __atomic_add_fetch(B_GEN(b), 1, __ATOMIC_SEQ_CST);
    kiln_unlock_word(B_LOCK(b));
    __builtin_wasm_memory_atomic_notify(B_GEN(b), UINT32_MAX);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  kiln_unlock_word(B_LOCK(b));
  while (__atomic_load_n(B_GEN(b), __ATOMIC_SEQ_CST) == gen) __builtin_wasm_memory_atomic_wait32(B_GEN(b), gen, -1);
  return 0;
}

/* ---- semaphores (semaphore.h of the sysroot): the value in the first word ---- */

#define SEM_VALUE(s) ((int *)&(s)->__val[0])

int sem_init(sem_t *s, int pshared, unsigned value) {
  if (value > INT32_MAX) return errno = EINVAL, -1; /* SEM_VALUE_MAX */
  __atomic_store_n(SEM_VALUE(s), (int)value, __ATOMIC_SEQ_CST);
  return 0;
}
int sem_destroy(sem_t *s) { return 0; }

int sem_getvalue(sem_t *restrict s, int *restrict value) {
  *value = __atomic_load_n(SEM_VALUE(s), __ATOMIC_SEQ_CST);
  return 0;
}

int sem_post(sem_t *s) {
  __atomic_add_fetch(SEM_VALUE(s), 1, __ATOMIC_SEQ_CST);
  __builtin_wasm_memory_atomic_notify(SEM_VALUE(s), 1);
  return 0;
}

int sem_trywait(sem_t *s) {
  int v = __atomic_load_n(SEM_VALUE(s), __ATOMIC_SEQ_CST);
  while (v > 0)
    if (__atomic_compare_exchange_n(SEM_VALUE(s), &v, v - 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) return 0;
  return errno = EAGAIN, -1;
}

/* Until the value is positive (then take one) or the CLOCK_REALTIME time abs passes. */
static int sem_take(sem_t *s, const struct timespec *abs) {
  for (;;) {
    kiln_testcancel();
    if (sem_trywait(s) == 0) return 0;
    int64_t ns = -1;
    int cut;
    if (abs && (ns = kiln_ns_until(CLOCK_REALTIME, abs)) <= 0) return errno = ETIMEDOUT, -1;
    if ((ns = kiln_cancel_wait_begin(SEM_VALUE(s), ns, &cut))) __builtin_wasm_memory_atomic_wait32(SEM_VALUE(s), 0, ns);
    kiln_cancel_wait_end();
  }
}

/* ---- sleeps: clock_nanosleep, which sleep, usleep and nanosleep call (the linker's --wrap,
 * pthread/kiln-pthread.rsp), is a cancellation point: a sleep is a timed wait on the thread's
 * cancellation mark, which pthread_cancel sets and notifies. libc's own (WASI poll_oneoff)
 * does the rest: a clock it does not know, a thread that disabled cancellation, and every sleep
 * before the app's first thread. ---- */

int __real_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem);
int __wrap_clock_nanosleep(clockid_t clock, int flags, const struct timespec *req, struct timespec *rem) {
  kiln_testcancel();
  struct __pthread *t = kiln_pthread_self();
  if (t->cancel_disabled || !__atomic_load_n(&kiln_pthread_spawned, __ATOMIC_SEQ_CST) ||
      (clock != CLOCK_REALTIME && clock != CLOCK_MONOTONIC) || kiln_bad_timespec(req))
    return __real_clock_nanosleep(clock, flags, req, rem);
  if (req->tv_sec < 0 && !(flags & TIMER_ABSTIME)) return EINVAL;
  int64_t ns = (flags & TIMER_ABSTIME)  ? kiln_ns_until(clock, req)
               : req->tv_sec >= FAR_S ? FAR_S * 1000000000
                                      : (int64_t)req->tv_sec * 1000000000 + req->tv_nsec;
  int64_t end = kiln_now_ns() + ns;
  while (ns > 0) {
    int cut;
    int64_t w = kiln_cancel_wait_begin(&t->cancel_pending, ns, &cut);
    if (w) __builtin_wasm_memory_atomic_wait32(&t->cancel_pending, 0, w);
    kiln_cancel_wait_end();
    kiln_testcancel();
    ns = end - kiln_now_ns();
  }
  return 0;
}

int sem_wait(sem_t *s) { return sem_take(s, NULL); }
int sem_timedwait(sem_t *restrict s, const struct timespec *restrict abs) {
  if (kiln_bad_timespec(abs)) return errno = EINVAL, -1;
  return sem_take(s, abs);
}

/* ---- spin locks: 0 free, 1 held; a waiter yields the CPU after 100 tries, since the holder
 * may be a thread that is not running (more threads than CPUs) ---- */

int pthread_spin_init(pthread_spinlock_t *l, int pshared) {
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
  return 0;
}
int pthread_spin_destroy(pthread_spinlock_t *l) { return 0; }

int pthread_spin_lock(pthread_spinlock_t *l) {
  for (unsigned n = 1;; n++) {
    if (!__atomic_load_n(l, __ATOMIC_RELAXED) && !__atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE)) return 0;
    if (n % 100 == 0) sched_yield();
  }
}

int pthread_spin_trylock(pthread_spinlock_t *l) { return __atomic_exchange_n(l, 1, __ATOMIC_ACQUIRE) ? EBUSY : 0; }

int pthread_spin_unlock(pthread_spinlock_t *l) {
  __atomic_store_n(l, 0, __ATOMIC_RELEASE);
  return 0;
}

/* ---- process-shared attributes: recorded (ATTR_PSHARED in an attribute word), and with one
 * process, PTHREAD_PROCESS_SHARED works as private ---- */

static int set_pshared(unsigned *attr, int v) {
  if (v != PTHREAD_PROCESS_PRIVATE && v != PTHREAD_PROCESS_SHARED) return EINVAL;
  *attr = (*attr & ~ATTR_PSHARED) | (v == PTHREAD_PROCESS_SHARED ? ATTR_PSHARED : 0);
  return 0;
}
static int get_pshared(unsigned attr, int *v) {
  *v = attr & ATTR_PSHARED ? PTHREAD_PROCESS_SHARED : PTHREAD_PROCESS_PRIVATE;
  return 0;
}

/* One scheduling, no priorities: priority inheritance and ceilings are not supported. */
int pthread_mutexattr_setprotocol(pthread_mutexattr_t *a, int p) {
  return p == PTHREAD_PRIO_NONE ? 0 : p == PTHREAD_PRIO_INHERIT || p == PTHREAD_PRIO_PROTECT ? ENOTSUP : EINVAL;
}
int pthread_mutexattr_getprotocol(const pthread_mutexattr_t *a, int *p) { return *p = PTHREAD_PRIO_NONE, 0; }
int pthread_mutexattr_setpshared(pthread_mutexattr_t *a, int v) { return set_pshared(&a->__attr, v); }
int pthread_mutexattr_getpshared(const pthread_mutexattr_t *a, int *v) { return get_pshared(a->__attr, v); }
int pthread_condattr_setpshared(pthread_condattr_t *a, int v) { return set_pshared(&a->__attr, v); }
int pthread_condattr_getpshared(const pthread_condattr_t *a, int *v) { return get_pshared(a->__attr, v); }
int pthread_condattr_getclock(const pthread_condattr_t *a, clockid_t *clock) {
  *clock = a->__attr & 1 ? CLOCK_MONOTONIC : CLOCK_REALTIME;
  return 0;
}
int pthread_rwlockattr_init(pthread_rwlockattr_t *a) { return *a = (pthread_rwlockattr_t){{0}}, 0; }
int pthread_rwlockattr_destroy(pthread_rwlockattr_t *a) { return 0; }
int pthread_rwlockattr_setpshared(pthread_rwlockattr_t *a, int v) { return set_pshared(&a->__attr[0], v); }
int pthread_rwlockattr_getpshared(const pthread_rwlockattr_t *a, int *v) { return get_pshared(a->__attr[0], v); }
int pthread_barrierattr_init(pthread_barrierattr_t *a) { return a->__attr = 0, 0; }
int pthread_barrierattr_destroy(pthread_barrierattr_t *a) { return 0; }
int pthread_barrierattr_setpshared(pthread_barrierattr_t *a, int v) { return set_pshared(&a->__attr, v); }
int pthread_barrierattr_getpshared(const pthread_barrierattr_t *a, int *v) { return get_pshared(a->__attr, v); }
