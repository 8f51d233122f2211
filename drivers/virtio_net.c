/* drivers/virtio_net.c — virtio-net (virtio 1.0, section 5.1) under lwIP.
 *
 * Receive: the device writes frames into buffers of a preallocated pool; each completed buffer
 * goes up to lwIP as a custom pbuf pointing into it (no copy) and is replaced in the ring by a
 * free one. Only when the pool runs low (TCP holds many frames unread) is a frame copied into
 * a PBUF_POOL pbuf, so the ring never starves. Mergeable rx buffers: a frame may span several.
 * Transmit: lwIP leaves PBUF_LINK_ENCAPSULATION_HLEN bytes in front of every frame it builds,
 * so the 12-byte virtio-net header goes there, and the frame's pbufs (headers, then data that
 * may be file bytes lwIP references without copying) become one descriptor chain that the
 * device reads in place (the pbuf is referenced until the device is done; lwIP knows not to
 * retransmit a busy segment). Frames without that room are copied into a bounce buffer, and
 * chains longer than TX_SG_MAX into one pbuf. Notifications are batched: the device is
 * notified once per poll/send round (virtio_net_flush).
 * Checksums are offloaded both ways when the device offers it (tap backends do; QEMU's user
 * network does not), switched per netif for transmit and per frame for receive. With
 * HOST_TSO4 the device also segments TCP: lwIP (patched, tools/patches/lwip/tso.patch) hands
 * over segments of up to 64 KiB and the header's GSO fields say where to cut them (the
 * connection's MSS). With GUEST_TSO4 the device may hand us such segments too, spread over
 * mergeable buffers. */
#include "drivers/virtio.h"
#include "kernel/kernel.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/priv/tcp_priv.h"
#include "net/net.h"
#include "netif/ethernet.h"

#define HDR_LEN ((int)sizeof(struct virtio_net_hdr))
#define RXBUF_DATA 1536 /* header + a full 1514-byte frame, and some */
#define RING_MAX 256
#define RX_EXTRA 256 /* buffers beyond the ring that the stack may hold without copies */
#define TX_BATCH 32  /* notify at least this often while queueing */
#define TX_SG_MAX 32 /* descriptors of one frame; a longer pbuf chain is copied into one pbuf */
/* The largest TCP/IPv4 packet handed to the device with TSO: a frame's length, Ethernet and
 * virtio-net headers included, must fit lwIP's 16-bit pbuf length. */
#define TSO_MAX (0xffff - SIZEOF_ETH_HDR - HDR_LEN)

struct rxbuf {
  struct pbuf_custom pc; /* first: the pbuf lwIP sees */
  struct rxbuf *next_free;
  uint8_t data[RXBUF_DATA] __attribute__((aligned(64)));
};

struct txbounce {
  struct txbounce *next_free;
  uint8_t data[HDR_LEN + 1514 + 18];
};

static struct virtio_dev dev;
static struct virtq rxq, txq;
static struct rxbuf *rx_pool, *rx_free;
static struct txbounce *tx_bounce, *tx_free;
static uint32_t rx_nfree, rx_total, rx_posted, tx_unkicked;
static int found, use_msix, tx_blocked;
static struct virtio_net_stats st;
static uint8_t mac[6];

static void rxbuf_release(struct pbuf *p) {
  struct rxbuf *b = (struct rxbuf *)p;
  b->next_free = rx_free;
  rx_free = b;
  rx_nfree++;
}

static void rx_refill(void) {
  while (rx_free && rxq.num_free > 0) {
    struct rxbuf *b = rx_free;
    uint64_t a = virt_to_phys(b->data);
    uint32_t l = RXBUF_DATA;
    uint16_t f = VIRTQ_DESC_F_WRITE;
    if (virtq_add(&rxq, &a, &l, &f, 1, b) < 0) break;
    rx_free = b->next_free;
    rx_nfree--;
    rx_posted++;
  }
  st.rx_kicks += virtq_kick(&rxq);
}

static void on_interrupt(void *arg) {
  (void)arg;
  /* INTx: reading the ISR deasserts the line; it is shared, so check it was us. */
  if (!use_msix && !(virtio_isr(&dev) & (VIRTIO_ISR_QUEUE | VIRTIO_ISR_CONFIG))) return;
  st.irqs++;
  net_irq();
}

