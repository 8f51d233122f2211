/* net/netif.c — the lwIP port's core: bring-up (NIC, lwIP, address), the lock that keeps
 * lwIP single-threaded although threads on every CPU and interrupts drive it, polling,
 * waiting (the thread blocks, the CPU runs others or halts), lwIP's timers from the kernel
 * tick, and the few platform functions lwIP calls. */
#include "net/net.h"

#include <stdarg.h>

#include "kernel/kernel.h"
#include "kernel/lifecycle.h"
#include "lwip/dhcp.h"
#include "lwip/init.h"
#include "lwip/ip4_addr.h"
#include "lwip/netif.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"
#include "net/ksock.h"

static struct netif nif;
static int running;
/* The lwIP lock: one thread at a time inside lwIP, on any CPU (held by owner, depth times:
 * socket calls nest). Kernel code is never preempted and net_wait lets go while it blocks,
 * so a holder is always running and a spin is short. An interrupt handler never waits for
 * it: when it is held, the handler only records that work is waiting (work), and the holder
 * does that work before letting go. */
static spinlock_t lock;
static struct thread *owner;
static int depth;
static volatile int work;
/* Socket readiness may have changed inside lwIP (frames processed, a callback ran): the
 * threads waiting in net_wait (or poll_oneoff) must look again once the lock is free. */
static volatile int changed;
struct net_lock_stats net_lock_stats;
uint64_t net_tw_recycled; /* TIME_WAIT connections ended by a new SYN (net/stats.c) */

u32_t sys_now(void) { return (u32_t)(time_ns() / 1000000); }

unsigned kiln_net_rand(void) {
  unsigned r;
  random_bytes(&r, sizeof r);
  return r;
}

void kiln_net_diag(const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  kvsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  klog("lwip: %s", buf);
}

_Noreturn void kiln_net_assert(const char *msg, const char *file, int line) {
  panic("lwIP assertion \"%s\" failed at %s:%d", msg, file, line);
}

int net_up(void) { return running; }

void net_enter(void) {
  struct thread *t = sched_current();
  if (owner == t) {
    depth++;
    return;
  }
  if (!spin_trylock(&lock)) {
    __atomic_fetch_add(&net_lock_stats.contended, 1, __ATOMIC_RELAXED);
    spin_lock(&lock);
  }
  net_lock_stats.taken++;
  owner = t;
  depth = 1;
}

void net_changed(void) { changed = 1; }
uint64_t net_lock_wait_tsc(void) { return lock.wait_tsc; }

/* Lets go of the lock; an interrupt that found it held left work, done here first (and
 * again if one comes in while letting go). */
static void unlock_all(void) {
  for (;;) {
    if (work) net_poll();
    int wake = changed;
    changed = 0;
    owner = NULL;
    spin_unlock(&lock);
    if (wake) kernel_event();
    if (!work || !spin_trylock(&lock)) return;
    owner = sched_current();
  }
}

void net_leave(void) {
  if (--depth) return;
  unlock_all();
}

static void reap_orphans(void);

int net_poll(void) {
  if (!running) return 0;
  work = 0;
  int n = virtio_net_poll(&nif);
  sys_check_timeouts();
  if (tcp_active_pcbs) reap_orphans();
  virtio_net_flush();
  if (n > 0) changed = 1; /* ACKs free send space, FINs end streams: no callback says so */
  return n;
}

void net_unwound(void) {
  depth = 0;
  net_enter();
  net_leave();
}

/* net_wait and net_wait_word: until *word changes, or (word NULL) the next kernel event. */
static void wait_for(const volatile uint32_t *word, uint64_t deadline_ns) {
  /* A socket call that waits is where a policy restart stops the instance (it unwinds from
   * here; kernel/app.c then calls net_unwound); the wait ends in time for the next check. */
  life_restart_point();
  if (life_next_ns() < deadline_ns) deadline_ns = life_next_ns();
  /* An interrupt after this point (which finds us inside lwIP and leaves its work flagged)
   * makes the wait return at once instead of sleeping through it. */
  uint64_t seen = kernel_events();
  uint32_t seen_word = word ? *word : 0;
  if (net_poll() > 0) return;
  /* Wake for lwIP's next timer too (retransmission, delayed ACK, TIME_WAIT, DHCP), by its
   * own deadline rather than at the next tick. */
  u32_t ms = sys_timeouts_sleeptime();
  if (ms != SYS_TIMEOUTS_SLEEPTIME_INFINITE) {
    uint64_t t = time_ns() + (uint64_t)ms * 1000000ull;
    if (t < deadline_ns) deadline_ns = t;
  }
  /* Blocks without the lock (other threads use the stack meanwhile), then takes it back
   * at the same depth. */
  int d = depth;
  depth = 1;
  unlock_all();
  if (word) kernel_wait_word(word, seen_word, deadline_ns);
  else kernel_idle_until(deadline_ns, seen);
  net_enter();
  depth = d;
  net_poll();
}

