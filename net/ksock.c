/* net/ksock.c — BSD-like sockets over lwIP's raw API (NO_SYS): the callbacks queue what lwIP
 * delivers (received pbufs, accepted connections, datagrams, errors) on the socket, and the
 * calls consume those queues, waiting with net_wait() when they must block.
 *
 * Invariants: a socket never loses or reorders data: received pbufs are queued in arrival
 * order and the TCP window is reopened (tcp_recved) only for bytes the application consumed.
 *
 * What one connection may hold is bounded, so a peer that sends and never sees its data read,
 * or never reads what it asked for, cannot starve the others:
 *   - receiving: small segments, and every segment that arrives while unread data waits, are
 *     copied out of the driver's receive buffers into shared heap pbufs, so those buffers go
 *     back to the ring at once (a connection whose app keeps up stays zero-copy). Past
 *     RX_SOCK_MAX unread bytes, past RX_SOCK_SHARE when all sockets together hold
 *     RX_TOTAL_SOFT, or when a copy would eat the heap's reserve for sending, the data is
 *     refused: lwIP keeps that one segment and drops the peer's further data until the app
 *     reads, when it is taken again.
 *   - sending: a connection queues at most TX_SHARE bytes beyond its peer's window (a peer
 *     that does not read closes it), and its share of half the heap among the open TCP
 *     sockets (TX_SHARE_MIN at least), TX_SHARE_MIN once the heap is three quarters used;
 *     poll says it is not writable past that.
 * A socket's pcb pointer is cleared the moment lwIP frees the pcb (error callback), or when
 * we detach from a pcb lwIP may free without telling (both directions closed: TIME_WAIT). */
#include "net/ksock.h"

#include "kernel/kernel.h"
#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/stats.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"
#include "net/net.h"
#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

enum { S_NEW, S_BOUND, S_LISTEN, S_CONNECTING, S_CONNECTED };
/* s->err after a reset was reported once: reads then see end of stream, writes EPIPE. */
#define ERR_REPORTED_RESET 1000
/* s->err after a failed connect was reported once (connect, recv, send or SO_ERROR): the
 * pcb is gone, so the socket stays dead: reads and writes say ENOTCONN, poll says hung up. */
#define ERR_REPORTED_CONNECT 1001
#define UDP_QUEUE_MAX 128
#define RX_SOCK_MAX TCP_WND        /* unread bytes one TCP socket holds before refusing more */
#define RX_SOCK_SHARE (4 * 1024)   /* ... when all sockets together hold RX_TOTAL_SOFT */
#define RX_TOTAL_SOFT (1024 * 1024) /* below the heap less RX_HEAP_RESERVE */
#define RX_COPY_BELOW 1024         /* segments shorter than this are copied out of the driver's buffer */
#define TX_SHARE (16 * 1024)       /* bytes queued per connection beyond the peer's window */
#define TX_SHARE_MIN (4 * 1024)    /* bytes queued per connection when the heap is 3/4 used */
#define RX_COPY_CAP 2048           /* size of the heap pbufs that collect copied segments */
#define RX_HEAP_RESERVE (512 * 1024) /* copies leave this much of lwIP's heap for sending */
#define RX_WND_MIN TCP_WND_UPDATE_THRESHOLD /* a window reopens at least this far (4 MSS) */

struct dgram {
  struct dgram *next;
  struct pbuf *p;
  ip_addr_t from;
  uint16_t port;
};

struct ksock {
  struct ksock *all_prev, *all_next; /* every open socket (for the drain at exit) */
  uint8_t type, state;
  uint8_t rx_eof, shut_rd, shut_wr, reuse, nodelay, keepalive, was_reset;
  int err; /* sticky WASI errno from lwIP's error callback */
  uint32_t rcvtimeo_ms, sndtimeo_ms; /* SO_RCVTIMEO/SO_SNDTIMEO: blocking calls give up (0: never) */
  struct tcp_pcb *tcp;
  struct udp_pcb *udp;
  /* TCP receive queue: pbufs linked through ->next (tot_len is not maintained: a u16 could
   * not hold a 128 KiB window); rx_off bytes of the head are already consumed. */
  struct pbuf *rx_head, *rx_tail;
  uint32_t rx_off, rx_bytes;
  uint32_t rx_room; /* free bytes at the end of rx_tail when it is one of our copies, else 0 */
  uint32_t rx_withheld; /* bytes the app took whose window is not reopened yet (rx_reopen) */
  /* listener: accepted connections not yet taken by accept() */
  struct ksock *acc_head, *acc_tail, *acc_next;
  uint32_t acc_n;
  /* UDP receive queue */
  struct dgram *dq_head, *dq_tail;
  uint32_t dq_n;
  /* Threads: a blocking call lets the locks go while it waits, so another thread may close
   * the socket meanwhile. Calls in progress hold it (users); a close with users tears the
   * connection down and marks it closed, and the last user frees it. */
  uint32_t users;
  uint8_t closed;
  /* Changed (and its waiters woken) whenever the socket may have become readable, acceptable,
   * connected or failed: blocking receives, accepts and connects wait on it (net_wait_word). */
  uint32_t wake;
};

static struct ksock_counts counts;
static struct ksock *all_socks;

/* Inside net_enter: a blocking call holds the socket, and lets it go before net_leave. */
static void sock_hold(struct ksock *s) { s->users++; }
/* Callbacks and closes: the socket's waiters look again (and every poll_oneoff). */
static void sock_wake(struct ksock *s) {
  net_changed();
  if (!s) return;
  __atomic_fetch_add(&s->wake, 1, __ATOMIC_SEQ_CST);
  kernel_wake_word(&s->wake);
}
static void sock_put(struct ksock *s) {
  if (--s->users == 0 && s->closed) kfree(s);
}

