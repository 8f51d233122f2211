/* kernel/sched.c — kernel threads on every processor.
 *
 * A thread is a kernel stack (where it starts), a Wasm stack of its own (kernel/vm.c: a
 * guard, then 8 MiB mapped on demand) where kiln_plat_call runs Wasm code and the WASI calls
 * it makes, and its call chain (kernel/call.c). Ready threads wait in one FIFO run queue that
 * every CPU takes from; each CPU has an idle thread that halts (hlt, with the deadline timer
 * armed at the earliest sleeper's deadline) when the queue is empty. One spinlock, taken with
 * interrupts off, guards the queue, the wait queues and every thread's state; a switch
 * happens with it held, and the thread switched to releases it.
 *
 * Blocking: a thread waits on a 32-bit word (kiln_plat_wait: futex semantics, for the
 * runtime's memory.atomic.wait and locks) or for the next kernel event (kernel_idle_until:
 * an interrupt made something ready: WASI's poll_oneoff, socket waits, console, 9p), with or
 * without a deadline. A blocked thread is on the wait queue its word hashes to, and, when it
 * has a deadline, on the timed list: a wake-up looks only at the threads of its word's
 * queue, and deadlines only at the timed ones. With one list of every blocked thread, each
 * wake-up, tick and idle pass walked them all under this lock, with interrupts off (in
 * examples/broker's 100/100, some 200 threads, at each of some 35,000 wake-ups), while the
 * other CPU spun on the lock.
 *
 * Preemption: kernel code is never preempted (it only blocks where it chooses, holding no
 * spinlock), so kernel state needs no more than spinlocks. App code is: at each tick (PIT
 * IRQ 0 on the boot processor, which forwards it as an IPI to the other busy CPUs), when
 * another thread is ready, the interrupt returns into sched_preempt_stub on the thread's own
 * stack with the interrupted registers saved there, which saves the SSE/AVX state and yields.
 */
#include "kernel/instance.h"
#include "kernel/kernel.h"

#define KSTACK_PAGES 4

enum { T_RUNNING = 1, T_READY, T_BLOCKED, T_IDLE, T_DEAD, T_PARKED };

static spinlock_t sched_lock;
static struct thread *rq_head, *rq_tail; /* ready, FIFO */
#define WAIT_QUEUES 64
static struct thread *wait_queues[WAIT_QUEUES]; /* blocked threads, by their word's hash */
static struct thread *timed;                     /* blocked threads with a deadline */
static struct thread *zombies;           /* ended; freed by the next thread_create */
static struct thread *exiting;           /* when set, the instance is ending: only it runs */
static struct thread boot_thread;        /* kmain's: the app's _start */
static struct thread idle_threads[MAX_CPUS];
static volatile uint32_t event_word;     /* kernel_event() counter, the word event waiters block on */
static uint32_t event_waiters;           /* threads in kernel_idle_until's wait, woken or not yet */
static uint32_t fpu_bytes;
static int fpu_xsave;
static int nthreads = 1;
struct sched_stats sched_stats;

struct thread *sched_current(void) { return this_cpu()->current; }
uint64_t sched_lock_wait_tsc(void) { return sched_lock.wait_tsc; }

/* ---- the run queue and the wait queues (sched_lock held) ---- */

static void enqueue(struct thread *t) {
  t->state = T_READY;
  t->next = NULL;
  if (rq_tail) rq_tail->next = t;
  else rq_head = t;
  rq_tail = t;
}

static struct thread *pick(void) {
  struct thread *t;
  while ((t = rq_head)) {
    rq_head = t->next;
    if (!rq_head) rq_tail = NULL;
    t->next = NULL;
    if (exiting && t != exiting) {
      t->state = T_PARKED; /* the instance is ending: never runs again */
      continue;
    }
    return t;
  }
  return NULL;
}

static struct thread **wait_queue_of(const volatile uint32_t *word) {
  uint64_t h = (uintptr_t)word * 0x9e3779b97f4a7c15ull;
  return &wait_queues[h >> 58]; /* 6 bits: WAIT_QUEUES */
}

/* Off its wait queue (and the timed list), onto the run queue. */
static void unblock(struct thread *t) {
  if ((*t->wait_prev = t->wait_next)) t->wait_next->wait_prev = t->wait_prev;
  if (t->deadline != UINT64_MAX && (*t->timed_prev = t->timed_next)) t->timed_next->timed_prev = t->timed_prev;
  enqueue(t);
}

/* Idle CPUs are woken by an IPI when there is work for them: one per ready thread that this
 * CPU will not take itself (it takes one when it is idle: it is in an interrupt from its hlt,
 * or about to look at the queue). IPIs cost, under TCG most of all: a wake-up from an idle
 * CPU's interrupt stays on that CPU unless more than one thread is ready. */
