/* drivers/pci.c — PCI configuration access through the legacy I/O ports (every x86 PC and
 * QEMU machine has them), a one-time scan of bus 0 and the buses behind its bridges, BAR
 * decoding, and addresses for the memory BARs the firmware left unassigned (qboot, the fast firmware `kiln run` uses with
 * -kernel, assigns no 64-bit BARs, where virtio's modern registers live). */
#include "drivers/pci.h"

#include <stddef.h>

static inline void pci_outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint32_t pci_inl(uint16_t port) {
  uint32_t v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}

static struct pci_dev devs[PCI_MAX_DEVS];
static int ndevs = -1;

static uint32_t cfg_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off) {
  return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)dev << 11 | (uint32_t)fn << 8 | (off & 0xfc);
}
static uint32_t cfg_read(uint8_t bus, uint8_t dev, uint8_t fn, uint8_t off) {
  pci_outl(0xcf8, cfg_addr(bus, dev, fn, off));
  return pci_inl(0xcfc);
}

uint32_t pci_read32(const struct pci_dev *d, uint8_t off) { return cfg_read(d->bus, d->dev, d->fn, off); }
uint16_t pci_read16(const struct pci_dev *d, uint8_t off) { return pci_read32(d, off) >> ((off & 2) * 8); }
uint8_t pci_read8(const struct pci_dev *d, uint8_t off) { return pci_read32(d, off) >> ((off & 3) * 8); }
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v) {
  pci_outl(0xcf8, cfg_addr(d->bus, d->dev, d->fn, off));
  pci_outl(0xcfc, v);
}
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v) {
  /* Read-modify-write of the dword: writing back the neighbour half is harmless for the
   * registers written here (command, MSI-X control). */
  uint32_t w = pci_read32(d, off), sh = (off & 2) * 8;
  pci_write32(d, off, (w & ~(0xffffu << sh)) | (uint32_t)v << sh);
}

static void probe(uint8_t bus, uint8_t dev, uint8_t fn) {
  uint32_t id = cfg_read(bus, dev, fn, PCI_VENDOR_ID);
  if ((id & 0xffff) == 0xffff || ndevs >= PCI_MAX_DEVS) return;
  struct pci_dev *d = &devs[ndevs++];
  d->bus = bus, d->dev = dev, d->fn = fn;
  d->vendor = id & 0xffff, d->device = id >> 16;
  uint32_t cls = cfg_read(bus, dev, fn, PCI_CLASS_REV);
  d->class_code = cls >> 24, d->subclass = cls >> 16, d->prog_if = cls >> 8;
  uint32_t irq = cfg_read(bus, dev, fn, PCI_INTERRUPT_LINE);
  d->irq_line = irq & 0xff, d->irq_pin = (irq >> 8) & 0xff;
}

/* Unassigned memory BARs get addresses from this window, inside the PCI hole below 4 GiB of
 * QEMU's PC machines (RAM below 4 GiB ends at 0xe0000000 at most; the I/O APIC is at
 * 0xfec00000). Each BAR is naturally aligned, and skips ranges the firmware assigned. */
#define BAR_WINDOW_START 0xe0000000ull
#define BAR_WINDOW_END 0xfec00000ull

static int is_header0(const struct pci_dev *d) { return (pci_read8(d, PCI_HEADER_TYPE) & 0x7f) == 0; }

/* BAR i's size (0: absent or I/O) and whether it is 64-bit; probes by writing all ones, so
 * only while the device's decoding is off. */
static uint64_t bar_size(const struct pci_dev *d, int i, int *is64) {
  uint8_t off = PCI_BAR0 + 4 * i;
  uint32_t lo = pci_read32(d, off);
  if (lo & 1) return 0;
  *is64 = ((lo >> 1) & 3) == 2 && i < 5;
  pci_write32(d, off, 0xffffffffu);
  uint64_t mask = pci_read32(d, off) & ~0xfull;
  pci_write32(d, off, lo);
  if (*is64) {
    uint32_t hi = pci_read32(d, off + 4);
    pci_write32(d, off + 4, 0xffffffffu);
    mask |= (uint64_t)pci_read32(d, off + 4) << 32;
    pci_write32(d, off + 4, hi);
  } else {
    mask |= 0xffffffff00000000ull;
  }
  return mask ? ~mask + 1 : 0;
}

/* Every header-0 function's memory BAR sizes, probed once with its decoding off (a BAR being
 * probed decodes all ones). 0: absent, I/O, or the upper half of a 64-bit BAR. */
static uint64_t bar_sizes[PCI_MAX_DEVS][6];

static void size_bars(void) {
  for (int k = 0; k < ndevs; k++) {
    struct pci_dev *d = &devs[k];
    if (!is_header0(d)) continue;
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_MEM | PCI_CMD_IO));
    for (int i = 0; i < 6; i++) {
      int is64 = 0;
      bar_sizes[k][i] = bar_size(d, i, &is64);
      i += is64;
    }
    pci_write16(d, PCI_COMMAND, cmd);
  }
}