/* The instant a blocking call with timeout ms gives up (UINT64_MAX: never). */
static uint64_t deadline_of(uint32_t ms) { return ms ? time_ns() + (uint64_t)ms * 1000000ull : UINT64_MAX; }
static int expired(uint64_t deadline) { return deadline != UINT64_MAX && time_ns() >= deadline; }

/* The error of a failed connect, reported once (as Linux's sk_err); 0 if there is none. */
static int take_connect_err(struct ksock *s) {
  if (s->state != S_NEW || !s->err || s->err == ERR_REPORTED_CONNECT || s->err == ERR_REPORTED_RESET) return 0;
  int r = s->err;
  s->err = ERR_REPORTED_CONNECT;
  return r;
}

static int map_err(err_t e) {
  switch (e) {
  case ERR_OK: return 0;
  case ERR_MEM: case ERR_BUF: return WASI_ENOBUFS;
  case ERR_TIMEOUT: return WASI_ETIMEDOUT;
  case ERR_RTE: return WASI_EHOSTUNREACH;
  case ERR_INPROGRESS: return WASI_EINPROGRESS;
  case ERR_VAL: case ERR_ARG: return WASI_EINVAL;
  case ERR_WOULDBLOCK: return WASI_EAGAIN;
  case ERR_USE: return WASI_EADDRINUSE;
  case ERR_ALREADY: return WASI_EALREADY;
  case ERR_ISCONN: return WASI_EISCONN;
  case ERR_CONN: return WASI_ENOTCONN;
  case ERR_IF: return WASI_ENETDOWN;
  case ERR_ABRT: return WASI_ECONNABORTED;
  case ERR_RST: return WASI_ECONNRESET;
  case ERR_CLSD: return WASI_ENOTCONN;
  default: return WASI_EIO;
  }
}

static struct ksock *sock_new(int type) {
  struct ksock *s = kalloc(sizeof *s);
  if (!s) return NULL;
  s->type = (uint8_t)type;
  s->all_next = all_socks;
  if (all_socks) all_socks->all_prev = s;
  all_socks = s;
  counts.open++;
  if (type == KSOCK_TCP) counts.tcp_open++;
  else counts.udp_open++;
  return s;
}

/* ---- lwIP callbacks ---- */

static void tcp_detach(struct ksock *s) {
  if (!s->tcp) return;
  tcp_arg(s->tcp, NULL);
  if (s->state == S_LISTEN) {
    tcp_accept(s->tcp, NULL); /* a listening pcb has no recv/sent/err (lwIP asserts) */
  } else {
    tcp_recv(s->tcp, NULL);
    tcp_sent(s->tcp, NULL);
    tcp_err(s->tcp, NULL);
  }
  s->tcp = NULL;
}

/* Both directions closed: lwIP may keep the pcb in TIME_WAIT and free it later without a
 * callback, so stop referring to it now. */
static void maybe_detach(struct ksock *s) {
  if (s->tcp && s->rx_eof && s->shut_wr) tcp_detach(s);
}

/* Appends p's bytes to s's queue in heap pbufs that consecutive segments share; 0 (nothing
 * copied) when the heap cannot spare the room. */
static int rx_copy_in(struct ksock *s, const struct pbuf *p) {
  uint32_t total = p->tot_len, first = total < s->rx_room ? total : s->rx_room;
  uint32_t rest = total - first, cap = rest > RX_COPY_CAP ? rest : RX_COPY_CAP;
  struct pbuf *q = NULL;
  if (rest) { /* one new pbuf takes what the tail's room cannot */
    if (lwip_stats.mem.used + cap + RX_HEAP_RESERVE > MEM_SIZE) return 0;
    q = pbuf_alloc(PBUF_RAW, (u16_t)cap, PBUF_RAM);
    if (!q) return 0;
    q->len = q->tot_len = 0; /* grows as bytes come; pbuf_free frees all cap bytes */
  }
  if (first) {
    struct pbuf *t = s->rx_tail;
    pbuf_copy_partial(p, (uint8_t *)t->payload + t->len, (u16_t)first, 0);
    t->len = t->tot_len = (u16_t)(t->len + first);
    s->rx_room -= first;
  }
  if (q) {
    pbuf_copy_partial(p, q->payload, (u16_t)rest, (u16_t)first);
    q->len = q->tot_len = (u16_t)rest;
    s->rx_room = cap - rest;
    if (s->rx_tail) s->rx_tail->next = q;
    else s->rx_head = q;
    s->rx_tail = q;
  }
  return 1;
}

static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  struct ksock *s = arg;
  sock_wake(s);
  if (!s) { /* closed socket: lwIP's default behaviour */
    if (p) { tcp_recved(pcb, p->tot_len); pbuf_free(p); }
    return ERR_OK;
  }
  if (!p) {
    s->rx_eof = 1;
    maybe_detach(s);
    return ERR_OK;
  }
  if (s->shut_rd) { /* shutdown(SHUT_RD): discard, but keep the window open */
    tcp_recved(pcb, p->tot_len);
    pbuf_free(p);
    return ERR_OK;
  }
  uint32_t len = p->tot_len;
  /* Refused: lwIP keeps it for later. */
  if (s->rx_bytes + len > RX_SOCK_MAX) return counts.refused_sock++, ERR_MEM;
  if (s->rx_bytes >= RX_SOCK_SHARE && counts.rx_queued_bytes >= RX_TOTAL_SOFT) return counts.refused_share++, ERR_MEM;
  /* A frame the driver already copied into lwIP's pool (its own buffers ran low) is copied
   * out again: queued, it would hold the pool too, and with both gone the driver drops
   * frames and the peers stall until their retransmission timeouts. */
  int pooled = !(p->flags & PBUF_FLAG_IS_CUSTOM);
  int copied = (len < RX_COPY_BELOW || s->rx_bytes > 0 || pooled) && rx_copy_in(s, p);
  /* No heap for a copy: refused too, unless the queue is empty (a new request must still
   * get through while others fill the heap; one held driver buffer per socket then). */
  if (!copied && s->rx_bytes > 0) return counts.refused_heap++, ERR_MEM;
  if (copied) {
    pbuf_free(p);
  } else {
    if (s->rx_tail) s->rx_tail->next = p;
    else s->rx_head = p;
    struct pbuf *t = p;
    while (t->next) t = t->next;
    s->rx_tail = t;
    s->rx_room = 0;
  }
  s->rx_bytes += len;
  counts.rx_queued_bytes += len;
  return ERR_OK;
}

