/* kernel/vm.c — the kernel's page tables (4-level, 4 KiB and 2 MiB pages).
 *
 * Address space (one, shared by kernel and Wasm code, all ring 0):
 *   [4 KiB, RAM top)          identity map of RAM: kernel text R+X, rodata R, everything else
 *                             RW+NX; page 0 and the kernel stack's guard page unmapped
 *   device registers          kmap_mmio(): identity, uncached, NX
 *   STACK_BASE + i * 9 MiB    thread i's Wasm stack: a 1 MiB unmapped guard, then 8 MiB mapped
 *                             on demand (page faults) so an idle stack costs no RAM; when no
 *                             page is left for it, the fault is the trap "call stack
 *                             exhausted" (the guest's doing: it took the RAM), never a panic
 *   MEM_BASE + i * SLOT       linear memory i: KILN_MEM_RESERVE bytes reserved, pages mapped
 *                             zeroed RW+NX by kiln_plat_mem_commit, the rest unmapped so a
 *                             stray access faults and becomes the trap "out of bounds memory
 *                             access" (kernel/trap.c)
 * Every CPU shares these tables; vm_lock serializes their changes (page faults on any CPU
 * included). Pages are unmapped only by a restart in place (linear memory, the Wasm stack
 * below its pre-mapped top), which happens only in an app of one thread (kernel/app.c), on
 * the CPU running it: that CPU flushes its TLB and bumps vm_tlb_gen, and any other CPU
 * flushes before it next switches to an app thread (vm_tlb_catch_up), since only app threads
 * touch those addresses. No shootdown IPI is needed.
 */
#include "kernel/instance.h"
#include "kernel/kernel.h"

#define PTE_P 0x1ull
#define PTE_W 0x2ull
#define PTE_PWT 0x8ull
#define PTE_PCD 0x10ull
#define PTE_PS 0x80ull
#define PTE_NX (1ull << 63)
#define PTE_ADDR 0x000ffffffffff000ull
#define LARGE (2ull << 20)

#define STACK_BASE 0x0000008000000000ull /* 512 GiB */
#define STACK_GUARD (1ull << 20)
#define STACK_SIZE (8ull << 20)
#define STACK_PREMAP (64ull << 10)
#define STACK_SLOT (STACK_GUARD + STACK_SIZE)
#define STACK_SLOTS 1024
/* memory.grow leaves this much RAM free, so the stack (and the kernel working for the app)
 * can still get pages after the app took everything it could. Not the whole 8 MiB: a VM
 * in 16 MiB of RAM must still have room for its app. */
#define GROW_HEADROOM (256ull << 10)
#define MEM_BASE 0x0000010000000000ull /* 1 TiB */
#define SLOT (16ull << 30)             /* >= KILN_MEM_RESERVE, 1 GiB aligned */
#define NSLOTS 256

static spinlock_t vm_lock;
static uint8_t stack_used[STACK_SLOTS], stack_premapped[STACK_SLOTS];
static uint64_t *pml4;
static uint64_t nx; /* PTE_NX when the CPU has it (the bit is reserved otherwise) */
static struct {
  uint8_t used;
  uint64_t mapped; /* bytes [0, mapped) of the slot may have pages */
} slots[NSLOTS];

static inline uint64_t *table(uint64_t e) { return (uint64_t *)(uintptr_t)(e & PTE_ADDR); }
static inline void invlpg(uint64_t va) { __asm__ volatile("invlpg (%0)" ::"r"(va) : "memory"); }
uint32_t vm_tlb_gen;

static inline void flush_tlb(void) {
  uint64_t cr3;
  __asm__ volatile("mov %%cr3, %0; mov %0, %%cr3" : "=r"(cr3)::"memory");
}

/* After unmapping (vm_lock held): this CPU is flushed, the others catch up. */
static void unmapped(void) {
  flush_tlb();
  this_cpu()->tlb_gen = __atomic_add_fetch(&vm_tlb_gen, 1, __ATOMIC_SEQ_CST);
}

void vm_tlb_catch_up(struct cpu *c) {
  uint32_t g = __atomic_load_n(&vm_tlb_gen, __ATOMIC_SEQ_CST);
  if (c->tlb_gen != g) {
    flush_tlb();
    c->tlb_gen = g;
  }
}

/* The 4 KiB-level entry of va, creating missing tables when `create`; NULL when a table is
 * missing (or out of memory) or a 2 MiB page covers va (*large set then). */