void net_wait(uint64_t deadline_ns) { wait_for(NULL, deadline_ns); }

void net_wait_word(const volatile uint32_t *word, uint64_t deadline_ns) { wait_for(word, deadline_ns); }

/* Interrupt context (the boot processor): run the stack only if no one is inside it. */
static void run_from_irq(void) {
  if (!running) return;
  kernel_event();
  work = 1;
  if (!spin_trylock(&lock)) return;
  net_poll();
  int wake = changed;
  changed = 0;
  spin_unlock(&lock);
  if (wake) kernel_event();
}

void net_irq(void) { run_from_irq(); }

/* The kernel tick: lwIP timers (TCP retransmission, delayed ACK, ARP, DHCP) run even while
 * the application computes without calling into WASI. */
static void on_tick(void *arg) {
  (void)arg;
  run_from_irq();
}

static int poll_hook(void *arg) {
  (void)arg;
  net_enter();
  int n = net_poll();
  net_leave();
  return n;
}

/* A SYN for the 4-tuple of a connection in TIME_WAIT: lwIP answers it with an ACK or a RST
 * for the whole 2 MSL (2 minutes), so a client whose port comes round again while the old
 * connection lingers (thousands of short connections through one forwarder) cannot connect.
 * As other stacks do (RFC 6191, RFC 1122 4.2.2.13), a SYN whose sequence number is beyond
 * everything the old connection received ends the TIME_WAIT and goes to the listener. */
static void recycle_time_wait(struct pbuf *p) {
  const uint8_t *f = p->payload;
  if (p->len < 14 + 20 + 20 || f[12] != 0x08 || f[13] != 0x00) return;
  const uint8_t *ip = f + 14;
  uint32_t ihl = (ip[0] & 0x0f) * 4u;
  if (ip[9] != 6 || ihl < 20 || p->len < 14 + ihl + 20) return;
  const uint8_t *th = ip + ihl;
  if ((th[13] & (TCP_SYN | TCP_ACK | TCP_RST)) != TCP_SYN) return;
  uint16_t sport = (uint16_t)(th[0] << 8 | th[1]), dport = (uint16_t)(th[2] << 8 | th[3]);
  uint32_t seq = (uint32_t)th[4] << 24 | (uint32_t)th[5] << 16 | (uint32_t)th[6] << 8 | th[7];
  ip4_addr_t src, dst;
  memcpy(&src, ip + 12, 4);
  memcpy(&dst, ip + 16, 4);
  for (struct tcp_pcb *pcb = tcp_tw_pcbs; pcb; pcb = pcb->next) {
    if (pcb->remote_port != sport || pcb->local_port != dport) continue;
    if (!ip4_addr_cmp(ip_2_ip4(&pcb->remote_ip), &src) || !ip4_addr_cmp(ip_2_ip4(&pcb->local_ip), &dst)) continue;
    if (TCP_SEQ_GT(seq, pcb->rcv_nxt)) { /* TIME_WAIT: freed, no RST sent */
      tcp_abort(pcb);
      net_tw_recycled++;
    }
    return;
  }
}

/* An orphan in FIN_WAIT_2 (the app closed, our FIN was acknowledged, the peer keeps its half
 * open) holds its pcb for lwIP's fixed 20 s. A burst of idle clients that the server evicts
 * (slowloris, hundreds handed over at once by kiln-fwd) then fills the pcbs, and new
 * connections wait those 20 s. As Linux does with tcp_fin_timeout, orphans end sooner: nothing
 * is lost, since the app will never read what the peer might still send. */
#define ORPHAN_FIN_WAIT_MS 2000
uint64_t net_orphans_reaped;
static void reap_orphans(void) {
  static u32_t last;
  if (tcp_ticks == last) return; /* once per slow-timer tick */
  last = tcp_ticks;
again:
  for (struct tcp_pcb *pcb = tcp_active_pcbs; pcb; pcb = pcb->next)
    if (pcb->state == FIN_WAIT_2 && (pcb->flags & TF_RXCLOSED) && !pcb->callback_arg &&
        (u32_t)(tcp_ticks - pcb->tmr) > ORPHAN_FIN_WAIT_MS / TCP_SLOW_INTERVAL) {
      tcp_abort(pcb); /* unlinks it: walk again */
      net_orphans_reaped++;
      goto again;
    }
}

static err_t input(struct pbuf *p, struct netif *n) {
  if (tcp_tw_pcbs) recycle_time_wait(p);
  return ethernet_input(p, n);
}

