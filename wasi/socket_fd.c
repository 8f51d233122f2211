/* wasi/socket_fd.c — socket fds: the ops behind preview1's sock_accept/recv/send/shutdown (whose
 * pointer checks live in wasi/preview1_sock.c) and fd_read/fd_write/poll_oneoff/fd_close on sockets,
 * the runtime's preopened listening sockets (`listen=tcp:PORT`), and the WasmEdge socket
 * extension. The network itself is net/ksock.h (lwIP in the kernel; host/net_plat.c hosted).
 *
 * Imports implemented here (module wasi_snapshot_preview1; all parameters i32, result errno):
 *   sock_open(af, socktype, *fd)                                 iii_i
 *       af: 1 INET4 (0 UNSPEC taken as INET4; 2 INET6 -> EAFNOSUPPORT);
 *       socktype: 1 DGRAM, 2 STREAM (0 ANY -> STREAM)
 *   sock_bind(fd, *addr, port)                                   iii_i
 *   sock_connect(fd, *addr, port)                                iii_i
 *       addr -> {u32 buf, u32 buf_len}; buf_len 4: the IPv4 octets; 16: IPv6 (EAFNOSUPPORT);
 *       128: {u16 family @0, octets @2..5} (WasmEdge's "v2" layout)
 *   sock_listen(fd, backlog)                                     ii_i
 *   sock_accept(fd, *newfd)                                      ii_i   (WasmEdge; preview1's
 *       sock_accept(fd, flags, *newfd) iii_i is in wasi/preview1_sock.c and lands in sock_accept_op)
 *   sock_recv_from(fd, *iovs, n, *addr, riflags, *port, *nread, *roflags)  iiiiiiii_i
 *   sock_recv_from(fd, *iovs, n, *addr, riflags, *nread, *roflags)         iiiiiii_i (older)
 *   sock_send_to(fd, *iovs, n, *addr, port, siflags, *nsent)     iiiiiii_i
 *   sock_getlocaladdr(fd, *addr, *addr_type, *port)              iiii_i
 *   sock_getpeeraddr(fd, *addr, *addr_type, *port)               iiii_i
 *   sock_getlocaladdr(fd, *addr, *port) / sock_getpeeraddr(...)  iii_i (newer, type in the addr)
 *   sock_setsockopt(fd, level, name, *value, size)               iiiii_i
 *   sock_getsockopt(fd, level, name, *value, *size)              iiiii_i
 *       level 0 SOL_SOCKET: name 0 REUSEADDR, 1 TYPE, 2 ERROR, 5 SNDBUF, 6 RCVBUF,
 *       7 KEEPALIVE, 9 LINGER, 11 RCVTIMEO, 12 SNDTIMEO, 13 ACCEPTCONN; level 6 IPPROTO_TCP:
 *       name 1 TCP_NODELAY. Values are an i32, the timeouts a timeval {i64 sec, i64 usec}
 *       (16 bytes; all zero: no timeout); a blocking call that times out returns EAGAIN.
 *   sock_getaddrinfo(*node, node_len, *service, service_len, *hints, *res, max, *res_len)
 *                                                                iiiiiiii_i
 *       numeric IPv4 and "localhost" only (there is no resolver in the kernel).
 * sock_recv, sock_send and sock_shutdown have the same signature in both APIs: wasi/preview1_sock.c.
 *
 * Kiln's own extension (module kiln):
 *   sendfile(out_fd, in_fd, offset: i64, count, *nsent)          iiIii_i
 *       sends up to count bytes of file in_fd from offset (its file offset does not move, as
 *       with fd_pread) on stream socket out_fd, blocking unless out_fd is non-blocking;
 *       *nsent: bytes sent (0 at or past the end). Only files packed into the VM image, which
 *       never change in place: the network stack sends their bytes without copying them
 *       (a file the app has written, a volume's, or any file hosted: ENOTSUP, read and send
 *       it instead). Rights: FD_READ and FD_SEEK on in_fd, FD_WRITE on out_fd.
 */
#include "net/ksock.h"
#include "wasi/socket_fd.h"
#include "wasi/wasi_int.h"