static uint64_t *walk(uint64_t va, int create, int *large) {
  uint64_t *t = pml4;
  if (large) *large = 0;
  for (int shift = 39; shift > 12; shift -= 9) {
    uint64_t *e = &t[(va >> shift) & 511];
    if (!(*e & PTE_P)) {
      if (!create) return NULL;
      uint64_t *nt = kalloc_page();
      if (!nt) return NULL;
      *e = (uintptr_t)nt | PTE_P | PTE_W;
    } else if (*e & PTE_PS) {
      if (large) *large = 1;
      return NULL;
    }
    t = table(*e);
  }
  return &t[(va >> 12) & 511];
}

static int map_page(uint64_t va, uint64_t pa, uint64_t flags) {
  uint64_t *e = walk(va, 1, NULL);
  if (!e) return -1;
  *e = pa | flags | PTE_P;
  return 0;
}

/* A 2 MiB identity page; the PD must not hold a 4 KiB table there. */
static int map_large(uint64_t va, uint64_t flags) {
  uint64_t *t = pml4;
  for (int shift = 39; shift > 21; shift -= 9) {
    uint64_t *e = &t[(va >> shift) & 511];
    if (!(*e & PTE_P)) {
      uint64_t *nt = kalloc_page();
      if (!nt) return -1;
      *e = (uintptr_t)nt | PTE_P | PTE_W;
    }
    t = table(*e);
  }
  t[(va >> 21) & 511] = va | flags | PTE_P | PTE_PS;
  return 0;
}

uint64_t virt_to_phys(const void *p) {
  uint64_t va = (uintptr_t)p;
  int large;
  uint64_t *e = walk(va, 0, &large);
  if (large) return va; /* 2 MiB pages exist only in the identity map */
  if (!e || !(*e & PTE_P)) return 0;
  return (*e & PTE_ADDR) | (va & 0xfff);
}

void *kmap_mmio(uint64_t phys, size_t len) {
  stack_probe();
  uint64_t f = spin_lock_irqsave(&vm_lock);
  for (uint64_t va = PAGE_ROUND_DOWN(phys); va < phys + len; va += PAGE_SIZE) {
    int large;
    uint64_t *e = walk(va, 1, &large);
    if (large) continue; /* already in the identity map */
    if (!e) panic("vm: out of memory mapping device registers at %#lx", phys);
    *e = va | PTE_P | PTE_W | PTE_PCD | PTE_PWT | nx;
    invlpg(va);
  }
  spin_unlock_irqrestore(&vm_lock, f);
  return (void *)(uintptr_t)phys;
}

void vm_init(void) {
  extern char boot_stack_guard[];
  nx = cpu_has_nx ? PTE_NX : 0;
  pml4 = kalloc_page();
  if (!pml4) panic("vm: no memory for page tables");
  /* Low memory and the kernel image with 4 KiB pages, by section. */
  uint64_t ktext = (uintptr_t)__kernel_start, etext = (uintptr_t)__text_end, erodata = (uintptr_t)__rodata_end;
  uint64_t low_end = ((uintptr_t)__kernel_end + LARGE - 1) & ~(LARGE - 1);
  uint64_t top = pmem_top();
  for (uint64_t va = PAGE_SIZE; va < low_end; va += PAGE_SIZE) {
    uint64_t f = PTE_W | nx;
    if (va >= ktext && va < etext) f = 0; /* read-only, executable */
    else if (va >= etext && va < erodata) f = nx;
    if (va == (uintptr_t)boot_stack_guard) continue;
    if (va >= 0x100000 && va >= top) break;
    if (map_page(va, va, f)) panic("vm: out of memory");
  }
  /* The rest of RAM: 2 MiB pages where a whole aligned one is RAM, 4 KiB pages at the edges. */
  for (int i = 0; i < boot_info.nregions; i++) {
    uint64_t a = PAGE_ROUND_UP(boot_info.regions[i].addr);
    uint64_t b = PAGE_ROUND_DOWN(boot_info.regions[i].addr + boot_info.regions[i].len);
    if (b > top) b = top;
    if (a < low_end) a = low_end;
    while (a < b) {
      int ok = (a % LARGE == 0 && a + LARGE <= b) ? map_large(a, PTE_W | nx) : map_page(a, a, PTE_W | nx);
      if (ok) panic("vm: out of memory");
      a += (a % LARGE == 0 && a + LARGE <= b) ? LARGE : PAGE_SIZE;
    }
  }
  __asm__ volatile("mov %0, %%cr3" ::"r"((uintptr_t)pml4) : "memory");
  pmem_set_limit(top);
}

