/* kernel/time.c — clocks, the periodic tick, and sleeping to a deadline.
 *   monotonic: the TSC, its rate measured once against the PIT (channel 2, over the first
 *              init steps)
 *   realtime:  the CMOS RTC read once at boot, advanced by the monotonic clock
 *   tick:      PIT channel 0 at TIMER_HZ on IRQ 0, for network timers while the app computes
 *   deadline:  a one-shot interrupt at the instant a waiter wants to wake up, so that a sleep
 *              is a hlt, never a spin, however short: the LAPIC timer in TSC-deadline mode
 *              when the CPU has it, else in one-shot mode (its rate measured with the TSC's),
 *              else (no LAPIC, or timer=pit) PIT channel 0 reprogrammed one-shot.
 */
#include "kernel/kernel.h"

#define PIT_HZ 1193182u

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  /* Howard Hinnant's algorithm: days since 1970-01-01 in the proleptic Gregorian calendar. */
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  unsigned yoe = (unsigned)(y - era * 400);
  unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + (int64_t)doe - 719468;
}

#ifndef KILN_HOST_TEST
static uint64_t tsc_hz, tsc0, mult; /* ns = (tsc - tsc0) * mult >> 32 */
static uint64_t rtc_boot_ns;
static volatile uint64_t ticks;
enum { DL_NONE, DL_TSC_DEADLINE, DL_LAPIC, DL_PIT };
static const char *const dl_names[] = {"none", "tsc-deadline", "lapic-oneshot", "pit-oneshot"};
static int dl_mode;
static uint64_t lapic_hz, tsc_per_ns, lapic_per_ns; /* 32.32 fixed point */
static volatile int pit_oneshot; /* channel 0 is counting a one-shot, not the periodic tick */
static struct idle_stats istats;
static struct {
  irq_handler_fn fn;
  void *arg;
} timers[8];

/* The TSC's rate is measured against PIT channel 2 (its gate and output are in port 0x61, so
 * no interrupt is needed) over the first init steps instead of a wait of its own:
 * time_calibrate_start (kmain's first step) starts the channel counting down from 0xffff
 * (55 ms) and time_init reads it again, waiting only when less than CALIBRATE_MIN_MS have
 * passed. Each reading latches the count between two TSC reads and keeps the narrowest of a
 * few tries: on a loaded host a vCPU thread descheduled between the two reads would
 * otherwise skew the rate by the time it lost (a 10 ms wait once read 4222 MHz for 2574).
 * A machine without the speaker port (QEMU's microvm: port 0x61 reads all ones) cannot gate
 * channel 2; there channel 0, whose gate is wired on, is measured for CALIBRATE_MIN_MS in
 * time_init, before it becomes the tick. */
#define CALIBRATE_MIN_MS 2
#define PIT_CAL_START 0xffffu

struct pit_sample {
  uint64_t tsc;   /* the midpoint of the bracket around the latch */
  uint16_t count; /* the channel's count at that instant */
};
static struct pit_sample cal_start;

/* Channel ch (0 or 2), latched and read. */
static struct pit_sample pit_sample(int ch) {
  struct pit_sample best = {0, 0};
  uint64_t width = UINT64_MAX;
  for (int i = 0; i < 5; i++) {
    uint64_t a = rdtsc();
    outb(0x43, (uint8_t)(ch << 6)); /* latch channel ch */
    uint64_t b = rdtsc();
    uint16_t c = inb(0x40 + ch);
    c |= (uint16_t)inb(0x40 + ch) << 8;
    if (b - a < width) width = b - a, best.tsc = a + (b - a) / 2, best.count = c;
  }
  return best;
}

void time_calibrate_start(void) {
  outb(0x61, (inb(0x61) & ~0x02) | 0x01); /* gate on, speaker off */
  outb(0x43, 0xb0);                       /* channel 2, lo/hi byte, mode 0 (one-shot) */
  outb(0x42, PIT_CAL_START & 0xff);
  outb(0x42, PIT_CAL_START >> 8);
  cal_start = pit_sample(2);
}

#define CALIBRATE_TICKS (PIT_HZ / (1000 / CALIBRATE_MIN_MS))

/* Channel 0 for CALIBRATE_MIN_MS, sampled all along (so its 55 ms period cannot wrap
 * unseen); 0 when it does not count. */
static uint64_t calibrate_tsc_ch0(void) {
  outb(0x43, 0x34); /* channel 0, lo/hi byte, mode 2 (rate generator), reload 0xffff */
  outb(0x40, 0xff);
  outb(0x40, 0xff);
  struct pit_sample a = pit_sample(0), b = a;
  for (uint32_t spin = 0; (uint16_t)(a.count - b.count) < CALIBRATE_TICKS; spin++) {
    if (spin > 100000) return 0;
    b = pit_sample(0);
  }
  return (b.tsc - a.tsc) * PIT_HZ / (uint16_t)(a.count - b.count);
}

