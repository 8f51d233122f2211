/* pthread/pthread.c — threads for C apps over wasi-threads (aot/abi.h §8): create, join,
 * detach, exit, self, attributes, thread-specific data and once.
 *
 * A thread is a `struct __pthread` allocated with its C stack and its TLS block in one piece.
 * thread-spawn gets its address; the runtime calls the app's export wasi_thread_start(tid,
 * arg) in a new instance whose globals are fresh, so the first thing it does (in Wasm
 * assembly: C cannot) is point __stack_pointer at the thread's stack; C then initialises the
 * thread's TLS (__wasm_init_tls, which wasm-ld writes for --shared-memory) and runs start().
 * Blocking is memory.atomic.wait32/notify (the runtime's futexes). */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pthread/pthread_int.h"

#define MIN_STACK (16u << 10)
void kiln_set_stack_limit(void *low);
extern char __stack_low, __stack_high; /* wasm-ld's: the main thread's C stack */

/* A thread's stack unless its attributes say: the main thread's (-Wl,-z,stack-size), at least
 * 128 KiB and at most 8 MiB, as wasi-libc's threads. */
static size_t default_stack(void) {
  size_t n = (size_t)(&__stack_high - &__stack_low);
  return n < (128u << 10) ? 128u << 10 : n > (8u << 20) ? 8u << 20 : (n + 15) & ~(size_t)15;
}

enum { RUNNING = 0, EXITED = 1, DETACHED = 2 };

/* wasi-threads: the import and the export. */
int32_t kiln_thread_spawn(void *arg) __attribute__((import_module("wasi"), import_name("thread-spawn")));
void __wasm_init_tls(void *block);
void kiln_pthread_entry(int32_t tid, struct __pthread *t);

/* __kiln_stack_limit: the lowest address of the running thread's C stack. kiln-aot traps a
 * __stack_pointer set below it (aot/abi.h §4) when the module exports both globals, as
 * kiln-pthread.rsp makes it; a C stack overflow is then the trap "call stack exhausted"
 * instead of writes over the memory below the stack (the thread's TLS, the heap). */
__asm__(".globaltype __stack_pointer, i32\n"
        ".globaltype __kiln_stack_limit, i32\n"
        ".globl __kiln_stack_limit\n"
        "__kiln_stack_limit:\n"
        ".globl kiln_set_stack_limit\n"
        ".type kiln_set_stack_limit,@function\n"
        "kiln_set_stack_limit:\n"
        ".functype kiln_set_stack_limit (i32) -> ()\n"
        "  local.get 0\n"
        "  global.set __kiln_stack_limit\n"
        "  end_function\n"
        ".functype kiln_pthread_entry (i32, i32) -> ()\n"
        ".export_name wasi_thread_start, wasi_thread_start\n"
        ".globl wasi_thread_start\n"
        ".type wasi_thread_start,@function\n"
        "wasi_thread_start:\n"
        ".functype wasi_thread_start (i32, i32) -> ()\n"
        "  local.get 1\n"
        "  i32.load 0\n" /* offsetof(struct __pthread, stack_top) == 0 */
        "  global.set __stack_pointer\n"
        "  local.get 1\n"
        "  i32.load 4\n" /* offsetof(struct __pthread, stack_low) */
        "  global.set __kiln_stack_limit\n"
        "  local.get 0\n"
        "  local.get 1\n"
        "  call kiln_pthread_entry\n"
        "  end_function\n");

static struct __pthread main_thread; /* tid 0: the thread that runs _start */
static _Thread_local struct __pthread *self_tl;
static int live; /* threads created and not finished */
int kiln_pthread_spawned; /* a thread was ever created (pthread_int.h) */
static int main_exited;

struct __pthread *kiln_pthread_self(void) { return self_tl ? self_tl : &main_thread; }
pthread_t pthread_self(void) { return kiln_pthread_self(); }
int pthread_equal(pthread_t a, pthread_t b) { return a == b; }

/* ---- attributes: musl's pthread_attr_t, our fields in its first words ---- */

#define ATTR_DETACH(a) ((a)->__u.__i[0])
#define ATTR_STACK(a) ((a)->__u.__s[1])

