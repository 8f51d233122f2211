/* kernel/pmem.c — physical page allocator: one bit per 4 KiB page of RAM (1 = in use), placed
 * in the first usable RAM after the kernel. Runs of contiguous pages are found by a linear
 * scan from a rotating hint: allocations here are few (page tables, linear memory pages,
 * heap chunks, DMA rings) and the bitmap of 128 MiB of RAM is only 4 KiB. All RAM is
 * identity-mapped (kernel/vm.c), so a page's physical address is also its address. */
#include "kernel/kernel.h"

#define MAX_PHYS (64ull << 30) /* RAM above this is ignored (bitmap and identity map size) */
#define LOW_RESERVED (1ull << 20) /* BIOS data, real-mode IVT, VGA, ROMs: never allocated */

static uint64_t *bitmap;
static uint64_t npages, nfree, ntotal, hint;
static uint64_t alloc_limit; /* pages at or above this are not handed out (before vm_init) */

static inline int used(uint64_t pg) { return (bitmap[pg / 64] >> (pg % 64)) & 1; }
static inline void set_used(uint64_t pg) { bitmap[pg / 64] |= 1ull << (pg % 64); }
static inline void set_free(uint64_t pg) { bitmap[pg / 64] &= ~(1ull << (pg % 64)); }

uint64_t pmem_bitmap_bytes(uint64_t top) { return ((top / PAGE_SIZE + 63) / 64) * 8; }

/* Pure: every page in use, then the whole pages of each region free. */
void pmem_setup(uint64_t *bm, uint64_t top, const struct boot_region *r, int nr) {
  bitmap = bm;
  npages = top / PAGE_SIZE;
  memset(bitmap, 0xff, pmem_bitmap_bytes(top));
  nfree = ntotal = hint = 0;
  alloc_limit = npages;
  for (int i = 0; i < nr; i++) {
    uint64_t a = PAGE_ROUND_UP(r[i].addr) / PAGE_SIZE;
    uint64_t end = r[i].addr + r[i].len < top ? r[i].addr + r[i].len : top;
    uint64_t b = PAGE_ROUND_DOWN(end) / PAGE_SIZE;
    for (uint64_t pg = a; pg < b; pg++)
      if (used(pg)) set_free(pg), nfree++, ntotal++;
  }
}

/* Pure: marks [start, end) in use (it may be partly outside RAM). */
void pmem_reserve(uint64_t start, uint64_t end) {
  uint64_t a = PAGE_ROUND_DOWN(start) / PAGE_SIZE, b = PAGE_ROUND_UP(end) / PAGE_SIZE;
  if (b > npages) b = npages;
  for (uint64_t pg = a; pg < b; pg++)
    if (!used(pg)) set_used(pg), nfree--;
}

void pmem_set_limit(uint64_t top) { alloc_limit = top / PAGE_SIZE < npages ? top / PAGE_SIZE : npages; }

/* Pure: the physical address of n contiguous free pages, now in use; 0 when there are none
 * (page 0 is never free). */
uint64_t pmem_alloc_phys(size_t n) {
  if (n == 0 || n > nfree) return 0;
  for (int pass = 0; pass < 2; pass++) {
    uint64_t pg = pass ? 0 : hint, end = pass ? hint + n : alloc_limit;
    if (end > alloc_limit) end = alloc_limit;
    uint64_t run = 0;
    while (pg < end) {
      if (run == 0 && (pg % 64) == 0 && bitmap[pg / 64] == ~0ull) { /* skip full words */
        pg += 64;
        continue;
      }
      if (used(pg)) {
        run = 0;
      } else if (++run == n) {
        uint64_t first = pg + 1 - n;
        for (uint64_t k = first; k <= pg; k++) set_used(k);
        nfree -= n;
        hint = pg + 1 < alloc_limit ? pg + 1 : 0;
        return first * PAGE_SIZE;
      }
      pg++;
    }
  }
  return 0;
}

