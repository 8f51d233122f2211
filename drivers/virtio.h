/* drivers/virtio.h — constants and layouts from the Virtual I/O Device (VIRTIO) Version 1.0
 * specification (OASIS, 2016), for the modern PCI transport (section 4.1), the MMIO transport
 * (section 4.2), split virtqueues (section 2.4) and the network device (section 5.1); plus
 * the transports' interface (drivers/virtio.c) used by the device drivers. */
#ifndef KILN_VIRTIO_H
#define KILN_VIRTIO_H

#include <stdint.h>

#include "drivers/pci.h"

/* 4.1.2 PCI Device Discovery: vendor 0x1AF4; modern device id = 0x1040 + virtio device id;
 * transitional devices keep the legacy ids 0x1000..0x103F (network: 0x1000). */
#define VIRTIO_PCI_VENDOR 0x1af4
#define VIRTIO_PCI_DEVICE_NET_TRANSITIONAL 0x1000
#define VIRTIO_PCI_DEVICE_NET_MODERN 0x1041
#define VIRTIO_PCI_DEVICE_CONSOLE_TRANSITIONAL 0x1003
#define VIRTIO_PCI_DEVICE_CONSOLE_MODERN 0x1043

/* 5 Device Types: virtio device ids (the MMIO transport's DeviceID register). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_BALLOON 5

/* 4.2.2 MMIO Device Register Layout (version 2, the non-legacy interface); every register is
 * 32 bits wide and accessed as such, the device configuration from 0x100 at any width. */
#define VIRTIO_MMIO_MAGIC_VALUE 0x000 /* "virt" */
#define VIRTIO_MMIO_MAGIC 0x74726976
#define VIRTIO_MMIO_VERSION 0x004
#define VIRTIO_MMIO_DEVICE_ID 0x008
#define VIRTIO_MMIO_DEVICE_FEATURES 0x010
#define VIRTIO_MMIO_DEVICE_FEATURES_SEL 0x014
#define VIRTIO_MMIO_DRIVER_FEATURES 0x020
#define VIRTIO_MMIO_DRIVER_FEATURES_SEL 0x024
#define VIRTIO_MMIO_QUEUE_SEL 0x030
#define VIRTIO_MMIO_QUEUE_NUM_MAX 0x034
#define VIRTIO_MMIO_QUEUE_NUM 0x038
#define VIRTIO_MMIO_QUEUE_READY 0x044
#define VIRTIO_MMIO_QUEUE_NOTIFY 0x050
#define VIRTIO_MMIO_INTERRUPT_STATUS 0x060
#define VIRTIO_MMIO_INTERRUPT_ACK 0x064
#define VIRTIO_MMIO_STATUS 0x070
#define VIRTIO_MMIO_QUEUE_DESC_LOW 0x080
#define VIRTIO_MMIO_QUEUE_DESC_HIGH 0x084
#define VIRTIO_MMIO_QUEUE_DRIVER_LOW 0x090
#define VIRTIO_MMIO_QUEUE_DRIVER_HIGH 0x094
#define VIRTIO_MMIO_QUEUE_DEVICE_LOW 0x0a0
#define VIRTIO_MMIO_QUEUE_DEVICE_HIGH 0x0a4
#define VIRTIO_MMIO_CONFIG 0x100

/* 2.1 Device Status Field */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_DEVICE_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

/* 6 Reserved Feature Bits */
#define VIRTIO_F_RING_INDIRECT_DESC 28
#define VIRTIO_F_RING_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* 4.1.4 Virtio Structure PCI Capabilities: cfg_type values */
#define VIRTIO_PCI_CAP_COMMON_CFG 1
#define VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define VIRTIO_PCI_CAP_ISR_CFG 3
#define VIRTIO_PCI_CAP_DEVICE_CFG 4
#define VIRTIO_PCI_CAP_PCI_CFG 5

/* struct virtio_pci_cap, in config space at the vendor capability:
 *   u8 cap_vndr @0, u8 cap_next @1, u8 cap_len @2, u8 cfg_type @3, u8 bar @4, u8 padding[3],
 *   le32 offset @8, le32 length @12;  notify cap adds le32 notify_off_multiplier @16. */
#define VIRTIO_PCI_CAP_CFG_TYPE 3
#define VIRTIO_PCI_CAP_BAR 4
#define VIRTIO_PCI_CAP_OFFSET 8
#define VIRTIO_PCI_CAP_LENGTH 12
#define VIRTIO_PCI_NOTIFY_CAP_MULT 16

/* 4.1.4.3 Common configuration structure layout */
struct virtio_pci_common_cfg {
  /* About the whole device. */
  uint32_t device_feature_select; /* read-write */
  uint32_t device_feature;        /* read-only for driver */
  uint32_t driver_feature_select; /* read-write */
  uint32_t driver_feature;        /* read-write */
  uint16_t msix_config;           /* read-write */
  uint16_t num_queues;            /* read-only for driver */
  uint8_t device_status;          /* read-write */
  uint8_t config_generation;      /* read-only for driver */
  /* About a specific virtqueue. */
  uint16_t queue_select;      /* read-write */
  uint16_t queue_size;        /* read-write, power of 2, or 0. */
  uint16_t queue_msix_vector; /* read-write */
  uint16_t queue_enable;      /* read-write */
  uint16_t queue_notify_off;  /* read-only for driver */
  uint64_t queue_desc;        /* read-write */
  uint64_t queue_avail;       /* read-write */
  uint64_t queue_used;        /* read-write */
};
#define VIRTIO_MSI_NO_VECTOR 0xffff