int pthread_attr_init(pthread_attr_t *a) {
  memset(a, 0, sizeof *a);
  return 0;
}
int pthread_attr_destroy(pthread_attr_t *a) { return 0; }
int pthread_attr_setdetachstate(pthread_attr_t *a, int s) {
  if (s != PTHREAD_CREATE_JOINABLE && s != PTHREAD_CREATE_DETACHED) return EINVAL;
  ATTR_DETACH(a) = s;
  return 0;
}
int pthread_attr_getdetachstate(const pthread_attr_t *a, int *s) {
  *s = ATTR_DETACH(a);
  return 0;
}
int pthread_attr_setstacksize(pthread_attr_t *a, size_t n) {
  if (n < MIN_STACK) return EINVAL;
  ATTR_STACK(a) = n;
  return 0;
}
int pthread_attr_getstacksize(const pthread_attr_t *a, size_t *n) {
  *n = ATTR_STACK(a) ? ATTR_STACK(a) : default_stack();
  return 0;
}
/* A stack of the app's (its lowest address and size): the thread runs on it, and only the
 * thread's block and TLS are the layer's. */
#define ATTR_STACKADDR(a) ((a)->__u.__s[3])
int pthread_attr_setstack(pthread_attr_t *a, void *addr, size_t n) {
  if (n < MIN_STACK) return EINVAL;
  ATTR_STACKADDR(a) = (unsigned long)addr;
  ATTR_STACK(a) = n;
  return 0;
}
int pthread_attr_getstack(const pthread_attr_t *a, void **addr, size_t *n) {
  *addr = (void *)ATTR_STACKADDR(a);
  return pthread_attr_getstacksize(a, n);
}

/* What only records: the guard size (there is no guard page; the stack's bound is
 * __kiln_stack_limit, above), and the one scope and scheduling there is. */
#define ATTR_GUARD(a) ((a)->__u.__s[2])
int pthread_attr_setguardsize(pthread_attr_t *a, size_t n) { return ATTR_GUARD(a) = n, 0; }
int pthread_attr_getguardsize(const pthread_attr_t *a, size_t *n) { return *n = ATTR_GUARD(a), 0; }
int pthread_attr_setscope(pthread_attr_t *a, int scope) {
  return scope == PTHREAD_SCOPE_SYSTEM ? 0 : scope == PTHREAD_SCOPE_PROCESS ? ENOTSUP : EINVAL;
}
int pthread_attr_getscope(const pthread_attr_t *a, int *scope) { return *scope = PTHREAD_SCOPE_SYSTEM, 0; }
int pthread_attr_setinheritsched(pthread_attr_t *a, int v) {
  return v == PTHREAD_INHERIT_SCHED || v == PTHREAD_EXPLICIT_SCHED ? 0 : EINVAL;
}
int pthread_attr_getinheritsched(const pthread_attr_t *a, int *v) { return *v = PTHREAD_INHERIT_SCHED, 0; }

/* ---- cancellation: deferred, at the cancellation points (pthread.h) ----
 * pthread_cancel marks the thread, then wakes it if it sleeps in a cancellation point: each
 * records the word it sleeps on (wait_word) before it looks at the mark, so either it sees the
 * mark, or pthread_cancel sees the word and notifies it. A notify that comes between the look
 * and the sleep would be lost, so pthread_cancel notifies again while the thread is still
 * recorded there (yielding between), and once an app has canceled a thread every cancellable
 * sleep lasts at most CANCEL_SLICE_NS before it looks again: a request is never lost. Sleeps
 * (clock_nanosleep) wait on the mark itself, which pthread_cancel changes. */
#define CANCEL_SLICE_NS 100000000 /* 0.1 s */
#define CANCEL_NOTIFY_NS 50000000 /* how long pthread_cancel keeps notifying a recorded sleep */
static int cancel_used; /* the app has called pthread_cancel */

int pthread_setcancelstate(int state, int *old) {
  if (state != PTHREAD_CANCEL_ENABLE && state != PTHREAD_CANCEL_DISABLE) return EINVAL;
  struct __pthread *t = kiln_pthread_self();
  if (old) *old = t->cancel_disabled ? PTHREAD_CANCEL_DISABLE : PTHREAD_CANCEL_ENABLE;
  t->cancel_disabled = state == PTHREAD_CANCEL_DISABLE;
  return 0;
}
int pthread_setcanceltype(int type, int *old) {
  if (type != PTHREAD_CANCEL_DEFERRED && type != PTHREAD_CANCEL_ASYNCHRONOUS) return EINVAL;
  struct __pthread *t = kiln_pthread_self();
  if (old) *old = t->cancel_async ? PTHREAD_CANCEL_ASYNCHRONOUS : PTHREAD_CANCEL_DEFERRED;
  t->cancel_async = type == PTHREAD_CANCEL_ASYNCHRONOUS;
  return 0;
}

