/* drivers/virtio_balloon.c — guest RAM back to the host: the virtio memory balloon's free
 * page reporting (VIRTIO 1.2, 5.5.6.7; QEMU `virtio-balloon-pci,free-page-reporting=on`).
 * Unlike inflating a balloon, reporting lends free pages to the device only while it looks
 * at them: QEMU discards them (madvise DONTNEED, so its resident set shrinks) and returns
 * each buffer; the pages then read as zero and come back from the host when touched.
 *
 * The kernel reports after a restart in place (kernel/app.c), when the old instance's linear
 * memory has just been freed. The pages are taken from the page allocator for the report
 * (without touching them: pmem_alloc_phys, not kalloc_pages, which zeroes) and freed after,
 * so nothing can use them meanwhile; a reserve stays free for interrupt handlers. */
#include "drivers/virtio.h"
#include "kernel/kernel.h"

#define RESERVE (1ull << 20)   /* left free while reporting */
#define QUEUE_MAX 32           /* QEMU's reporting queue has 32 entries */
#define WAIT_NS 1000000000ull  /* a device that keeps a report longer is given up */

static struct virtio_dev dev;
static struct virtq repq;
static bool found;
static uint64_t reported; /* bytes, since boot */

int virtio_balloon_probe(void) {
  /* Steps 1-3: reset, ACKNOWLEDGE, DRIVER (on PCI, else on MMIO). */
  if (virtio_open(&dev, "virtio-balloon", VIRTIO_ID_BALLOON, VIRTIO_PCI_DEVICE_BALLOON_MODERN, VIRTIO_PCI_DEVICE_BALLOON_TRANSITIONAL) != 0)
    return -1;
  /* Steps 4-6: free page reporting only (no inflating, no statistics, no hinting). */
  if (virtio_negotiate(&dev, 1ull << VIRTIO_BALLOON_F_PAGE_REPORTING) != 0 ||
      !(dev.features & (1ull << VIRTIO_BALLOON_F_PAGE_REPORTING))) {
    klog("virtio-balloon: no free page reporting (QEMU: free-page-reporting=on)\n");
    virtio_fail(&dev);
    return -1;
  }
  /* Step 7: the reporting queue, without interrupts: a report is waited for by polling, as
   * QEMU answers it at once. */
  uint16_t nq = virtio_num_queues(&dev);
  if (nq < 3 || virtio_queue_setup(&dev, &repq, (uint16_t)(nq - 1), QUEUE_MAX, VIRTIO_MSI_NO_VECTOR) != 0) {
    klog("virtio-balloon: reporting queue setup failed\n");
    virtio_fail(&dev);
    return -1;
  }
  repq.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
  /* Step 8: DRIVER_OK. */
  virtio_driver_ok(&dev);
  found = true;
  return 0;
}

struct run {
  uint64_t pa, pages;
};

/* Reports runs[0..n) in batches of the queue's size; 0, or -1 when the device kept one. */
static int report(const struct run *runs, size_t n) {
  for (size_t i = 0; i < n;) {
    size_t b = 0;
    for (; b < repq.size && i + b < n; b++) {
      uint64_t pa = runs[i + b].pa;
      uint32_t len = (uint32_t)(runs[i + b].pages * PAGE_SIZE);
      uint16_t flags = VIRTQ_DESC_F_WRITE;
      if (virtq_add(&repq, &pa, &len, &flags, 1, (void *)(uintptr_t)pa) < 0) break;
    }
    virtq_kick(&repq);
    size_t back = 0;
    uint64_t until = time_ns() + WAIT_NS;
    uint32_t len;
    while (back < b && time_ns() < until) {
      if (virtq_get(&repq, &len)) back++;
      else __asm__ volatile("pause");
    }
    virtio_isr(&dev); /* clears the (unused) interrupt status */
    if (back < b) return -1;
    i += b;
  }
  return 0;
}

uint64_t balloon_report_free(void) {
  if (!found) return 0;
  /* Every run is held until the whole report is done, so no page is reported twice. */
  size_t cap = (size_t)(pmem_free_bytes() / (16 * PAGE_SIZE)) + 1, n = 0;
  struct run *runs = kalloc(cap * sizeof *runs);
  if (!runs) return 0;
  /* 2 MiB runs first (the host's huge pages, few descriptors), then 64 KiB for the rest. */
  static const uint64_t sizes[] = {512, 16};
  for (size_t k = 0; k < ARRAY_LEN(sizes); k++)
    while (n < cap && pmem_free_bytes() >= RESERVE + sizes[k] * PAGE_SIZE) {
      uint64_t f = irq_save();
      uint64_t pa = pmem_alloc_phys(sizes[k]);
      irq_restore(f);
      if (!pa) break;
      runs[n++] = (struct run){pa, sizes[k]};
    }
  uint64_t total = 0;
  if (report(runs, n) == 0) {
    for (size_t i = 0; i < n; i++) total += runs[i].pages * PAGE_SIZE;
  } else { /* the device kept pages it may still drop: never reuse them, stop reporting */
    klog("virtio-balloon: the device did not return a report; reporting stops\n");
    found = false;
    kfree(runs);
    return 0;
  }
  uint64_t f = irq_save();
  for (size_t i = 0; i < n; i++) pmem_free_phys(runs[i].pa, runs[i].pages);
  irq_restore(f);
  kfree(runs);
  reported += total;
  return total;
}

uint64_t balloon_reported_bytes(void) { return reported; }