static void on_err(void *arg, err_t err) {
  struct ksock *s = arg;
  sock_wake(s);
  if (!s) return;
  s->tcp = NULL; /* lwIP has freed it */
  if (err == ERR_CLSD) { /* orderly end after our FIN was acknowledged */
    s->rx_eof = 1;
    return;
  }
  if (s->state == S_CONNECTING) {
    /* A failed connect leaves the connecting state, as the hosted runtime does: otherwise a
     * non-blocking recv says EAGAIN forever while poll says hung up, and a poll loop spins. */
    s->state = S_NEW;
    s->err = err == ERR_RST ? WASI_ECONNREFUSED : map_err(err);
    return;
  }
  s->err = map_err(err);
  if (err == ERR_RST) s->was_reset = 1;
}

static err_t on_connected(void *arg, struct tcp_pcb *pcb, err_t err) {
  struct ksock *s = arg;
  sock_wake(s);
  if (s) s->state = S_CONNECTED;
  return ERR_OK;
}

static void tcp_setup(struct ksock *s) {
  tcp_arg(s->tcp, s);
  tcp_recv(s->tcp, on_recv);
  tcp_err(s->tcp, on_err);
}

static err_t on_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
  struct ksock *l = arg;
  sock_wake(l);
  if (!l || err != ERR_OK || !newpcb) return ERR_VAL;
  struct ksock *s = sock_new(KSOCK_TCP);
  if (!s) {
    tcp_abort(newpcb);
    return ERR_ABRT;
  }
  s->tcp = newpcb;
  s->state = S_CONNECTED;
  if (newpcb->rcv_wnd < TCP_WND_MAX(newpcb)) s->rx_withheld = TCP_WND_MAX(newpcb) - newpcb->rcv_wnd;
  tcp_setup(s);
  if (l->acc_tail) l->acc_tail->acc_next = s;
  else l->acc_head = s;
  l->acc_tail = s;
  l->acc_n++;
  counts.pending_accept++;
  return ERR_OK;
}

/* The receive window a connection a listener accepts starts with (lwipopts.h): its share of
 * RX_TOTAL_SOFT among the open TCP sockets and itself, RX_WND_MIN at least. on_accept counts
 * the rest of the full window as withheld, which rx_reopen gives back as the share allows and
 * ksock_close before it closes (lwIP resets a connection closed with a window short of full).
 * The kernel's own listeners (netstat=, metrics=) keep the full window. */
unsigned ksock_listen_wnd(struct tcp_pcb *pcb) {
  if (!pcb->listener || pcb->listener->accept != on_accept) return TCP_WND_MAX(pcb);
  uint32_t w = (uint32_t)(RX_TOTAL_SOFT / (counts.tcp_open + 1));
  if (w < RX_WND_MIN) w = RX_WND_MIN;
  if (w > TCP_WND_MAX(pcb)) w = TCP_WND_MAX(pcb);
  return w;
}

static void on_udp_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port) {
  struct ksock *s = arg;
  sock_wake(s);
  struct dgram *d = (s && s->dq_n < UDP_QUEUE_MAX && !s->shut_rd) ? kalloc(sizeof *d) : NULL;
  if (!d) { /* queue full: a datagram may be dropped, as UDP allows */
    pbuf_free(p);
    return;
  }
  d->p = p;
  ip_addr_copy(d->from, *addr);
  d->port = port;
  if (s->dq_tail) s->dq_tail->next = d;
  else s->dq_head = d;
  s->dq_tail = d;
  s->dq_n++;
}

/* ---- calls ---- */

int ksock_open(int type, struct ksock **out) {
  if (type != KSOCK_TCP && type != KSOCK_UDP) return WASI_EPROTONOSUPPORT;
  if (!net_up()) return WASI_ENETDOWN;
  struct ksock *s = sock_new(type);
  if (!s) return WASI_ENOMEM;
  net_enter();
  if (type == KSOCK_TCP) {
    s->tcp = tcp_new();
    if (s->tcp) tcp_setup(s);
  } else {
    s->udp = udp_new();
    if (s->udp) udp_recv(s->udp, on_udp_recv, s);
  }
  net_leave();
  if (!s->tcp && !s->udp) {
    ksock_close(s);
    return WASI_ENOBUFS;
  }
  *out = s;
  return 0;
}

int ksock_type(const struct ksock *s) { return s->type; }

static void to_ip(ip_addr_t *a, const uint8_t ip[4]) { IP4_ADDR(ip_2_ip4(a), ip[0], ip[1], ip[2], ip[3]); }
static void from_ip(uint8_t ip[4], const ip_addr_t *a) {
  uint32_t v = ip4_addr_get_u32(ip_2_ip4(a)); /* network order in memory */
  memcpy(ip, &v, 4);
}

int ksock_bind(struct ksock *s, const uint8_t ip[4], uint16_t port) {
  ip_addr_t a;
  to_ip(&a, ip);
  int r;
  net_enter();
  if (s->type == KSOCK_TCP) {
    if (!s->tcp || s->state != S_NEW) r = WASI_EINVAL;
    else {
      if (s->reuse) ip_set_option(s->tcp, SOF_REUSEADDR);
      r = map_err(tcp_bind(s->tcp, &a, port));
      if (r == WASI_EINVAL) r = WASI_EADDRINUSE; /* lwIP says ERR_VAL for a port in use too */
    }
  } else {
    if (s->reuse) ip_set_option(s->udp, SOF_REUSEADDR);
    r = map_err(udp_bind(s->udp, &a, port));
  }
  if (r == 0) s->state = S_BOUND;
  net_leave();
  return r;
}