#define NONBLOCK(f) (((f)->fdflags & WASI_FDFLAG_NONBLOCK) != 0)
#define SOCK(f) ((struct ksock *)(f)->priv)
#define SOCK_RIGHTS                                                                                          \
  (WASI_RIGHT(WASI_R_FD_READ) | WASI_RIGHT(WASI_R_FD_WRITE) | WASI_RIGHT(WASI_R_FD_FDSTAT_SET_FLAGS) |       \
   WASI_RIGHT(WASI_R_FD_FILESTAT_GET) | WASI_RIGHT(WASI_R_POLL_FD_READWRITE) |                               \
   WASI_RIGHT(WASI_R_SOCK_SHUTDOWN) | WASI_RIGHT(WASI_R_SOCK_ACCEPT))

static int op_read(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, size_t *done) {
  return ksock_recv(SOCK(f), iov, n, 0, NONBLOCK(f), done, NULL, NULL, NULL);
}
static int op_write(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, size_t *done) {
  return ksock_send(SOCK(f), iov, n, NONBLOCK(f), done, NULL, 0);
}
static void op_close(struct wasi_state *st, struct wasi_fd *f) {
  ksock_close(SOCK(f));
  f->priv = NULL;
}
static int op_poll(struct wasi_state *st, struct wasi_fd *f, int events, uint64_t *nbytes, int *hangup) {
  return ksock_poll(SOCK(f), events, nbytes, hangup);
}
static int op_recv(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, uint16_t riflags,
                   size_t *done, uint16_t *roflags) {
  if (riflags & ~3u) return WASI_EINVAL;
  int trunc = 0;
  int e = ksock_recv(SOCK(f), iov, n, riflags, NONBLOCK(f), done, &trunc, NULL, NULL);
  *roflags = trunc ? 1 : 0; /* RECV_DATA_TRUNCATED */
  return e;
}
static int op_send(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, uint16_t siflags,
                   size_t *done) {
  return ksock_send(SOCK(f), iov, n, NONBLOCK(f), done, NULL, 0);
}
static int op_shutdown(struct wasi_state *st, struct wasi_fd *f, uint8_t how) {
  return ksock_shutdown(SOCK(f), how);
}
static int op_accept(struct wasi_state *st, struct wasi_fd *f, uint16_t flags, uint32_t *newfd);

static const struct wasi_fd_ops tcp_ops = {
    .filetype = WASI_FILETYPE_SOCKET_STREAM,
    .read = op_read, .write = op_write, .close = op_close, .poll = op_poll,
    .sock_accept = op_accept, .sock_recv = op_recv, .sock_send = op_send, .sock_shutdown = op_shutdown,
};
static const struct wasi_fd_ops udp_ops = {
    .filetype = WASI_FILETYPE_SOCKET_DGRAM,
    .read = op_read, .write = op_write, .close = op_close, .poll = op_poll,
    .sock_recv = op_recv, .sock_send = op_send, .sock_shutdown = op_shutdown,
};

/* A new fd for socket s (closed on failure). */
static int sock_fd_new(struct wasi_state *st, struct ksock *s, uint16_t fdflags, uint32_t *fd) {
  const struct wasi_fd_ops *ops = ksock_type(s) == KSOCK_TCP ? &tcp_ops : &udp_ops;
  int e = wasi_fd_new(st, WASI_FD_SOCKET, ops, s, SOCK_RIGHTS, 0, fd);
  if (e) {
    ksock_close(s);
    return e;
  }
  wasi_fd_get(st, *fd)->fdflags = fdflags;
  return 0;
}

static int op_accept(struct wasi_state *st, struct wasi_fd *f, uint16_t flags, uint32_t *newfd) {
  struct ksock *c;
  int e = ksock_accept(SOCK(f), NONBLOCK(f), &c);
  if (e) return e;
  return sock_fd_new(st, c, flags & WASI_FDFLAG_NONBLOCK, newfd);
}

/* The listening sockets wasi_sock_preopen_listen opened, so that a restart in place keeps
 * them (wasi_sock_keep_listeners) and the next state gets them back instead of new ones:
 * connections that arrive meanwhile wait in their backlog, none is refused. */
#define PREOPEN_MAX 16
static struct {
  struct ksock *s; /* NULL: a free entry */
  uint16_t port;
  uint8_t kept; /* taken out of a state, waiting for the next one */
} preopened[PREOPEN_MAX];