static int cancel_due(void) {
  struct __pthread *t = kiln_pthread_self();
  return !t->cancel_disabled && __atomic_load_n(&t->cancel_pending, __ATOMIC_SEQ_CST);
}

void kiln_testcancel(void) {
  if (cancel_due()) pthread_exit(PTHREAD_CANCELED);
}
void pthread_testcancel(void) { kiln_testcancel(); }

int64_t kiln_cancel_wait_begin(int *word, int64_t timeout_ns, int *cut) {
  struct __pthread *t = kiln_pthread_self();
  *cut = 0;
  if (t->cancel_disabled) return timeout_ns;
  __atomic_store_n(&t->wait_word, word, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&t->cancel_pending, __ATOMIC_SEQ_CST)) return 0; /* no sleep: it is due */
  if (__atomic_load_n(&cancel_used, __ATOMIC_SEQ_CST) && (timeout_ns < 0 || timeout_ns > CANCEL_SLICE_NS)) {
    *cut = 1;
    return CANCEL_SLICE_NS;
  }
  return timeout_ns;
}

void kiln_cancel_wait_end(void) { __atomic_store_n(&kiln_pthread_self()->wait_word, NULL, __ATOMIC_SEQ_CST); }

int pthread_cancel(pthread_t t) {
  __atomic_store_n(&cancel_used, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&t->cancel_pending, 1, __ATOMIC_SEQ_CST);
  if (t == kiln_pthread_self()) return 0; /* acted on at its next cancellation point */
  int64_t until = 0;
  for (int *w; (w = __atomic_load_n(&t->wait_word, __ATOMIC_SEQ_CST));) {
    __builtin_wasm_memory_atomic_notify(w, UINT32_MAX); /* a spurious wake-up for any other sleeper */
    if (!until) until = kiln_now_ns() + CANCEL_NOTIFY_NS;
    else if (kiln_now_ns() > until) break; /* it sleeps in slices now: it will see the mark */
    sched_yield();
  }
  return 0;
}

void _pthread_cleanup_push(struct __ptcb *cb, void (*f)(void *), void *x) {
  struct __pthread *t = kiln_pthread_self();
  cb->__f = f, cb->__x = x, cb->__next = t->cleanup;
  t->cleanup = cb;
}

void _pthread_cleanup_pop(struct __ptcb *cb, int run) {
  kiln_pthread_self()->cleanup = cb->__next;
  if (run) cb->__f(cb->__x);
}

/* One level of concurrency: what the app sets is only read back (POSIX allows that). */
static int concurrency;
int pthread_getconcurrency(void) { return concurrency; }
int pthread_setconcurrency(int n) { return n < 0 ? EINVAL : (concurrency = n, 0); }

/* GNU: a thread's name, 15 bytes at most (as Linux's), kept for pthread_getname_np. */
int pthread_setname_np(pthread_t t, const char *name) {
  size_t n = strlen(name);
  if (n >= sizeof t->name) return ERANGE;
  memcpy(t->name, name, n + 1);
  return 0;
}
int pthread_getname_np(pthread_t t, char *buf, size_t len) {
  size_t n = strnlen(t->name, sizeof t->name);
  if (len <= n) return ERANGE;
  memcpy(buf, t->name, n);
  buf[n] = 0;
  return 0;
}
int pthread_yield(void) { return sched_yield(); }

/* WASI has no fork: the handlers never run. */
int pthread_atfork(void (*prepare)(void), void (*parent)(void), void (*child)(void)) { return 0; }

/* ---- life of a thread ---- */

static void run_key_destructors(struct __pthread *t);

/* The end of a thread: its result for a joiner, or (detached) its memory back. The last
 * thing a detached thread does is free its own block, stack included: nothing after that
 * reads the stack (the return path only restores __stack_pointer from a local). */
static void finish(struct __pthread *t, void *result) {
  run_key_destructors(t);
  kiln_malloc_thread_end();
  t->result = result;
  if (__atomic_sub_fetch(&live, 1, __ATOMIC_SEQ_CST) == 0 && main_exited)
    __builtin_wasm_memory_atomic_notify(&live, 1);
  if (__atomic_exchange_n(&t->state, EXITED, __ATOMIC_SEQ_CST) == DETACHED) {
    free(t);
  } else {
    __builtin_wasm_memory_atomic_notify(&t->state, UINT32_MAX);
  }
}