/* 4.1.4.5 ISR status: bit 0 queue interrupt, bit 1 configuration change (read clears). */
#define VIRTIO_ISR_QUEUE 1
#define VIRTIO_ISR_CONFIG 2

/* 2.4.5 The Virtqueue Descriptor Table */
#define VIRTQ_DESC_F_NEXT 1
#define VIRTQ_DESC_F_WRITE 2
#define VIRTQ_DESC_F_INDIRECT 4
struct virtq_desc {
  uint64_t addr;
  uint32_t len;
  uint16_t flags;
  uint16_t next;
};
/* 2.4.6 The Virtqueue Available Ring */
#define VIRTQ_AVAIL_F_NO_INTERRUPT 1
struct virtq_avail {
  uint16_t flags;
  uint16_t idx;
  uint16_t ring[]; /* queue size entries, then used_event (EVENT_IDX only) */
};
/* 2.4.8 The Virtqueue Used Ring */
#define VIRTQ_USED_F_NO_NOTIFY 1
struct virtq_used_elem {
  uint32_t id; /* index of the head of the used descriptor chain */
  uint32_t len; /* bytes written into the buffer */
};
struct virtq_used {
  uint16_t flags;
  uint16_t idx;
  struct virtq_used_elem ring[]; /* queue size entries, then avail_event (EVENT_IDX only) */
};

/* 5.1.3 Network device feature bits */
#define VIRTIO_NET_F_CSUM 0        /* device handles packets with partial checksum (tx offload) */
#define VIRTIO_NET_F_GUEST_CSUM 1  /* driver handles packets with partial checksum (rx offload) */
#define VIRTIO_NET_F_CTRL_GUEST_OFFLOADS 2
#define VIRTIO_NET_F_MAC 5
#define VIRTIO_NET_F_GUEST_TSO4 7
#define VIRTIO_NET_F_GUEST_TSO6 8
#define VIRTIO_NET_F_GUEST_ECN 9
#define VIRTIO_NET_F_GUEST_UFO 10
#define VIRTIO_NET_F_HOST_TSO4 11
#define VIRTIO_NET_F_HOST_TSO6 12
#define VIRTIO_NET_F_HOST_ECN 13
#define VIRTIO_NET_F_HOST_UFO 14
#define VIRTIO_NET_F_MRG_RXBUF 15
#define VIRTIO_NET_F_STATUS 16
#define VIRTIO_NET_F_CTRL_VQ 17
#define VIRTIO_NET_F_CTRL_RX 18
#define VIRTIO_NET_F_CTRL_VLAN 19
#define VIRTIO_NET_F_GUEST_ANNOUNCE 21
#define VIRTIO_NET_F_MQ 22
#define VIRTIO_NET_F_CTRL_MAC_ADDR 23

/* 5.1.4 Device configuration layout: u8 mac[6] @0, le16 status @6, le16 max_virtqueue_pairs @8 */
#define VIRTIO_NET_CFG_MAC 0
#define VIRTIO_NET_CFG_STATUS 6
#define VIRTIO_NET_S_LINK_UP 1

/* 5.1.6 Device Operation: the header in front of every packet. With VIRTIO_F_VERSION_1 it is
 * always 12 bytes (num_buffers present even without MRG_RXBUF). */
#define VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define VIRTIO_NET_HDR_F_DATA_VALID 2
#define VIRTIO_NET_HDR_GSO_NONE 0
#define VIRTIO_NET_HDR_GSO_TCPV4 1
struct virtio_net_hdr {
  uint8_t flags;
  uint8_t gso_type;
  uint16_t hdr_len;
  uint16_t gso_size;
  uint16_t csum_start;
  uint16_t csum_offset;
  uint16_t num_buffers;
};
#define VIRTIO_NET_RXQ 0
#define VIRTIO_NET_TXQ 1

/* 5.3.2 Console device virtqueues: without VIRTIO_CONSOLE_F_MULTIPORT only port 0, on queues
 * 0 (receiveq, host to guest) and 1 (transmitq). */
#define VIRTIO_CONSOLE_RXQ 0
#define VIRTIO_CONSOLE_TXQ 1

/* 5.5 Memory balloon device (virtio device id 5): only free page reporting is used. The
 * queues are numbered 0 inflateq, 1 deflateq, 2 statsq, 3 free_page_vq, 4 reporting_vq, each
 * present only with its feature; QEMU always creates statsq and offers no free page hinting
 * unless asked, so its reporting_vq is the last queue it has (num_queues - 1). A reported
 * buffer is device-writable; the device discards its pages and returns it. */
