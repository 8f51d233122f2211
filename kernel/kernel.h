/* kernel/kernel.h — the kernel's internal header: its functions grouped by defining file, and
 * the API that drivers/ and net/ build on (page allocation, virt_to_phys, IRQs, port and MMIO
 * access, time, idling). Everything runs in ring 0, on one CPU or (smp=N) several; interrupts
 * are enabled outside interrupt handlers and the sections guarded by irq_save()/irq_restore()
 * or a spinlock. Device interrupts all go to the boot processor.
 */
#ifndef KILN_KERNEL_H
#define KILN_KERNEL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PAGE_SIZE ((uint64_t)4096)
#define PAGE_ROUND_UP(x) (((uint64_t)(x) + PAGE_SIZE - 1) & ~(PAGE_SIZE - 1))
#define PAGE_ROUND_DOWN(x) ((uint64_t)(x) & ~(PAGE_SIZE - 1))
#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* ---- port I/O, MMIO, interrupt flag (inline) ---- */

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outw(uint16_t port, uint16_t v) { __asm__ volatile("outw %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
  uint8_t v;
  __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint16_t inw(uint16_t port) {
  uint16_t v;
  __asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
static inline uint32_t inl(uint16_t port) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

/* MMIO: the compiler must neither merge, reorder across, nor elide these accesses. */
static inline uint8_t mmio_read8(volatile void *p) { return *(volatile uint8_t *)p; }
static inline uint16_t mmio_read16(volatile void *p) { return *(volatile uint16_t *)p; }
static inline uint32_t mmio_read32(volatile void *p) { return *(volatile uint32_t *)p; }
static inline uint64_t mmio_read64(volatile void *p) { return *(volatile uint64_t *)p; }
static inline void mmio_write8(volatile void *p, uint8_t v) { *(volatile uint8_t *)p = v; }
static inline void mmio_write16(volatile void *p, uint16_t v) { *(volatile uint16_t *)p = v; }
static inline void mmio_write32(volatile void *p, uint32_t v) { *(volatile uint32_t *)p = v; }
static inline void mmio_write64(volatile void *p, uint64_t v) { *(volatile uint64_t *)p = v; }
/* Orders memory accesses for DMA (descriptor writes before the doorbell). x86 is TSO, so a
 * compiler barrier plus mfence covers every case the virtio spec asks for. */
static inline void mb(void) { __asm__ volatile("mfence" ::: "memory"); }
static inline void barrier(void) { __asm__ volatile("" ::: "memory"); }

static inline uint64_t irq_save(void) {
  uint64_t f;
  __asm__ volatile("pushfq; popq %0; cli" : "=r"(f)::"memory");
  return f;
}
static inline void irq_restore(uint64_t f) {
  if (f & (1 << 9)) __asm__ volatile("sti" ::: "memory");
}
static inline uint64_t rdtsc(void) {
  uint32_t lo, hi;
  __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
}
static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
  __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
}

/* ---- spinlocks: short sections on any CPU; _irqsave where interrupt handlers take them ---- */
typedef struct {
  volatile uint32_t locked;
  uint64_t wait_tsc; /* TSC cycles CPUs spent spinning for it (the netstat= line shows some) */
} spinlock_t;
static inline int spin_trylock(spinlock_t *l) { return !__atomic_exchange_n(&l->locked, 1, __ATOMIC_ACQUIRE); }
static inline void spin_lock(spinlock_t *l) {
  if (spin_trylock(l)) return;
  uint64_t t0 = rdtsc();
  do
    while (l->locked) __asm__ volatile("pause");
  while (!spin_trylock(l));
  l->wait_tsc += rdtsc() - t0; /* under the lock */
}
static inline void spin_unlock(spinlock_t *l) { __atomic_store_n(&l->locked, 0, __ATOMIC_RELEASE); }
static inline uint64_t spin_lock_irqsave(spinlock_t *l) {
  uint64_t f = irq_save();
  spin_lock(l);
  return f;
}
static inline void spin_unlock_irqrestore(spinlock_t *l, uint64_t f) {
  spin_unlock(l);
  irq_restore(f);
}

/* Kernel code called from Wasm runs on the thread's demand-paged Wasm stack, and a page fault
 * there takes the page-table and page-allocator locks (kernel/vm.c, pmem.c): code about to
 * take one of those touches the next two pages of its stack first, so that no demand fault
 * can happen while it holds one (it would wait for itself). Their sections are shallow. */
static inline void stack_probe(void) {
  volatile uint8_t *sp = __builtin_frame_address(0);
  (void)sp[-4096];
  (void)sp[-8192];
}

/* ---- per-CPU data (kernel/smp.c), reached through GS ---- */
#define MAX_CPUS 16
struct thread;
struct cpu {
  struct cpu *self; /* %gs:0 */
  int id;           /* 0: the boot processor */
  uint8_t apic_id;
  struct thread *current, *idle; /* kernel/sched.c */
  uint64_t runs;                 /* times it switched to an app thread (stats=1) */
  int kicked;                    /* idle, and sent a wake-up IPI it has not acted on yet */
  int halted;       /* in hlt (kernel/time.c's idle accounting) */
  uint64_t halt_t0;
  uint32_t tlb_gen; /* the vm_tlb_gen this CPU's TLB has caught up with (kernel/vm.c) */
};
extern struct cpu cpus[MAX_CPUS];
extern int ncpus; /* started, including the boot processor */
static inline struct cpu *this_cpu(void) {
  struct cpu *c;
  __asm__ volatile("movq %%gs:0, %0" : "=r"(c));
  return c;
}

/* ---- boot/linker.ld symbols ---- */
extern char __kernel_start[], __text_end[], __rodata_end[], __data_end[], __kernel_end[];
extern char __kernel_text_start[], __kernel_text_end[];
/* ---- boot/entry.S: the image's own command line, filled by `kiln build` (NUL-padded) ---- */
extern const char kernel_image_cmdline[];

/* ---- kernel/main.c ---- */
void kmain(uint32_t magic, uint32_t info);

/* ---- kernel/bootinfo.c: boot information from either loader ---- */
#define BOOT_MAX_REGIONS 64
#define BOOT_MAX_MODULES 8
#define BOOT_CMDLINE_MAX 4096 /* also the size of .kiln.cmdline in boot/entry.S */
struct boot_region {
  uint64_t addr, len; /* usable RAM only */
};
struct boot_module {
  uint64_t start, end; /* physical [start, end) */
  char name[64];       /* the module's command line (e.g. "fs") */
};
struct boot_info {
  const char *loader; /* "PVH" or "multiboot2" */
  struct boot_region regions[BOOT_MAX_REGIONS];
  int nregions;
  struct boot_module modules[BOOT_MAX_MODULES];
  int nmodules;
  char cmdline[BOOT_CMDLINE_MAX];
  uint64_t rsdp; /* ACPI RSDP's physical address when the loader gave it (PVH), else 0 */
};
/* Copies what the kernel needs out of the loader's structures. 0, or -1 with a reason in err. */
int boot_parse(uint32_t magic, uintptr_t info, struct boot_info *out, char *err, size_t errlen);
void boot_check_files(const struct boot_info *bi); /* panics naming the --mem needed */
extern struct boot_info boot_info;

/* ---- kernel/pmem.c: physical pages (a bitmap over RAM; identity-mapped) ---- */
void pmem_init(const struct boot_info *bi);
void *kalloc_page(void);             /* one zeroed 4 KiB page, identity-mapped; NULL when out */
void kfree_page(void *p);
void *kalloc_pages(size_t n);        /* n physically contiguous zeroed pages, or NULL */
void kfree_pages(void *p, size_t n);
uint64_t pmem_free_bytes(void);
uint64_t pmem_total_bytes(void);
uint64_t pmem_top(void);             /* end of the highest usable RAM address */
/* The allocator's pure core (host-tested): physical addresses only, no memory touched. */
uint64_t pmem_bitmap_bytes(uint64_t top);
void pmem_setup(uint64_t *bitmap, uint64_t top, const struct boot_region *r, int nr);
void pmem_reserve(uint64_t start, uint64_t end);
void pmem_set_limit(uint64_t top);
uint64_t pmem_alloc_phys(size_t n); /* 0 when no run of n free pages */
void pmem_free_phys(uint64_t pa, size_t n);

/* ---- kernel/vm.c: page tables, MMIO mappings, linear memories, the Wasm stack ---- */
void vm_init(void);
uint64_t virt_to_phys(const void *va); /* identity for RAM; walks the tables elsewhere (0: unmapped) */
/* Maps [phys, phys+len) uncached at the same virtual address (device registers); returns it. */
void *kmap_mmio(uint64_t phys, size_t len);
/* Wasm stacks, one per thread: [*lo, *hi) with an unmapped guard region below lo, mapped on
 * demand; returns the slot, or -1. A freed slot keeps its pages for the next thread. */
int vm_stack_alloc(uintptr_t *lo, uintptr_t *hi);
void vm_stack_free(int slot);
/* Page-fault triage: 1 when the fault was a demand page of a Wasm stack (now mapped), -1 when
 * it was one but no page is left (the trap "call stack exhausted"), 0 when not ours. */
int vm_handle_demand_fault(uint64_t addr);
/* Which region a fault address is in: */
enum { VM_REGION_OTHER = 0, VM_REGION_LINEAR_MEMORY, VM_REGION_STACK_GUARD };
int vm_classify(uint64_t addr);
/* Frees the current thread's Wasm stack pages below its pre-mapped top (between instances).
 * Returns bytes. */
uint64_t vm_stack_trim(void);
/* Unmapping (a restart in place frees linear memory and stack pages) bumps vm_tlb_gen after
 * flushing the CPU that did it; another CPU flushes before it next runs an app thread
 * (kernel/sched.c), which is the only code that touches those addresses. */
extern uint32_t vm_tlb_gen;
void vm_tlb_catch_up(struct cpu *c);

/* ---- kernel/heap.c: kalloc/kfree (kiln_plat_alloc/kiln_plat_free use it) ---- */
void *kalloc(size_t n); /* zeroed, 16-byte aligned; NULL when out of memory */
void kfree(void *p);

/* ---- kernel/cpu.c: GDT/TSS with the interrupt stacks, SSE/AVX enabling, CPU features ---- */
void cpu_init(void);             /* the boot processor, per-CPU data on cpus[0] */
void cpu_init_ap(struct cpu *c); /* another processor: its own GDT, TSS and interrupt stacks */
void cpu_enable_simd(void);
extern bool cpu_has_nx, cpu_has_rdrand, cpu_has_rdseed, cpu_has_invariant_tsc, cpu_has_apic, cpu_has_tsc_deadline;
enum { IST_IRQ = 1, IST_FAULT = 2, IST_DOUBLE = 3 };

/* ---- kernel/trap.c: IDT, exceptions, interrupt dispatch ---- */
struct trapframe {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector, error;
  uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};
void trap_init(void);
void trap_load_idt(void);
void trap_dispatch(struct trapframe *tf); /* called by kernel/vectors.S */
/* An interrupt handler runs with interrupts disabled on the interrupt stack (one stack for
 * all IRQs: a handler must never enable interrupts, nor call kernel_idle); the EOI is sent
 * after it returns. irq is a legacy line 0..15 (routed through the 8259 PIC); returns 0 or -1
 * (bad line or too many handlers). Several handlers may share a line (PCI INTx). */
typedef void (*irq_handler_fn)(void *arg);
int irq_register(int irq, irq_handler_fn fn, void *arg);
/* MSI: allocates a vector for fn and gives the address/data pair to program into the device's
 * MSI capability; returns 0 or -1. Uses the local APIC. */
int irq_alloc_msi(irq_handler_fn fn, void *arg, uint64_t *msi_addr, uint32_t *msi_data);

/* ---- kernel/pic.c: 8259 PIC and local APIC ---- */
void pic_init(void);
void pic_unmask(int irq);
void pic_eoi(int irq);
void lapic_init(void);
void lapic_init_ap(void);
uint8_t lapic_id(void);
#define LAPIC_IPI_INIT 0x4500    /* INIT, level assert */
#define LAPIC_IPI_STARTUP 0x4600 /* | the start page (address >> 12) */
void lapic_ipi(uint8_t apic_id, uint32_t cmd); /* cmd: the ICR's low word (vector, delivery mode) */
void lapic_eoi(void);
void lapic_timer_init(int vector, int tsc_deadline);
void lapic_timer_start(uint32_t count);
uint32_t lapic_timer_current(void);
void lapic_timer_arm(uint32_t count);

/* ---- kernel/time.c: TSC (calibrated against the PIT), CMOS RTC, the periodic tick ---- */
#define TIMER_HZ 100
void time_calibrate_start(void); /* kmain's first step: the TSC is measured from here */
void time_init(void);
void time_init_ap(void);         /* another processor's deadline timer */
uint64_t time_ns(void);          /* monotonic, since boot */
uint64_t time_realtime_ns(void); /* since the Unix epoch (RTC at boot + monotonic) */
uint64_t time_tsc_hz(void);
/* The boot timeline as TSC values (the TSC counts from the machine's reset, so firmware time
 * is included): kernel entry, the app's _start, the listening sockets up (net/stats.c). */
extern uint64_t boot_tsc_entry, boot_tsc_app, boot_tsc_listening;
uint64_t time_ticks(void);       /* timer interrupts since time_init */
/* fn(arg) runs at every tick in interrupt context (e.g. lwIP timers); 0 or -1. */
int timer_register(irq_handler_fn fn, void *arg);
/* The idle thread (kernel/sched.c), interrupts off: halts until the next interrupt or the
 * monotonic instant deadline_ns (UINT64_MAX: none), with a one-shot timer interrupt armed at
 * the deadline: never spins. Returns with interrupts enabled. */
void cpu_halt_until(uint64_t deadline_ns);
/* kernel/sched.c: blocks the current thread until the next kernel event or the monotonic
 * instant deadline_ns (UINT64_MAX: none); other threads run meanwhile, and a CPU with none
 * halts. Returns at once if the deadline has passed or kernel_event() was called since the
 * caller read kernel_events() into seen_events (so readiness that an interrupt produced
 * between the caller's last check and the wait is not slept through). May be called with
 * interrupts disabled; returns with them enabled. */
void kernel_idle_until(uint64_t deadline_ns, uint64_t seen_events);
void kernel_event(void);       /* interrupt context or a thread: something may have become ready */
/* The same for one object (a socket): block while *word == seen, until kernel_wake_word(word)
 * (after the object's owner changed *word) or the deadline. Interrupt context may wake. */
void kernel_wait_word(const volatile uint32_t *word, uint32_t seen, uint64_t deadline_ns);
void kernel_wake_word(const volatile uint32_t *word);
uint64_t kernel_events(void);
#define TIMER_DEADLINE_VECTOR 0xf0
void time_deadline_irq(void);  /* kernel/trap.c calls it for TIMER_DEADLINE_VECTOR */
void time_irq_entry(void);     /* kernel/trap.c calls it first for every interrupt */
struct idle_stats {
  uint64_t halts;         /* hlt instructions executed by waiters */
  uint64_t deadline_irqs; /* wake-ups by the deadline timer */
  uint64_t armed;         /* deadlines programmed */
  uint64_t idle_tsc, idle_ns; /* time spent halted (TSC cycles; in ns when read) */
  const char *mode;       /* tsc-deadline, lapic-oneshot, pit-oneshot or none */
};
void time_idle_stats(struct idle_stats *s);
/* Pure: days since 1970-01-01 of a proleptic Gregorian date (for the RTC). */
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

/* ---- kernel/acpi.c: the processors' local APIC ids from the MADT ---- */
int acpi_cpus(uint8_t *apic_ids, int max); /* how many (enabled or online-capable); 0 without ACPI */

/* ---- kernel/smp.c: the other processors (smp=N) ---- */
void cpu_set_percpu(struct cpu *c); /* GS base */
void smp_init(void);
_Noreturn void ap_main(struct cpu *c);

/* ---- kernel/sched.c + kernel/switch.S: threads, run queue, blocking, preemption ---- */
struct call_frame;
struct thread {
  uint64_t rsp;         /* saved by sched_switch while it does not run */
  struct thread *next;  /* in the run queue or the dead list */
  /* Blocked: on the wait queue of its word, and on the timed list when it has a deadline
   * (kernel/sched.c); prev points at the link that points at it. */
  struct thread *wait_next, **wait_prev, *timed_next, **timed_prev;
  int state, id;
  uint8_t *kstack;      /* where it starts (NULL: kmain's boot stack) */
  uint8_t *fpu;         /* SSE/AVX state while preempted (xsave area, one page) */
  int stack_slot;       /* its Wasm stack (kernel/vm.c) */
  uintptr_t wasm_lo, wasm_hi;
  struct call_frame *call; /* innermost kiln_plat_call (kernel/call.c) */
  void *trap_pc;           /* where its last unwind came from (for the trap report) */
  const volatile uint32_t *wait_word; /* blocked on: kiln_plat_wait's word, or the event counter */
  uint64_t deadline;       /* UINT64_MAX: none */
  uint64_t wait_seen;      /* kernel/wasi_plat.c: the events when its last wait ended */
  int wasi_held;           /* inside a locked WASI call (kernel/wasi_lock.c) */
  void (*fn)(void *);
  void *arg;
};
#define SCHED_IPI_VECTOR 0xf1 /* wake an idle CPU; the tick, forwarded to busy ones */
/* Where the scheduler's time goes (the netstat= line shows them, net/stats.c). */
struct sched_stats {
  uint64_t ipis;        /* wake-up IPIs sent to idle CPUs */
  uint64_t event_wakes; /* threads woken by kernel_event (poll_oneoff, blocked sends) */
  uint64_t word_wakes;  /* threads woken on their own word (futex, socket) */
  uint64_t wasi_sleeps; /* WASI calls that slept for the WASI lock */
  uint64_t wasi_wait_tsc; /* TSC cycles WASI calls waited for that lock (spin and sleep) */
};
uint64_t sched_lock_wait_tsc(void); /* cycles CPUs spun for the scheduler's lock */
extern struct sched_stats sched_stats;
void sched_init(void);               /* the boot processor, once time and memory are up */
void sched_init_ap(struct cpu *c);
struct thread *sched_current(void);
_Noreturn void sched_idle_loop(void);
void sched_tick(struct trapframe *tf); /* interrupt context: deadlines, preemption */
void sched_stop_others(void);          /* the instance ends: only the current thread runs on */
void sched_yield_cpu(void);            /* the current thread goes behind the ready ones */
_Noreturn void sched_park(void);       /* the current thread never runs again */
/* kernel/switch.S */
void sched_switch(uint64_t *save_rsp, uint64_t rsp);
void sched_thread_entry(void);
void sched_preempt_stub(void);
_Noreturn void sched_thread_start(void);
void sched_preempt(void);

/* ---- kernel/cmdline.c: arg=, env= and other key=value tokens ---- */
/* Parses the image's command line (built in, or NULL) and the loader's over it, key by key
 * (percent-decoding values). 0, or -1 with a message in err for the first bad token (which is
 * kept undecoded). */
int cmdline_parse(const char *image, const char *boot, char *err, size_t errlen);
int cmdline_argc(void);
const char *cmdline_argv(int i);
int cmdline_envc(void);
const char *cmdline_env(int i); /* "NAME=VALUE" */
/* The decoded value of the last `key=VALUE` token, or NULL (e.g. "ip", "gw", "mask"). */
const char *kernel_cmdline_get(const char *key);
/* The n-th (from 0, in command-line order) value of a repeatable key (listen=), or NULL. */
const char *kernel_cmdline_get_nth(const char *key, int n);
/* Pure: decodes %XX escapes of src[0..n) into dst (room for n+1 bytes, NUL-terminated);
 * returns the decoded length or -1 on a malformed escape. */
long percent_decode(char *dst, const char *src, size_t n);

/* ---- kernel/printf.c: formatted output to the console's note stream (stderr) ---- */
int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void kprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* A kernel note (boot banner, devices, network): printed unless quiet=1 (klog_set_quiet).
 * Panics, traps and fault reports use kprintf and are always printed. */
void klog(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void klog_set_quiet(int quiet);

/* ---- kernel/exit.c: the exit protocol (status line on port 0xe9, isa-debug-exit on 0xf4) ---- */
_Noreturn void kernel_exit(uint32_t status);
_Noreturn void kernel_exit_trap(const char *message, const char *function);
_Noreturn void panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* ---- kernel/call.c + kernel/switch.S: kiln_plat_call/unwind on the Wasm stack ---- */
/* The innermost active kiln_plat_call's instance, or NULL when no Wasm code runs. */
struct kiln_instance *call_current(void);
/* kiln_plat_unwind for a hardware fault at pc (kernel/trap.c). */
_Noreturn void call_unwind_fault(uint32_t code, void *pc);
/* Where the current thread's last unwind came from (for the trap report). */
void *call_last_trap_pc(void);
struct kjmp {
  uint64_t rbx, rbp, r12, r13, r14, r15, rsp, rip, rflags;
};
int kjmp_set(struct kjmp *j) __attribute__((returns_twice));
_Noreturn void kjmp_long(struct kjmp *j, int v);
void call_on_stack(void *tramp, void *fn, void *ctx, void *vals, uintptr_t sp);

/* ---- kernel/wasi_plat.c: the WASI platform interface (wasi/wasi.h) ---- */
/* fn(arg) runs whenever WASI waits or yields (the network driver polls the NIC and lwIP
 * timers there) and returns nonzero when it did work that may have made something ready;
 * 0 or -1. */
int kernel_poll_register(int (*fn)(void *), void *arg);

/* ---- kernel/wasi_lock.c: one lock over the WASI state, around every WASI call ---- */
void *wasi_locked_entry(const char *symbol); /* the locked entry of a WASI import, or NULL */
int wasi_lock_release(void);            /* while the caller waits: 1 if it held the lock */
void wasi_lock_reacquire(int released);

/* ---- kernel/selftest.c: deliberate faults (selftest=NAME on the command line) ---- */
void selftest_run(const char *name);

/* ---- kernel/app.c: instantiate kiln_module, run _start, report ---- */
_Noreturn void app_run(void);
/* fn() runs when the app exits normally, before the machine stops (the network drains its
 * TCP data there); 0 or -1. Not after a trap or a panic. */
int app_exit_register(void (*fn)(void));

/* ---- drivers/virtio_balloon.c: guest RAM back to the host (free page reporting) ---- */
int virtio_balloon_probe(void); /* 0, or -1 when absent or without free page reporting */
/* Reports the free RAM (beyond a reserve) to the host, which drops it; returns the bytes. */
uint64_t balloon_report_free(void);
uint64_t balloon_reported_bytes(void); /* in all, since boot */

/* ---- kernel/random.c: RDSEED/RDRAND, else a ChaCha20 DRBG ---- */
void random_init(void);
void random_bytes(void *buf, size_t n);
/* Pure: the ChaCha20 block function (RFC 8439). */
void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3], uint8_t out[64]);

/* ---- kernel/string.c: the C library subset freestanding code here needs ---- */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
int atoi(const char *s);

/* ---- drivers/serial.c: the 16550 UARTs (raw bytes; kernel/console.c gives the roles) ---- */
#define SERIAL_NPORTS 4 /* COM1 to COM4 */
void serial_init(void);
bool serial_present(int port);
void serial_write(int port, const void *buf, size_t n); /* every byte as it is; waits for room */
void serial_rx_enable(void);            /* COM1 receive interrupt on (after pic_init) */
size_t serial_rx(uint8_t *buf, size_t n); /* received COM1 bytes, 0 when none; never blocks */
bool serial_rx_ready(void);

/* ---- drivers/fw_cfg.c: QEMU's fw_cfg files ---- */
/* Copies up to n bytes of the named file; returns how many, or -1 when absent. */
int fw_cfg_read_file(const char *name, void *buf, size_t n);

/* ---- drivers/virtio_console.c: stdin through a virtio console, when there is one ---- */
int virtio_console_probe(void); /* 0, or -1 when absent or unusable */
bool virtio_console_present(void);
size_t virtio_console_rx(uint8_t *buf, size_t n); /* received bytes, 0 when none; never blocks */
bool virtio_console_rx_ready(void);

/* ---- kernel/console.c: stdout on COM1, stderr and kernel notes on COM2, framed stdin ---- */
void console_init(void);      /* the UARTs: first thing at boot */
void console_host_init(void); /* what kiln run says about the host side (fw_cfg); after pic_init */
void console_write(int fd, const void *buf, size_t n); /* fd 1: stdout, 2: stderr */
void console_note(const char *s, size_t n);            /* kernel notes, traps, panics */
int console_isatty(int fd);   /* the host's fd 0..2 is a terminal */
int64_t console_read(void *buf, size_t n); /* > 0 bytes, 0 nothing yet, -1 end of input */
int console_read_ready(void);
void console_listening(void); /* the app's preopened listening sockets are up (COM4) */

#endif