static void kick_idle(void) {
  struct cpu *me = this_cpu();
  int ready = 0;
  for (struct thread *t = rq_head; t; t = t->next) ready++;
  if (me->current == me->idle) ready--;
  for (int i = 0; i < ncpus && ready > 0; i++)
    if (&cpus[i] != me && cpus[i].current == cpus[i].idle && !cpus[i].kicked) {
      cpus[i].kicked = 1;
      sched_stats.ipis++;
      lapic_ipi(cpus[i].apic_id, SCHED_IPI_VECTOR);
      ready--;
    }
}

static int wake_expired(uint64_t now) {
  int n = 0;
  for (struct thread *t = timed, *next; t; t = next) {
    next = t->timed_next;
    if (t->deadline <= now) unblock(t), n++;
  }
  return n;
}

static uint64_t earliest_deadline(void) {
  uint64_t d = UINT64_MAX;
  for (struct thread *t = timed; t; t = t->timed_next)
    if (t->deadline < d) d = t->deadline;
  return d;
}

/* Runs the next ready thread, or this CPU's idle thread when the current one stops running
 * and nothing is ready. The caller has set current's state (enqueued it, or blocked it). */
static void schedule(void) {
  struct cpu *c = this_cpu();
  struct thread *prev = c->current, *next = pick();
  if (!next) {
    if (prev->state == T_RUNNING || prev->state == T_IDLE) return;
    next = c->idle;
  }
  if (next == prev) {
    prev->state = prev == c->idle ? T_IDLE : T_RUNNING;
    return;
  }
  if (next != c->idle) {
    next->state = T_RUNNING;
    c->runs++;
    vm_tlb_catch_up(c);
  }
  c->current = next;
  sched_switch(&prev->rsp, next->rsp);
}

/* ---- blocking ---- */

/* Blocks the current thread (sched_lock held) until woken or deadline. */
static void block(const volatile uint32_t *word, uint64_t deadline) {
  struct thread *t = sched_current();
  t->wait_word = word;
  t->deadline = deadline;
  t->state = T_BLOCKED;
  struct thread **q = wait_queue_of(word);
  if ((t->wait_next = *q)) (*q)->wait_prev = &t->wait_next;
  t->wait_prev = q;
  *q = t;
  if (deadline != UINT64_MAX) {
    if ((t->timed_next = timed)) timed->timed_prev = &t->timed_next;
    t->timed_prev = &timed;
    timed = t;
  }
  schedule();
}

void kiln_plat_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns) {
  uint64_t f = spin_lock_irqsave(&sched_lock);
  if (__atomic_load_n(word, __ATOMIC_SEQ_CST) == expected && time_ns() < deadline_ns) block(word, deadline_ns);
  spin_unlock_irqrestore(&sched_lock, f);
}

static int wake_word(const volatile uint32_t *word, uint32_t n) {
  int woke = 0;
  for (struct thread *t = *wait_queue_of(word), *next; t && (uint32_t)woke < n; t = next) {
    next = t->wait_next;
    if (t->wait_word == word) unblock(t), woke++;
  }
  return woke;
}

void kiln_plat_wake(uint32_t *word, uint32_t n) {
  uint64_t f = spin_lock_irqsave(&sched_lock);
  int woke = wake_word(word, n);
  sched_stats.word_wakes += (uint64_t)woke;
  if (woke) kick_idle();
  spin_unlock_irqrestore(&sched_lock, f);
}

uint64_t kiln_plat_now_ns(void) { return time_ns(); }

/* Interrupt context, or a thread whose work may have made something ready: every event
 * waiter looks again. Most calls find no waiter (every socket call that moved data makes
 * one): they take no lock. The counter moves first and the waiters are counted after, and
 * a waiter is counted before it looks at the counter (all sequentially consistent), so
 * either the waiter sees the new count and does not sleep, or this sees the waiter. */
void kernel_event(void) {
  __atomic_fetch_add(&event_word, 1, __ATOMIC_SEQ_CST);
  if (!__atomic_load_n(&event_waiters, __ATOMIC_SEQ_CST)) return;
  uint64_t f = spin_lock_irqsave(&sched_lock);
  int n = wake_word(&event_word, UINT32_MAX);
  sched_stats.event_wakes += (uint64_t)n;
  if (n) kick_idle();
  spin_unlock_irqrestore(&sched_lock, f);
}
uint64_t kernel_events(void) { return event_word; }

/* Other threads may use WASI while this one waits (kernel/wasi_lock.c). */
void kernel_idle_until(uint64_t deadline_ns, uint64_t seen_events) {
  __asm__ volatile("sti" ::: "memory");
  int released = wasi_lock_release();
  uint64_t f = spin_lock_irqsave(&sched_lock);
  __atomic_fetch_add(&event_waiters, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&event_word, __ATOMIC_SEQ_CST) == (uint32_t)seen_events && time_ns() < deadline_ns)
    block(&event_word, deadline_ns);
  __atomic_fetch_sub(&event_waiters, 1, __ATOMIC_RELAXED);
  spin_unlock_irqrestore(&sched_lock, f);
  wasi_lock_reacquire(released);
}