static int listener_for(uint16_t port, struct ksock **out) {
  for (int i = 0; i < PREOPEN_MAX; i++)
    if (preopened[i].s && preopened[i].kept && preopened[i].port == port) {
      preopened[i].kept = 0;
      *out = preopened[i].s;
      return 0;
    }
  int e = ksock_listen_tcp(port, out);
  if (e) return e;
  for (int i = 0; i < PREOPEN_MAX; i++)
    if (!preopened[i].s) {
      preopened[i].s = *out, preopened[i].port = port, preopened[i].kept = 0;
      break;
    }
  return 0;
}

int wasi_sock_keep_listeners(struct wasi_state *st) {
  int kept = 0;
  for (int i = 0; i < PREOPEN_MAX; i++) {
    if (!preopened[i].s || preopened[i].kept) continue;
    struct wasi_fd *found = NULL;
    for (uint32_t fd = 0; fd < st->nfds && !found; fd++)
      if (st->fds[fd].kind == WASI_FD_SOCKET && st->fds[fd].priv == preopened[i].s) found = &st->fds[fd];
    /* Still the listener on its port (the app may have closed it, and a new socket may sit
     * at the same address): then it leaves the state unclosed. */
    int listening = 0;
    uint8_t ip[4];
    uint16_t port = 0;
    if (found && !ksock_getopt(preopened[i].s, KSOCK_OPT_ACCEPTCONN, &listening) && listening &&
        !ksock_addr(preopened[i].s, 0, ip, &port) && port == preopened[i].port) {
      memset(found, 0, sizeof *found);
      preopened[i].kept = 1;
      kept++;
    } else {
      preopened[i].s = NULL; /* closed by the app, or closed with this state */
    }
  }
  return kept;
}

int wasi_sock_preopen_listen(struct wasi_state *st, const char *spec, uint32_t *fd) {
  /* "tcp:PORT" (a list separated by commas opens several, in order). */
  while (*spec) {
    if (spec[0] != 't' || spec[1] != 'c' || spec[2] != 'p' || spec[3] != ':') return WASI_EINVAL;
    spec += 4;
    uint32_t port = 0;
    int digits = 0;
    for (; *spec >= '0' && *spec <= '9' && port <= 65535; spec++, digits++) port = port * 10 + (uint32_t)(*spec - '0');
    if (!digits || port == 0 || port > 65535 || (*spec && *spec != ',')) return WASI_EINVAL;
    if (*spec == ',') spec++;
    struct ksock *s;
    int e = listener_for((uint16_t)port, &s);
    if (e) return e;
    if ((e = sock_fd_new(st, s, 0, fd))) return e;
  }
  return 0;
}

/* ---- the WasmEdge extension ---- */

static int sock_get(struct wasi_state *st, int32_t fd, struct wasi_fd **out) {
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  if (f->kind != WASI_FD_SOCKET || !f->priv || (f->ops != &tcp_ops && f->ops != &udp_ops)) return WASI_ENOTSOCK;
  *out = f;
  return 0;
}

/* Reads a WasmEdge address {u32 buf, u32 buf_len} into ip. */
static int addr_in(kiln_instance *ctx, int32_t paddr, uint8_t ip[4]) {
  const uint8_t *a = wasi_guest_ptr(ctx, (uint32_t)paddr, 8);
  if (!a) return WASI_EFAULT;
  uint32_t buf = wasi_ld32(a), len = wasi_ld32(a + 4);
  if (len != 4 && len != 16 && len != 128) return WASI_EINVAL;
  const uint8_t *b = wasi_guest_ptr(ctx, buf, len);
  if (!b) return WASI_EFAULT;
  if (len == 16) return WASI_EAFNOSUPPORT;
  if (len == 128) {
    uint16_t fam = wasi_ld16(b);
    if (fam != 1 && fam != 0) return WASI_EAFNOSUPPORT;
    b += 2;
  }
  memcpy(ip, b, 4);
  return 0;
}

