/* host/platform.c — kiln_plat_* for a Linux process: linear memory as an mmap'd PROT_NONE
 * reserve committed with mprotect, Wasm code on its own mmap'd stack with a guard region, and
 * SIGSEGV/SIGBUS (on an alternate signal stack) turned into Wasm traps with siglongjmp.
 * Threads (aot/abi.h §8) are pthreads, each with its own Wasm stack, signal stack and call
 * chain (thread-local); waits are Linux futexes.
 */
#include "host/host.h"

#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#define WASM_STACK_SIZE (8u << 20)
#define WASM_STACK_GUARD (256u << 10) /* big enough that no single frame jumps over it */
/* Room left below stack_limit for host functions (WASI) and kiln_trap's own frames. */
#define WASM_STACK_MARGIN (256u << 10)
#define ALT_STACK_SIZE (64u << 10)

_Thread_local kiln_host_trap kiln_host_last_trap;
int kiln_host_catch_wild_faults;
int (*kiln_host_exit_status)(kiln_instance *ctx);

/* One kiln_plat_call in progress; they nest when Wasm calls a host function that calls Wasm. */
typedef struct frame {
  sigjmp_buf jb;
  struct frame *prev;
  kiln_instance *ctx;
  kiln_tramp_fn tramp;
  void *fn;
  kiln_val *vals;
  volatile uint32_t code;
  kiln_eh_state eh; /* exceptions thrown below this call (aot/abi.h §5); starts with no handler */
} frame;

/* Each thread runs Wasm on its own stack, with its own chain of calls. */
static _Thread_local frame *top;
static _Thread_local uint8_t *stack_lo; /* lowest usable byte of the Wasm stack; the guard is just below */
static _Thread_local void *alt_stack;
static _Thread_local ucontext_t host_uc, wasm_uc;
static _Thread_local int initialized;
static pthread_once_t handlers_once = PTHREAD_ONCE_INIT;
static int handlers_ok;

/* Live linear-memory reserves, to tell an out-of-bounds access from any other fault. Changed
 * under reserves_lock; the fault handler reads them without it (instances are made before
 * their threads run, and a shared memory's reserve is made once). */
static uint8_t **reserves;
static size_t nreserves, capreserves;
static pthread_mutex_t reserves_lock = PTHREAD_MUTEX_INITIALIZER;

/* ---- memory ---- */

void *kiln_plat_alloc(size_t n) { return calloc(1, n ? n : 1); }
void kiln_plat_free(void *p) { free(p); }

int kiln_plat_mem_reserve(kiln_memory *m) {
  pthread_mutex_lock(&reserves_lock);
  if (nreserves == capreserves) {
    size_t cap = capreserves ? 2 * capreserves : 16;
    uint8_t **r = realloc(reserves, cap * sizeof *r);
    if (!r) return pthread_mutex_unlock(&reserves_lock), -1;
    reserves = r, capreserves = cap;
  }
  void *p = mmap(NULL, KILN_MEM_RESERVE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) m->base = p, reserves[nreserves++] = p;
  pthread_mutex_unlock(&reserves_lock);
  return p == MAP_FAILED ? -1 : 0;
}

/* Pages of a reserve are fresh anonymous memory, so they are zero when first committed, and
 * memories never shrink: nothing is committed twice. */
int kiln_plat_mem_commit(kiln_memory *m, uint64_t from, uint64_t to) {
  if (to <= from) return 0;
  if (to > KILN_MAX_PAGES * KILN_PAGE_SIZE) return -1;
  return mprotect(m->base + from, to - from, PROT_READ | PROT_WRITE) == 0 ? 0 : -1;
}

void kiln_plat_mem_release(kiln_memory *m) {
  if (!m->base) return;
  pthread_mutex_lock(&reserves_lock);
  for (size_t i = 0; i < nreserves; i++)
    if (reserves[i] == m->base) {
      reserves[i] = reserves[--nreserves];
      break;
    }
  pthread_mutex_unlock(&reserves_lock);
  munmap(m->base, KILN_MEM_RESERVE);
  m->base = NULL;
}

static int in_reserve(const uint8_t *a) {
  for (size_t i = 0; i < nreserves; i++)
    if (a >= reserves[i] && (uint64_t)(a - reserves[i]) < KILN_MEM_RESERVE) return 1;
  return 0;
}

/* ---- faults ---- */

static void fatal_fault(int sig, const void *addr, const void *pc) {
  char buf[160];
  const char *what = sig == SIGBUS ? "bus error" : sig == SIGFPE ? "arithmetic exception"
                     : sig == SIGILL ? "illegal instruction" : "segmentation fault";
  int n = snprintf(buf, sizeof buf, "kiln: fatal: %s at address %p (pc %p) outside Wasm memory\n", what, addr, pc);
  if (n > 0) (void)!write(2, buf, (size_t)n < sizeof buf ? (size_t)n : sizeof buf - 1);
}

