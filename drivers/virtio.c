/* drivers/virtio.c — the virtio 1.0 transports, modern PCI (section 4.1) and MMIO (section
 * 4.2, QEMU's microvm: no PCI at all, so a shorter machine start), and split virtqueues
 * (section 2.4), shared by virtio device drivers. The device-initialization steps of 3.1.1
 * are split so the driver can do its own part (feature choice, queues) in between; each step
 * speaks to whichever transport the device was opened on (v->mmio set: MMIO). */
#include "drivers/virtio.h"

#include "kernel/kernel.h"

static uint32_t mmio_reg(struct virtio_dev *v, uint32_t off) { return mmio_read32(v->mmio + off); }
static void mmio_set(struct virtio_dev *v, uint32_t off, uint32_t val) { mmio_write32(v->mmio + off, val); }

static uint8_t status_get(struct virtio_dev *v) {
  return v->mmio ? (uint8_t)mmio_reg(v, VIRTIO_MMIO_STATUS) : mmio_read8(&v->common->device_status);
}
static void status_set(struct virtio_dev *v, uint8_t st) {
  if (v->mmio) mmio_set(v, VIRTIO_MMIO_STATUS, st);
  else mmio_write8(&v->common->device_status, st);
}

/* Steps 1-3 of 3.1.1, either transport. */
static void reset_ack_driver(struct virtio_dev *v) {
  /* 1. Reset the device (and wait until the reset is complete: status reads back 0). */
  status_set(v, 0);
  for (int i = 0; i < 1000000 && status_get(v) != 0; i++) __asm__ volatile("pause");
  /* 2. Set the ACKNOWLEDGE status bit: the guest OS has noticed the device. */
  status_set(v, VIRTIO_STATUS_ACKNOWLEDGE);
  /* 3. Set the DRIVER status bit: the guest OS knows how to drive the device. */
  status_set(v, VIRTIO_STATUS_ACKNOWLEDGE | VIRTIO_STATUS_DRIVER);
}

/* Finds one virtio structure capability of cfg_type `type` and maps its window. */
static volatile void *find_cfg(struct virtio_dev *v, uint8_t type, uint8_t *capoff) {
  struct pci_dev *d = v->pci;
  for (uint8_t c = pci_find_cap(d, PCI_CAP_ID_VNDR, 0); c; c = pci_find_cap(d, PCI_CAP_ID_VNDR, c)) {
    if (pci_read8(d, c + VIRTIO_PCI_CAP_CFG_TYPE) != type) continue;
    uint8_t bar = pci_read8(d, c + VIRTIO_PCI_CAP_BAR);
    uint32_t off = pci_read32(d, c + VIRTIO_PCI_CAP_OFFSET), len = pci_read32(d, c + VIRTIO_PCI_CAP_LENGTH);
    uint64_t base = pci_bar_mem(d, bar);
    if (bar > 5 || !base) continue; /* an I/O BAR or an unassigned one: try the next cap */
    if (capoff) *capoff = c;
    return kmap_mmio(base + off, len ? len : 4);
  }
  return NULL;
}

int virtio_pci_open(struct virtio_dev *v, struct pci_dev *pci) {
  uint8_t ncap = 0;
  v->pci = pci;
  pci_enable(pci);
  v->common = find_cfg(v, VIRTIO_PCI_CAP_COMMON_CFG, NULL);
  v->isr = find_cfg(v, VIRTIO_PCI_CAP_ISR_CFG, NULL);
  v->device_cfg = find_cfg(v, VIRTIO_PCI_CAP_DEVICE_CFG, NULL);
  v->notify_base = find_cfg(v, VIRTIO_PCI_CAP_NOTIFY_CFG, &ncap);
  if (!v->common || !v->isr || !v->notify_base) return -1; /* legacy-only device */
  v->notify_mult = pci_read32(pci, ncap + VIRTIO_PCI_NOTIFY_CAP_MULT);
  v->mmio = NULL;
  v->irq_line = pci->irq_line;
  reset_ack_driver(v);
  return 0;
}