/* The TSC's rate since time_calibrate_start; 0 when the PIT never counts. */
static uint64_t calibrate_tsc(void) {
  if (inb(0x61) == 0xff) return calibrate_tsc_ch0(); /* no speaker port: no gate for channel 2 */
  for (int restart = 0; restart < 2; restart++) {
    struct pit_sample end = pit_sample(2);
    for (uint32_t spin = 0; !(inb(0x61) & 0x20) && (uint16_t)(cal_start.count - end.count) < CALIBRATE_TICKS; spin++) {
      if (spin > 100000) return 0;
      end = pit_sample(2);
    }
    /* Output high: the count ran out (the steps took over 55 ms) and wrapped: start again. */
    if (inb(0x61) & 0x20) {
      time_calibrate_start();
      continue;
    }
    uint32_t elapsed = (uint16_t)(cal_start.count - end.count);
    return (end.tsc - cal_start.tsc) * PIT_HZ / elapsed;
  }
  return 0;
}

/* The LAPIC timer's rate against the now known TSC, for the one-shot deadline mode (CPUs
 * without TSC-deadline): 1 ms of both counting. */
static uint64_t calibrate_lapic(void) {
  lapic_timer_start(0xffffffffu);
  uint64_t t0 = rdtsc(), t1;
  while ((t1 = rdtsc()) - t0 < tsc_hz / 1000) __asm__ volatile("pause");
  uint64_t counted = 0xffffffffu - lapic_timer_current();
  return counted * tsc_hz / (t1 - t0);
}

static uint8_t cmos(uint8_t reg) {
  outb(0x70, reg);
  return inb(0x71);
}

static uint64_t read_rtc_ns(void) {
  uint8_t r[7], again[7];
  do { /* read until two reads agree, each outside an update cycle */
    for (int spin = 0; (cmos(0x0a) & 0x80) && spin < 1000000; spin++) {}
    r[0] = cmos(0x00), r[1] = cmos(0x02), r[2] = cmos(0x04), r[3] = cmos(0x07), r[4] = cmos(0x08),
    r[5] = cmos(0x09), r[6] = cmos(0x32);
    for (int spin = 0; (cmos(0x0a) & 0x80) && spin < 1000000; spin++) {}
    again[0] = cmos(0x00), again[1] = cmos(0x02), again[2] = cmos(0x04), again[3] = cmos(0x07),
    again[4] = cmos(0x08), again[5] = cmos(0x09), again[6] = cmos(0x32);
  } while (memcmp(r, again, sizeof r));
  uint8_t b = cmos(0x0b);
  int pm = r[2] & 0x80;
  r[2] &= 0x7f;
  if (!(b & 0x04)) /* BCD */
    for (int i = 0; i < 7; i++) r[i] = (r[i] & 0x0f) + (r[i] >> 4) * 10;
  if (!(b & 0x02) && pm) r[2] = (r[2] + 12) % 24; /* 12-hour clock */
  int64_t year = (r[6] >= 19 && r[6] <= 30) ? r[6] * 100 + r[5] : 2000 + r[5];
  if (r[4] < 1 || r[4] > 12 || r[3] < 1 || r[3] > 31) return 0;
  int64_t days = days_from_civil(year, r[4], r[3]);
  return (uint64_t)(((days * 24 + r[2]) * 60 + r[1]) * 60 + r[0]) * 1000000000ull;
}

/* hz as counts per ns in 32.32 fixed point (without a 128-bit division). */
static uint64_t per_ns(uint64_t hz) {
  return (hz / 1000000000ull) << 32 | ((hz % 1000000000ull) << 32) / 1000000000ull;
}

static void pit_periodic(void) {
  uint16_t div = PIT_HZ / TIMER_HZ;
  outb(0x43, 0x34); /* channel 0, lo/hi byte, mode 2 (rate generator) */
  outb(0x40, div & 0xff);
  outb(0x40, div >> 8);
}

static void tick(void *arg) {
  if (pit_oneshot) { /* a deadline, not a tick: back to the periodic rate */
    pit_oneshot = 0;
    istats.deadline_irqs++;
    pit_periodic();
    return;
  }
  ticks++;
  for (size_t i = 0; i < ARRAY_LEN(timers) && timers[i].fn; i++) timers[i].fn(timers[i].arg);
}

void time_init(void) {
  tsc_hz = calibrate_tsc();
  tsc0 = rdtsc();
  if (tsc_hz) mult = (1000000000ull << 32) / tsc_hz;
  else klog("kiln: the PIT does not count; time comes from the %u Hz tick only\n", TIMER_HZ);
  if (tsc_hz && cpu_has_apic && !cpu_has_tsc_deadline) lapic_hz = calibrate_lapic();
  rtc_boot_ns = read_rtc_ns();
  /* The periodic tick. */
  pit_periodic();
  irq_register(0, tick, NULL);
  /* The deadline timer: needs the TSC clock (else there is nothing finer than the tick). */
  const char *want = kernel_cmdline_get("timer");
  if (!mult) dl_mode = DL_NONE;
  else if (want && !strcmp(want, "pit")) dl_mode = DL_PIT;
  else if (cpu_has_apic && cpu_has_tsc_deadline) dl_mode = DL_TSC_DEADLINE;
  else if (cpu_has_apic && lapic_hz >= 1000000) dl_mode = DL_LAPIC;
  else dl_mode = DL_PIT;
  tsc_per_ns = per_ns(tsc_hz);
  lapic_per_ns = per_ns(lapic_hz);
  if (dl_mode == DL_TSC_DEADLINE || dl_mode == DL_LAPIC)
    lapic_timer_init(TIMER_DEADLINE_VECTOR, dl_mode == DL_TSC_DEADLINE);
}