void kiln_pthread_entry(int32_t tid, struct __pthread *t) {
  __wasm_init_tls(t->tls);
  self_tl = t;
  t->tid = tid;
  finish(t, t->start(t->arg));
}

int pthread_create(pthread_t *out, const pthread_attr_t *attr, void *(*start)(void *), void *arg) {
  size_t stack = attr && ATTR_STACK(attr) ? ATTR_STACK(attr) : default_stack();
  size_t tls_align = __builtin_wasm_tls_align(), tls_size = __builtin_wasm_tls_size();
  if (tls_align < 16) tls_align = 16;
  /* [struct][pad][TLS block][stack, growing down from the end] */
  size_t tls_off = (sizeof(struct __pthread) + tls_align - 1) & ~(tls_align - 1);
  size_t stack_off = (tls_off + tls_size + 15) & ~(size_t)15;
  char *own = attr ? (char *)ATTR_STACKADDR(attr) : NULL; /* pthread_attr_setstack's */
  char *block = malloc(stack_off + (own ? 0 : stack));
  if (!block) return EAGAIN;
  struct __pthread *t = (struct __pthread *)block;
  memset(t, 0, sizeof *t);
  t->tls = block + tls_off;
  t->stack_top = own ? (void *)((uintptr_t)(own + stack) & ~(uintptr_t)15) : block + stack_off + stack;
  t->stack_low = own ? own : block + stack_off;
  t->start = start, t->arg = arg;
  t->state = attr && ATTR_DETACH(attr) == PTHREAD_CREATE_DETACHED ? DETACHED : RUNNING;
  __atomic_add_fetch(&live, 1, __ATOMIC_SEQ_CST);
  __atomic_store_n(&kiln_pthread_spawned, 1, __ATOMIC_SEQ_CST);
  int32_t tid = kiln_thread_spawn(t);
  if (tid < 0) {
    __atomic_sub_fetch(&live, 1, __ATOMIC_SEQ_CST);
    free(block);
    return EAGAIN;
  }
  *out = t;
  return 0;
}

/* Until t has ended (0), or CLOCK_REALTIME abs passes (ETIMEDOUT): a cancellation point, where
 * a canceled joiner leaves t joinable, as POSIX says. */
static int join_wait(pthread_t t, const struct timespec *abs) {
  kiln_testcancel();
  int cut;
  while (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == RUNNING) {
    int64_t ns = -1;
    if (abs && (ns = kiln_ns_until(CLOCK_REALTIME, abs)) <= 0) return ETIMEDOUT;
    if ((ns = kiln_cancel_wait_begin(&t->state, ns, &cut))) __builtin_wasm_memory_atomic_wait32(&t->state, RUNNING, ns);
    kiln_cancel_wait_end();
    kiln_testcancel();
  }
  return 0;
}

int pthread_join(pthread_t t, void **result) {
  if (t == kiln_pthread_self()) return EDEADLK;
  join_wait(t, NULL);
  if (__atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == DETACHED) return EINVAL;
  if (result) *result = t->result;
  free(t);
  return 0;
}

/* GNU: join if it has ended (EBUSY if not), or before CLOCK_REALTIME abs (ETIMEDOUT). */
int pthread_tryjoin_np(pthread_t t, void **result) {
  return __atomic_load_n(&t->state, __ATOMIC_SEQ_CST) == RUNNING ? EBUSY : pthread_join(t, result);
}
int pthread_timedjoin_np(pthread_t t, void **result, const struct timespec *abs) {
  if (t == kiln_pthread_self()) return EDEADLK;
  if (kiln_bad_timespec(abs)) return EINVAL;
  int r = join_wait(t, abs);
  return r ? r : pthread_join(t, result);
}

int pthread_detach(pthread_t t) {
  int s = __atomic_exchange_n(&t->state, DETACHED, __ATOMIC_SEQ_CST);
  if (s == EXITED) free(t); /* it already ended: nobody else will */
  return s == DETACHED ? EINVAL : 0;
}