/* Parses "SIZE@BASE:IRQ" (SIZE decimal with an optional K, BASE hexadecimal with 0x). */
static int parse_mmio_token(const char *s, uint64_t *size, uint64_t *base, uint32_t *irq) {
  *size = *base = 0, *irq = 0;
  for (; *s >= '0' && *s <= '9'; s++) *size = *size * 10 + (uint64_t)(*s - '0');
  if (*s == 'K' || *s == 'k') *size <<= 10, s++;
  if (*s++ != '@' || *s++ != '0' || (*s != 'x' && *s != 'X')) return -1;
  s++;
  for (;; s++) {
    int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : *s >= 'A' && *s <= 'F' ? *s - 'A' + 10 : -1;
    if (d < 0) break;
    *base = *base << 4 | (uint64_t)d;
  }
  if (*s++ != ':') return -1;
  for (; *s >= '0' && *s <= '9'; s++) *irq = *irq * 10 + (uint32_t)(*s - '0');
  return *s || !*size || !*base ? -1 : 0;
}

int virtio_mmio_open(struct virtio_dev *v, uint32_t id, int n) {
  const char *tok;
  for (int i = 0; (tok = kernel_cmdline_get_nth("virtio_mmio.device", i)); i++) {
    uint64_t size, base;
    uint32_t irq;
    if (parse_mmio_token(tok, &size, &base, &irq) != 0 || size < VIRTIO_MMIO_CONFIG) {
      klog("virtio-mmio: ignoring virtio_mmio.device=%s\n", tok);
      continue;
    }
    volatile uint8_t *r = kmap_mmio(base, size);
    if (!r || mmio_read32(r + VIRTIO_MMIO_MAGIC_VALUE) != VIRTIO_MMIO_MAGIC || mmio_read32(r + VIRTIO_MMIO_DEVICE_ID) != id)
      continue;
    if (n-- > 0) continue;
    /* Version 1 is the legacy interface (QEMU's default: -global virtio-mmio.force-legacy=false
     * gives version 2). */
    if (mmio_read32(r + VIRTIO_MMIO_VERSION) != 2) {
      klog("virtio-mmio: device %u at %#lx is legacy (version %u); not used\n", id, base, mmio_read32(r + VIRTIO_MMIO_VERSION));
      return -1;
    }
    v->pci = NULL, v->common = NULL, v->isr = NULL, v->notify_base = NULL, v->notify_mult = 0;
    v->mmio = r;
    v->device_cfg = r + VIRTIO_MMIO_CONFIG;
    v->irq_line = irq < 16 ? (uint8_t)irq : 0xff;
    reset_ack_driver(v);
    return 0;
  }
  return -1;
}

int virtio_open(struct virtio_dev *v, const char *name, uint32_t id, uint16_t pci_modern, uint16_t pci_transitional) {
  struct pci_dev *pci = pci_find(VIRTIO_PCI_VENDOR, pci_modern, 0);
  if (!pci) pci = pci_find(VIRTIO_PCI_VENDOR, pci_transitional, 0);
  if (!pci) return virtio_mmio_open(v, id, 0);
  if (virtio_pci_open(v, pci) == 0) return 0;
  klog("%s: %02x:%02x.%x has no modern (virtio 1.0) interface\n", name, pci->bus, pci->dev, pci->fn);
  return -1;
}