static void on_fault(int sig, siginfo_t *si, void *ucv) {
  ucontext_t *uc = ucv;
  void *pc = (void *)uc->uc_mcontext.gregs[REG_RIP];
  uint8_t *a = si->si_addr;
  uint32_t code = 0;
  if (top) {
    int mem_fault = sig == SIGSEGV || sig == SIGBUS;
    if (mem_fault && a >= stack_lo - WASM_STACK_GUARD && a < stack_lo) code = KILN_TRAP_STACK_EXHAUSTED;
    else if (mem_fault && in_reserve(a)) code = KILN_TRAP_MEMORY_OOB;
    else if (kiln_host_catch_wild_faults) code = KILN_HOST_WILD_FAULT;
  }
  if (!code) {
    /* Not a Wasm trap: report, then let the fault happen again with the default action. */
    fatal_fault(sig, a, pc);
    signal(sig, SIG_DFL);
    return;
  }
  kiln_host_last_trap = (kiln_host_trap){code, pc, top->ctx, a, sig};
  top->code = code;
  siglongjmp(top->jb, 1);
}

/* The handlers are the process's, once. */
static void install_handlers(void) {
  struct sigaction sa;
  memset(&sa, 0, sizeof sa);
  sa.sa_sigaction = on_fault;
  sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
  sigemptyset(&sa.sa_mask);
  /* SIGFPE and SIGILL only ever become traps as wild faults: generated code checks
   * divisions and calls kiln_trap rather than executing ud2. */
  handlers_ok = sigaction(SIGSEGV, &sa, NULL) == 0 && sigaction(SIGBUS, &sa, NULL) == 0 &&
                sigaction(SIGFPE, &sa, NULL) == 0 && sigaction(SIGILL, &sa, NULL) == 0;
}

/* The signal stack and the Wasm stack are each thread's own. */
int kiln_host_init(void) {
  if (initialized) return 0;
  pthread_once(&handlers_once, install_handlers);
  if (!handlers_ok) return -1;
  stack_t ss = {.ss_sp = malloc(ALT_STACK_SIZE), .ss_size = ALT_STACK_SIZE, .ss_flags = 0};
  if (!ss.ss_sp || sigaltstack(&ss, NULL) != 0) return free(ss.ss_sp), -1;
  alt_stack = ss.ss_sp;
  uint8_t *p = mmap(NULL, WASM_STACK_GUARD + WASM_STACK_SIZE, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return -1;
  if (mprotect(p, WASM_STACK_GUARD, PROT_NONE) != 0) return munmap(p, WASM_STACK_GUARD + WASM_STACK_SIZE), -1;
  stack_lo = p + WASM_STACK_GUARD;
  initialized = 1;
  return 0;
}

/* A thread that ends gives its stacks back. */
static void host_thread_fini(void) {
  if (!initialized) return;
  stack_t off = {.ss_flags = SS_DISABLE};
  sigaltstack(&off, NULL);
  free(alt_stack);
  munmap(stack_lo - WASM_STACK_GUARD, WASM_STACK_GUARD + WASM_STACK_SIZE);
  initialized = 0;
}

uintptr_t kiln_host_stack_limit(void) { return stack_lo ? (uintptr_t)stack_lo + WASM_STACK_MARGIN : 0; }

const char *kiln_host_trap_message(uint32_t code) {
  if (code == KILN_HOST_WILD_FAULT) {
    switch (kiln_host_last_trap.sig) {
    case SIGFPE: return "unexpected arithmetic exception (SIGFPE: compiler bug)";
    case SIGILL: return "illegal instruction (SIGILL: compiler bug)";
    default: return "wild memory fault (compiler or runtime bug)";
    }
  }
  return kiln_trap_message(code);
}

/* ---- calls and unwinding ---- */

static void run_frame(frame *f) {
  if (sigsetjmp(f->jb, 1) == 0) {
    f->tramp(f->fn, f->ctx, f->vals);
    f->code = KILN_TRAP_NONE;
  }
  /* else: kiln_plat_unwind or on_fault stored the code */
}

static void wasm_entry(void) { run_frame(top); } /* returns to host_uc through uc_link */

uint32_t kiln_plat_call(kiln_instance *ctx, kiln_tramp_fn tramp, void *fn, kiln_val *vals) {
  if (kiln_host_init() != 0) {
    fprintf(stderr, "kiln: cannot set up the Wasm stack and fault handlers\n");
    abort();
  }
  frame f = {.prev = top, .ctx = ctx, .tramp = tramp, .fn = fn, .vals = vals, .code = KILN_TRAP_NONE};
  ctx->stack_limit = kiln_host_stack_limit();
  top = &f;
  if (f.prev) {
    run_frame(&f); /* already on the Wasm stack */
  } else {
    getcontext(&wasm_uc);
    wasm_uc.uc_stack.ss_sp = stack_lo;
    wasm_uc.uc_stack.ss_size = WASM_STACK_SIZE;
    wasm_uc.uc_link = &host_uc;
    makecontext(&wasm_uc, wasm_entry, 0);
    if (swapcontext(&host_uc, &wasm_uc) != 0) {
      fprintf(stderr, "kiln: cannot switch to the Wasm stack\n");
      abort();
    }
  }
  top = f.prev;
  return f.code;
}

kiln_instance *kiln_host_current(void) { return top ? top->ctx : NULL; }

void kiln_host_stack_trim(void) {
  long pg = sysconf(_SC_PAGESIZE);
  if (stack_lo) madvise(stack_lo, WASM_STACK_SIZE - (size_t)pg, MADV_DONTNEED);
}

kiln_eh_state *kiln_plat_eh_state(void) {
  if (!top) {
    fprintf(stderr, "kiln: exception state asked for outside any Wasm call\n");
    abort();
  }
  return &top->eh;
}

_Noreturn void kiln_plat_unwind(kiln_instance *ctx, uint32_t code, void *pc) {
  if (!top) {
    fprintf(stderr, "kiln: trap outside any Wasm call: %s\n", kiln_host_trap_message(code));
    abort();
  }
  kiln_host_last_trap = (kiln_host_trap){code, pc, ctx, NULL, 0};
  top->code = code;
  siglongjmp(top->jb, 1);
}

/* ---- threads (aot/abi.h §8) ---- */

static long futex(uint32_t *word, int op, uint32_t val, const struct timespec *ts) {
  return syscall(SYS_futex, word, op | FUTEX_PRIVATE_FLAG, val, ts, NULL, FUTEX_BITSET_MATCH_ANY);
}

void kiln_plat_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns) {
  struct timespec ts = {(time_t)(deadline_ns / 1000000000u), (long)(deadline_ns % 1000000000u)};
  /* FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time; EINTR, EAGAIN and ETIMEDOUT all
   * just return (the caller checks again) */
  futex(word, FUTEX_WAIT_BITSET, expected, deadline_ns == UINT64_MAX ? NULL : &ts);
}