/* Writes ip into a WasmEdge address whose buffer the guest provides. */
static int addr_out(kiln_instance *ctx, int32_t paddr, const uint8_t ip[4]) {
  const uint8_t *a = wasi_guest_ptr(ctx, (uint32_t)paddr, 8);
  if (!a) return WASI_EFAULT;
  uint32_t buf = wasi_ld32(a), len = wasi_ld32(a + 4);
  uint8_t *b = wasi_guest_ptr(ctx, buf, len);
  if (!b) return WASI_EFAULT;
  if (len >= 128) {
    memset(b, 0, 128);
    wasi_st16(b, 1); /* INET4 */
    memcpy(b + 2, ip, 4);
  } else if (len >= 4) {
    memcpy(b, ip, 4);
  } else {
    return WASI_EINVAL;
  }
  return 0;
}

int32_t WASI_FN(sock_open, iii_i)(kiln_instance *ctx, int32_t af, int32_t type, int32_t pfd) {
  struct wasi_state *st = WASI_STATE(ctx);
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pfd, 4);
  if (!out) return WASI_EFAULT;
  if (af == 2) return WASI_EAFNOSUPPORT;
  if (af != 0 && af != 1) return WASI_EINVAL;
  int kt;
  if (type == 1) kt = KSOCK_UDP;
  else if (type == 2 || type == 0) kt = KSOCK_TCP;
  else return WASI_EINVAL;
  struct ksock *s;
  int e = ksock_open(kt, &s);
  if (e) return e;
  uint32_t fd;
  if ((e = sock_fd_new(st, s, 0, &fd))) return e;
  wasi_st32(out, fd);
  return 0;
}

int32_t WASI_FN(sock_bind, iii_i)(kiln_instance *ctx, int32_t fd, int32_t paddr, int32_t port) {
  struct wasi_fd *f;
  uint8_t ip[4];
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e || (e = addr_in(ctx, paddr, ip))) return e;
  if ((uint32_t)port > 65535) return WASI_EINVAL;
  return ksock_bind(SOCK(f), ip, (uint16_t)port);
}

int32_t WASI_FN(sock_connect, iii_i)(kiln_instance *ctx, int32_t fd, int32_t paddr, int32_t port) {
  struct wasi_fd *f;
  uint8_t ip[4];
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e || (e = addr_in(ctx, paddr, ip))) return e;
  if ((uint32_t)port > 65535) return WASI_EINVAL;
  return ksock_connect(SOCK(f), ip, (uint16_t)port, NONBLOCK(f));
}

int32_t WASI_FN(sock_listen, ii_i)(kiln_instance *ctx, int32_t fd, int32_t backlog) {
  struct wasi_fd *f;
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e) return e;
  return ksock_listen(SOCK(f), backlog);
}

int32_t WASI_FN(sock_accept, ii_i)(kiln_instance *ctx, int32_t fd, int32_t pfd) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f;
  int e = sock_get(st, fd, &f);
  if (e) return e;
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pfd, 4);
  if (!out) return WASI_EFAULT;
  uint32_t nfd;
  /* WasmEdge's accepted sockets inherit the listener's non-blocking mode. */
  if ((e = op_accept(st, f, f->fdflags & WASI_FDFLAG_NONBLOCK, &nfd))) return e;
  wasi_st32(out, nfd);
  return 0;
}

static int recv_from(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t paddr, int32_t riflags,
                     int32_t pport, int32_t pdone, int32_t proflags) {
  struct wasi_fd *f;
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e) return e;
  uint8_t *d = wasi_guest_ptr(ctx, (uint32_t)pdone, 4), *fl = wasi_guest_ptr(ctx, (uint32_t)proflags, 2);
  uint8_t *pp = pport >= 0 ? wasi_guest_ptr(ctx, (uint32_t)pport, 4) : NULL;
  if (!d || !fl || (pport >= 0 && !pp)) return WASI_EFAULT;
  if ((uint32_t)riflags & ~3u) return WASI_EINVAL;
  struct wasi_iovs v;
  if ((e = wasi_iovs_get(ctx, (uint32_t)iovs, (uint32_t)n, &v))) return e;
  size_t done = 0;
  int trunc = 0;
  uint8_t ip[4] = {0};
  uint16_t port = 0;
  e = ksock_recv(SOCK(f), v.v, v.n, riflags, NONBLOCK(f), &done, &trunc, ip, &port);
  wasi_iovs_free(&v);
  if (e) return e;
  if (ksock_type(SOCK(f)) == KSOCK_TCP) ksock_addr(SOCK(f), 1, ip, &port);
  if ((e = addr_out(ctx, paddr, ip))) return e;
  if (pp) wasi_st32(pp, port);
  wasi_st32(d, (uint32_t)done);
  wasi_st16(fl, trunc ? 1 : 0);
  return 0;
}