void pmem_free_phys(uint64_t pa, size_t n) {
  uint64_t a = pa / PAGE_SIZE;
  for (uint64_t pg = a; pg < a + n && pg < npages; pg++) {
    if (!used(pg)) panic("pmem: double free of page %#lx", pg * PAGE_SIZE);
    set_free(pg);
    nfree++;
  }
}

uint64_t pmem_free_bytes(void) { return nfree * PAGE_SIZE; }
uint64_t pmem_total_bytes(void) { return ntotal * PAGE_SIZE; }
uint64_t pmem_top(void) { return npages * PAGE_SIZE; }

#ifndef KILN_HOST_TEST
static int overlaps(uint64_t a, uint64_t b, uint64_t c, uint64_t d) { return a < d && c < b; }

void pmem_init(const struct boot_info *bi) {
  uint64_t top = 0;
  for (int i = 0; i < bi->nregions; i++) {
    uint64_t end = bi->regions[i].addr + bi->regions[i].len;
    if (end > top) top = end;
  }
  if (top > MAX_PHYS) {
    klog("kiln: using the first %lu GiB of RAM only\n", (unsigned long)(MAX_PHYS >> 30));
    top = MAX_PHYS;
  }
  top = PAGE_ROUND_DOWN(top);
  /* The bitmap goes in the first usable place above 1 MiB clear of the kernel and modules,
   * below 4 GiB (all the boot page tables map). */
  uint64_t need = PAGE_ROUND_UP(pmem_bitmap_bytes(top)), at = 0;
  uint64_t kstart = (uintptr_t)__kernel_start, kend = PAGE_ROUND_UP((uintptr_t)__kernel_end);
  for (int i = 0; i < bi->nregions && !at; i++) {
    uint64_t a = PAGE_ROUND_UP(bi->regions[i].addr), end = bi->regions[i].addr + bi->regions[i].len;
    if (a < LOW_RESERVED) a = LOW_RESERVED;
    while (a + need <= end && a + need <= (4ull << 30)) {
      uint64_t bump = 0;
      if (overlaps(a, a + need, kstart, kend)) bump = kend;
      for (int m = 0; m < bi->nmodules; m++)
        if (overlaps(a, a + need, bi->modules[m].start, bi->modules[m].end))
          bump = PAGE_ROUND_UP(bi->modules[m].end);
      if (!bump) {
        at = a;
        break;
      }
      a = bump;
    }
  }
  if (!at) panic("pmem: no room for the page bitmap (%lu bytes)", (unsigned long)need);
  pmem_setup((uint64_t *)(uintptr_t)at, top, bi->regions, bi->nregions);
  pmem_reserve(0, LOW_RESERVED);
  pmem_reserve(kstart, kend);
  pmem_reserve(at, at + need);
  for (int m = 0; m < bi->nmodules; m++) pmem_reserve(bi->modules[m].start, bi->modules[m].end);
  pmem_set_limit(4ull << 30); /* until vm_init maps all RAM */
}

/* Any CPU, interrupt handlers included. */
static spinlock_t pmem_lock;

void *kalloc_pages(size_t n) {
  stack_probe();
  uint64_t f = spin_lock_irqsave(&pmem_lock);
  uint64_t pa = pmem_alloc_phys(n);
  spin_unlock_irqrestore(&pmem_lock, f);
  if (!pa) return NULL;
  memset((void *)(uintptr_t)pa, 0, n * PAGE_SIZE);
  return (void *)(uintptr_t)pa;
}

void kfree_pages(void *p, size_t n) {
  if (!p) return;
  stack_probe();
  uint64_t f = spin_lock_irqsave(&pmem_lock);
  pmem_free_phys((uintptr_t)p, n);
  spin_unlock_irqrestore(&pmem_lock, f);
}

void *kalloc_page(void) { return kalloc_pages(1); }
void kfree_page(void *p) { kfree_pages(p, 1); }
#endif
