/* kernel/trap.c — the IDT and what each interrupt means.
 *
 * Faults while Wasm code runs (an active kiln_plat_call) become Wasm traps:
 *   - a page fault in a linear memory's reserved region: "out of bounds memory access"
 *   - a page fault in the Wasm stack's guard region: "call stack exhausted"
 *   - a general-protection fault in app code (not kernel text): "out of bounds memory access"
 * kiln_plat_unwind then returns to the kiln_plat_call and the kernel reports the trap. A page
 * fault on a not-yet-mapped page of the Wasm stack maps it and resumes, or is "call stack
 * exhausted" when no RAM is left for it. Anything else is a
 * kernel fault: registers on the console and the "panic" status.
 *
 * Every vector runs on an IST stack (kernel/cpu.c), so the interrupted stack is never
 * touched: it may be at its guard page, and generated code may use the red zone.
 */
#include "kernel/instance.h"
#include "kernel/kernel.h"

#define NVECTORS 256
#define IRQ_BASE 32      /* PIC lines 0-15 -> vectors 32-47 */
#define MSI_BASE 48      /* vectors handed out by irq_alloc_msi */
#define MSI_COUNT 64
#define SPURIOUS_VECTOR 0xff
#define HANDLERS_PER_LINE 4

struct __attribute__((packed)) gate {
  uint16_t off_lo, sel;
  uint8_t ist, type;
  uint16_t off_mid;
  uint32_t off_hi, reserved;
};

static struct gate idt[NVECTORS] __attribute__((aligned(16)));
extern const uint64_t trap_vectors[NVECTORS];

static struct {
  irq_handler_fn fn;
  void *arg;
} line_handlers[16][HANDLERS_PER_LINE], msi_handlers[MSI_COUNT];
static int msi_next;

static const char *const exception_names[32] = {
    "divide error", "debug", "NMI", "breakpoint", "overflow", "bound range", "invalid opcode",
    "device not available", "double fault", "coprocessor overrun", "invalid TSS", "segment not present",
    "stack-segment fault", "general protection fault", "page fault", "reserved", "x87 floating-point error",
    "alignment check", "machine check", "SIMD floating-point error", "virtualization", "control protection",
};

void trap_init(void) {
  for (int v = 0; v < NVECTORS; v++) {
    uint64_t off = trap_vectors[v];
    uint8_t ist = IST_IRQ;
    if (v < 32) ist = (v == 8 || v == 2 || v == 18) ? IST_DOUBLE : IST_FAULT;
    idt[v] = (struct gate){(uint16_t)off, 0x08, ist, 0x8e, (uint16_t)(off >> 16), (uint32_t)(off >> 32), 0};
  }
  trap_load_idt();
}

/* Every processor uses the same IDT (kernel/smp.c loads it on the others). */
void trap_load_idt(void) {
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } idtr = {sizeof idt - 1, (uintptr_t)idt};
  __asm__ volatile("lidt %0" ::"m"(idtr));
}

int irq_register(int irq, irq_handler_fn fn, void *arg) {
  if (irq < 0 || irq >= 16 || irq == 2 || !fn) return -1;
  uint64_t f = irq_save();
  for (int i = 0; i < HANDLERS_PER_LINE; i++) {
    if (line_handlers[irq][i].fn) continue;
    line_handlers[irq][i].fn = fn;
    line_handlers[irq][i].arg = arg;
    pic_unmask(irq);
    irq_restore(f);
    return 0;
  }
  irq_restore(f);
  return -1;
}

int irq_alloc_msi(irq_handler_fn fn, void *arg, uint64_t *msi_addr, uint32_t *msi_data) {
  if (!fn || msi_next == MSI_COUNT) return -1;
  lapic_init();
  int i = msi_next++;
  msi_handlers[i].fn = fn;
  msi_handlers[i].arg = arg;
  *msi_addr = 0xfee00000; /* destination: APIC id 0, physical mode */
  *msi_data = MSI_BASE + i; /* fixed delivery, edge */
  return 0;
}