int32_t WASI_FN(sock_recv_from, iiiiiiii_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t paddr,
                                             int32_t riflags, int32_t pport, int32_t pdone, int32_t proflags) {
  return recv_from(ctx, fd, iovs, n, paddr, riflags, pport, pdone, proflags);
}

int32_t WASI_FN(sock_recv_from, iiiiiii_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t paddr,
                                            int32_t riflags, int32_t pdone, int32_t proflags) {
  return recv_from(ctx, fd, iovs, n, paddr, riflags, -1, pdone, proflags);
}

int32_t WASI_FN(sock_send_to, iiiiiii_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t paddr,
                                          int32_t port, int32_t siflags, int32_t pdone) {
  struct wasi_fd *f;
  uint8_t ip[4];
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e || (e = addr_in(ctx, paddr, ip))) return e;
  uint8_t *d = wasi_guest_ptr(ctx, (uint32_t)pdone, 4);
  if (!d) return WASI_EFAULT;
  if ((uint32_t)port > 65535) return WASI_EINVAL;
  struct wasi_iovs v;
  if ((e = wasi_iovs_get(ctx, (uint32_t)iovs, (uint32_t)n, &v))) return e;
  size_t done = 0;
  int tcp = ksock_type(SOCK(f)) == KSOCK_TCP;
  e = ksock_send(SOCK(f), v.v, v.n, NONBLOCK(f), &done, tcp ? NULL : ip, (uint16_t)port);
  wasi_iovs_free(&v);
  if (e) return e;
  wasi_st32(d, (uint32_t)done);
  return 0;
}

static int get_addr(kiln_instance *ctx, int32_t fd, int peer, int32_t paddr, int32_t ptype, int32_t pport) {
  struct wasi_fd *f;
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e) return e;
  uint8_t *pt = ptype >= 0 ? wasi_guest_ptr(ctx, (uint32_t)ptype, 4) : NULL;
  uint8_t *pp = wasi_guest_ptr(ctx, (uint32_t)pport, 4);
  if (!pp || (ptype >= 0 && !pt)) return WASI_EFAULT;
  uint8_t ip[4];
  uint16_t port;
  if ((e = ksock_addr(SOCK(f), peer, ip, &port))) return e;
  if ((e = addr_out(ctx, paddr, ip))) return e;
  if (pt) wasi_st32(pt, 4); /* address type: 4 (IPv4), as WasmEdge reports it */
  wasi_st32(pp, port);
  return 0;
}

int32_t WASI_FN(sock_getlocaladdr, iiii_i)(kiln_instance *ctx, int32_t fd, int32_t a, int32_t t, int32_t p) {
  return get_addr(ctx, fd, 0, a, t, p);
}
int32_t WASI_FN(sock_getpeeraddr, iiii_i)(kiln_instance *ctx, int32_t fd, int32_t a, int32_t t, int32_t p) {
  return get_addr(ctx, fd, 1, a, t, p);
}
int32_t WASI_FN(sock_getlocaladdr, iii_i)(kiln_instance *ctx, int32_t fd, int32_t a, int32_t p) {
  return get_addr(ctx, fd, 0, a, -1, p);
}
int32_t WASI_FN(sock_getpeeraddr, iii_i)(kiln_instance *ctx, int32_t fd, int32_t a, int32_t p) {
  return get_addr(ctx, fd, 1, a, -1, p);
}