void kiln_plat_wake(uint32_t *word, uint32_t n) { futex(word, FUTEX_WAKE, n > INT_MAX ? INT_MAX : n, NULL); }

uint64_t kiln_plat_now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

typedef struct host_thread {
  void (*fn)(void *);
  void *arg;
} host_thread;

static void *host_thread_main(void *a) {
  host_thread t = *(host_thread *)a;
  free(a);
  if (kiln_host_init() != 0) {
    fprintf(stderr, "kiln: cannot set up the Wasm stack of a new thread\n");
    abort();
  }
  t.fn(t.arg);
  host_thread_fini();
  return NULL;
}

int kiln_plat_thread_create(void (*fn)(void *), void *arg) {
  host_thread *t = malloc(sizeof *t);
  pthread_attr_t attr;
  pthread_t id;
  if (!t || pthread_attr_init(&attr) != 0) return free(t), -1;
  *t = (host_thread){fn, arg};
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  int e = pthread_create(&id, &attr, host_thread_main, t);
  pthread_attr_destroy(&attr);
  if (e) free(t);
  return e ? -1 : 0;
}

/* The process ends once: the first thread here reports and exits; any other blocks until
 * the process is gone. */
static pthread_mutex_t end_lock = PTHREAD_MUTEX_INITIALIZER;

int kiln_host_report(kiln_instance *ctx, uint32_t code) {
  if (code == KILN_TRAP_NONE) return 0;
  if (code == KILN_TRAP_EXIT) return kiln_host_exit_status ? kiln_host_exit_status(ctx) : 1;
  char where[256], what[256];
  kiln_describe_pc(kiln_host_last_trap.ctx, kiln_host_last_trap.pc, where, sizeof where);
  kiln_describe_trap(kiln_host_last_trap.ctx, code, what, sizeof what);
  fprintf(stderr, "kiln: trap: %s in %s\n", code == KILN_HOST_WILD_FAULT ? kiln_host_trap_message(code) : what,
          where);
  return KILN_HOST_EXIT_TRAP;
}

_Noreturn void kiln_plat_instance_end(kiln_instance *ctx, uint32_t code) {
  pthread_mutex_lock(&end_lock); /* never unlocked */
  int status = kiln_host_report(ctx, code);
  fflush(NULL);
  _exit(status);
}