/* The device's feature word `sel` (0: bits 0-31, 1: bits 32-63). */
static uint32_t features_get(struct virtio_dev *v, uint32_t sel) {
  if (v->mmio) {
    mmio_set(v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, sel);
    return mmio_reg(v, VIRTIO_MMIO_DEVICE_FEATURES);
  }
  mmio_write32(&v->common->device_feature_select, sel);
  return mmio_read32(&v->common->device_feature);
}
static void features_set(struct virtio_dev *v, uint32_t sel, uint32_t f) {
  if (v->mmio) {
    mmio_set(v, VIRTIO_MMIO_DRIVER_FEATURES_SEL, sel);
    mmio_set(v, VIRTIO_MMIO_DRIVER_FEATURES, f);
    return;
  }
  mmio_write32(&v->common->driver_feature_select, sel);
  mmio_write32(&v->common->driver_feature, f);
}

int virtio_negotiate(struct virtio_dev *v, uint64_t wanted) {
  /* 4. Read the device feature bits and write the subset understood by driver and device. */
  uint64_t dev = features_get(v, 0) | (uint64_t)features_get(v, 1) << 32;
  uint64_t f = dev & (wanted | 1ull << VIRTIO_F_VERSION_1);
  if (!(f & 1ull << VIRTIO_F_VERSION_1)) {
    virtio_fail(v);
    return -1;
  }
  features_set(v, 0, (uint32_t)f);
  features_set(v, 1, (uint32_t)(f >> 32));
  v->features = f;
  /* 5. Set FEATURES_OK; no new feature bits may be accepted after this step. */
  status_set(v, status_get(v) | VIRTIO_STATUS_FEATURES_OK);
  /* 6. Re-read the status to ensure FEATURES_OK is still set: else the device does not
   * support our subset of features and the device is unusable. */
  if (!(status_get(v) & VIRTIO_STATUS_FEATURES_OK)) {
    virtio_fail(v);
    return -1;
  }
  return 0;
}

int virtio_queue_setup(struct virtio_dev *v, struct virtq *q, uint16_t index, uint16_t max_size, uint16_t vector) {
  volatile struct virtio_pci_common_cfg *c = v->common;
  /* 7. Device-specific setup, here one virtqueue (4.1.5.1.3, MMIO: 4.2.3.2): select it, read
   * its size, allocate and zero the rings, write their physical addresses, enable it. */
  uint16_t size;
  if (v->mmio) {
    mmio_set(v, VIRTIO_MMIO_QUEUE_SEL, index);
    if (mmio_reg(v, VIRTIO_MMIO_QUEUE_READY)) return -1;
    size = (uint16_t)mmio_reg(v, VIRTIO_MMIO_QUEUE_NUM_MAX);
  } else {
    mmio_write16(&c->queue_select, index);
    size = mmio_read16(&c->queue_size);
    if (mmio_read16(&c->queue_enable)) return -1;
  }
  if (size == 0) return -1;
  while (size > max_size) size /= 2; /* sizes are powers of 2; a smaller one is allowed */
  if (v->mmio) {
    mmio_set(v, VIRTIO_MMIO_QUEUE_NUM, size); /* no MSI-X: the device's one interrupt line */
  } else {
    mmio_write16(&c->queue_size, size);
    mmio_write16(&c->queue_msix_vector, vector);
    if (mmio_read16(&c->queue_msix_vector) != vector) return -1; /* the device refused it */
  }
  /* Descriptor table (16-byte aligned), available ring (2), used ring (4): one contiguous
   * zeroed allocation, used ring on its own page. */
  size_t dsz = 16ull * size, asz = 6 + 2ull * size, usz = 6 + 8ull * size;
  size_t upage = PAGE_ROUND_UP(dsz + asz);
  size_t npages = (upage + PAGE_ROUND_UP(usz)) / PAGE_SIZE;
  uint8_t *mem = kalloc_pages(npages);
  q->cookie = kalloc(sizeof(void *) * size);
  if (!mem || !q->cookie) return -1;
  q->size = size, q->mask = size - 1, q->index = index;
  q->desc = (struct virtq_desc *)mem;
  q->avail = (struct virtq_avail *)(mem + dsz);
  q->used = (struct virtq_used *)(mem + upage);
  for (uint16_t i = 0; i < size; i++) q->desc[i].next = (uint16_t)(i + 1);
  q->free_head = 0, q->num_free = size, q->last_used = 0, q->avail_shadow = 0, q->kicked = 0;
  q->indirect = NULL, q->indirect_max = 0;
  if (v->mmio) {
    uint64_t d = virt_to_phys(q->desc), a = virt_to_phys(q->avail), u = virt_to_phys(q->used);
    mmio_set(v, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)d), mmio_set(v, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(d >> 32));
    mmio_set(v, VIRTIO_MMIO_QUEUE_DRIVER_LOW, (uint32_t)a), mmio_set(v, VIRTIO_MMIO_QUEUE_DRIVER_HIGH, (uint32_t)(a >> 32));
    mmio_set(v, VIRTIO_MMIO_QUEUE_DEVICE_LOW, (uint32_t)u), mmio_set(v, VIRTIO_MMIO_QUEUE_DEVICE_HIGH, (uint32_t)(u >> 32));
    q->notify = (volatile uint16_t *)(v->mmio + VIRTIO_MMIO_QUEUE_NOTIFY);
    q->notify32 = 1;
    mmio_set(v, VIRTIO_MMIO_QUEUE_READY, 1);
    return 0;
  }
  mmio_write64(&c->queue_desc, virt_to_phys(q->desc));
  mmio_write64(&c->queue_avail, virt_to_phys(q->avail));
  mmio_write64(&c->queue_used, virt_to_phys(q->used));
  uint16_t noff = mmio_read16(&c->queue_notify_off);
  q->notify = (volatile uint16_t *)(v->notify_base + (uint64_t)noff * v->notify_mult);
  q->notify32 = 0;
  mmio_write16(&c->queue_enable, 1);
  return 0;
}

