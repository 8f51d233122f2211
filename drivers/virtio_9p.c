/* drivers/virtio_9p.c — the virtio 9P transport (virtio 1.0, section 5.11), for the 9P2000.L
 * client in p9/. One virtqueue carries requests: each is a chain of two descriptors, the
 * T-message (device-readable) and room for the R-message (device-writable). The client keeps
 * one request in flight per device, so each device owns one pair of msize-sized buffers,
 * physically contiguous (one descriptor each, however large the message). Completion raises
 * an MSI-X interrupt (INTx when there is no MSI-X); the caller halts until it arrives, with
 * a deadline so a host that never answers gives an error, not a hang. */
#include "drivers/virtio.h"
#include "kernel/kernel.h"
#include "p9/p9.h"

#define VIRTIO_PCI_DEVICE_9P_TRANSITIONAL 0x1009
#define VIRTIO_PCI_DEVICE_9P_MODERN 0x1049 /* 0x1040 + device id 9 */
#define VIRTIO_9P_F_MOUNT_TAG 0             /* 5.11.3: the config space holds the mount tag */
/* 5.11.4 Device configuration layout: le16 tag_len @0, u8 tag[tag_len] @2 */
#define VIRTIO_9P_CFG_TAG_LEN 0
#define VIRTIO_9P_CFG_TAG 2
#define REPLY_TIMEOUT_NS (60ull * 1000000000ull)

struct virtio_9p {
  struct virtio_dev dev;
  struct virtq q;
  int use_msix, dead; /* dead: stopped answering; its buffers may still be the device's */
  volatile uint32_t irqs;
  char tag[P9_TAG_MAX + 1];
  uint8_t *req, *resp; /* P9_MSIZE each */
};

static struct virtio_9p devs[P9_MAX_DEVS];
static int ndevs;

static void on_interrupt(void *arg) {
  struct virtio_9p *d = arg;
  /* INTx is shared: reading the ISR deasserts it and says whether it was this device. */
  if (!d->use_msix && !(virtio_isr(&d->dev) & VIRTIO_ISR_QUEUE)) return;
  d->irqs++;
  kernel_event();
}

/* Follows the initialization steps of 3.1.1 for one device; 0 or -1 (with a note why). */
static int probe_one(struct virtio_9p *d, struct pci_dev *pci) {
  /* Steps 1-3: reset, ACKNOWLEDGE, DRIVER. */
  if (virtio_pci_open(&d->dev, pci) != 0) {
    klog("virtio-9p: %02x:%02x.%x has no modern (virtio 1.0) interface\n", pci->bus, pci->dev, pci->fn);
    return -1;
  }
  /* Steps 4-6: the mount tag is all we need (it names the guest directory, see kiln). */
  if (virtio_negotiate(&d->dev, 1ull << VIRTIO_9P_F_MOUNT_TAG) != 0 ||
      !(d->dev.features & 1ull << VIRTIO_9P_F_MOUNT_TAG) || !d->dev.device_cfg) {
    klog("virtio-9p: no mount tag offered\n");
    virtio_fail(&d->dev);
    return -1;
  }
  uint16_t n = mmio_read16(d->dev.device_cfg + VIRTIO_9P_CFG_TAG_LEN);
  if (n == 0 || n > P9_TAG_MAX) {
    klog("virtio-9p: mount tag of %u bytes (1..%d allowed)\n", n, P9_TAG_MAX);
    virtio_fail(&d->dev);
    return -1;
  }
  for (uint16_t i = 0; i < n; i++) d->tag[i] = (char)mmio_read8(d->dev.device_cfg + VIRTIO_9P_CFG_TAG + i);
  d->tag[n] = 0;
  /* Interrupts: MSI-X entry 0 when possible, else the INTx line the firmware assigned. */
  d->use_msix = virtio_msix_setup(&d->dev, on_interrupt, d) == 0;
  /* Step 7: the one request queue (0). Two descriptors per request, one request in flight. */
  if (virtio_queue_setup(&d->dev, &d->q, 0, 8, d->use_msix ? 0 : VIRTIO_MSI_NO_VECTOR) != 0) {
    klog("virtio-9p: queue setup failed\n");
    virtio_fail(&d->dev);
    return -1;
  }
  if (!d->use_msix &&
      (pci->irq_line == 0xff || pci->irq_line >= 16 || irq_register(pci->irq_line, on_interrupt, d) != 0)) {
    klog("virtio-9p: no usable interrupt line (%u)\n", pci->irq_line);
    virtio_fail(&d->dev);
    return -1;
  }
  d->req = kalloc_pages(P9_MSIZE / PAGE_SIZE);
  d->resp = kalloc_pages(P9_MSIZE / PAGE_SIZE);
  if (!d->req || !d->resp) {
    klog("virtio-9p: out of memory for %u KiB buffers\n", 2 * P9_MSIZE / 1024);
    virtio_fail(&d->dev);
    return -1;
  }
  /* Step 8: DRIVER_OK. */
  virtio_driver_ok(&d->dev);
  return 0;
}

