/* kernel/pic.c — interrupt controllers. Legacy lines (the timer, PCI INTx as routed by the
 * firmware into the ISA IRQ space, read from the device's Interrupt Line register) go
 * through the 8259 pair, remapped to vectors 32-47. The local APIC is enabled for MSI
 * vectors and for its timer (one-shot wake-ups at sleep deadlines, kernel/time.c); LINT0
 * stays in ExtINT mode so the 8259 keeps working. */
#include "kernel/kernel.h"

#define PIC1 0x20
#define PIC2 0xa0
#define PIC_EOI 0x20

static uint16_t mask = 0xffff & ~(1 << 2); /* all masked but the cascade */
static volatile uint32_t *lapic;

static void io_wait(void) { outb(0x80, 0); }

void pic_init(void) {
  /* ICW1: init, ICW4 follows; ICW2: vector base; ICW3: cascade wiring; ICW4: 8086 mode. */
  outb(PIC1, 0x11), io_wait();
  outb(PIC2, 0x11), io_wait();
  outb(PIC1 + 1, 32), io_wait();
  outb(PIC2 + 1, 40), io_wait();
  outb(PIC1 + 1, 4), io_wait();
  outb(PIC2 + 1, 2), io_wait();
  outb(PIC1 + 1, 1), io_wait();
  outb(PIC2 + 1, 1), io_wait();
  outb(PIC1 + 1, mask & 0xff);
  outb(PIC2 + 1, mask >> 8);
}

void pic_unmask(int irq) {
  mask &= ~(1u << irq);
  outb(PIC1 + 1, mask & 0xff);
  outb(PIC2 + 1, mask >> 8);
}

void pic_eoi(int irq) {
  if (irq >= 8) outb(PIC2, PIC_EOI);
  outb(PIC1, PIC_EOI);
}

/* Local APIC registers (offsets in 32-bit words of the 4 KiB page). */
enum {
  LAPIC_ID = 0x20 / 4, LAPIC_ICR_LO = 0x300 / 4, LAPIC_ICR_HI = 0x310 / 4, LAPIC_EOI = 0xb0 / 4, LAPIC_SVR = 0xf0 / 4, LAPIC_LVT_TIMER = 0x320 / 4, LAPIC_LINT0 = 0x350 / 4,
  LAPIC_LINT1 = 0x360 / 4, LAPIC_TIMER_INIT = 0x380 / 4, LAPIC_TIMER_CUR = 0x390 / 4, LAPIC_TIMER_DIV = 0x3e0 / 4
};
#define LVT_MASKED (1u << 16)
#define LVT_TSC_DEADLINE (2u << 17)

void lapic_init(void) {
  if (lapic) return;
  uint32_t lo, hi;
  __asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0x1b)); /* IA32_APIC_BASE */
  uint64_t base = (((uint64_t)hi << 32) | lo) & ~0xfffull;
  lapic = kmap_mmio(base, PAGE_SIZE);
  lapic[LAPIC_LINT0] = 0x700;         /* ExtINT: 8259 interrupts pass through */
  lapic[LAPIC_LINT1] = 0x400;         /* NMI */
  lapic[LAPIC_SVR] = 0x100 | 0xff;    /* software-enable, spurious vector 0xff */
}

/* Another processor's local APIC: the mapping is the same (each CPU sees its own APIC at that
 * address); LINT0 masked, since only the boot processor takes the 8259's interrupts. */
void lapic_init_ap(void) {
  lapic[LAPIC_LINT0] = LVT_MASKED;
  lapic[LAPIC_LINT1] = 0x400;
  lapic[LAPIC_SVR] = 0x100 | 0xff;
}

uint8_t lapic_id(void) { return (uint8_t)(lapic[LAPIC_ID] >> 24); }

/* An inter-processor interrupt to one APIC id (physical destination), once the previous one
 * has been delivered. */
void lapic_ipi(uint8_t apic_id, uint32_t cmd) {
  while (lapic[LAPIC_ICR_LO] & (1u << 12)) __asm__ volatile("pause");
  lapic[LAPIC_ICR_HI] = (uint32_t)apic_id << 24;
  lapic[LAPIC_ICR_LO] = cmd;
  while (lapic[LAPIC_ICR_LO] & (1u << 12)) __asm__ volatile("pause");
}

void lapic_eoi(void) {
  if (lapic) lapic[LAPIC_EOI] = 0;
}

/* The LAPIC timer, counting at the bus clock divided by 1 (QEMU: 1 GHz). mode 0: one-shot
 * (lapic_timer_arm writes the count), 1: TSC-deadline (the IA32_TSC_DEADLINE MSR arms it).
 * Starts masked; lapic_timer_start leaves it counting down from `count` with no interrupt
 * (for calibration). */
void lapic_timer_init(int vector, int tsc_deadline) {
  lapic_init();
  lapic[LAPIC_TIMER_DIV] = 0xb; /* divide by 1 */
  lapic[LAPIC_LVT_TIMER] = (uint32_t)vector | (tsc_deadline ? LVT_TSC_DEADLINE : 0);
}
void lapic_timer_start(uint32_t count) {
  lapic_init();
  lapic[LAPIC_TIMER_DIV] = 0xb;
  lapic[LAPIC_LVT_TIMER] = LVT_MASKED;
  lapic[LAPIC_TIMER_INIT] = count;
}
uint32_t lapic_timer_current(void) { return lapic ? lapic[LAPIC_TIMER_CUR] : 0; }
void lapic_timer_arm(uint32_t count) { lapic[LAPIC_TIMER_INIT] = count ? count : 1; }
