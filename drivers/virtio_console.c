/* drivers/virtio_console.c — the app's stdin through a virtio console (VIRTIO 1.0, section 5.3)
 * when `kiln run` attaches one. The 16550 takes at most 16 bytes per interrupt (a few KiB/s
 * under TCG); here the host fills 4 KiB buffers. Port 0 only (no MULTIPORT), receive queue
 * only: output stays on the UARTs, because QEMU's virtconsole drops what its host side cannot
 * take at once (EAGAIN on a full pipe) where the 16550 waits. kernel/console.c decodes the
 * bytes (kiln-stdin's framing). */
#include "drivers/virtio.h"
#include "kernel/kernel.h"

#define NBUF 16 /* receive buffers of one page each */

static struct virtio_dev dev;
static struct virtq rxq;
static bool found, use_msix;
static uint8_t *cur;              /* the filled buffer being read, or NULL */
static uint32_t cur_len, cur_off;

static void post(uint8_t *b) {
  uint64_t a = virt_to_phys(b);
  uint32_t l = PAGE_SIZE;
  uint16_t f = VIRTQ_DESC_F_WRITE;
  virtq_add(&rxq, &a, &l, &f, 1, b);
}

static void on_interrupt(void *arg) {
  /* INTx: reading the ISR deasserts the line; it may be shared, so check it was us. */
  if (!use_msix && !(virtio_isr(&dev) & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG))) return;
  kernel_event(); /* a reader halted in wasi_plat_console_read looks again */
}

int virtio_console_probe(void) {
  /* Steps 1-3: reset, ACKNOWLEDGE, DRIVER (on PCI, else on MMIO). */
  if (virtio_open(&dev, "virtio-console", VIRTIO_ID_CONSOLE, VIRTIO_PCI_DEVICE_CONSOLE_MODERN, VIRTIO_PCI_DEVICE_CONSOLE_TRANSITIONAL) != 0)
    return -1;
  /* Steps 4-6: no optional feature (no MULTIPORT: port 0 is connected at DRIVER_OK). */
  if (virtio_negotiate(&dev, 0) != 0) {
    klog("virtio-console: feature negotiation failed\n");
    return -1;
  }
  /* Interrupts: MSI-X entry 0 when possible, else the INTx (or MMIO) line. */
  use_msix = virtio_msix_setup(&dev, on_interrupt, NULL) == 0;
  /* Step 7: the receive queue, filled with empty pages. */
  if (virtio_queue_setup(&dev, &rxq, VIRTIO_CONSOLE_RXQ, NBUF, use_msix ? 0 : VIRTIO_MSI_NO_VECTOR) != 0) {
    klog("virtio-console: queue setup failed\n");
    virtio_fail(&dev);
    return -1;
  }
  if (!use_msix &&
      (dev.irq_line == 0xff || dev.irq_line >= 16 || irq_register(dev.irq_line, on_interrupt, NULL) != 0)) {
    klog("virtio-console: no usable interrupt line (%u)\n", dev.irq_line);
    virtio_fail(&dev);
    return -1;
  }
  for (int i = 0; i < rxq.size; i++) {
    uint8_t *b = kalloc_page();
    if (!b) break;
    post(b);
  }
  virtq_kick(&rxq);
  /* Step 8: DRIVER_OK; the host may send from now on. */
  virtio_driver_ok(&dev);
  found = true;
  return 0;
}

bool virtio_console_present(void) { return found; }

/* Up to n received bytes (0 when none has arrived); a drained buffer goes back to the device. */
size_t virtio_console_rx(uint8_t *buf, size_t n) {
  size_t k = 0;
  while (found && k < n) {
    if (!cur) {
      cur = virtq_get(&rxq, &cur_len);
      cur_off = 0;
      if (!cur) break;
    }
    size_t m = n - k < cur_len - cur_off ? n - k : cur_len - cur_off;
    memcpy(buf + k, cur + cur_off, m);
    k += m;
    cur_off += (uint32_t)m;
    if (cur_off >= cur_len) {
      post(cur);
      virtq_kick(&rxq);
      cur = NULL;
    }
  }
  return k;
}

bool virtio_console_rx_ready(void) { return found && (cur || virtq_has_used(&rxq)); }
