/* net/stats.c — the network's own counters (open sockets, TCP pcbs by state, pbufs and
 * receive buffers in use, heap), and an optional endpoint that serves them: with
 * `netstat=PORT` on the kernel command line, every TCP connection to PORT gets one line of
 * counters and is closed. Tests use it to check that everything returns to idle, and
 * bench/serve to count copies and checksums per request (file_read_bytes: copied out of files
 * into the app; sent_copied_bytes: copied by lwIP from the app; sent_ref_bytes: sent by
 * reference; tx_copied_bytes: copied by the driver; csum_bytes: summed by the CPU) and for the
 * boot timeline (entry_us, app_start_us, listening_us: from the machine's reset). The
 * connection being served is itself one active pcb (counted in tcp_active). */
#include "kernel/kernel.h"
#include "lwip/memp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "net/net.h"
#include "net/ksock.h"
#include "wasi/wasi_int.h"

static int count_list(struct tcp_pcb *p) {
  int n = 0;
  for (; p; p = p->next) n++;
  return n;
}

/* TSC cycles as microseconds (a TSC value: since the machine's reset, the boot timeline). */
static unsigned long long tsc_us(uint64_t tsc) {
  uint64_t mhz = time_tsc_hz() / 1000000;
  return mhz ? (unsigned long long)(tsc / mhz) : 0;
}

/* Frames lwIP itself holds: out-of-order segments waiting for a gap, and data a socket
 * refused (kept for when its app reads). */
static void held_by_tcp(unsigned *ooseq, unsigned *refused) {
  *ooseq = *refused = 0;
  for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next) {
    for (struct tcp_seg *s = p->ooseq; s; s = s->next) *ooseq += pbuf_clen(s->p);
    if (p->refused_data) *refused += pbuf_clen(p->refused_data);
  }
}

int net_stats_format(char *buf, size_t n) {
  struct ksock_counts c;
  struct virtio_net_stats v;
  struct idle_stats is;
  time_idle_stats(&is);
  ksock_counts(&c);
  virtio_net_get_stats(&v);
  unsigned ooseq, refused;
  held_by_tcp(&ooseq, &refused);
  uint64_t switches = 0; /* to app threads, all CPUs */
  for (int i = 0; i < ncpus; i++) switches += cpus[i].runs;
  uint32_t held = v.rx_bufs_total - v.rx_bufs_free - v.rx_bufs_posted;
  return ksnprintf(buf, n,
                   "sockets=%u tcp=%u udp=%u listening=%u pending_accept=%u accepted=%llu sends=%llu polls=%llu rx_queued=%llu "
                   "tcp_active=%d tcp_time_wait=%d pbuf_ref=%u pbuf_pool=%u rx_bufs_held=%u heap_used=%llu "
                   "tcp_seg=%u tw_recycled=%llu orphans_reaped=%llu rx_frames=%llu tx_frames=%llu rx_copied=%llu rx_dropped=%llu tx_dropped=%llu tx_full=%llu tx_indirect=%llu irqs=%llu rx_kicks=%llu tx_kicks=%llu "
                   "tso=%u tx_tso=%llu rx_tso=%llu file_read_bytes=%llu sent_copied_bytes=%llu sent_ref_bytes=%llu tx_copied_bytes=%llu csum_bytes=%llu "
                   "entry_us=%llu app_start_us=%llu listening_us=%llu uptime_us=%llu idle_us=%llu ipis=%llu event_wakes=%llu word_wakes=%llu wasi_sleeps=%llu "
                   "net_lock=%llu net_lock_contended=%llu net_lock_wait_us=%llu sched_lock_wait_us=%llu wasi_wait_us=%llu switches=%llu refused_sock=%llu refused_share=%llu refused_heap=%llu ooseq_pbufs=%u refused_pbufs=%u\n",
                   c.open, c.tcp_open, c.udp_open, c.listening, c.pending_accept, (unsigned long long)c.accepted,
                   (unsigned long long)c.sends, (unsigned long long)c.polls,
                   (unsigned long long)c.rx_queued_bytes, count_list(tcp_active_pcbs), count_list(tcp_tw_pcbs),
                   (unsigned)lwip_stats.memp[MEMP_PBUF]->used, (unsigned)lwip_stats.memp[MEMP_PBUF_POOL]->used, held,
                   (unsigned long long)lwip_stats.mem.used, (unsigned)lwip_stats.memp[MEMP_TCP_SEG]->used,
                   (unsigned long long)net_tw_recycled, (unsigned long long)net_orphans_reaped,
                   (unsigned long long)v.rx_frames, (unsigned long long)v.tx_frames,
                   (unsigned long long)v.rx_copied, (unsigned long long)v.rx_dropped,
                   (unsigned long long)v.tx_dropped, (unsigned long long)v.tx_full, (unsigned long long)v.tx_indirect, (unsigned long long)v.irqs,
                   (unsigned long long)v.rx_kicks, (unsigned long long)v.tx_kicks, (unsigned)v.tso_tx,
                   (unsigned long long)v.tx_tso, (unsigned long long)v.rx_tso, (unsigned long long)memfs_read_bytes,
                   (unsigned long long)c.sent_copied_bytes, (unsigned long long)c.sent_ref_bytes,
                   (unsigned long long)v.tx_copied_bytes, (unsigned long long)kiln_chksum_bytes,
                   tsc_us(boot_tsc_entry), tsc_us(boot_tsc_app), tsc_us(boot_tsc_listening),
                   (unsigned long long)(time_ns() / 1000), (unsigned long long)(is.idle_ns / 1000),
                   (unsigned long long)sched_stats.ipis, (unsigned long long)sched_stats.event_wakes,
                   (unsigned long long)sched_stats.word_wakes, (unsigned long long)sched_stats.wasi_sleeps,
                   (unsigned long long)net_lock_stats.taken, (unsigned long long)net_lock_stats.contended,
                   tsc_us(net_lock_wait_tsc()), tsc_us(sched_lock_wait_tsc()), tsc_us(sched_stats.wasi_wait_tsc),
                   (unsigned long long)switches, (unsigned long long)c.refused_sock,
                   (unsigned long long)c.refused_share, (unsigned long long)c.refused_heap, ooseq, refused);
}

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  if (err != ERR_OK || !pcb) return ERR_VAL;
  static char line[2048]; /* under the network lock, as every lwIP callback; the line is ~1.1 KB */
  int len = net_stats_format(line, sizeof line);
  if (len < 0) len = 0;
  if (len >= (int)sizeof line) len = sizeof line - 1;
  tcp_write(pcb, line, (u16_t)len, TCP_WRITE_FLAG_COPY);
  tcp_output(pcb);
  if (tcp_close(pcb) != ERR_OK) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  return ERR_OK;
}

void net_stats_init(void) {
  const char *p = kernel_cmdline_get("netstat");
  if (!p) return;
  int port = atoi(p);
  if (port <= 0 || port > 65535) {
    klog("net: bad netstat=%s (ignored)\n", p);
    return;
  }
  net_enter();
  struct tcp_pcb *pcb = tcp_new();
  if (pcb && tcp_bind(pcb, IP_ADDR_ANY, (u16_t)port) == ERR_OK) {
    struct tcp_pcb *l = tcp_listen(pcb);
    if (l) {
      tcp_accept(l, on_accept);
      klog("net: counters on tcp port %d\n", port);
    }
  } else {
    klog("net: cannot listen on netstat port %d\n", port);
    if (pcb) tcp_abort(pcb);
  }
  net_leave();
}