/* A Wasm stack: the top pre-mapped (once per slot), the rest on demand. */
int vm_stack_alloc(uintptr_t *lo, uintptr_t *hi) {
  stack_probe();
  uint64_t f = spin_lock_irqsave(&vm_lock);
  int slot = -1;
  for (int i = 0; i < STACK_SLOTS && slot < 0; i++)
    if (!stack_used[i]) slot = i;
  if (slot < 0) goto out;
  uint64_t top = STACK_BASE + (uint64_t)slot * STACK_SLOT + STACK_SLOT;
  for (uint64_t va = top - STACK_PREMAP; va < top && !stack_premapped[slot]; va += PAGE_SIZE) {
    uint64_t *e = walk(va, 1, NULL);
    void *pg = e && !(*e & PTE_P) ? kalloc_page() : NULL;
    if (e && (*e & PTE_P)) continue;
    if (!pg) {
      slot = -1;
      goto out;
    }
    *e = (uintptr_t)pg | PTE_P | PTE_W | nx;
  }
  stack_premapped[slot] = stack_used[slot] = 1;
  *lo = top - STACK_SIZE;
  *hi = top;
out:
  spin_unlock_irqrestore(&vm_lock, f);
  return slot;
}

void vm_stack_free(int slot) {
  if (slot >= 0 && slot < STACK_SLOTS) __atomic_store_n(&stack_used[slot], 0, __ATOMIC_RELEASE);
}

/* The offset of addr in its stack slot, or -1 when it is in none. */
static int64_t stack_offset(uint64_t addr) {
  if (addr < STACK_BASE || addr >= STACK_BASE + STACK_SLOTS * STACK_SLOT) return -1;
  return (int64_t)((addr - STACK_BASE) % STACK_SLOT);
}

int vm_handle_demand_fault(uint64_t addr) {
  if (stack_offset(addr) < (int64_t)STACK_GUARD) return 0;
  uint64_t va = PAGE_ROUND_DOWN(addr);
  stack_probe();
  uint64_t f = spin_lock_irqsave(&vm_lock);
  uint64_t *e = walk(va, 1, NULL);
  int r = -1;
  if (e && (*e & PTE_P)) r = 0; /* mapped already: a protection fault, not ours */
  else if (e) {
    void *pg = kalloc_page();
    if (pg) *e = (uintptr_t)pg | PTE_P | PTE_W | nx, r = 1;
  }
  spin_unlock_irqrestore(&vm_lock, f);
  return r;
}

uint64_t vm_stack_trim(void) {
  struct thread *t = sched_current();
  uint64_t freed = 0;
  stack_probe();
  uint64_t f = spin_lock_irqsave(&vm_lock);
  for (uint64_t va = t->wasm_lo; va < t->wasm_hi - STACK_PREMAP; va += PAGE_SIZE) {
    uint64_t *e = walk(va, 0, NULL);
    if (!e || !(*e & PTE_P)) continue;
    kfree_page(table(*e));
    *e = 0;
    freed += PAGE_SIZE;
  }
  if (freed) unmapped();
  spin_unlock_irqrestore(&vm_lock, f);
  return freed;
}

int vm_classify(uint64_t addr) {
  if (addr >= MEM_BASE && addr < MEM_BASE + NSLOTS * SLOT) {
    uint64_t i = (addr - MEM_BASE) / SLOT;
    if (slots[i].used && addr - MEM_BASE - i * SLOT < KILN_MEM_RESERVE) return VM_REGION_LINEAR_MEMORY;
  }
  int64_t off = stack_offset(addr);
  if (off >= 0 && off < (int64_t)STACK_GUARD) return VM_REGION_STACK_GUARD;
  return VM_REGION_OTHER;
}

/* ---- the linear-memory hooks of kernel/instance.h ---- */

static int slot_of(const kiln_memory *m) {
  uint64_t off = (uintptr_t)m->base - MEM_BASE;
  return ((uintptr_t)m->base >= MEM_BASE && off % SLOT == 0 && off / SLOT < NSLOTS) ? (int)(off / SLOT) : -1;
}

