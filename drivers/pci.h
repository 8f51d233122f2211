/* drivers/pci.h — PCI configuration space (mechanism #1, ports 0xCF8/0xCFC), bus enumeration,
 * BARs and capability lists. */
#ifndef KILN_PCI_H
#define KILN_PCI_H

#include <stdint.h>

struct pci_dev {
  uint8_t bus, dev, fn;
  uint16_t vendor, device;
  uint8_t class_code, subclass, prog_if;
  uint8_t irq_line, irq_pin; /* INTx routing the firmware programmed (line 0xff: none) */
};

#define PCI_MAX_DEVS 64

/* Config space registers used here. */
enum {
  PCI_VENDOR_ID = 0x00, PCI_DEVICE_ID = 0x02, PCI_COMMAND = 0x04, PCI_STATUS = 0x06,
  PCI_CLASS_REV = 0x08, PCI_HEADER_TYPE = 0x0e, PCI_BAR0 = 0x10, PCI_CAP_PTR = 0x34,
  PCI_INTERRUPT_LINE = 0x3c, PCI_INTERRUPT_PIN = 0x3d,
};
enum { PCI_CMD_IO = 1, PCI_CMD_MEM = 2, PCI_CMD_MASTER = 4, PCI_CMD_INTX_DISABLE = 0x400 };
enum { PCI_STATUS_CAP_LIST = 0x10 };
enum { PCI_CAP_ID_MSIX = 0x11, PCI_CAP_ID_VNDR = 0x09 };

uint32_t pci_read32(const struct pci_dev *d, uint8_t off);
uint16_t pci_read16(const struct pci_dev *d, uint8_t off);
uint8_t pci_read8(const struct pci_dev *d, uint8_t off);
void pci_write32(const struct pci_dev *d, uint8_t off, uint32_t v);
void pci_write16(const struct pci_dev *d, uint8_t off, uint16_t v);

/* Scan every bus once; returns the number of functions found. */
int pci_scan(void);
/* The n-th function with this vendor and device id (n from 0), or NULL. */
struct pci_dev *pci_find(uint16_t vendor, uint16_t device, int n);
/* Physical address of memory BAR i (64-bit BARs included), 0 for an I/O or absent BAR. */
uint64_t pci_bar_mem(const struct pci_dev *d, int i);
/* Enable memory decoding and bus mastering (DMA). */
void pci_enable(const struct pci_dev *d);
/* Offset of the next capability with this id after `from` (0: from the start), or 0. */
uint8_t pci_find_cap(const struct pci_dev *d, uint8_t id, uint8_t from);

#endif
