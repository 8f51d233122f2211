/* kernel/heap.c — kalloc/kfree: power-of-two size classes from 32 to 2048 bytes carved out
 * of pages, each with a free list; larger blocks take whole contiguous pages. Every block
 * has a 16-byte header (its class or page count) so kfree needs no size. Also the
 * allocator hooks of kernel/instance.h. */
#include "kernel/instance.h"
#include "kernel/kernel.h"

#define HDR 16
#define MIN_SHIFT 5  /* 32-byte blocks */
#define MAX_SHIFT 11 /* 2048-byte blocks */
#define MAGIC_SMALL 0x6b6c6e31u
#define MAGIC_LARGE 0x6b6c6e32u

struct hdr {
  uint32_t magic;
  uint32_t size; /* class shift, or page count */
  uint64_t pad;
};
struct free_block {
  struct free_block *next;
};

static struct free_block *free_list[MAX_SHIFT + 1];
static spinlock_t heap_lock; /* the free lists, on any CPU */

static int refill(int shift) {
  uint8_t *pg = kalloc_page();
  if (!pg) return -1;
  for (size_t off = 0; off + (1u << shift) <= PAGE_SIZE; off += 1u << shift) {
    struct free_block *b = (void *)(pg + off);
    b->next = free_list[shift];
    free_list[shift] = b;
  }
  return 0;
}

void *kalloc(size_t n) {
  if (n > (1ull << 40)) return NULL;
  struct hdr *h;
  if (n + HDR <= (1u << MAX_SHIFT)) {
    int shift = MIN_SHIFT;
    while ((1u << shift) < n + HDR) shift++;
    uint64_t f = spin_lock_irqsave(&heap_lock);
    if (!free_list[shift] && refill(shift)) {
      spin_unlock_irqrestore(&heap_lock, f);
      return NULL;
    }
    h = (struct hdr *)free_list[shift];
    free_list[shift] = free_list[shift]->next;
    spin_unlock_irqrestore(&heap_lock, f);
    h->magic = MAGIC_SMALL;
    h->size = shift;
    memset(h + 1, 0, (1u << shift) - HDR);
  } else {
    size_t pages = (n + HDR + PAGE_SIZE - 1) / PAGE_SIZE;
    h = kalloc_pages(pages); /* zeroed */
    if (!h) return NULL;
    h->magic = MAGIC_LARGE;
    h->size = (uint32_t)pages;
  }
  return h + 1;
}

void kfree(void *p) {
  if (!p) return;
  struct hdr *h = (struct hdr *)p - 1;
  if (h->magic == MAGIC_LARGE) {
    h->magic = 0;
    kfree_pages(h, h->size);
    return;
  }
  if (h->magic != MAGIC_SMALL || h->size < MIN_SHIFT || h->size > MAX_SHIFT)
    panic("kfree: %p is not a heap block (double free or corruption)", p);
  int shift = h->size;
  h->magic = 0;
  uint64_t f = spin_lock_irqsave(&heap_lock);
  struct free_block *b = (void *)h;
  b->next = free_list[shift];
  free_list[shift] = b;
  spin_unlock_irqrestore(&heap_lock, f);
}

void *kiln_plat_alloc(size_t n) { return kalloc(n ? n : 1); }
void kiln_plat_free(void *p) { kfree(p); }