int virtio_net_probe(void) {
  /* Steps 1-3: reset, ACKNOWLEDGE, DRIVER (drivers/virtio.c), on PCI, else on MMIO. */
  if (virtio_open(&dev, "virtio-net", VIRTIO_ID_NET, VIRTIO_PCI_DEVICE_NET_MODERN, VIRTIO_PCI_DEVICE_NET_TRANSITIONAL) != 0)
    return -1;
  /* Steps 4-6: the features that make it fast where the device offers them. */
  uint64_t want = 1ull << VIRTIO_NET_F_MAC | 1ull << VIRTIO_NET_F_MRG_RXBUF | 1ull << VIRTIO_NET_F_CSUM |
                  1ull << VIRTIO_NET_F_GUEST_CSUM | 1ull << VIRTIO_NET_F_STATUS | 1ull << VIRTIO_NET_F_HOST_TSO4 |
                  1ull << VIRTIO_NET_F_GUEST_TSO4 | 1ull << VIRTIO_F_RING_INDIRECT_DESC;
  if (virtio_negotiate(&dev, want) != 0) {
    klog("virtio-net: feature negotiation failed\n");
    return -1;
  }
  st.csum_tx = !!(dev.features & 1ull << VIRTIO_NET_F_CSUM);
  st.csum_rx = !!(dev.features & 1ull << VIRTIO_NET_F_GUEST_CSUM);
  st.mrg_rxbuf = !!(dev.features & 1ull << VIRTIO_NET_F_MRG_RXBUF);
  /* TSO needs checksum offload (5.1.3.1); large received frames need mergeable buffers (ours
   * hold one 1514-byte frame). QEMU offers them together; refuse a device that does not. */
  st.tso_tx = st.csum_tx && (dev.features & 1ull << VIRTIO_NET_F_HOST_TSO4);
  st.tso_rx = !!(dev.features & 1ull << VIRTIO_NET_F_GUEST_TSO4);
  if (st.tso_rx && !(st.csum_rx && st.mrg_rxbuf)) {
    klog("virtio-net: the device gives GUEST_TSO4 without GUEST_CSUM and MRG_RXBUF\n");
    virtio_fail(&dev);
    return -1;
  }
  /* Interrupts: MSI-X entry 0 when possible, else the INTx line the firmware assigned (or
   * the MMIO device's line). */
  use_msix = virtio_msix_setup(&dev, on_interrupt, NULL) == 0;
  uint16_t vec = use_msix ? 0 : VIRTIO_MSI_NO_VECTOR;
  /* Step 7: device-specific setup: receive queue 0 and transmit queue 1. */
  if (virtio_queue_setup(&dev, &rxq, VIRTIO_NET_RXQ, RING_MAX, vec) != 0 ||
      virtio_queue_setup(&dev, &txq, VIRTIO_NET_TXQ, RING_MAX, vec) != 0) {
    klog("virtio-net: queue setup failed\n");
    virtio_fail(&dev);
    return -1;
  }
  /* A frame's buffers (header, pbuf chain) take one slot of the transmit ring. */
  if (dev.features & 1ull << VIRTIO_F_RING_INDIRECT_DESC) virtq_indirect_setup(&txq, TX_SG_MAX);
  /* Completed transmissions are reaped lazily: no interrupt for them (except while the ring
   * is full, see linkoutput). */
  txq.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
  if (!use_msix) {
    if (dev.irq_line == 0xff || dev.irq_line >= 16 || irq_register(dev.irq_line, on_interrupt, NULL) != 0) {
      klog("virtio-net: no usable interrupt line (%u)\n", dev.irq_line);
      virtio_fail(&dev);
      return -1;
    }
  }
  st.msix = use_msix;
  /* Buffers: the rx pool (ring + RX_EXTRA) and one tx bounce buffer per tx descriptor. */
  rx_total = rxq.size + RX_EXTRA;
  size_t rx_bytes = sizeof(struct rxbuf) * rx_total, tx_bytes = sizeof(struct txbounce) * txq.size;
  rx_pool = kalloc_pages(PAGE_ROUND_UP(rx_bytes) / PAGE_SIZE);
  tx_bounce = kalloc_pages(PAGE_ROUND_UP(tx_bytes) / PAGE_SIZE);
  if (!rx_pool || !tx_bounce) {
    klog("virtio-net: out of memory for buffers\n");
    virtio_fail(&dev);
    return -1;
  }
  for (uint32_t i = 0; i < rx_total; i++) {
    rx_pool[i].pc.custom_free_function = rxbuf_release;
    rx_pool[i].next_free = rx_free;
    rx_free = &rx_pool[i];
  }
  rx_nfree = rx_total;
  for (uint32_t i = 0; i < txq.size; i++) {
    tx_bounce[i].next_free = tx_free;
    tx_free = &tx_bounce[i];
  }
  if (dev.device_cfg && (dev.features & 1ull << VIRTIO_NET_F_MAC)) {
    for (int i = 0; i < 6; i++) mac[i] = mmio_read8(dev.device_cfg + VIRTIO_NET_CFG_MAC + i);
  } else {
    uint8_t r[6];
    random_bytes(r, 6);
    mac[0] = 0x02; /* locally administered, unicast */
    for (int i = 1; i < 6; i++) mac[i] = r[i];
  }
  /* Fill the receive ring before the device goes live. */
  rx_refill();
  /* Step 8: DRIVER_OK. */
  virtio_driver_ok(&dev);
  found = 1;
  klog("virtio-net: %02x:%02x:%02x:%02x:%02x:%02x, %s, rx ring %u + %u spare, tx ring %u%s%s%s%s%s\n", mac[0],
          mac[1], mac[2], mac[3], mac[4], mac[5], use_msix ? "MSI-X" : dev.mmio ? "MMIO" : "INTx", rxq.size, RX_EXTRA, txq.size,
          st.mrg_rxbuf ? ", mergeable rx buffers" : "", st.csum_tx ? ", tx checksum offload" : "",
          st.csum_rx ? ", rx checksum offload" : "", st.tso_tx ? ", TSO" : "", st.tso_rx ? ", rx TSO" : "");
  return 0;
}