int virtio_msix_setup(struct virtio_dev *v, void (*fn)(void *), void *arg) {
  struct pci_dev *d = v->pci;
  if (!d) return -1; /* MMIO: its one interrupt line */
  uint8_t cap = pci_find_cap(d, PCI_CAP_ID_MSIX, 0);
  if (!cap) return -1;
  uint32_t tbl = pci_read32(d, cap + 4);
  uint64_t bar = pci_bar_mem(d, tbl & 7);
  if (!bar) return -1;
  uint64_t addr;
  uint32_t data;
  if (irq_alloc_msi(fn, arg, &addr, &data) != 0) return -1;
  /* Table entry 0: message address, data, vector control (0: unmasked). */
  volatile uint8_t *e = kmap_mmio(bar + (tbl & ~7u), 16);
  mmio_write32(e + 0, (uint32_t)addr);
  mmio_write32(e + 4, (uint32_t)(addr >> 32));
  mmio_write32(e + 8, data);
  mmio_write32(e + 12, 0);
  /* Message control: MSI-X enable (bit 15), function mask off (bit 14). INTx is then unused. */
  uint16_t ctl = pci_read16(d, cap + 2);
  pci_write16(d, cap + 2, (ctl | 0x8000) & ~0x4000);
  /* Configuration changes need no interrupt: the link status is read when needed. */
  mmio_write16(&v->common->msix_config, VIRTIO_MSI_NO_VECTOR);
  return 0;
}

uint16_t virtio_num_queues(struct virtio_dev *v) {
  if (!v->mmio) return mmio_read16(&v->common->num_queues);
  uint16_t n = 0;
  for (; n < 64; n++) {
    mmio_set(v, VIRTIO_MMIO_QUEUE_SEL, n);
    if (!mmio_reg(v, VIRTIO_MMIO_QUEUE_NUM_MAX)) break;
  }
  return n;
}

void virtio_driver_ok(struct virtio_dev *v) {
  /* 8. Set DRIVER_OK: the device is "live". */
  status_set(v, status_get(v) | VIRTIO_STATUS_DRIVER_OK);
}