static void dump(const struct trapframe *tf, uint64_t cr2) {
  kprintf("  rip %016lx  rsp %016lx  rflags %016lx  error %lx  cr2 %016lx\n", tf->rip, tf->rsp, tf->rflags,
          tf->error, cr2);
  kprintf("  rax %016lx  rbx %016lx  rcx %016lx  rdx %016lx\n", tf->rax, tf->rbx, tf->rcx, tf->rdx);
  kprintf("  rsi %016lx  rdi %016lx  rbp %016lx  r8  %016lx\n", tf->rsi, tf->rdi, tf->rbp, tf->r8);
  kprintf("  r9  %016lx  r10 %016lx  r11 %016lx  r12 %016lx\n", tf->r9, tf->r10, tf->r11, tf->r12);
  kprintf("  r13 %016lx  r14 %016lx  r15 %016lx  cs %lx ss %lx\n", tf->r13, tf->r14, tf->r15, tf->cs, tf->ss);
}

static int in_kernel_text(uint64_t rip) {
  return rip >= (uintptr_t)__kernel_text_start && rip < (uintptr_t)__kernel_text_end;
}

static void exception(struct trapframe *tf) {
  uint64_t cr2 = 0;
  kiln_instance *wasm = call_current();
  if (tf->vector == 14) {
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    int demand = (tf->error & 1) ? 0 : vm_handle_demand_fault(cr2);
    if (demand > 0) return;
    /* No page left for the Wasm stack: the app used up the RAM, so its call stack is
     * exhausted (the VM stops after the trap, so unwinding out of a WASI call is safe). */
    if (demand < 0 && wasm) call_unwind_fault(KILN_TRAP_STACK_EXHAUSTED, (void *)tf->rip);
    if (demand < 0) panic("vm: out of memory growing the Wasm stack outside a call");
    if (wasm) {
      int region = vm_classify(cr2);
      if (region == VM_REGION_LINEAR_MEMORY) call_unwind_fault(KILN_TRAP_MEMORY_OOB, (void *)tf->rip);
      if (region == VM_REGION_STACK_GUARD) call_unwind_fault(KILN_TRAP_STACK_EXHAUSTED, (void *)tf->rip);
    }
  }
  if (tf->vector == 13 && wasm && !in_kernel_text(tf->rip))
    call_unwind_fault(KILN_TRAP_MEMORY_OOB, (void *)tf->rip);

  const char *name = tf->vector < 32 && exception_names[tf->vector] ? exception_names[tf->vector] : "exception";
  kprintf("kiln: kernel fault: %s (vector %lu) at %016lx%s\n", name, tf->vector, tf->rip,
          in_kernel_text(tf->rip) ? " in the kernel" : (wasm ? " in app code" : ""));
  dump(tf, cr2);
  if (tf->vector == 6 && wasm && !in_kernel_text(tf->rip))
    panic("invalid opcode in app code at %#lx (CPU lacks an instruction the app was compiled for? try -cpu max)",
          tf->rip);
  if (tf->vector == 14)
    panic("%s at %#lx, address %#lx (%s)", name, tf->rip, cr2, (tf->error & 1) ? "protection" : "not mapped");
  panic("%s at %#lx", name, tf->rip);
}

void trap_dispatch(struct trapframe *tf) {
  uint64_t v = tf->vector;
  if (v < 32) {
    exception(tf);
    return;
  }
  time_irq_entry();
  if (v < IRQ_BASE + 16) {
    int irq = (int)(v - IRQ_BASE);
    if ((irq == 7 || irq == 15)) {
      /* Spurious unless the PIC's in-service register says otherwise. */
      uint16_t port = irq == 7 ? 0x20 : 0xa0;
      outb(port, 0x0b);
      if (!(inb(port) & 0x80)) {
        if (irq == 15) pic_eoi(2); /* the master saw a real cascade interrupt */
        return;
      }
    }
    for (int i = 0; i < HANDLERS_PER_LINE && line_handlers[irq][i].fn; i++)
      line_handlers[irq][i].fn(line_handlers[irq][i].arg);
    pic_eoi(irq);
    if (irq == 0) sched_tick(tf);
  } else if (v >= MSI_BASE && v < MSI_BASE + MSI_COUNT) {
    if (msi_handlers[v - MSI_BASE].fn) msi_handlers[v - MSI_BASE].fn(msi_handlers[v - MSI_BASE].arg);
    lapic_eoi();
  } else if (v == TIMER_DEADLINE_VECTOR) {
    time_deadline_irq();
    lapic_eoi();
  } else if (v == SCHED_IPI_VECTOR) {
    lapic_eoi();
    sched_tick(tf);
  } else if (v != SPURIOUS_VECTOR) {
    klog("kiln: unexpected interrupt vector %lu\n", v);
  }
}
