/* kernel/smp.c — per-CPU data and the other processors. With smp=N on the command line
 * (kiln build --smp N, or kiln run --smp N through fw_cfg), the boot processor finds the local APICs in the ACPI MADT and
 * starts min(N, listed) - 1 others, one at a time, by INIT-SIPI-SIPI into the real-mode
 * trampoline (kernel/ap_start.S); each sets up its own GDT/TSS, the shared IDT, SSE, its
 * local APIC and deadline timer, and joins the scheduler. smp=1 (the default) reads no ACPI
 * table at all, so a single-CPU boot costs nothing more than before. */
#include "kernel/kernel.h"

#define AP_TRAMP 0x8000
#define AP_STACK_PAGES 16 /* 64 KiB, as the boot stack */
#define GS_BASE_MSR 0xc0000101

struct cpu cpus[MAX_CPUS];
int ncpus = 1;
/* Read by ap_entry64 (kernel/ap_start.S) for the processor being started. */
uint64_t ap_boot_cr3, ap_boot_stack;
struct cpu *ap_boot_cpu;
static volatile int ap_up;

extern const char ap_tramp_start[], ap_tramp_end[];
extern char boot_pml4[];

void cpu_set_percpu(struct cpu *c) {
  c->self = c;
  uint64_t a = (uintptr_t)c;
  __asm__ volatile("wrmsr" ::"c"(GS_BASE_MSR), "a"((uint32_t)a), "d"((uint32_t)(a >> 32)));
}

static void delay_us(uint64_t us) {
  uint64_t end = time_ns() + us * 1000;
  while (time_ns() < end) __asm__ volatile("pause");
}

/* The processor's first C code, on its own stack with the kernel's page tables. */
_Noreturn void ap_main(struct cpu *c) {
  cpu_set_percpu(c);
  cpu_init_ap(c);
  trap_load_idt();
  cpu_enable_simd();
  lapic_init_ap();
  time_init_ap();
  sched_init_ap(c);
  __atomic_store_n(&ap_up, 1, __ATOMIC_RELEASE);
  sched_idle_loop();
}

static int start_ap(uint8_t apic_id) {
  struct cpu *c = &cpus[ncpus];
  uint8_t *stack = kalloc_pages(AP_STACK_PAGES);
  if (!stack) return -1;
  c->id = ncpus;
  c->apic_id = apic_id;
  ap_boot_cpu = c;
  ap_boot_stack = (uintptr_t)stack + AP_STACK_PAGES * PAGE_SIZE;
  ap_up = 0;
  /* INIT, then two start-ups (the second is ignored by a processor that took the first), as
   * the Intel SDM's MP initialization sequence says; the vector is the trampoline's page. */
  lapic_ipi(apic_id, LAPIC_IPI_INIT);
  delay_us(10000);
  for (int i = 0; i < 2 && !ap_up; i++) {
    lapic_ipi(apic_id, LAPIC_IPI_STARTUP | (AP_TRAMP >> 12));
    delay_us(200);
  }
  /* Under TCG a new vCPU thread may take a while to run its first instructions. */
  for (uint64_t end = time_ns() + 1000000000ull; !__atomic_load_n(&ap_up, __ATOMIC_ACQUIRE) && time_ns() < end;)
    __asm__ volatile("pause");
  if (!ap_up) {
    kfree_pages(stack, AP_STACK_PAGES);
    return -1;
  }
  ncpus++;
  return 0;
}

/* How many CPUs to run: kiln run --smp N says it through fw_cfg (so an ISO's GRUB command
 * line needs no change), else the image's smp=N (kiln build --smp), else 1. */
static int smp_wanted(void) {
  char buf[8];
  int n = fw_cfg_read_file("opt/kiln/smp", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = 0;
    return atoi(buf);
  }
  const char *v = kernel_cmdline_get("smp");
  return v ? atoi(v) : 1;
}

void smp_init(void) {
  int want = smp_wanted();
  if (want <= 1) return;
  if (want > MAX_CPUS) want = MAX_CPUS;
  uint8_t ids[MAX_CPUS];
  int listed = acpi_cpus(ids, MAX_CPUS);
  if (listed == 0 || !cpu_has_apic) {
    klog("kiln: smp=%d: no ACPI MADT (or no local APIC); running on one CPU\n", want);
    return;
  }
  lapic_init();
  cpus[0].apic_id = lapic_id();
  /* The trampoline into low memory (never handed out by pmem.c), with what it needs. */
  size_t n = (size_t)(ap_tramp_end - ap_tramp_start);
  memcpy((void *)(uintptr_t)AP_TRAMP, ap_tramp_start, n);
  uint32_t *params = (uint32_t *)(uintptr_t)(AP_TRAMP + n - 8);
  params[0] = (uint32_t)(uintptr_t)boot_pml4;
  params[1] = (1u << 8) | (cpu_has_nx ? 1u << 11 : 0);
  __asm__ volatile("mov %%cr3, %0" : "=r"(ap_boot_cr3));
  for (int i = 0; i < listed && ncpus < want; i++) {
    if (ids[i] == cpus[0].apic_id) continue;
    if (start_ap(ids[i])) klog("kiln: CPU with APIC id %u did not start\n", ids[i]);
  }
  klog("kiln: %d CPUs (smp=%d, %d in the ACPI MADT)\n", ncpus, want, listed);
}