/* [a, a + size) overlaps a BAR some function already decodes. */
static int window_taken(uint64_t a, uint64_t size) {
  for (int k = 0; k < ndevs; k++)
    for (int j = 0; j < 6; j++) {
      uint64_t b = bar_sizes[k][j] ? pci_bar_mem(&devs[k], j) : 0;
      if (b && a < b + bar_sizes[k][j] && b < a + size) return 1;
    }
  return 0;
}

static void assign_bars(void) {
  size_bars();
  uint64_t next = BAR_WINDOW_START;
  for (int k = 0; k < ndevs; k++) {
    struct pci_dev *d = &devs[k];
    uint16_t cmd = pci_read16(d, PCI_COMMAND);
    for (int i = 0; i < 6; i++) {
      uint64_t size = bar_sizes[k][i];
      if (!size || pci_bar_mem(d, i)) continue;
      uint64_t a = (next + size - 1) & ~(size - 1);
      while (a + size <= BAR_WINDOW_END && window_taken(a, size)) a += size;
      if (a + size > BAR_WINDOW_END) continue;
      uint32_t lo = pci_read32(d, PCI_BAR0 + 4 * i);
      pci_write16(d, PCI_COMMAND, cmd & ~(PCI_CMD_MEM | PCI_CMD_IO));
      pci_write32(d, PCI_BAR0 + 4 * i, (uint32_t)a | (lo & 0xf));
      if (((lo >> 1) & 3) == 2 && i < 5) pci_write32(d, PCI_BAR0 + 4 * (i + 1), 0); /* a 64-bit BAR */
      pci_write16(d, PCI_COMMAND, cmd);
      next = a + size;
    }
  }
}

/* Bus `bus` and, through each PCI-to-PCI bridge, the buses behind it: a config read costs an
 * I/O exit under TCG, and reading all 256 buses (8,192 reads) took about 5 ms of the boot. */
static void scan_bus(uint8_t bus, int depth) {
  for (int dev = 0; dev < 32; dev++) {
    uint32_t id = cfg_read(bus, dev, 0, PCI_VENDOR_ID);
    if ((id & 0xffff) == 0xffff) continue;
    uint8_t ht = cfg_read(bus, dev, 0, PCI_HEADER_TYPE & 0xfc) >> 16;
    int nfn = (ht & 0x80) ? 8 : 1;
    for (int fn = 0; fn < nfn; fn++) {
      int before = ndevs;
      probe(bus, dev, fn);
      if (ndevs == before) continue;
      /* Header type 1: a bridge; its secondary bus number, as the firmware assigned it. */
      uint8_t fht = cfg_read(bus, dev, fn, PCI_HEADER_TYPE & 0xfc) >> 16;
      uint8_t secondary = cfg_read(bus, dev, fn, 0x18) >> 8;
      if ((fht & 0x7f) == 1 && secondary > bus && depth < 32) scan_bus(secondary, depth + 1);
    }
  }
}

int pci_scan(void) {
  if (ndevs >= 0) return ndevs;
  ndevs = 0;
  scan_bus(0, 0);
  assign_bars();
  return ndevs;
}

struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int n) {
  pci_scan();
  for (int i = 0; i < ndevs; i++)
    if (devs[i].vendor == vendor && devs[i].device == device && n-- == 0) return &devs[i];
  return NULL;
}

uint64_t pci_bar_mem(const struct pci_dev *d, int i) {
  if (i < 0 || i > 5) return 0;
  uint32_t lo = pci_read32(d, PCI_BAR0 + 4 * i);
  if (lo & 1) return 0; /* I/O BAR */
  uint64_t a = lo & ~0xfu;
  if (((lo >> 1) & 3) == 2 && i < 5) a |= (uint64_t)pci_read32(d, PCI_BAR0 + 4 * (i + 1)) << 32;
  return a;
}

void pci_enable(const struct pci_dev *d) {
  uint16_t cmd = pci_read16(d, PCI_COMMAND);
  pci_write16(d, PCI_COMMAND, (cmd | PCI_CMD_MEM | PCI_CMD_MASTER) & ~PCI_CMD_INTX_DISABLE);
}

uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from) {
  if (!(pci_read16(d, PCI_STATUS) & PCI_STATUS_CAP_LIST)) return 0;
  uint8_t p = from ? pci_read8(d, from + 1) : pci_read8(d, PCI_CAP_PTR);
  for (int guard = 0; p >= 0x40 && guard < 48; guard++) {
    if (pci_read8(d, p) == id) return p;
    p = pci_read8(d, p + 1);
  }
  return 0;
}