static int opt_of(int32_t level, int32_t name) {
  if (level == 0) {
    switch (name) {
    case 0: return KSOCK_OPT_REUSEADDR;
    case 1: return KSOCK_OPT_TYPE;
    case 2: return KSOCK_OPT_ERROR;
    case 5: return KSOCK_OPT_SNDBUF;
    case 6: return KSOCK_OPT_RCVBUF;
    case 7: return KSOCK_OPT_KEEPALIVE;
    case 9: return KSOCK_OPT_LINGER;
    case 11: return KSOCK_OPT_RCVTIMEO;
    case 12: return KSOCK_OPT_SNDTIMEO;
    case 13: return KSOCK_OPT_ACCEPTCONN;
    }
  } else if (level == 6 && name == 1) {
    return KSOCK_OPT_NODELAY;
  }
  return -1;
}

int32_t WASI_FN(sock_setsockopt, iiiii_i)(kiln_instance *ctx, int32_t fd, int32_t level, int32_t name, int32_t pval,
                                           int32_t size) {
  struct wasi_fd *f;
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e) return e;
  if (size < 4) return WASI_EINVAL;
  const uint8_t *v = wasi_guest_ptr(ctx, (uint32_t)pval, (uint32_t)size);
  if (!v) return WASI_EFAULT;
  int opt = opt_of(level, name);
  if (opt < 0) return WASI_ENOPROTOOPT;
  if (opt == KSOCK_OPT_TYPE || opt == KSOCK_OPT_ERROR || opt == KSOCK_OPT_ACCEPTCONN) return WASI_EINVAL;
  if (opt == KSOCK_OPT_RCVTIMEO || opt == KSOCK_OPT_SNDTIMEO) {
    if (size != 16) return WASI_EINVAL;
    int64_t sec = (int64_t)wasi_ld64(v), usec = (int64_t)wasi_ld64(v + 8);
    if (sec < 0 || usec < 0 || usec >= 1000000) return WASI_EINVAL;
    uint64_t ms = (uint64_t)sec * 1000 + (uint64_t)(usec + 999) / 1000; /* rounded up: never early */
    if (sec > 86400 * 24) ms = 86400ull * 24 * 1000; /* an int of ms */
    return ksock_setopt(SOCK(f), opt, (int)ms);
  }
  return ksock_setopt(SOCK(f), opt, (int)wasi_ld32(v));
}

int32_t WASI_FN(sock_getsockopt, iiiii_i)(kiln_instance *ctx, int32_t fd, int32_t level, int32_t name, int32_t pval,
                                           int32_t psize) {
  struct wasi_fd *f;
  int e = sock_get(WASI_STATE(ctx), fd, &f);
  if (e) return e;
  uint8_t *ps = wasi_guest_ptr(ctx, (uint32_t)psize, 4);
  if (!ps) return WASI_EFAULT;
  uint32_t size = wasi_ld32(ps);
  uint8_t *v = wasi_guest_ptr(ctx, (uint32_t)pval, size);
  if (!v) return WASI_EFAULT;
  if (size < 4) return WASI_EINVAL;
  int opt = opt_of(level, name), val = 0;
  if (opt < 0) return WASI_ENOPROTOOPT;
  if ((e = ksock_getopt(SOCK(f), opt, &val))) return e;
  if (opt == KSOCK_OPT_RCVTIMEO || opt == KSOCK_OPT_SNDTIMEO) {
    if (size < 16) return WASI_EINVAL;
    wasi_st64(v, (uint64_t)(val / 1000));
    wasi_st64(v + 8, (uint64_t)(val % 1000) * 1000);
    wasi_st32(ps, 16);
    return 0;
  }
  if (opt == KSOCK_OPT_TYPE) val = val == KSOCK_TCP ? 2 : 1; /* WasmEdge's sock_type numbering */
  wasi_st32(v, (uint32_t)val);
  wasi_st32(ps, 4);
  return 0;
}

/* Parses a dotted-quad IPv4 address of exactly len bytes. */
static int parse_ip4(const char *s, size_t len, uint8_t ip[4]) {
  size_t i = 0;
  for (int part = 0; part < 4; part++) {
    uint32_t v = 0;
    int digits = 0;
    while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) v = v * 10 + (uint32_t)(s[i++] - '0'), digits++;
    if (!digits || v > 255) return -1;
    ip[part] = (uint8_t)v;
    if (part < 3 && (i >= len || s[i++] != '.')) return -1;
  }
  return i == len ? 0 : -1;
}

