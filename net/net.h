/* net/net.h — Kiln's network stack inside the kernel: the lwIP port, the virtio-net netif and
 * the socket layer, grouped by defining file. The kernel calls net_init() once at boot (after
 * interrupts, timer and allocator are up) and the WASI layer uses net/ksock.h. */
#ifndef KILN_NET_H
#define KILN_NET_H

#include <stddef.h>
#include <stdint.h>

struct netif;
struct pbuf;

/* ---- net/netif.c: bring-up, polling, waiting ---- */
/* Finds the NIC, starts lwIP, configures the address (ip=/gw=/mask= on the kernel command
 * line, else DHCP). Returns 0, or -1 when there is no usable NIC (sockets then fail with
 * ENETDOWN). Prints one line on the console either way. */
int net_init(void);
int net_up(void); /* 1 when a NIC is running */
/* The stack is entered by one thread at a time, on any CPU: socket calls bracket their work
 * with net_enter()/net_leave() (a lock; nests); interrupt handlers only process packets and
 * timers when nobody is inside, and otherwise leave the work to whoever is. */
void net_enter(void);
void net_leave(void);
/* Inside net_enter (lwIP callbacks): a socket's readiness changed; waiters look again. */
void net_changed(void);
struct net_lock_stats {
  uint64_t taken;     /* net_enter took the lock */
  uint64_t contended; /* ... after finding it held by another CPU */
};
extern struct net_lock_stats net_lock_stats;
uint64_t net_lock_wait_tsc(void); /* TSC cycles CPUs spun for it */
/* Inside net_enter: process received frames, lwIP timers, push out queued frames.
 * Returns the number of frames processed. */
int net_poll(void);
/* Inside net_enter: poll; if that found nothing, block (without the lock) until the next
 * kernel event (or at most until deadline_ns on the monotonic clock) and poll again. */
void net_wait(uint64_t deadline_ns);
/* The same, for one socket: until *word (which its callbacks change, then kernel_wake_word)
 * differs from what it was at the call, or deadline_ns. Threads waiting for different
 * sockets then wake for their own socket only, not for every kernel event. */
void net_wait_word(const volatile uint32_t *word, uint64_t deadline_ns);
/* A restart in place unwound the instance out of a socket call, inside net_enter: nobody is
 * inside lwIP any more. */
void net_unwound(void);
/* Called by the NIC's interrupt handler. */
void net_irq(void);
extern uint64_t net_tw_recycled;
extern uint64_t net_orphans_reaped; /* FIN_WAIT_2 orphans ended early (net/netif.c) */

/* ---- drivers/virtio_net.c: the virtio-net device behind the netif ---- */
int virtio_net_probe(void);                 /* 0 when a device is found and initialized */
int virtio_net_netif_init(struct netif *nif); /* lwIP netif init callback */
int virtio_net_poll(struct netif *nif);     /* frames received and handed to lwIP */
void virtio_net_flush(void);                /* notify the device of queued tx frames */
struct virtio_net_stats {
  uint64_t rx_frames, tx_frames, rx_copied, rx_dropped, tx_dropped, tx_full, irqs, rx_kicks, tx_kicks;
  uint64_t tx_tso, rx_tso;  /* frames the device segments (sent) or that came as one segment (received) */
  uint64_t tx_copied_bytes; /* bytes copied on the way out (bounce buffer, long chains) */
  uint64_t tx_indirect;     /* frames of several buffers in one ring slot (indirect descriptors) */
  uint32_t rx_bufs_total, rx_bufs_free, rx_bufs_posted;
  uint8_t csum_tx, csum_rx, mrg_rxbuf, msix, tso_tx, tso_rx;
};
void virtio_net_get_stats(struct virtio_net_stats *s);

/* ---- net/stats.c: counters, and the optional stats endpoint (netstat=PORT) ---- */
/* Formats the idle-relevant counters (open sockets, pcbs, pbufs, heap) into buf. */
int net_stats_format(char *buf, size_t n);
void net_stats_init(void);

/* ---- net/metrics.c: the Prometheus endpoint (metrics=PORT) ---- */
void net_metrics_init(void);

#endif