/* kiln_plat_wait for kernel code: other threads may use WASI meanwhile. */
void kernel_wait_word(const volatile uint32_t *word, uint32_t seen, uint64_t deadline_ns) {
  int released = wasi_lock_release();
  uint64_t f = spin_lock_irqsave(&sched_lock);
  if (*word == seen && time_ns() < deadline_ns) block(word, deadline_ns);
  spin_unlock_irqrestore(&sched_lock, f);
  wasi_lock_reacquire(released);
}

void kernel_wake_word(const volatile uint32_t *word) {
  uint64_t f = spin_lock_irqsave(&sched_lock);
  int woke = wake_word(word, UINT32_MAX);
  sched_stats.word_wakes += (uint64_t)woke;
  if (woke) kick_idle();
  spin_unlock_irqrestore(&sched_lock, f);
}

void sched_yield_cpu(void) {
  int released = wasi_lock_release();
  uint64_t f = spin_lock_irqsave(&sched_lock);
  enqueue(sched_current());
  schedule();
  spin_unlock_irqrestore(&sched_lock, f);
  wasi_lock_reacquire(released);
}

/* ---- the idle thread ---- */

_Noreturn void sched_idle_loop(void) {
  for (;;) {
    uint64_t f = spin_lock_irqsave(&sched_lock);
    this_cpu()->kicked = 0;
    wake_expired(time_ns());
    if (rq_head) {
      schedule();
      spin_unlock_irqrestore(&sched_lock, f);
      continue;
    }
    uint64_t deadline = earliest_deadline();
    spin_unlock(&sched_lock);
    /* Interrupts stay off until the hlt: a wake-up IPI or device interrupt sent after the
     * check above ends the hlt instead of being missed. */
    cpu_halt_until(deadline);
  }
}

/* ---- threads ---- */

static void fpu_save(struct thread *t) {
  if (fpu_xsave) __asm__ volatile("xsave64 (%0)" ::"r"(t->fpu), "a"(~0u), "d"(~0u) : "memory");
  else __asm__ volatile("fxsave64 (%0)" ::"r"(t->fpu) : "memory");
}
static void fpu_restore(struct thread *t) {
  if (fpu_xsave) __asm__ volatile("xrstor64 (%0)" ::"r"(t->fpu), "a"(~0u), "d"(~0u) : "memory");
  else __asm__ volatile("fxrstor64 (%0)" ::"r"(t->fpu) : "memory");
}

/* A fresh kernel stack that sched_switch "returns" into thread_entry (kernel/switch.S). */
static void prepare_stack(struct thread *t, uint8_t *stack, size_t bytes) {
  uint64_t *sp = (uint64_t *)(stack + bytes);
  *--sp = 0;
  *--sp = (uintptr_t)sched_thread_entry;
  for (int i = 0; i < 6; i++) *--sp = 0; /* rbp rbx r12 r13 r14 r15 */
  t->rsp = (uintptr_t)sp;
}

/* The first code of a new thread (sched_thread_entry calls it), with sched_lock held. */
_Noreturn void sched_thread_start(void) {
  struct thread *t = sched_current();
  spin_unlock(&sched_lock);
  __asm__ volatile("sti" ::: "memory");
  t->fn(t->arg);
  uint64_t f = spin_lock_irqsave(&sched_lock);
  (void)f;
  t->state = T_DEAD;
  t->next = zombies;
  zombies = t;
  nthreads--;
  schedule();
  panic("sched: a dead thread ran again");
}

static void free_thread(struct thread *t) {
  vm_stack_free(t->stack_slot);
  kfree_pages(t->kstack, KSTACK_PAGES);
  kfree_page(t->fpu);
  kfree(t);
}

static struct thread *thread_new(void (*fn)(void *), void *arg) {
  struct thread *t = kalloc(sizeof *t);
  if (!t) return NULL;
  t->kstack = kalloc_pages(KSTACK_PAGES);
  t->fpu = kalloc_page();
  t->stack_slot = -1;
  if (!t->kstack || !t->fpu || (t->stack_slot = vm_stack_alloc(&t->wasm_lo, &t->wasm_hi)) < 0) {
    if (t->kstack) kfree_pages(t->kstack, KSTACK_PAGES);
    if (t->fpu) kfree_page(t->fpu);
    kfree(t);
    return NULL;
  }
  t->fn = fn;
  t->arg = arg;
  prepare_stack(t, t->kstack, KSTACK_PAGES * PAGE_SIZE);
  return t;
}