int ksock_listen(struct ksock *s, int backlog) {
  if (s->type != KSOCK_TCP) return WASI_ENOTSUP;
  if (s->state == S_LISTEN) return 0;
  if (!s->tcp || (s->state != S_NEW && s->state != S_BOUND)) return WASI_EINVAL;
  int r = 0;
  net_enter();
  if (s->state == S_NEW) r = map_err(tcp_bind(s->tcp, IP_ADDR_ANY, 0));
  if (r == 0) {
    err_t e = ERR_OK;
    if (backlog <= 0 || backlog > 255) backlog = 255;
    struct tcp_pcb *l = tcp_listen_with_backlog_and_err(s->tcp, (u8_t)backlog, &e);
    if (!l) r = map_err(e);
    else {
      /* tcp_listen freed the original pcb and returned a smaller listening one. */
      s->tcp = l;
      s->state = S_LISTEN;
      tcp_arg(l, s);
      tcp_accept(l, on_accept);
      counts.listening++;
    }
  }
  net_leave();
  return r;
}

int ksock_listen_tcp(uint16_t port, struct ksock **out) {
  static const uint8_t any[4] = {0, 0, 0, 0};
  struct ksock *s;
  int r = ksock_open(KSOCK_TCP, &s);
  if (r) return r;
  s->reuse = 1;
  if ((r = ksock_bind(s, any, port)) || (r = ksock_listen(s, 255))) {
    ksock_close(s);
    return r;
  }
  *out = s;
  return 0;
}

int ksock_accept(struct ksock *s, int nonblock, struct ksock **out) {
  if (s->type != KSOCK_TCP || s->state != S_LISTEN) return WASI_EINVAL;
  int r;
  uint64_t deadline = deadline_of(s->rcvtimeo_ms);
  net_enter();
  sock_hold(s);
  net_poll();
  for (;;) {
    if (s->acc_head) {
      struct ksock *c = s->acc_head;
      s->acc_head = c->acc_next;
      if (!s->acc_head) s->acc_tail = NULL;
      c->acc_next = NULL;
      s->acc_n--;
      counts.pending_accept--;
      counts.accepted++;
      if (c->tcp) tcp_backlog_accepted(c->tcp);
      *out = c;
      r = 0;
      break;
    }
    if (s->closed) { r = WASI_EBADF; break; }
    if (!s->tcp) { r = s->err ? s->err : WASI_EINVAL; break; }
    if (nonblock || expired(deadline)) { r = WASI_EAGAIN; break; }
    net_wait_word(&s->wake, deadline);
  }
  sock_put(s);
  net_leave();
  return r;
}

int ksock_connect(struct ksock *s, const uint8_t ip[4], uint16_t port, int nonblock) {
  ip_addr_t a;
  to_ip(&a, ip);
  int r = 0;
  net_enter();
  if (s->type == KSOCK_UDP) {
    r = map_err(udp_connect(s->udp, &a, port));
    if (r == 0) s->state = S_CONNECTED;
  } else if (s->state == S_CONNECTED) {
    r = WASI_EISCONN;
  } else if (s->state == S_CONNECTING) {
    r = WASI_EALREADY;
  } else if (!s->tcp || s->state == S_LISTEN) {
    /* A failed connect: its error once (the non-blocking caller's "connect again"), then
     * EINVAL: lwIP freed the pcb, so this socket cannot try again. */
    r = take_connect_err(s);
    if (!r) r = s->err && s->err != ERR_REPORTED_CONNECT && s->err != ERR_REPORTED_RESET ? s->err : WASI_EINVAL;
  } else {
    if (s->nodelay) tcp_nagle_disable(s->tcp);
    s->state = S_CONNECTING;
    r = map_err(tcp_connect(s->tcp, &a, port, on_connected));
    if (!r) counts.connects++;
    if (r) s->state = S_NEW;
    else if (nonblock) r = WASI_EINPROGRESS;
    else {
      uint64_t deadline = deadline_of(s->sndtimeo_ms);
      sock_hold(s);
      while (s->state == S_CONNECTING && s->tcp && !s->err && !s->closed && !expired(deadline))
        net_wait_word(&s->wake, deadline);
      if (s->closed) r = WASI_EBADF;
      else if (s->state == S_CONNECTING && s->tcp && !s->err) r = WASI_EINPROGRESS; /* timed out: goes on */
      else if (s->state != S_CONNECTED && !(r = take_connect_err(s))) r = WASI_ECONNREFUSED;
      sock_put(s);
    }
  }
  net_leave();
  return r;
}

/* Reopens pcb's window by n bytes (tcp_recved takes a u16). */
static void tcp_recved_n(struct tcp_pcb *pcb, size_t n) {
  while (n) {
    u16_t k = n > 0xffff ? 0xffff : (u16_t)n;
    tcp_recved(pcb, k);
    n -= k;
  }
}

/* TOTAL split evenly among the open TCP sockets. */
static size_t per_tcp_socket(size_t total) { return total / (counts.tcp_open ? counts.tcp_open : 1); }

/* Reopens s's window by the n bytes the app took, as far as its share of RX_TOTAL_SOFT among
 * the open TCP sockets allows: what its peer may send (rcv_wnd) and what it holds unread stay
 * within the share, so that together the windows promise little more than the sockets take.
 * An accepted connection's window starts at its share too (ksock_listen_wnd): at TCP_WND, 100
 * connections' windows promised 6 MiB to a receive path that takes 1 MiB before it refuses,
 * and the peers, their further segments dropped, stalled for their retransmission timeouts.
 * The rest is given back as the app reads on, in updates of RX_WND_MIN at least (lwIP sends
 * those at once); once the app has read everything, the window is at least RX_WND_MIN, sent
 * at once, so no peer waits for nothing. */