/* Another processor (kernel/smp.c): its local APIC timer in the mode the boot processor chose. */
void time_init_ap(void) {
  if (dl_mode == DL_TSC_DEADLINE || dl_mode == DL_LAPIC)
    lapic_timer_init(TIMER_DEADLINE_VECTOR, dl_mode == DL_TSC_DEADLINE);
}

/* Interrupt context (kernel/trap.c): the LAPIC deadline timer fired. The waiter that armed
 * it is woken from hlt by the interrupt itself; nothing else to do. */
void time_deadline_irq(void) { istats.deadline_irqs++; }


/* Interrupts are off. Arms the deadline timer to fire at monotonic instant `deadline`, which
 * is `left` ns from now. */
static void arm(uint64_t deadline, uint64_t left) {
  istats.armed++;
  switch (dl_mode) {
  case DL_TSC_DEADLINE: {
    uint64_t t = tsc0 + (uint64_t)(((unsigned __int128)deadline * tsc_per_ns) >> 32) + 1;
    __asm__ volatile("wrmsr" ::"c"(0x6e0), "a"((uint32_t)t), "d"((uint32_t)(t >> 32)));
    break;
  }
  case DL_LAPIC: {
    /* Rounded up so it never fires early; a longer wait is cut and the waiter waits again. */
    uint64_t n = (uint64_t)(((unsigned __int128)left * lapic_per_ns) >> 32) + 1;
    lapic_timer_arm(n > 0xffffffffu ? 0xffffffffu : (uint32_t)n);
    break;
  }
  case DL_PIT: {
    /* A deadline a tick or more away is caught by the tick; a nearer one replaces the current
     * period by a one-shot count (mode 0), and the tick resumes after it. */
    if (left >= 1000000000ull / TIMER_HZ && !pit_oneshot) break;
    uint64_t n = (left * PIT_HZ + 999999999ull) / 1000000000ull;
    if (n > PIT_HZ / TIMER_HZ) n = PIT_HZ / TIMER_HZ;
    if (n < 2) n = 2;
    pit_oneshot = 1;
    outb(0x43, 0x30); /* channel 0, lo/hi byte, mode 0 (interrupt on terminal count) */
    outb(0x40, n & 0xff);
    outb(0x40, (n >> 8) & 0xff);
    break;
  }
  }
}

void cpu_halt_until(uint64_t deadline_ns) {
  __asm__ volatile("cli" ::: "memory");
  if (deadline_ns != UINT64_MAX) {
    uint64_t now = time_ns();
    if (now >= deadline_ns) {
      __asm__ volatile("sti" ::: "memory");
      return;
    }
    arm(deadline_ns, deadline_ns - now);
  }
  struct cpu *c = this_cpu();
  __atomic_fetch_add(&istats.halts, 1, __ATOMIC_RELAXED);
  c->halt_t0 = rdtsc();
  c->halted = 1;
  /* sti takes effect after the next instruction, so no interrupt slips in before hlt. */
  __asm__ volatile("sti; hlt" ::: "memory");
}

/* Interrupt entry (kernel/trap.c): the idle time ends here, before the handler's work. */
void time_irq_entry(void) {
  struct cpu *c = this_cpu();
  if (!c->halted) return;
  c->halted = 0;
  __atomic_fetch_add(&istats.idle_tsc, rdtsc() - c->halt_t0, __ATOMIC_RELAXED);
}

void time_idle_stats(struct idle_stats *s) {
  *s = istats;
  s->idle_ns = mult ? (uint64_t)(((unsigned __int128)istats.idle_tsc * mult) >> 32) : 0;
  s->mode = dl_names[dl_mode];
}

uint64_t boot_tsc_entry, boot_tsc_app, boot_tsc_listening;

uint64_t time_ns(void) {
  if (!mult) return ticks * (1000000000ull / TIMER_HZ);
  return (uint64_t)(((unsigned __int128)(rdtsc() - tsc0) * mult) >> 32);
}

uint64_t time_realtime_ns(void) { return rtc_boot_ns + time_ns(); }
uint64_t time_tsc_hz(void) { return tsc_hz; }
uint64_t time_ticks(void) { return ticks; }

int timer_register(irq_handler_fn fn, void *arg) {
  uint64_t f = irq_save();
  for (size_t i = 0; i < ARRAY_LEN(timers); i++) {
    if (timers[i].fn) continue;
    timers[i].arg = arg;
    timers[i].fn = fn;
    irq_restore(f);
    return 0;
  }
  irq_restore(f);
  return -1;
}
#endif