void virtio_fail(struct virtio_dev *v) { status_set(v, status_get(v) | VIRTIO_STATUS_FAILED); }

uint8_t virtio_isr(struct virtio_dev *v) {
  if (!v->mmio) return mmio_read8(v->isr); /* reading clears it */
  uint8_t st = (uint8_t)mmio_reg(v, VIRTIO_MMIO_INTERRUPT_STATUS);
  if (st) mmio_set(v, VIRTIO_MMIO_INTERRUPT_ACK, st); /* MMIO: cleared by writing it back */
  return st;
}

int virtq_indirect_setup(struct virtq *q, uint16_t max) {
  size_t bytes = sizeof(struct virtq_desc) * max * q->size;
  q->indirect = kalloc_pages(PAGE_ROUND_UP(bytes) / PAGE_SIZE);
  q->indirect_max = q->indirect ? max : 0;
  return q->indirect ? 0 : -1;
}

int virtq_add(struct virtq *q, const uint64_t *addr, const uint32_t *len, const uint16_t *flags, int n, void *cookie) {
  if (n <= 0 || q->num_free < virtq_slots(q, n)) return -1;
  uint16_t head = q->free_head, i = head, last = head;
  if (virtq_slots(q, n) == 1 && n > 1) { /* 2.7.5.3: the chain in the head's own table */
    struct virtq_desc *t = &q->indirect[(size_t)head * q->indirect_max];
    for (int k = 0; k < n; k++)
      t[k] = (struct virtq_desc){.addr = addr[k], .len = len[k], .flags = (uint16_t)(flags[k] | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0)), .next = (uint16_t)(k + 1)};
    struct virtq_desc *d = &q->desc[head];
    d->addr = virt_to_phys(t);
    d->len = (uint32_t)(sizeof *t * n);
    d->flags = VIRTQ_DESC_F_INDIRECT;
    n = 1;
  } else {
    for (int k = 0; k < n; k++) {
      struct virtq_desc *d = &q->desc[i];
      d->addr = addr[k];
      d->len = len[k];
      d->flags = flags[k] | (k + 1 < n ? VIRTQ_DESC_F_NEXT : 0);
      last = i;
      i = d->next;
    }
  }
  q->free_head = q->desc[last].next;
  q->num_free -= n;
  q->cookie[head] = cookie;
  /* 2.4.7.2: place the head in the next ring slot, then (after a barrier) publish idx. */
  q->avail->ring[q->avail_shadow & q->mask] = head;
  q->avail_shadow++;
  barrier();
  q->avail->idx = q->avail_shadow;
  return head;
}

int virtq_kick(struct virtq *q) {
  if (q->kicked == q->avail_shadow) return 0; /* nothing new since the last notification */
  mb(); /* the idx store must be visible before we read the device's flags */
  q->kicked = q->avail_shadow;
  if (q->used->flags & VIRTQ_USED_F_NO_NOTIFY) return 0;
  if (q->notify32) mmio_write32(q->notify, q->index);
  else mmio_write16(q->notify, q->index);
  return 1;
}

int virtq_has_used(const struct virtq *q) { return *(volatile uint16_t *)&q->used->idx != q->last_used; }

void *virtq_get(struct virtq *q, uint32_t *len) {
  if (!virtq_has_used(q)) return NULL;
  barrier(); /* read the element only after seeing idx move */
  struct virtq_used_elem *e = &q->used->ring[q->last_used & q->mask];
  uint16_t head = (uint16_t)e->id;
  if (len) *len = e->len;
  q->last_used++;
  void *cookie = q->cookie[head];
  /* Return the chain's descriptors to the free list. */
  uint16_t i = head, n = 1;
  while (q->desc[i].flags & VIRTQ_DESC_F_NEXT) i = q->desc[i].next, n++;
  q->desc[i].next = q->free_head;
  q->free_head = head;
  q->num_free += n;
  return cookie;
}