/* WasmEdge's __wasi_addrinfo_t (guest layout, 28 bytes): ai_flags u16 @0, ai_socktype u8 @2,
 * ai_protocol u8 @3, ai_addrlen u32 @4, ai_addr u32 @8 (-> __wasi_sockaddr_t), ai_canonname
 * u32 @12, ai_canonname_len u32 @16, ai_next u32 @20; __wasi_sockaddr_t: sa_family u16 @0,
 * sa_data_len u32 @4, sa_data u32 @8 (port big-endian, then the octets). The guest
 * preallocates the records; res points at the first record's address. */
int32_t WASI_FN(sock_getaddrinfo, iiiiiiii_i)(kiln_instance *ctx, int32_t pnode, int32_t nlen, int32_t psvc,
                                               int32_t slen, int32_t phints, int32_t pres, int32_t max,
                                               int32_t preslen) {
  const char *node = nlen ? wasi_guest_ptr(ctx, (uint32_t)pnode, (uint32_t)nlen) : "";
  const char *svc = slen ? wasi_guest_ptr(ctx, (uint32_t)psvc, (uint32_t)slen) : "";
  uint8_t *res = wasi_guest_ptr(ctx, (uint32_t)pres, 4), *rl = wasi_guest_ptr(ctx, (uint32_t)preslen, 4);
  if (!node || !svc || !res || !rl) return WASI_EFAULT;
  size_t nl = (size_t)nlen, sl = (size_t)slen;
  while (nl && node[nl - 1] == 0) nl--; /* some callers count the NUL */
  while (sl && svc[sl - 1] == 0) sl--;
  uint8_t ip[4] = {127, 0, 0, 1};
  if (nl == 9 && !memcmp(node, "localhost", 9)) {
  } else if (nl == 0) {
    const uint8_t *h = phints ? wasi_guest_ptr(ctx, (uint32_t)phints, 28) : NULL;
    if (h && (wasi_ld16(h) & 1)) memset(ip, 0, 4); /* AI_PASSIVE: the wildcard address */
  } else if (parse_ip4(node, nl, ip) != 0) {
    return WASI_ENOENT; /* no resolver: only numeric addresses and localhost */
  }
  uint32_t port = 0;
  for (size_t i = 0; i < sl; i++) {
    if (svc[i] < '0' || svc[i] > '9' || port > 65535) return WASI_EINVAL;
    port = port * 10 + (uint32_t)(svc[i] - '0');
  }
  if (port > 65535) return WASI_EINVAL;
  if (max < 1) {
    wasi_st32(rl, 0);
    return 0;
  }
  uint8_t *ai = wasi_guest_ptr(ctx, wasi_ld32(res), 24);
  if (!ai) return WASI_EFAULT;
  uint8_t *sa = wasi_guest_ptr(ctx, wasi_ld32(ai + 8), 12);
  if (!sa) return WASI_EFAULT;
  uint32_t dlen = wasi_ld32(sa + 4);
  uint8_t *data = wasi_guest_ptr(ctx, wasi_ld32(sa + 8), dlen);
  if (!data) return WASI_EFAULT;
  if (dlen < 6) return WASI_EINVAL;
  const uint8_t *h = phints ? wasi_guest_ptr(ctx, (uint32_t)phints, 28) : NULL;
  uint8_t socktype = h && h[2] ? h[2] : 2;
  wasi_st16(ai, 0);
  ai[2] = socktype;
  ai[3] = socktype == 1 ? 17 : 6;
  wasi_st32(ai + 4, 12);
  wasi_st32(ai + 16, 0);
  wasi_st32(ai + 20, 0);
  wasi_st16(sa, 1);
  wasi_st32(sa + 4, 6);
  data[0] = (uint8_t)(port >> 8), data[1] = (uint8_t)port;
  memcpy(data + 2, ip, 4);
  wasi_st32(rl, 1);
  return 0;
}