static void rx_reopen(struct ksock *s, size_t n) {
  s->rx_withheld += (uint32_t)n;
  if (!s->tcp || !s->rx_withheld) return;
  uint32_t share = (uint32_t)per_tcp_socket(RX_TOTAL_SOFT);
  if (share > TCP_WND) share = TCP_WND;
  uint32_t wnd = (uint32_t)s->tcp->rcv_wnd, used = wnd + s->rx_bytes, room = share > used ? share - used : 0;
  uint32_t give = s->rx_withheld < room ? s->rx_withheld : room;
  int starving = s->rx_bytes == 0 && wnd < RX_WND_MIN;
  if (starving && give < RX_WND_MIN - wnd)
    give = s->rx_withheld < RX_WND_MIN - wnd ? s->rx_withheld : RX_WND_MIN - wnd;
  else if (!starving && give < s->rx_withheld && give < RX_WND_MIN)
    return; /* later, in one update worth sending */
  s->rx_withheld -= give;
  tcp_recved_n(s->tcp, give);
  if (starving) {
    tcp_ack_now(s->tcp);
    tcp_output(s->tcp);
  }
}

/* Copies queued TCP bytes into iov from byte `skip` of it on; consumes them unless peek. */
static size_t tcp_take(struct ksock *s, const struct wasi_buf *iov, size_t n, size_t skip, int peek) {
  size_t done = 0, pos = 0;
  struct pbuf *p = s->rx_head;
  uint32_t off = s->rx_off;
  for (size_t i = 0; i < n && p; i++) {
    size_t start = 0;
    if (pos + iov[i].len <= skip) { pos += iov[i].len; continue; }
    if (skip > pos) start = skip - pos;
    pos += iov[i].len;
    while (start < iov[i].len && p) {
      size_t k = p->len - off;
      if (k > iov[i].len - start) k = iov[i].len - start;
      memcpy(iov[i].p + start, (uint8_t *)p->payload + off, k);
      start += k, off += (uint32_t)k, done += k;
      if (off == p->len) {
        struct pbuf *next = p->next;
        if (!peek) {
          p->next = NULL;
          pbuf_free(p);
          s->rx_head = next;
          if (!next) s->rx_tail = NULL, s->rx_room = 0;
        }
        p = next;
        off = 0;
      }
    }
  }
  if (!peek) {
    s->rx_off = off;
    s->rx_bytes -= (uint32_t)done;
    counts.rx_queued_bytes -= done;
    rx_reopen(s, done);
    /* Data refused while the queue was full is taken now, not at lwIP's next timer tick. A
     * FIN in it may end the stream (on_recv) or, after our own FIN, free the pcb (on_err). */
    if (done && s->tcp && s->tcp->refused_data) tcp_process_refused_data(s->tcp);
  }
  return done;
}

static int udp_take(struct ksock *s, const struct wasi_buf *iov, size_t n, int peek, size_t *done, int *trunc,
                    uint8_t from[4], uint16_t *port) {
  struct dgram *d = s->dq_head;
  size_t off = 0;
  for (size_t i = 0; i < n && off < d->p->tot_len; i++) {
    size_t k = d->p->tot_len - off;
    if (k > iov[i].len) k = iov[i].len;
    pbuf_copy_partial(d->p, iov[i].p, (u16_t)k, (u16_t)off);
    off += k;
  }
  *done = off;
  if (trunc) *trunc = off < d->p->tot_len;
  if (from) from_ip(from, &d->from);
  if (port) *port = d->port;
  if (!peek) {
    s->dq_head = d->next;
    if (!s->dq_head) s->dq_tail = NULL;
    s->dq_n--;
    pbuf_free(d->p);
    kfree(d);
  }
  return 0;
}

int ksock_recv(struct ksock *s, const struct wasi_buf *iov, size_t n, int flags, int nonblock, size_t *done,
               int *truncated, uint8_t from[4], uint16_t *from_port) {
  size_t want = 0;
  for (size_t i = 0; i < n; i++) want += iov[i].len;
  *done = 0;
  if (truncated) *truncated = 0;
  int r = 0;
  uint64_t deadline = deadline_of(s->rcvtimeo_ms);
  net_enter();
  sock_hold(s);
  net_poll();
  if (s->type == KSOCK_UDP) {
    while (!s->dq_head && !nonblock && !s->shut_rd && !s->closed && !expired(deadline))
      net_wait_word(&s->wake, deadline);
    if (s->closed) r = WASI_EBADF;
    else if (s->dq_head) r = udp_take(s, iov, n, flags & KSOCK_PEEK, done, truncated, from, from_port);
    else if (!s->shut_rd) r = WASI_EAGAIN;
  } else if (s->state == S_LISTEN || s->state == S_CONNECTING || s->state == S_NEW || s->state == S_BOUND) {
    r = take_connect_err(s);
    if (!r) r = s->state == S_CONNECTING && nonblock ? WASI_EAGAIN : WASI_ENOTCONN;
  } else {
    for (;;) {
      if (s->rx_bytes > 0 && !s->shut_rd) {
        *done += tcp_take(s, iov, n, *done, flags & KSOCK_PEEK);
        /* MSG_WAITALL: go on until the buffers are full or the stream ends. */
        if (!(flags & KSOCK_WAITALL) || (flags & KSOCK_PEEK) || *done == want || nonblock) break;
        continue;
      }
      /* Nothing queued. MSG_WAITALL with bytes taken already waits on like a plain receive;
       * it stops early only at end of stream, on an error or at the timeout. */
      if (s->rx_eof || s->shut_rd) break; /* end of stream: what was taken, maybe 0 bytes */
      if (s->err && *done > 0) break; /* the error shows on the next call */
      if (s->err) {
        /* A reset reports ECONNRESET once; after that the stream reads as ended. */
        r = s->err;
        if (s->err == WASI_ECONNRESET) s->err = ERR_REPORTED_RESET;
        if (r == ERR_REPORTED_RESET) r = 0;
        break;
      }
      if (s->closed) {
        r = WASI_EBADF;
        break;
      }
      if (!s->tcp) break;
      if (want == 0) break;
      if (nonblock || expired(deadline)) {
        if (*done == 0) r = WASI_EAGAIN;
        break;
      }
      net_wait_word(&s->wake, deadline);
    }
  }
  sock_put(s);
  net_leave();
  return r;
}