/* Completed transmissions: release the pbuf (zero-copy) or the bounce buffer. */
static void tx_reap(void) {
  void *c;
  while ((c = virtq_get(&txq, NULL)) != NULL) {
    if ((uintptr_t)c & 1) {
      struct txbounce *b = (struct txbounce *)((uintptr_t)c & ~(uintptr_t)1);
      b->next_free = tx_free;
      tx_free = b;
    } else {
      pbuf_free((struct pbuf *)c);
    }
  }
}

/* The MSS of the connection a TCP segment belongs to (the device cuts the segment into pieces
 * of this size): its pcb, found by ports and peer address; the netif's MTU less the headers
 * when the pcb is gone. */
static uint32_t tso_mss(const uint8_t *ip, const uint8_t *th, uint32_t hdrs) {
  uint16_t sport = (uint16_t)(th[0] << 8 | th[1]), dport = (uint16_t)(th[2] << 8 | th[3]);
  ip4_addr_t dst;
  memcpy(&dst, ip + 16, 4);
  uint32_t mss = 1500 - hdrs;
  for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
    if (pcb->local_port == sport && pcb->remote_port == dport && ip4_addr_cmp(ip_2_ip4(&pcb->remote_ip), &dst)) {
      if (pcb->mss < mss) mss = pcb->mss;
      break;
    }
  return mss;
}

/* With CSUM negotiated, TCP/UDP checksums of outgoing IPv4 frames are left to the device:
 * it wants the pseudo-header sum in the checksum field and where to start summing. A TCP
 * segment longer than its MSS (lwIP's TSO) also gets the GSO fields. `frame` holds at least
 * the headers (lwIP builds them in the first pbuf); `len` is the whole frame's length. */
static void tx_offload(struct virtio_net_hdr *h, uint8_t *frame, uint32_t first, uint32_t len) {
  if (!st.csum_tx || first < SIZEOF_ETH_HDR + IP_HLEN) return;
  if (frame[12] != 0x08 || frame[13] != 0x00) return;
  uint8_t *ip = frame + SIZEOF_ETH_HDR;
  uint32_t ihl = (ip[0] & 0x0f) * 4u;
  uint32_t tot = (uint32_t)ip[2] << 8 | ip[3];
  uint8_t proto = ip[9];
  if ((((uint32_t)ip[6] << 8 | ip[7]) & 0x3fff) != 0) return; /* fragment: lwIP summed it */
  uint32_t off;
  if (proto == IP_PROTO_TCP) off = 16;
  else if (proto == IP_PROTO_UDP) off = 6;
  else return;
  if (tot < ihl + off + 2 || SIZEOF_ETH_HDR + tot > len || SIZEOF_ETH_HDR + ihl + off + 2 > first) return;
  uint32_t l4len = tot - ihl, sum = 0;
  for (int i = 12; i < 20; i += 2) sum += (uint32_t)ip[i] << 8 | ip[i + 1];
  sum += proto + l4len;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  uint8_t *cs = ip + ihl + off;
  cs[0] = (uint8_t)(sum >> 8), cs[1] = (uint8_t)sum;
  h->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
  h->csum_start = (uint16_t)(SIZEOF_ETH_HDR + ihl);
  h->csum_offset = (uint16_t)off;
  if (proto != IP_PROTO_TCP || !st.tso_tx) return;
  uint8_t *th = ip + ihl;
  uint32_t hdrs = ihl + (th[12] >> 4) * 4u;
  if (SIZEOF_ETH_HDR + hdrs > first || tot < hdrs) return;
  uint32_t mss = tso_mss(ip, th, hdrs);
  if (tot - hdrs <= mss) return;
  h->gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
  h->gso_size = (uint16_t)mss;
  h->hdr_len = (uint16_t)(SIZEOF_ETH_HDR + hdrs);
  st.tx_tso++;
}