int kiln_plat_thread_create(void (*fn)(void *), void *arg) {
  uint64_t f = spin_lock_irqsave(&sched_lock);
  struct thread *dead = zombies;
  zombies = NULL;
  spin_unlock_irqrestore(&sched_lock, f);
  while (dead) {
    struct thread *n = dead->next;
    free_thread(dead);
    dead = n;
  }
  struct thread *t = thread_new(fn, arg);
  if (!t) return -1;
  f = spin_lock_irqsave(&sched_lock);
  t->id = ++nthreads;
  enqueue(t);
  kick_idle();
  spin_unlock_irqrestore(&sched_lock, f);
  return 0;
}

/* ---- preemption ---- */

static int in_kernel_text(uint64_t rip) {
  return rip >= (uintptr_t)__kernel_text_start && rip < (uintptr_t)__kernel_text_end;
}

/* Interrupt context (the tick, or the tick IPI): deadlines that passed, and preemption of
 * app code when another thread is ready. */
void sched_tick(struct trapframe *tf) {
  struct cpu *c = this_cpu();
  spin_lock(&sched_lock);
  if (wake_expired(time_ns())) kick_idle();
  int others = rq_head != NULL || (exiting && c->current != exiting);
  spin_unlock(&sched_lock);
  if (c->id == 0)
    for (int i = 1; i < ncpus; i++)
      if (cpus[i].current != cpus[i].idle) lapic_ipi(cpus[i].apic_id, SCHED_IPI_VECTOR);
  struct thread *t = c->current;
  if (!others || t == c->idle || !t->call || in_kernel_text(tf->rip)) return;
  /* The interrupted registers go on the thread's own stack, below the red zone that
   * generated code may use, with room left above the guard for the switch. */
  uint64_t sp = ((tf->rsp - 128) & ~15ull) - sizeof *tf;
  if (sp < t->wasm_lo + 4 * PAGE_SIZE || tf->rsp > t->wasm_hi) return;
  memcpy((void *)sp, tf, sizeof *tf);
  tf->rsp = sp;
  tf->rip = (uintptr_t)sched_preempt_stub;
  tf->rflags &= ~(1ull << 9);
}

/* sched_preempt_stub, interrupts off, on the preempted thread's stack. */
void sched_preempt(void) {
  struct thread *t = sched_current();
  fpu_save(t);
  spin_lock(&sched_lock);
  if (exiting && t != exiting) t->state = T_PARKED;
  else enqueue(t);
  schedule();
  spin_unlock(&sched_lock);
  fpu_restore(t);
}

/* The instance is ending (proc_exit, a trap, _start returned): from now on only the current
 * thread runs; the others stop at their next switch or tick. */
void sched_stop_others(void) {
  uint64_t f = spin_lock_irqsave(&sched_lock);
  exiting = sched_current();
  spin_unlock_irqrestore(&sched_lock, f);
}

_Noreturn void sched_park(void) {
  uint64_t f = spin_lock_irqsave(&sched_lock);
  (void)f;
  sched_current()->state = T_PARKED;
  schedule();
  panic("sched: a parked thread ran again");
}

/* ---- start-up ---- */

static void idle_thread_main(void *arg) { sched_idle_loop(); }

void sched_init(void) {
  uint32_t r[4];
  cpuid(1, 0, r);
  fpu_xsave = (r[2] >> 26) & 1;
  fpu_bytes = 512;
  if (fpu_xsave) {
    cpuid(0xd, 0, r);
    fpu_bytes = r[1];
  }
  if (fpu_bytes > PAGE_SIZE) panic("sched: the CPU's extended state (%u bytes) exceeds a page", fpu_bytes);
  struct thread *b = &boot_thread;
  b->state = T_RUNNING;
  b->id = 1;
  b->stack_slot = vm_stack_alloc(&b->wasm_lo, &b->wasm_hi);
  b->fpu = kalloc_page();
  if (b->stack_slot < 0 || !b->fpu) panic("sched: no memory for the first thread");
  cpus[0].current = b;
  /* The boot processor's idle thread needs a stack of its own: kmain's is the app's. */
  struct thread *idle = &idle_threads[0];
  uint8_t *st = kalloc_pages(KSTACK_PAGES);
  if (!st) panic("sched: no memory for the idle thread");
  idle->state = T_IDLE;
  idle->fn = idle_thread_main;
  prepare_stack(idle, st, KSTACK_PAGES * PAGE_SIZE);
  cpus[0].idle = idle;
}

/* Another processor: the code it runs now (on its boot stack) becomes its idle thread. */
void sched_init_ap(struct cpu *c) {
  struct thread *idle = &idle_threads[c->id];
  idle->state = T_IDLE;
  c->idle = c->current = idle;
}
