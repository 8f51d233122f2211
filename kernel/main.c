/* kernel/main.c — what the kernel does, in order. boot/entry.S gets here in long mode on the
 * boot stack, with the loader's magic and boot-information address. */
#include "kernel/kernel.h"
#include "net/net.h"
#include "p9/p9.h"

void kmain(uint32_t magic, uint32_t info) {
  char err[160];
  uint64_t t0 = rdtsc();
  boot_tsc_entry = t0;
  /* The TSC calibration starts counting now and ends in time_init, over the steps between. */
  time_calibrate_start();

  /* The console first, so everything after can report (notes go to COM2, else COM1). */
  console_init();
  /* Copy what the loader told us (RAM, modules, command line) before memory is handed out. */
  if (boot_parse(magic, info, &boot_info, err, sizeof err)) panic("%s", err);
  /* argv, environment and options (ip=, timer=, quiet=, ...) from the image's own command
   * line with the loader's over it (static storage only), so every later step can read its
   * options. Reported once quiet= is known. */
  static char image_line[BOOT_CMDLINE_MAX];
  ksnprintf(image_line, sizeof image_line, "%.*s", (int)sizeof image_line - 1, kernel_image_cmdline);
  int cmdline_bad = cmdline_parse(image_line, boot_info.cmdline, err, sizeof err);
  /* quiet=1: no kernel notes on the console, only the app's output (and panics, traps). */
  const char *quiet = kernel_cmdline_get("quiet");
  klog_set_quiet(quiet && !strcmp(quiet, "1"));
  /* The image's files (fs=) were all loaded and leave room to run, or a clear message. */
  boot_check_files(&boot_info);
  /* GDT's TSS with the interrupt stacks; the IDT; CPU features. */
  cpu_init();
  trap_init();
  /* SSE (and AVX where present) for generated code; kernel C never touches those registers. */
  cpu_enable_simd();
  /* Physical pages, then our own page tables (text R+X, data NX, Wasm regions unmapped). */
  pmem_init(&boot_info);
  vm_init();
  /* The legacy interrupt controller, the TSC calibration, the RTC, the periodic tick and
   * the deadline timer for sleeps. */
  pic_init();
  time_init();
  /* Threads: kmain's becomes the first (the app's), with an idle thread beside it. */
  sched_init();
  __asm__ volatile("sti");
  /* The other processors (smp=N), once timers and page tables are there. */
  smp_init();
  /* Stdin from the host (framed, interrupt-driven) and which stdio are terminals there. */
  console_host_init();
  /* The random generator (seeded from the clocks when the CPU has no RDRAND/RDSEED). */
  random_init();
  if (cmdline_bad) klog("kiln: %s\n", err);

  uint64_t tsc_hz = time_tsc_hz();
  klog("kiln: %s, %lu MiB RAM, %lu MHz TSC, booted in %lu us\n", boot_info.loader,
       pmem_total_bytes() >> 20, tsc_hz / 1000000, tsc_hz ? (rdtsc() - t0) * 1000000 / tsc_hz : 0);
  /* The network: virtio-net, lwIP, address from ip=/gw=/mask= or DHCP (off without a NIC). */
  net_init();
  /* The memory balloon, when kiln run attached one: RAM freed by a restart goes back to the
   * host (free page reporting). */
  virtio_balloon_probe();
  /* Volumes (kiln run --volume): each virtio-9p device attached over 9P2000.L now, so a
   * broken one stops the boot with its name; preopened when the app starts. */
  volume_init();
  /* Deliberate faults when the command line asks (selftest=...), to test the protections. */
  selftest_run(kernel_cmdline_get("selftest"));
  /* Instantiate the app, run its _start, report how it ended. Does not return. */
  app_run();
}
