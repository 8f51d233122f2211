/* kernel/cpu.c — the CPU's own setup: the TSS (whose interrupt stacks let every interrupt and
 * fault run on a known-good stack: the Wasm stack may be at its guard page, and compiled
 * code may keep data in the red zone below rsp), SSE and AVX for generated code, and the
 * CPUID features other files ask about. */
#include "kernel/kernel.h"

bool cpu_has_nx, cpu_has_rdrand, cpu_has_rdseed, cpu_has_invariant_tsc, cpu_has_apic, cpu_has_tsc_deadline;

struct __attribute__((packed)) tss {
  uint32_t reserved0;
  uint64_t rsp[3];
  uint64_t reserved1;
  uint64_t ist[7];
  uint64_t reserved2;
  uint16_t reserved3, iomap_base;
};

#define IST_STACK_SIZE 16384
static struct tss tss;
static uint8_t ist_stacks[3][IST_STACK_SIZE] __attribute__((aligned(16)));
/* The other processors' (kernel/smp.c): a TSS is busy once loaded, so each CPU has its own,
 * in its own copy of the GDT; their interrupt stacks are allocated when they start. */
static struct tss ap_tss[MAX_CPUS];
static uint64_t ap_gdt[MAX_CPUS][5] __attribute__((aligned(16)));

extern uint64_t gdt[];

static void detect_features(void) {
  uint32_t r[4];
  cpuid(0, 0, r);
  uint32_t max_leaf = r[0];
  cpuid(1, 0, r);
  cpu_has_rdrand = (r[2] >> 30) & 1;
  cpu_has_tsc_deadline = (r[2] >> 24) & 1;
  cpu_has_apic = (r[3] >> 9) & 1;
  if (max_leaf >= 7) {
    cpuid(7, 0, r);
    cpu_has_rdseed = (r[1] >> 18) & 1;
  }
  cpuid(0x80000000, 0, r);
  uint32_t max_ext = r[0];
  if (max_ext >= 0x80000001) {
    cpuid(0x80000001, 0, r);
    cpu_has_nx = (r[3] >> 20) & 1;
  }
  if (max_ext >= 0x80000007) {
    cpuid(0x80000007, 0, r);
    cpu_has_invariant_tsc = (r[3] >> 8) & 1;
  }
}

/* TSS descriptor in GDT slots 3-4 (selector 0x18): 64-bit available TSS, present. */
static void load_tss(uint64_t *g, struct tss *t) {
  t->iomap_base = sizeof *t; /* no I/O permission bitmap */
  uint64_t base = (uintptr_t)t, limit = sizeof *t - 1;
  g[3] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
         (((base >> 24) & 0xff) << 56);
  g[4] = base >> 32;
  __asm__ volatile("ltr %w0" ::"r"(0x18));
}

void cpu_init(void) {
  detect_features();
  cpu_set_percpu(&cpus[0]);
  for (int i = 0; i < 3; i++) tss.ist[i] = (uintptr_t)ist_stacks[i] + IST_STACK_SIZE;
  load_tss(gdt, &tss);
}

void cpu_init_ap(struct cpu *c) {
  uint64_t *g = ap_gdt[c->id];
  memcpy(g, gdt, 3 * sizeof *g);
  struct __attribute__((packed)) {
    uint16_t limit;
    uint64_t base;
  } gdtr = {5 * sizeof *g - 1, (uintptr_t)g};
  __asm__ volatile("lgdt %0" ::"m"(gdtr));
  struct tss *t = &ap_tss[c->id];
  for (int i = 0; i < 3; i++) {
    uint8_t *st = kalloc_pages(IST_STACK_SIZE / PAGE_SIZE);
    if (!st) panic("cpu %d: no memory for interrupt stacks", c->id);
    t->ist[i] = (uintptr_t)st + IST_STACK_SIZE;
  }
  load_tss(g, t);
}

void cpu_enable_simd(void) {
  uint64_t cr0, cr4;
  uint32_t r[4];
  __asm__ volatile("mov %%cr0, %0" : "=r"(cr0));
  cr0 = (cr0 & ~(1ull << 2)) | (1ull << 1); /* EM off, MP on: SSE instructions execute */
  cr0 &= ~(1ull << 3);                      /* TS off: no lazy FPU switching */
  __asm__ volatile("mov %0, %%cr0" ::"r"(cr0));
  __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
  cr4 |= (1ull << 9) | (1ull << 10); /* OSFXSR, OSXMMEXCPT */
  cpuid(1, 0, r);
  int xsave = (r[2] >> 26) & 1;
  if (xsave) cr4 |= 1ull << 18; /* OSXSAVE: needed for AVX */
  __asm__ volatile("mov %0, %%cr4" ::"r"(cr4));
  __asm__ volatile("fninit");
  if (xsave) {
    /* Enable every state component among x87, SSE, AVX and AVX-512 the CPU supports, so
     * code compiled for x86-64-v3/v4 runs too. */
    cpuid(0xd, 0, r);
    uint64_t xcr0 = r[0] & 0xe7;
    __asm__ volatile("xsetbv" ::"c"(0), "a"((uint32_t)xcr0), "d"((uint32_t)(xcr0 >> 32)));
  }
  uint32_t mxcsr = 0x1f80; /* all exceptions masked, round to nearest */
  __asm__ volatile("ldmxcsr %0" ::"m"(mxcsr));
}