int32_t KILN_IMPORT(kiln, sendfile, iiIii_i)(kiln_instance *ctx, int32_t out_fd, int32_t in_fd, int64_t off,
                                             int32_t count, int32_t pnsent) {
  struct wasi_state *st = WASI_STATE(ctx);
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pnsent, 4);
  if (!out) return WASI_EFAULT;
  struct wasi_fd *s, *f = wasi_fd_get(st, (uint32_t)in_fd);
  if (!f) return WASI_EBADF;
  uint64_t need = WASI_RIGHT(WASI_R_FD_READ) | WASI_RIGHT(WASI_R_FD_SEEK);
  if (f->kind != WASI_FD_FILE) return f->kind == WASI_FD_DIR ? WASI_EISDIR : WASI_ESPIPE;
  if ((f->rights_base & need) != need) return WASI_ENOTCAPABLE;
  if (off < 0 || count < 0) return WASI_EINVAL;
  /* Image bytes (ro, never written in place: a write first copies the file) live as long as
   * the kernel; anything else could change or move while the stack still holds it. */
  struct wasi_node *n = f->node;
  if (f->vfs || !n || n->data || (!n->ro && n->size)) return WASI_ENOTSUP;
  int e = sock_get(st, out_fd, &s);
  if (e) return e;
  if (!(s->rights_base & WASI_RIGHT(WASI_R_FD_WRITE))) return WASI_ENOTCAPABLE;
  size_t len = (uint64_t)off >= n->size ? 0 : (size_t)(n->size - (uint64_t)off);
  if (len > (size_t)count) len = (size_t)count;
  size_t done = 0;
  if (len) e = ksock_send_stable(SOCK(s), n->ro + off, len, NONBLOCK(s), &done);
  if (!e) wasi_st32(out, (uint32_t)done);
  return e;
}

#ifndef WASI_KERNEL
int wasi_sock_io_shared(kiln_instance *ctx, int32_t fd) {
  struct wasi_fd *f = wasi_fd_get(WASI_STATE(ctx), (uint32_t)fd);
  return f && f->kind == WASI_FD_SOCKET && f->priv && (f->ops == &tcp_ops || f->ops == &udp_ops) &&
         ksock_io_concurrent(SOCK(f));
}

/* Hosted builds without host/net_plat.c linked in: no network (ENOSYS), but everything links.
 * host/net_plat.c defines the real ones (over the host's BSD sockets). */
#define WEAK __attribute__((weak))
WEAK int ksock_open(int type, struct ksock **out) { return WASI_ENOSYS; }
WEAK int ksock_listen_tcp(uint16_t port, struct ksock **out) { return WASI_ENOSYS; }
WEAK int ksock_bind(struct ksock *s, const uint8_t ip[4], uint16_t port) { return WASI_ENOSYS; }
WEAK int ksock_listen(struct ksock *s, int backlog) { return WASI_ENOSYS; }
WEAK int ksock_accept(struct ksock *s, int nonblock, struct ksock **out) { return WASI_ENOSYS; }
WEAK int ksock_connect(struct ksock *s, const uint8_t ip[4], uint16_t port, int nonblock) { return WASI_ENOSYS; }
WEAK int ksock_recv(struct ksock *s, const struct wasi_buf *iov, size_t n, int flags, int nonblock, size_t *done,
                    int *truncated, uint8_t from_ip[4], uint16_t *from_port) { return WASI_ENOSYS; }
WEAK int ksock_send(struct ksock *s, const struct wasi_buf *iov, size_t n, int nonblock, size_t *done,
                    const uint8_t *to_ip, uint16_t to_port) { return WASI_ENOSYS; }
WEAK int ksock_send_stable(struct ksock *s, const uint8_t *p, size_t len, int nonblock, size_t *done) {
  return WASI_ENOSYS;
}
WEAK int ksock_shutdown(struct ksock *s, int how) { return WASI_ENOSYS; }
WEAK void ksock_close(struct ksock *s) {}
WEAK int ksock_poll(struct ksock *s, int events, uint64_t *nbytes, int *hangup) { return 1; }
WEAK int ksock_addr(struct ksock *s, int peer, uint8_t ip[4], uint16_t *port) { return WASI_ENOSYS; }
WEAK int ksock_type(const struct ksock *s) { return KSOCK_TCP; }
WEAK int ksock_io_concurrent(const struct ksock *s) { return 0; }
WEAK int ksock_setopt(struct ksock *s, int opt, int value) { return WASI_ENOSYS; }
WEAK int ksock_getopt(struct ksock *s, int opt, int *value) { return WASI_ENOSYS; }
#endif
