/* kernel/exit.c — how the machine ends: one status line on the debug console (port 0xe9,
 * QEMU -debugcon), then a write of v to isa-debug-exit, at port 0xf4 (`kiln run`) and at 0x501
 * (urunc's Mewz command line); QEMU then exits with (v << 1) | 1:
 *   "exit N"                      the app exited with N       -> v = N & 0x7f
 *   "trap MESSAGE in FUNCTION"    a Wasm trap                 -> v = 0x7e
 *   "panic MESSAGE"               kernel fault or invariant   -> v = 0x7f
 * `kiln run` reads the line, which has the whole status; without it (urunc) the host sees
 * QEMU's status, (v << 1) | 1: 1 for exit 0, 7 for exit 3, 253 for a trap, 255 for a panic.
 * Without isa-debug-exit the ACPI power-off of QEMU's PIIX4 and ICH9 chipsets is tried, then
 * the CPU halts. */
#include "kernel/kernel.h"
#include "net/net.h"

/* Weak: the kernel core also links without net/ (tests/kernel's fallback). */
extern struct net_lock_stats net_lock_stats __attribute__((weak));

#define DEBUGCON 0xe9
#define DEBUG_EXIT 0xf4
#define DEBUG_EXIT_URUNC 0x501

static int finished;

static void debugcon(const char *s) {
  for (; *s; s++) outb(DEBUGCON, (uint8_t)*s);
}

static _Noreturn void power_off(uint32_t v) {
  outl(DEBUG_EXIT, v);
  outw(DEBUG_EXIT_URUNC, (uint16_t)v); /* iosize=2; nothing is there under kiln run */
  outw(0x604, 0x2000);  /* QEMU PIIX4 / ICH9 ACPI: S5 */
  outw(0xb004, 0x2000); /* older QEMU / Bochs */
  for (;;) __asm__ volatile("cli; hlt");
}

/* stats=1: how the kernel waited (the sleep tests read it); asked for, so printed even when quiet. */
static void report_stats(void) {
  const char *v = kernel_cmdline_get("stats");
  if (!v || strcmp(v, "1")) return;
  struct idle_stats s;
  time_idle_stats(&s);
  kprintf("kiln: idle: %lu halts, %lu deadline-timer wake-ups, %lu deadlines armed (%s)\n", s.halts,
          s.deadline_irqs, s.armed, s.mode);
  for (int i = 0; i < ncpus; i++) kprintf("kiln: cpu %d: %lu switches to a thread\n", i, cpus[i].runs);
  if (&net_lock_stats)
    kprintf("kiln: net lock: taken %lu times, %lu of them after waiting for another CPU\n", net_lock_stats.taken,
          net_lock_stats.contended);
}

_Noreturn void kernel_exit(uint32_t status) {
  char line[32];
  __asm__ volatile("cli");
  report_stats();
  if (!__atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST)) {
    ksnprintf(line, sizeof line, "exit %u\n", status);
    debugcon(line);
  }
  power_off(status & 0x7f);
}

_Noreturn void kernel_exit_trap(const char *message, const char *function) {
  char line[256];
  __asm__ volatile("cli");
  kprintf("kiln: trap: %s in %s\n", message, function);
  if (!__atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST)) {
    ksnprintf(line, sizeof line, "trap %s in %s\n", message, function);
    debugcon(line);
  }
  power_off(0x7e);
}

_Noreturn void panic(const char *fmt, ...) {
  char msg[256];
  va_list ap;
  __asm__ volatile("cli");
  va_start(ap, fmt);
  kvsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  kprintf("kiln: panic: %s\n", msg);
  if (!__atomic_fetch_add(&finished, 1, __ATOMIC_SEQ_CST)) {
    debugcon("panic ");
    debugcon(msg);
    debugcon("\n");
  }
  power_off(0x7f);
}