/* The app has exited: its TCP data goes on reaching the peers before the machine stops (a
 * process's exit on an OS leaves that to the kernel, which outlives it), for as long as the
 * peers keep acknowledging: the machine stops once everything is acknowledged, after
 * EXIT_STALL_MS without progress (a peer that stopped reading), or after EXIT_DRAIN_MAX_MS. A
 * fixed deadline would cut a slow but healthy transfer short (a VM that gets little CPU). */
#define EXIT_STALL_MS 2000
#define EXIT_DRAIN_MAX_MS 60000
static void exit_drain(void) {
  int left = ksock_drain_all(EXIT_STALL_MS * 1000000ull, EXIT_DRAIN_MAX_MS * 1000000ull);
  if (left) klog("net: exit: %d connections still had unacknowledged data (no progress for %u ms)\n", left, EXIT_STALL_MS);
}

/* key=A.B.C.D from the command line into out: 1, or 0 when absent or malformed (noted). With
 * bits, A.B.C.D/BITS is accepted too (urunc's ip=, which carries the mask); *bits is then
 * 0..32, else -1. */
static int parse_ip(const char *key, ip4_addr_t *out, int *bits) {
  const char *s = kernel_cmdline_get(key);
  if (bits) *bits = -1;
  if (!s) return 0;
  char addr[16];
  const char *slash = bits ? strchr(s, '/') : NULL;
  size_t n = slash ? (size_t)(slash - s) : strlen(s);
  int b = -1, digits = 0;
  if (slash) {
    const char *d = slash + 1;
    for (b = 0; *d >= '0' && *d <= '9' && digits < 3; d++, digits++) b = b * 10 + (*d - '0');
    if (!digits || *d || b > 32) b = -1;
  }
  if (n >= sizeof addr || (slash && b < 0)) {
    klog("net: bad %s=%s (ignored)\n", key, s);
    return 0;
  }
  memcpy(addr, s, n);
  addr[n] = 0;
  if (!ip4addr_aton(addr, out)) {
    klog("net: bad %s=%s (ignored)\n", key, s);
    return 0;
  }
  if (bits) *bits = b;
  return 1;
}

static void status_changed(struct netif *n) {
  if (!ip4_addr_isany_val(*netif_ip4_addr(n)))
    klog("net: address %s\n", ip4addr_ntoa(netif_ip4_addr(n)));
}

int net_init(void) {
  /* 1. Find and initialize the NIC (PCI scan, virtio init sequence, rx ring filled). */
  if (virtio_net_probe() != 0) {
    klog("net: no virtio-net device; networking is off\n");
    return -1;
  }
  /* 2. lwIP itself: memory pools, heap, protocol control blocks. */
  lwip_init();
  /* 3. The netif over virtio-net, with the static address if the command line gives one.
   * ip=A/BITS and gateway= are urunc's spellings (its Mewz command line); /BITS wins over
   * mask=, gateway= over gw=. */
  ip4_addr_t ip, mask, gw;
  int bits;
  int have_ip = parse_ip("ip", &ip, &bits);
  if (bits >= 0) ip4_addr_set_u32(&mask, lwip_htonl(bits ? 0xffffffffu << (32 - bits) : 0));
  else if (!parse_ip("mask", &mask, NULL)) IP4_ADDR(&mask, 255, 255, 255, 0);
  if (!parse_ip("gateway", &gw, NULL) && !parse_ip("gw", &gw, NULL)) ip4_addr_set_zero(&gw);
  if (!have_ip) ip4_addr_set_zero(&ip), ip4_addr_set_zero(&mask);
  if (!netif_add(&nif, &ip, &mask, &gw, NULL, virtio_net_netif_init, input)) {
    klog("net: netif_add failed\n");
    return -1;
  }
  netif_set_default(&nif);
  netif_set_status_callback(&nif, status_changed);
  netif_set_up(&nif);
  netif_set_link_up(&nif);
  running = 1;
  /* 4. Timers from the kernel tick, as well as on every poll; and WASI waits (poll_oneoff,
   * sched_yield) poll the network too. */
  timer_register(on_tick, NULL);
  kernel_poll_register(poll_hook, NULL);
  app_exit_register(exit_drain);
  /* 5. No static address: DHCP, waiting a little for the lease so the app starts with an
   * address (QEMU's user network answers at once); it goes on in the background after. */
  if (!have_ip) {
    dhcp_start(&nif);
    uint64_t until = time_ns() + 3000000000ull;
    net_enter();
    while (!dhcp_supplied_address(&nif) && time_ns() < until) net_wait(until);
    net_leave();
    if (!dhcp_supplied_address(&nif)) klog("net: no DHCP answer yet; still trying\n");
  } /* a static address was reported by the status callback when the netif came up */
  /* 6. The optional counters endpoint (netstat=PORT) and metrics endpoint (metrics=PORT). */
  net_stats_init();
  net_metrics_init();
  return 0;
}