/* Without stack unwinding (Debian's libc has no exceptions), a thread that calls pthread_exit
 * runs its cleanup handlers, ends as if its start function returned (its block and stack go
 * back at the join, or now when detached), then sleeps forever on a word of no stack: its
 * runtime thread is never reused. (It slept on a local, which a join freed: once the memory
 * was reused with another value there, the thread spun.) From the main thread it waits for
 * every other thread to finish, then the process exits with status 0, as POSIX says. */
static int parked;
_Noreturn void pthread_exit(void *result) {
  struct __pthread *t = kiln_pthread_self();
  t->cancel_disabled = 1; /* the handlers' own cancellation points do not act again */
  for (struct __ptcb *cb; (cb = t->cleanup);) {
    t->cleanup = cb->__next;
    cb->__f(cb->__x);
  }
  if (t == &main_thread) {
    main_exited = 1;
    int n;
    while ((n = __atomic_load_n(&live, __ATOMIC_SEQ_CST)) != 0) __builtin_wasm_memory_atomic_wait32(&live, n, -1);
    exit(0);
  }
  finish(t, result);
  for (;;) __builtin_wasm_memory_atomic_wait32(&parked, 0, -1);
}

/* ---- thread-specific data ---- */

static void (*key_dtor[PTHREAD_KEYS_MAX])(void *);
static int key_used[PTHREAD_KEYS_MAX];
static void no_dtor(void *v) { (void)v; }

int pthread_key_create(pthread_key_t *key, void (*dtor)(void *)) {
  for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k++) {
    int free_slot = 0;
    if (__atomic_compare_exchange_n(&key_used[k], &free_slot, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
      key_dtor[k] = dtor ? dtor : no_dtor;
      *key = k;
      return 0;
    }
  }
  return EAGAIN;
}

int pthread_key_delete(pthread_key_t key) {
  if (key >= PTHREAD_KEYS_MAX || !key_used[key]) return EINVAL;
  key_dtor[key] = 0;
  __atomic_store_n(&key_used[key], 0, __ATOMIC_SEQ_CST);
  return 0;
}

void *pthread_getspecific(pthread_key_t key) {
  return key < PTHREAD_KEYS_MAX ? kiln_pthread_self()->tsd[key] : NULL;
}

int pthread_setspecific(pthread_key_t key, const void *v) {
  if (key >= PTHREAD_KEYS_MAX || !key_used[key]) return EINVAL;
  kiln_pthread_self()->tsd[key] = (void *)v;
  return 0;
}

/* POSIX: call each non-NULL value's destructor (value cleared first), again while a
 * destructor sets new values, at most PTHREAD_DESTRUCTOR_ITERATIONS rounds. */
static void run_key_destructors(struct __pthread *t) {
  for (int round = 0; round < PTHREAD_DESTRUCTOR_ITERATIONS; round++) {
    int again = 0;
    for (unsigned k = 0; k < PTHREAD_KEYS_MAX; k++) {
      void *v = t->tsd[k];
      void (*d)(void *) = key_dtor[k];
      if (!v || !d) continue;
      t->tsd[k] = NULL;
      d(v);
      again = 1;
    }
    if (!again) break;
  }
}

/* ---- once: 0 not run, 1 running, 2 done ---- */

int pthread_once(pthread_once_t *once, void (*init)(void)) {
  int s = 0;
  if (__atomic_compare_exchange_n(once, &s, 1, 0, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
    init();
    __atomic_store_n(once, 2, __ATOMIC_SEQ_CST);
    __builtin_wasm_memory_atomic_notify(once, UINT32_MAX);
    return 0;
  }
  while ((s = __atomic_load_n(once, __ATOMIC_SEQ_CST)) != 2) __builtin_wasm_memory_atomic_wait32(once, s, -1);
  return 0;
}

/* Constructors and destructors run once, around main. wasm-ld otherwise wraps every export of
 * a command in calls of them (`NAME.command_export`), wasi_thread_start included: each new
 * thread would run the constructors again, before its stack is even set. It does not when an
 * input calls __wasm_call_ctors itself, as this does (the rsp wraps __original_main, which
 * Debian's crt1 calls from _start). As the wrapper of _start did, the destructors run when
 * main returns 0; otherwise _start calls exit(), which runs them. */
void __wasm_call_ctors(void);
void __wasm_call_dtors(void);
int __real___original_main(void);
int __wrap___original_main(void) {
  kiln_set_stack_limit(&__stack_low);
  __wasm_call_ctors();
  int r = __real___original_main();
  if (r == 0) __wasm_call_dtors();
  return r;
}