/* A frame into the bounce buffer, when it fits (frames lwIP builds have room for our header;
 * ICMP replies in received buffers and the like do not). */
static err_t tx_bounce_frame(struct pbuf *p, uint64_t *addr, uint32_t *len, void **cookie) {
  struct txbounce *b = tx_free;
  if (!b || p->tot_len > sizeof b->data - HDR_LEN) {
    st.tx_dropped++;
    return b ? ERR_BUF : ERR_MEM;
  }
  tx_free = b->next_free;
  memset(b->data, 0, HDR_LEN);
  pbuf_copy_partial(p, b->data + HDR_LEN, p->tot_len, 0);
  st.tx_copied_bytes += p->tot_len;
  tx_offload((struct virtio_net_hdr *)b->data, b->data + HDR_LEN, p->tot_len, p->tot_len);
  *addr = virt_to_phys(b->data);
  *len = HDR_LEN + p->tot_len;
  *cookie = (void *)((uintptr_t)b | 1);
  return ERR_OK;
}

static err_t linkoutput(struct netif *nif, struct pbuf *p) {
  (void)nif;
  tx_reap();
  uint16_t nbufs = pbuf_clen(p);
  struct pbuf *flat = NULL;
  if (nbufs > TX_SG_MAX) { /* a long chain (many small writes appended to one segment) */
    flat = pbuf_clone(PBUF_RAW_TX, PBUF_RAM, p);
    if (!flat) return ERR_MEM;
    st.tx_copied_bytes += p->tot_len;
    p = flat, nbufs = 1;
  }
  if (txq.num_free < virtq_slots(&txq, nbufs)) {
    /* Ring full (the backend is not keeping up): push what is queued and refuse this frame
     * with ERR_MEM, which TCP takes as "not sent yet" (the segment stays queued, the pcb is
     * marked). Ask for a completion interrupt so virtio_net_poll can resume those pcbs as
     * soon as the device frees descriptors. */
    tx_unkicked = 0;
    st.tx_kicks += virtq_kick(&txq);
    tx_blocked = 1;
    txq.avail->flags = 0;
    st.tx_full++;
    if (flat) pbuf_free(flat);
    return ERR_MEM;
  }
  uint64_t addr[TX_SG_MAX];
  uint32_t len[TX_SG_MAX];
  uint16_t flags[TX_SG_MAX] = {0};
  int n = 0;
  void *cookie;
  if (pbuf_add_header(p, HDR_LEN) == 0) {
    struct virtio_net_hdr *h = p->payload;
    memset(h, 0, HDR_LEN);
    tx_offload(h, (uint8_t *)p->payload + HDR_LEN, p->len - HDR_LEN, p->tot_len - HDR_LEN);
    for (struct pbuf *q = p; q; q = q->next)
      if (q->len) addr[n] = virt_to_phys(q->payload), len[n] = q->len, n++;
    pbuf_remove_header(p, HDR_LEN);
    if (!flat) pbuf_ref(p); /* a clone is ours already */
    cookie = p;
  } else {
    err_t e = flat ? ERR_BUF : tx_bounce_frame(p, &addr[0], &len[0], &cookie);
    if (flat) pbuf_free(flat);
    if (e != ERR_OK) return e;
    n = 1;
  }
  if (virtq_add(&txq, addr, len, flags, n, cookie) < 0) { /* cannot happen: checked above */
    st.tx_dropped++;
    return ERR_MEM;
  }
  st.tx_frames++;
  if (n > 1 && virtq_slots(&txq, n) == 1) st.tx_indirect++;
  if (++tx_unkicked >= TX_BATCH) virtio_net_flush();
  return ERR_OK;
}

void virtio_net_flush(void) {
  if (!found || tx_unkicked == 0) return;
  tx_unkicked = 0;
  st.tx_kicks += virtq_kick(&txq);
}

