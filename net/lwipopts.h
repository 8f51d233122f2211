/* net/lwipopts.h — lwIP 2.1.3 configuration for Kiln: one core, no threads (NO_SYS, raw API),
 * freestanding, tuned for throughput while the whole VM fits in 16 MiB of guest RAM.
 *
 * Memory budget (static, in the kernel's BSS): heap MEM_SIZE 2 MiB (PBUF_RAM: tcp_write copies
 * of application data, headers, ACKs), TCP pcbs ~100 KiB, segments ~80 KiB, a small PBUF_POOL
 * (fallback when the driver's receive buffers are all held by TCP). Received frames are not
 * copied: the driver hands its own buffers up as custom pbufs (drivers/virtio_net.c).
 */
#ifndef KILN_LWIPOPTS_H
#define KILN_LWIPOPTS_H

/* ---- platform: no OS, no threads, no libc beyond a few string functions ---- */
#define NO_SYS 1
#define SYS_LIGHTWEIGHT_PROT 0 /* the stack is entered from one place at a time (net_enter) */
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define LWIP_NETIF_API 0
#define LWIP_TIMERS 1
#define LWIP_RAND() ((u32_t)kiln_net_rand())
unsigned kiln_net_rand(void);

/* ---- memory ---- */
#define MEM_ALIGNMENT 8
#define MEM_SIZE (2 * 1024 * 1024)
#define MEMP_NUM_PBUF 512           /* PBUF_REF/ROM headers (custom rx pbufs are not from here) */
#define MEMP_NUM_RAW_PCB 0
#define MEMP_NUM_UDP_PCB 32
#define MEMP_NUM_TCP_PCB 512        /* hundreds of concurrent connections */
#define MEMP_NUM_TCP_PCB_LISTEN 16
#define MEMP_NUM_TCP_SEG 2048
#define MEMP_NUM_REASSDATA 8
#define MEMP_NUM_FRAG_PBUF 48 /* fragments of one outgoing 64 KiB datagram */
#define IP_REASS_MAX_PBUFS 48 /* and of one incoming (the default 10 cut them at ~14 KiB) */
#define MEMP_NUM_ARP_QUEUE 64
#define MEMP_NUM_SYS_TIMEOUT (LWIP_NUM_SYS_TIMEOUT_INTERNAL + 4)
#define PBUF_POOL_SIZE 128
#define PBUF_POOL_BUFSIZE 1536
/* Room for the 12-byte virtio-net header in front of every frame lwIP builds, so the driver
 * sends header and frame as one descriptor chain without copying. Frames may be pbuf chains
 * (the driver gathers them): file bytes sent without copying stay where they are. */
#define PBUF_LINK_ENCAPSULATION_HLEN 12
#define LWIP_NETIF_TX_SINGLE_PBUF 0
#define LWIP_SUPPORT_CUSTOM_PBUF 1 /* received frames stay in the driver's buffers */

/* ---- protocols ---- */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1
#define ARP_QUEUE_LEN 64 /* a burst of SYN-ACKs to a not yet resolved peer must not be cut to 3 */
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define LWIP_ICMP 1
#define LWIP_RAW 0
#define LWIP_DHCP 1
#define DHCP_DOES_ARP_CHECK 0 /* no 1 s ARP probe of the offered address before using it */
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_UDP 1
#define LWIP_TCP 1
#define IP_REASSEMBLY 1
#define IP_FRAG 1
#define LWIP_SINGLE_NETIF 1
#define LWIP_NETIF_STATUS_CALLBACK 1
#define LWIP_NETIF_LINK_CALLBACK 0
#define LWIP_NETIF_HOSTNAME 0

/* ---- TCP, tuned for throughput ---- */
#define TCP_MSS 1460 /* advertised and seen on the wire; with TSO lwIP's segments are larger: */
#define LWIP_TCP_TSO 1 /* tools/patches/lwip/tso.patch: segments of up to 64 KiB when the NIC cuts them */
#define LWIP_WND_SCALE 1
#define TCP_RCV_SCALE 2                 /* advertise windows up to 256 KiB */
/* The receive window is what one socket accepts unread (RX_SOCK_MAX in net/ksock.c): a
 * larger one let peers send data within the window that the socket then refused, and lwIP
 * drops a refusing connection's further segments, so the peer stalls until its
 * retransmission timeout (measured with examples/broker's many senders: seconds). */
#define TCP_WND (64 * 1024)
/* ... but a connection a listener accepts starts with its share of what all sockets together
 * hold (net/ksock.c, tools/patches/lwip/listen-window.patch): 100 windows of 64 KiB promised
 * more than the receive path holds. */
struct tcp_pcb;
unsigned ksock_listen_wnd(struct tcp_pcb *pcb);
#define LWIP_HOOK_TCP_LISTEN_WND(pcb) ((tcpwnd_size_t)ksock_listen_wnd(pcb))
#define TCP_SND_BUF (128 * 1024)
#define TCP_SND_QUEUELEN ((4 * TCP_SND_BUF) / TCP_MSS)
#define TCP_SNDLOWAT (32 * 1024) /* u16_t in lwIP: must stay below 64 KiB - 4 MSS */
#define TCP_SNDQUEUELOWAT (TCP_SND_QUEUELEN / 2)
#define TCP_OVERSIZE TCP_MSS
#define TCP_QUEUE_OOSEQ 1
#define TCP_OOSEQ_MAX_PBUFS 64
#define LWIP_TCP_SACK_OUT 1
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 255
#define LWIP_TCP_KEEPALIVE 1
#define TCP_MAXRTX 8
#define TCP_SYNMAXRTX 4
#define LWIP_TCP_TIMESTAMPS 0
#define LWIP_CALLBACK_API 1
#define LWIP_EVENT_API 0
#define SO_REUSE 1

/* ---- checksums: generated and checked by lwIP unless the device offloads them; the
 * driver switches them per netif (and per received frame) ---- */
#define LWIP_CHECKSUM_CTRL_PER_NETIF 1
#define CHECKSUM_GEN_IP 1
#define CHECKSUM_GEN_UDP 1
#define CHECKSUM_GEN_TCP 1
#define CHECKSUM_GEN_ICMP 1
#define CHECKSUM_CHECK_IP 1
#define CHECKSUM_CHECK_UDP 1
#define CHECKSUM_CHECK_TCP 1
#define CHECKSUM_CHECK_ICMP 1
/* net/chksum.c: 8 bytes per load, and fused with the copy of outgoing TCP data (one pass
 * over the payload instead of a copy, then a checksum pass at output). */
#define LWIP_CHKSUM kiln_chksum
#define LWIP_CHECKSUM_ON_COPY 1
#define LWIP_CHKSUM_COPY(dst, src, len) kiln_chksum_copy(dst, src, len)
unsigned short kiln_chksum(const void *data, int len);
unsigned short kiln_chksum_copy(void *dst, const void *src, unsigned short len);
extern unsigned long long kiln_chksum_bytes; /* bytes summed by either (net/stats.c) */

/* ---- statistics: read by the socket-layer counters (net/stats.c) ---- */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define MEM_STATS 1
#define MEMP_STATS 1
#define LINK_STATS 1
#define IP_STATS 0
#define IPFRAG_STATS 0
#define ICMP_STATS 0
#define UDP_STATS 0
#define TCP_STATS 0
#define ETHARP_STATS 0
#define SYS_STATS 0

#define LWIP_DEBUG 0
#define LWIP_PROVIDE_ERRNO 0

#endif