/* Bytes the connection may queue now: its send buffer's room, cut to a fair share when lwIP's
 * heap runs short (connections whose peers do not read would otherwise take all of it). */
static size_t tx_allowance(struct tcp_pcb *pcb) {
  /* snd_buf itself: tcp_sndbuf() caps it at 64 KiB (u16), which made an idle connection look
   * 64 KiB full and, with a peer window below 48 KiB, never writable again */
  size_t room = pcb->snd_buf;
  if (tcp_sndqueuelen(pcb) >= TCP_SND_QUEUELEN - 2) return 0;
  size_t used = lwip_stats.mem.used, queued = TCP_SND_BUF - room;
  /* Not much more than the peer's window: a peer that does not read (window 0) holds at
   * most TX_SHARE of the heap, one that reads gets its whole window's worth. */
  size_t limit = (size_t)pcb->snd_wnd + TX_SHARE;
  /* Together, connections queue at most half the heap, so that received data always finds
   * room to be copied: with 100 busy connections whose peers read (each allowed up to its
   * send buffer), sends held the heap and received segments were refused and dropped, which
   * stalled their peers for retransmission timeouts (bench/broker transfer 100/100). */
  size_t fair = per_tcp_socket(MEM_SIZE / 2);
  if (limit > fair) limit = fair > TX_SHARE_MIN ? fair : TX_SHARE_MIN;
  if (used > MEM_SIZE / 4 * 3) limit = TX_SHARE_MIN;
  if (limit > TCP_SND_BUF) limit = TCP_SND_BUF;
  if (queued >= limit) return 0;
  return room < limit - queued ? room : limit - queued;
}

/* Queues what the connection may take of iov (from byte `skip` on). `stable`: the bytes stay
 * valid and unchanged while the kernel runs, so lwIP references them (PBUF_ROM) instead of
 * copying them into its heap. */
static int tcp_try_send(struct ksock *s, const struct wasi_buf *iov, size_t n, size_t skip, int stable, size_t *sent) {
  *sent = 0;
  if (s->err == ERR_REPORTED_RESET) return WASI_EPIPE;
  if (s->err == WASI_ECONNRESET) {
    s->err = ERR_REPORTED_RESET;
    return WASI_ECONNRESET;
  }
  if (s->err) return s->err;
  if (s->shut_wr || !s->tcp) return WASI_EPIPE;
  size_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    size_t len = iov[i].len, off = 0;
    if (pos + len <= skip) { pos += len; continue; }
    if (skip > pos) off = skip - pos;
    pos += len;
    while (off < len) {
      size_t room = tx_allowance(s->tcp);
      if (room == 0) goto out;
      size_t k = len - off;
      if (k > room) k = room;
      if (k > 0xffff) k = 0xffff;
      int more = (off + k < len) || (i + 1 < n);
      err_t e = tcp_write(s->tcp, iov[i].p + off, (u16_t)k,
                          (stable ? 0 : TCP_WRITE_FLAG_COPY) | (more ? TCP_WRITE_FLAG_MORE : 0));
      if (e == ERR_MEM) goto out;
      if (e != ERR_OK) return map_err(e);
      if (stable) counts.sent_ref_bytes += k;
      else counts.sent_copied_bytes += k;
      off += k;
      *sent += k;
    }
  }
out:
  if (*sent) tcp_output(s->tcp);
  return 0;
}

/* A stream send: queues iov as the connection's bounds allow, waiting for room unless nonblock. */
static int tcp_send(struct ksock *s, const struct wasi_buf *iov, size_t n, size_t want, int nonblock, int stable,
                    size_t *done) {
  if (s->state != S_CONNECTED) {
    int r = take_connect_err(s);
    return r ? r : WASI_ENOTCONN;
  }
  uint64_t deadline = deadline_of(s->sndtimeo_ms);
  counts.sends++;
  int r = 0;
  sock_hold(s); /* a close in another thread while this one waits frees it at sock_put */
  for (;;) {
    size_t k = 0;
    r = s->closed ? WASI_EBADF : tcp_try_send(s, iov, n, *done, stable, &k);
    *done += k;
    if (r || *done == want) break;
    if (nonblock || expired(deadline)) {
      if (*done == 0) r = WASI_EAGAIN;
      break;
    }
    net_wait(deadline);
  }
  sock_put(s);
  if (r && *done) r = 0; /* report what went; the error shows on the next call */
  return r;
}