/* One received buffer as a pbuf: in place when the pool can spare it, else copied. */
static struct pbuf *rx_wrap(struct rxbuf *b, uint8_t *data, uint32_t len) {
  rx_posted--;
  if (rx_nfree >= rxq.size / 4) {
    return pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &b->pc, data, (u16_t)len);
  }
  struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)len, PBUF_POOL);
  if (p) {
    pbuf_take(p, data, (u16_t)len);
    st.rx_copied++;
  }
  rxbuf_release(&b->pc.pbuf);
  return p;
}

int virtio_net_poll(struct netif *nif) {
  if (!found) return 0;
  int n = 0;
  uint32_t len;
  struct rxbuf *b;
  tx_reap();
  if (tx_blocked && txq.num_free >= txq.size / 4) {
    /* Room again: resume the connections whose frames were refused. */
    tx_blocked = 0;
    txq.avail->flags = VIRTQ_AVAIL_F_NO_INTERRUPT;
    tcp_txnow();
  }
  while ((b = virtq_get(&rxq, &len)) != NULL) {
    struct virtio_net_hdr h;
    memcpy(&h, b->data, HDR_LEN);
    uint32_t nbuf = st.mrg_rxbuf ? h.num_buffers : 1;
    if (len < (uint32_t)HDR_LEN || len > RXBUF_DATA) len = HDR_LEN;
    struct pbuf *p = rx_wrap(b, b->data + HDR_LEN, len - HDR_LEN);
    int bad = p == NULL;
    /* A frame in mergeable buffers continues in the next used entries, without header. With
     * GUEST_TSO4 it may be a TCP segment of up to 64 KiB; one longer than a pbuf can say
     * (u16) is dropped. */
    uint32_t total = len - HDR_LEN;
    for (uint32_t i = 1; i < nbuf; i++) {
      struct rxbuf *c = virtq_get(&rxq, &len);
      if (!c) { bad = 1; break; }
      if (len > RXBUF_DATA) len = 0;
      total += len;
      struct pbuf *q = rx_wrap(c, c->data, len);
      if (!q || total > 0xffff) bad = 1;
      if (q && p && !bad) pbuf_cat(p, q);
      else if (q) pbuf_free(q);
    }
    if (h.gso_type != VIRTIO_NET_HDR_GSO_NONE) st.rx_tso++;
    n++;
    if (bad || p->tot_len < SIZEOF_ETH_HDR) {
      if (p) pbuf_free(p);
      st.rx_dropped++;
      continue;
    }
    st.rx_frames++;
    /* The device vouches for this frame's checksums (DATA_VALID), or it came from a local
     * sender that left them partial (NEEDS_CSUM): no need to verify them again. */
    if (h.flags & (VIRTIO_NET_HDR_F_DATA_VALID | VIRTIO_NET_HDR_F_NEEDS_CSUM))
      NETIF_SET_CHECKSUM_CTRL(nif, nif->chksum_flags & ~(NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP));
    else
      NETIF_SET_CHECKSUM_CTRL(nif, nif->chksum_flags | NETIF_CHECKSUM_CHECK_TCP | NETIF_CHECKSUM_CHECK_UDP);
    if (nif->input(p, nif) != ERR_OK) pbuf_free(p);
    if ((n & 31) == 0) rx_refill();
  }
  rx_refill();
  virtio_net_flush();
  return n;
}

int virtio_net_netif_init(struct netif *nif) {
  nif->name[0] = 'v', nif->name[1] = 'n';
  nif->output = etharp_output;
  nif->linkoutput = linkoutput;
  nif->mtu = 1500;
  nif->tso_max = st.tso_tx ? TSO_MAX : 0; /* lwIP builds TCP segments up to this (LWIP_TCP_TSO) */
  nif->hwaddr_len = 6;
  memcpy(nif->hwaddr, mac, 6);
  nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET | NETIF_FLAG_LINK_UP;
  uint16_t cs = NETIF_CHECKSUM_ENABLE_ALL;
  if (st.csum_tx) cs &= ~(NETIF_CHECKSUM_GEN_TCP | NETIF_CHECKSUM_GEN_UDP);
  NETIF_SET_CHECKSUM_CTRL(nif, cs);
  return ERR_OK;
}

void virtio_net_get_stats(struct virtio_net_stats *s) {
  *s = st;
  s->rx_bufs_total = rx_total;
  s->rx_bufs_free = rx_nfree;
  s->rx_bufs_posted = rx_posted;
}