#define VIRTIO_PCI_DEVICE_BALLOON_TRANSITIONAL 0x1002
#define VIRTIO_PCI_DEVICE_BALLOON_MODERN 0x1045
#define VIRTIO_BALLOON_F_PAGE_REPORTING 5

/* ---- drivers/virtio.c: the modern PCI and the MMIO transports, split virtqueues ---- */

struct virtq {
  uint16_t size, mask;
  uint16_t index;               /* queue number in the device */
  struct virtq_desc *desc;
  struct virtq_avail *avail;
  struct virtq_used *used;
  uint16_t free_head, num_free; /* free descriptors, linked through .next */
  uint16_t last_used;           /* next used-ring entry to consume */
  uint16_t avail_shadow;        /* avail->idx as the driver advanced it */
  uint16_t kicked;              /* avail index at the last notification */
  volatile uint16_t *notify;    /* where to write the queue index to notify */
  int notify32;                 /* MMIO: the notify register takes 32-bit writes only */
  void **cookie;                /* per head descriptor: the driver's token */
  struct virtq_desc *indirect;  /* VIRTIO_F_RING_INDIRECT_DESC: indirect_max per head, or NULL */
  uint16_t indirect_max;
};

struct virtio_dev {
  struct pci_dev *pci;           /* the PCI transport's device, or NULL */
  volatile uint8_t *mmio;        /* the MMIO transport's registers, or NULL */
  uint8_t irq_line;              /* the legacy interrupt line (INTx or the MMIO device's), 0xff: none */
  volatile struct virtio_pci_common_cfg *common;
  volatile uint8_t *isr;
  volatile uint8_t *device_cfg;
  volatile uint8_t *notify_base;
  uint32_t notify_mult;
  uint64_t features; /* negotiated */
};

/* Steps 1-3 of 3.1.1 (reset, ACKNOWLEDGE, DRIVER) after locating the capabilities; 0 or -1. */
int virtio_pci_open(struct virtio_dev *v, struct pci_dev *pci);
/* Steps 1-3 for the n-th MMIO device of virtio device id `id` (QEMU's microvm), as the kernel
 * command line lists them: virtio_mmio.device=SIZE@BASE:IRQ, which QEMU appends for each. 0,
 * or -1 when there is none. */
int virtio_mmio_open(struct virtio_dev *v, uint32_t id, int n);
/* Steps 1-3 for the first device of virtio id `id`: on PCI (its modern, then its transitional
 * PCI device id), else on MMIO. 0, or -1 when there is none or it has no virtio 1.0 interface
 * (said in the log under `name`). */
int virtio_open(struct virtio_dev *v, const char *name, uint32_t id, uint16_t pci_modern, uint16_t pci_transitional);
/* Steps 4-6: offer `wanted` ∩ device features (VERSION_1 required), FEATURES_OK, check it
 * stuck. 0 or -1 (the device is then marked FAILED). */
int virtio_negotiate(struct virtio_dev *v, uint64_t wanted);
/* Step 7 for one queue: allocate and register it with at most max_size entries, its
 * interrupts on MSI-X table entry `vector` (VIRTIO_MSI_NO_VECTOR: none or INTx). 0 or -1. */
int virtio_queue_setup(struct virtio_dev *v, struct virtq *q, uint16_t index, uint16_t max_size, uint16_t vector);
/* Route the device's interrupts through MSI-X entry 0 to fn(arg) (before queue setup).
 * 0, or -1 when the device or the kernel cannot (the caller then uses INTx). */
int virtio_msix_setup(struct virtio_dev *v, void (*fn)(void *), void *arg);
/* How many queues the device has (MMIO has no such register: those with a size). */
uint16_t virtio_num_queues(struct virtio_dev *v);
/* Step 8: DRIVER_OK. */
void virtio_driver_ok(struct virtio_dev *v);
void virtio_fail(struct virtio_dev *v);
/* Read and clear the ISR status (deasserts INTx). */
uint8_t virtio_isr(struct virtio_dev *v);

/* Post a chain of n buffers (addr/len/flags given per element; addresses physical) with
 * token `cookie`. Returns the head index or -1 when the ring has too few free descriptors.
 * Makes it visible to the device but does not notify it. */
int virtq_add(struct virtq *q, const uint64_t *addr, const uint32_t *len, const uint16_t *flags, int n, void *cookie);
/* With VIRTIO_F_RING_INDIRECT_DESC negotiated: chains of 2 to max buffers take one ring
 * descriptor, their elements in a table of the head's. 0, or -1 (no memory: chains as before). */
int virtq_indirect_setup(struct virtq *q, uint16_t max);
/* The ring descriptors a chain of n buffers takes. */
static inline int virtq_slots(const struct virtq *q, int n) { return q->indirect && n > 1 && n <= q->indirect_max ? 1 : n; }
/* Notify the device of everything added since the last kick, unless it asked not to be. */
int virtq_kick(struct virtq *q); /* 1 when the device was notified */
/* Next completed chain: returns its token and sets *len, or NULL when none. Frees its
 * descriptors. */
void *virtq_get(struct virtq *q, uint32_t *len);
int virtq_has_used(const struct virtq *q);

#endif