int ksock_send(struct ksock *s, const struct wasi_buf *iov, size_t n, int nonblock, size_t *done, const uint8_t *to,
               uint16_t to_port) {
  size_t want = 0;
  for (size_t i = 0; i < n; i++) want += iov[i].len;
  *done = 0;
  int r = 0;
  net_enter();
  if (s->type == KSOCK_UDP) {
    if (s->shut_wr) r = WASI_EPIPE;
    else if (want > 65507) r = WASI_EMSGSIZE;
    else if (!to && s->state != S_CONNECTED) r = WASI_EDESTADDRREQ;
    else {
      struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)want, PBUF_RAM);
      if (!p) r = WASI_ENOBUFS;
      else {
        size_t off = 0;
        for (size_t i = 0; i < n; i++) {
          pbuf_take_at(p, iov[i].p, (u16_t)iov[i].len, (u16_t)off);
          off += iov[i].len;
        }
        err_t e;
        if (to) {
          ip_addr_t a;
          to_ip(&a, to);
          e = udp_sendto(s->udp, p, &a, to_port);
        } else {
          e = udp_send(s->udp, p);
        }
        pbuf_free(p);
        r = map_err(e);
        if (r == 0) *done = want;
      }
    }
  } else {
    r = tcp_send(s, iov, n, want, nonblock, 0, done);
  }
  virtio_net_flush();
  net_leave();
  return r;
}

int ksock_send_stable(struct ksock *s, const uint8_t *p, size_t len, int nonblock, size_t *done) {
  struct wasi_buf iov = {(uint8_t *)p, len};
  *done = 0;
  int r;
  net_enter();
  if (s->type != KSOCK_TCP) r = WASI_ENOTSUP;
  else r = tcp_send(s, &iov, 1, len, nonblock, 1, done);
  virtio_net_flush();
  net_leave();
  return r;
}

int ksock_shutdown(struct ksock *s, int how) {
  int r = 0;
  net_enter();
  if (s->type == KSOCK_TCP && s->state != S_CONNECTED) r = WASI_ENOTCONN;
  else {
    if (how & 1) {
      s->shut_rd = 1;
      sock_wake(s); /* a receive blocked in another thread ends */
      /* Drop what is queued; the window reopens so the peer is not stalled. */
      size_t n = s->rx_bytes;
      while (s->rx_head) {
        struct pbuf *p = s->rx_head;
        s->rx_head = p->next;
        p->next = NULL;
        pbuf_free(p);
      }
      s->rx_tail = NULL, s->rx_off = 0, s->rx_bytes = 0, s->rx_room = 0;
      counts.rx_queued_bytes -= n;
      if (s->tcp) tcp_recved_n(s->tcp, n);
    }
    if ((how & 2) && !s->shut_wr) {
      s->shut_wr = 1;
      if (s->type == KSOCK_TCP && s->tcp) {
        r = map_err(tcp_shutdown(s->tcp, 0, 1));
        maybe_detach(s);
      }
    }
  }
  virtio_net_flush();
  net_leave();
  return r;
}

void ksock_close(struct ksock *s) {
  if (!s) return;
  net_enter();
  if (s->type == KSOCK_TCP) {
    if (s->state == S_LISTEN) {
      /* Connections nobody accepted are reset. */
      while (s->acc_head) {
        struct ksock *c = s->acc_head;
        s->acc_head = c->acc_next;
        counts.pending_accept--;
        if (c->tcp) {
          struct tcp_pcb *pcb = c->tcp;
          tcp_detach(c);
          tcp_abort(pcb);
        }
        c->state = S_NEW;
        ksock_close(c);
      }
      if (s->tcp) counts.listening--;
    }
    while (s->rx_head) {
      struct pbuf *p = s->rx_head;
      s->rx_head = p->next;
      p->next = NULL;
      pbuf_free(p);
    }
    counts.rx_queued_bytes -= s->rx_bytes;
    if (s->tcp) {
      struct tcp_pcb *pcb = s->tcp;
      /* What the app read is all taken, though not all reopened: lwIP resets, rather than
       * closes, a connection whose window lacks bytes (unread data). */
      tcp_recved_n(pcb, s->rx_withheld);
      s->rx_withheld = 0;
      tcp_detach(s);
      if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
    }
    counts.tcp_open--;
  } else {
    while (s->dq_head) {
      struct dgram *d = s->dq_head;
      s->dq_head = d->next;
      pbuf_free(d->p);
      kfree(d);
    }
    if (s->udp) udp_remove(s->udp);
    counts.udp_open--;
  }
  counts.open--;
  if (s->all_prev) s->all_prev->all_next = s->all_next;
  else all_socks = s->all_next;
  if (s->all_next) s->all_next->all_prev = s->all_prev;
  virtio_net_flush();
  /* Another thread blocked in a call on it: it wakes, sees closed, and frees it last. */
  s->closed = 1;
  int in_use = s->users > 0;
  if (in_use) sock_wake(s);
  net_leave();
  if (!in_use) kfree(s);
}

int ksock_poll(struct ksock *s, int events, uint64_t *nbytes, int *hangup) {
  int ready = 0;
  *nbytes = 0;
  *hangup = 0;
  counts.polls++;
  net_enter();
  net_poll();
  if (s->type == KSOCK_UDP) {
    if (events == 1) {
      ready = s->dq_head != NULL;
      if (ready) *nbytes = s->dq_head->p->tot_len;
    } else {
      ready = 1;
      *nbytes = 65507;
    }
  } else if (s->state == S_LISTEN) {
    ready = events == 1 && (s->acc_head != NULL || !s->tcp);
    *nbytes = s->acc_n;
  } else {
    int dead = s->err || (!s->tcp && s->state != S_NEW && s->state != S_BOUND);
    *hangup = s->rx_eof || dead;
    if (events == 1) {
      ready = s->rx_bytes > 0 || s->rx_eof || s->shut_rd || dead;
      *nbytes = s->rx_bytes;
    } else if (s->state == S_CONNECTED) {
      size_t room = s->tcp ? tx_allowance(s->tcp) : 0;
      ready = room > 0 || dead || s->shut_wr;
      *nbytes = room;
    } else {
      ready = dead;
    }
  }
  net_leave();
  return ready;
}