int kiln_plat_mem_reserve(kiln_memory *m) {
  stack_probe();
  uint64_t f = spin_lock_irqsave(&vm_lock);
  for (int i = 0; i < NSLOTS; i++) {
    if (slots[i].used) continue;
    slots[i].used = 1;
    slots[i].mapped = 0;
    m->base = (uint8_t *)(uintptr_t)(MEM_BASE + i * SLOT);
    spin_unlock_irqrestore(&vm_lock, f);
    return 0;
  }
  spin_unlock_irqrestore(&vm_lock, f);
  return -1;
}

static void unmap_range(uint64_t from, uint64_t to) {
  for (uint64_t va = from; va < to; va += PAGE_SIZE) {
    uint64_t *e = walk(va, 0, NULL);
    if (e && (*e & PTE_P)) {
      kfree_page(table(*e));
      *e = 0;
      invlpg(va);
    }
  }
}

static int mem_commit(kiln_memory *m, uint64_t from, uint64_t to);
int kiln_plat_mem_commit(kiln_memory *m, uint64_t from, uint64_t to) {
  stack_probe();
  uint64_t f = spin_lock_irqsave(&vm_lock);
  int r = mem_commit(m, from, to);
  spin_unlock_irqrestore(&vm_lock, f);
  return r;
}

static int mem_commit(kiln_memory *m, uint64_t from, uint64_t to) {
  int s = slot_of(m);
  if (s < 0 || to > KILN_MEM_RESERVE || from > to) return -1;
  uint64_t base = (uintptr_t)m->base, a = PAGE_ROUND_DOWN(from), b = PAGE_ROUND_UP(to);
  /* Hopeless requests fail at once instead of mapping all of RAM and undoing it. */
  uint64_t fresh = b > slots[s].mapped ? b - (a > slots[s].mapped ? a : slots[s].mapped) : 0;
  if (fresh + GROW_HEADROOM > pmem_free_bytes()) return -1;
  for (uint64_t off = a; off < b; off += PAGE_SIZE) {
    uint64_t *e = walk(base + off, 1, NULL);
    if (e && (*e & PTE_P)) { /* already there: just zero the requested bytes */
      uint64_t lo = off < from ? from : off, hi = off + PAGE_SIZE > to ? to : off + PAGE_SIZE;
      memset((void *)(uintptr_t)(base + lo), 0, hi - lo);
      continue;
    }
    void *pg = e ? kalloc_page() : NULL;
    if (!pg) {
      /* Out of memory: undo this call's new pages so the memory keeps its old size. */
      unmap_range(base + (a > slots[s].mapped ? a : slots[s].mapped), base + off);
      return -1;
    }
    *e = (uintptr_t)pg | PTE_P | PTE_W | nx;
  }
  if (b > slots[s].mapped) slots[s].mapped = b;
  return 0;
}

static void mem_release(kiln_memory *m);
void kiln_plat_mem_release(kiln_memory *m) {
  stack_probe();
  uint64_t f = spin_lock_irqsave(&vm_lock);
  mem_release(m);
  spin_unlock_irqrestore(&vm_lock, f);
}

static void mem_release(kiln_memory *m) {
  int s = slot_of(m);
  if (s < 0 || !slots[s].used) return;
  uint64_t base = (uintptr_t)m->base;
  /* The slot's pages and page tables, table by table (it spans whole PDPT entries, 1 GiB
   * each), and one TLB flush at the end: a walk and an invlpg per page cost a restart in place
   * more than freeing the pages does. */
  for (uint64_t va = base; va < base + SLOT; va += 1ull << 30) {
    uint64_t *l4 = &pml4[(va >> 39) & 511];
    if (!(*l4 & PTE_P)) continue;
    uint64_t *pdpte = &table(*l4)[(va >> 30) & 511];
    if (!(*pdpte & PTE_P)) continue;
    uint64_t *pd = table(*pdpte);
    for (int i = 0; i < 512; i++) {
      if (!(pd[i] & PTE_P)) continue;
      uint64_t *pt = table(pd[i]);
      for (int j = 0; j < 512; j++)
        if (pt[j] & PTE_P) kfree_page(table(pt[j]));
      kfree_page(pt);
    }
    kfree_page(pd);
    *pdpte = 0;
  }
  unmapped();
  slots[s].used = 0;
  slots[s].mapped = 0;
  m->base = NULL;
}