int virtio_9p_init(void) {
  if (pci_scan() <= 0) return 0;
  static const uint16_t ids[] = {VIRTIO_PCI_DEVICE_9P_MODERN, VIRTIO_PCI_DEVICE_9P_TRANSITIONAL};
  for (size_t k = 0; k < ARRAY_LEN(ids); k++) {
    struct pci_dev *pci;
    for (int i = 0; ndevs < P9_MAX_DEVS && (pci = pci_find(VIRTIO_PCI_VENDOR, ids[k], i)); i++)
      if (probe_one(&devs[ndevs], pci) == 0) {
        klog("virtio-9p: %02x:%02x.%x tag '%s', %s, msize %u KiB\n", pci->bus, pci->dev, pci->fn, devs[ndevs].tag,
             devs[ndevs].use_msix ? "MSI-X" : "INTx", P9_MSIZE / 1024);
        ndevs++;
      }
  }
  return ndevs;
}

struct virtio_9p *virtio_9p_get(int i) { return i >= 0 && i < ndevs ? &devs[i] : NULL; }
const char *virtio_9p_tag(struct virtio_9p *d) { return d->tag; }
uint8_t *virtio_9p_req(struct virtio_9p *d) { return d->req; }
const uint8_t *virtio_9p_resp(struct virtio_9p *d) { return d->resp; }

int virtio_9p_call(struct virtio_9p *d, uint32_t reqlen, uint32_t *resplen) {
  if (reqlen > P9_MSIZE || d->dead) return -1;
  uint64_t addr[2] = {virt_to_phys(d->req), virt_to_phys(d->resp)};
  uint32_t len[2] = {reqlen, P9_MSIZE};
  uint16_t flags[2] = {0, VIRTQ_DESC_F_WRITE};
  if (virtq_add(&d->q, addr, len, flags, 2, d) < 0) return -1;
  virtq_kick(&d->q);
  /* Halt until the completion interrupt (or the deadline); never spin. */
  uint64_t deadline = time_ns() + REPLY_TIMEOUT_NS;
  while (!virtq_has_used(&d->q)) {
    uint64_t seen = kernel_events();
    if (virtq_has_used(&d->q)) break;
    if (time_ns() >= deadline) {
      /* The request is still posted: the device owns the buffers now, so this device is done. */
      klog("virtio-9p: '%s' did not answer in %llu s\n", d->tag, REPLY_TIMEOUT_NS / 1000000000ull);
      virtio_fail(&d->dev);
      d->dead = 1;
      return -1;
    }
    kernel_idle_until(deadline, seen);
  }
  uint32_t got = 0;
  if (virtq_get(&d->q, &got) != d || got > P9_MSIZE) return -1;
  *resplen = got;
  return 0;
}