int ksock_addr(struct ksock *s, int peer, uint8_t ip[4], uint16_t *port) {
  int r = 0;
  net_enter();
  if (s->type == KSOCK_TCP) {
    if (!s->tcp) r = peer ? WASI_ENOTCONN : 0, memset(ip, 0, 4), *port = 0;
    else if (peer && s->state != S_CONNECTED) r = WASI_ENOTCONN;
    else {
      from_ip(ip, peer ? &s->tcp->remote_ip : &s->tcp->local_ip);
      *port = peer ? s->tcp->remote_port : s->tcp->local_port;
    }
  } else {
    if (peer && s->state != S_CONNECTED) r = WASI_ENOTCONN;
    else {
      from_ip(ip, peer ? &s->udp->remote_ip : &s->udp->local_ip);
      *port = peer ? s->udp->remote_port : s->udp->local_port;
    }
  }
  net_leave();
  return r;
}

int ksock_setopt(struct ksock *s, int opt, int value) {
  net_enter();
  int r = 0;
  switch (opt) {
  case KSOCK_OPT_REUSEADDR:
    s->reuse = !!value;
    if (s->tcp) { if (value) ip_set_option(s->tcp, SOF_REUSEADDR); else ip_reset_option(s->tcp, SOF_REUSEADDR); }
    if (s->udp) { if (value) ip_set_option(s->udp, SOF_REUSEADDR); else ip_reset_option(s->udp, SOF_REUSEADDR); }
    break;
  case KSOCK_OPT_KEEPALIVE:
    s->keepalive = !!value;
    if (s->tcp) { if (value) ip_set_option(s->tcp, SOF_KEEPALIVE); else ip_reset_option(s->tcp, SOF_KEEPALIVE); }
    break;
  case KSOCK_OPT_NODELAY:
    if (s->type != KSOCK_TCP) { r = WASI_ENOPROTOOPT; break; }
    s->nodelay = !!value;
    if (s->tcp) { if (value) tcp_nagle_disable(s->tcp); else tcp_nagle_enable(s->tcp); }
    break;
  case KSOCK_OPT_RCVTIMEO: s->rcvtimeo_ms = value < 0 ? 0 : (uint32_t)value; break;
  case KSOCK_OPT_SNDTIMEO: s->sndtimeo_ms = value < 0 ? 0 : (uint32_t)value; break;
  case KSOCK_OPT_RCVBUF: case KSOCK_OPT_SNDBUF: case KSOCK_OPT_LINGER:
    break; /* fixed by the stack's configuration; accepted and ignored, as many stacks do */
  default:
    r = WASI_ENOPROTOOPT;
  }
  net_leave();
  return r;
}

int ksock_getopt(struct ksock *s, int opt, int *value) {
  switch (opt) {
  case KSOCK_OPT_REUSEADDR: *value = s->reuse; return 0;
  case KSOCK_OPT_KEEPALIVE: *value = s->keepalive; return 0;
  case KSOCK_OPT_NODELAY: *value = s->nodelay; return 0;
  case KSOCK_OPT_RCVBUF: *value = TCP_WND; return 0;
  case KSOCK_OPT_SNDBUF: *value = TCP_SND_BUF; return 0;
  case KSOCK_OPT_TYPE: *value = s->type; return 0;
  case KSOCK_OPT_ACCEPTCONN: *value = s->state == S_LISTEN; return 0;
  case KSOCK_OPT_LINGER: *value = 0; return 0;
  case KSOCK_OPT_RCVTIMEO: *value = (int)s->rcvtimeo_ms; return 0;
  case KSOCK_OPT_SNDTIMEO: *value = (int)s->sndtimeo_ms; return 0;
  case KSOCK_OPT_ERROR: {
    /* A failed connect's error is consumed, as Linux's SO_ERROR does; a reset's stays for recv. */
    net_enter();
    int e = take_connect_err(s);
    net_leave();
    *value = e ? e : (s->err == ERR_REPORTED_RESET || s->err == ERR_REPORTED_CONNECT) ? 0 : s->err;
    return 0;
  }
  default: return WASI_ENOPROTOOPT;
  }
}

void ksock_counts(struct ksock_counts *c) { *c = counts; }

/* Data lwIP still holds for some connection: not yet sent, or sent and not acknowledged (a
 * FIN is a segment too). */
static int tcp_pending(uint64_t *bytes) {
  int n = 0;
  *bytes = 0;
  for (struct tcp_pcb *p = tcp_active_pcbs; p; p = p->next)
    if (p->unsent || p->unacked) {
      n++;
      *bytes += (u32_t)(p->snd_lbb - p->lastack) + 1; /* + 1: a FIN still to go counts */
    }
  return n;
}

int ksock_drain_all(uint64_t stall_ns, uint64_t max_ns) {
  net_enter();
  for (struct ksock *s = all_socks; s; s = s->all_next) {
    if (s->type != KSOCK_TCP || !s->tcp) continue;
    if (s->state == S_LISTEN) {
      /* No new connections: unaccepted ones are reset when the machine stops anyway. */
      struct tcp_pcb *l = s->tcp;
      tcp_detach(s);
      tcp_close(l);
      counts.listening--;
    } else if (s->state == S_CONNECTED && !s->shut_wr) {
      /* As a process's exit closes its sockets: FIN after the queued data. A shutdown rather
       * than a close, so unread received data does not turn it into a reset. */
      s->shut_wr = 1;
      tcp_shutdown(s->tcp, 0, 1);
      maybe_detach(s);
    }
  }
  net_poll();
  uint64_t t0 = time_ns(), last = t0, bytes, before = ~0ull;
  int left;
  while ((left = tcp_pending(&bytes))) {
    uint64_t now = time_ns();
    if (bytes < before) before = bytes, last = now;
    if (now - last >= stall_ns || now - t0 >= max_ns) break;
    uint64_t until = last + stall_ns < t0 + max_ns ? last + stall_ns : t0 + max_ns;
    net_wait(until);
  }
  net_leave();
  return left;
}
