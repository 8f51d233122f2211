/* host/net_plat.c — net/ksock.h for the hosted runtime, over the host's BSD sockets, so that
 * wasi/socket_fd.c (written once) gives a hosted app the same sockets as the kernel's lwIP.
 *
 * Every host fd is non-blocking until its TCP connection is established; a connected TCP
 * socket's is blocking, and its calls in non-blocking mode pass MSG_DONTWAIT. A blocking
 * receive or send without a deadline is then one blocking recvmsg/sendmsg, as in a native
 * program; with a deadline (SO_RCVTIMEO/SO_SNDTIMEO, or a restart policy's next check), and
 * for accept, connect and UDP, calls wait with poll(2) on their one fd until it passes, so
 * blocking, non-blocking mode and timeouts all come out as in net/ksock.c. A call lets the
 * WASI lock go while it waits, holding its socket: a close meanwhile shuts the socket down,
 * which wakes the call, and the last holder closes the host fd and frees it (the call then
 * fails with EBADF, as in the kernel), so the fd number is never reused under a call. We keep
 * our own connection state (as the kernel does) rather than trusting Linux for it, so the
 * errnos the guest sees are the kernel's: ENOTCONN before a connection, EAGAIN/EINPROGRESS
 * while one is under way, ECONNRESET once then end of stream and EPIPE, EDESTADDRREQ,
 * EMSGSIZE. poll_oneoff waits through net_plat_wait (host/host.h): each ksock_poll records
 * what the guest is waiting for, and the wait polls exactly those.
 * IPv4 TCP and UDP only, as the kernel. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/sockios.h>

#include "host/host.h"
#include "kernel/lifecycle.h"
#include "net/ksock.h"
#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

enum { S_NEW, S_BOUND, S_LISTEN, S_CONNECTING, S_CONNECTED };

struct ksock {
  int fd;
  uint8_t type, state;
  uint8_t shut_rd, shut_wr, reuse, nodelay, keepalive;
  uint8_t blocking; /* the host fd is blocking (a connected TCP socket) */
  uint8_t closed;   /* the guest closed it while calls held it; the last one frees it */
  int holders;      /* calls waiting with the WASI lock let go (atomic: they leave under a shared hold) */
  int err;        /* sticky WASI errno of a failed connect (the socket is then dead) */
  short interest; /* poll events the guest waited for since the last net_plat_wait */
  uint32_t rcvtimeo_ms, sndtimeo_ms;
  struct ksock *prev, *next; /* every open socket, for net_plat_wait */
};

static struct ksock *all;
static struct ksock_counts counts;
static uint8_t listen_ip[4] = {127, 0, 0, 1};

void net_plat_listen_addr(const uint8_t ip[4]) { memcpy(listen_ip, ip, 4); }

static int map_errno(int e) {
  switch (e) {
  case EAGAIN: return WASI_EAGAIN;
  case EACCES: case EPERM: return WASI_EACCES;
  case EADDRINUSE: return WASI_EADDRINUSE;
  case EADDRNOTAVAIL: return WASI_EADDRNOTAVAIL;
  case EAFNOSUPPORT: return WASI_EAFNOSUPPORT;
  case EALREADY: return WASI_EALREADY;
  case EINPROGRESS: return WASI_EINPROGRESS;
  case EISCONN: return WASI_EISCONN;
  case ENOTCONN: return WASI_ENOTCONN;
  case ECONNABORTED: return WASI_ECONNABORTED;
  case ECONNREFUSED: return WASI_ECONNREFUSED;
  case ECONNRESET: return WASI_ECONNRESET;
  case EPIPE: return WASI_EPIPE;
  case ETIMEDOUT: return WASI_ETIMEDOUT;
  case EHOSTUNREACH: case EHOSTDOWN: return WASI_EHOSTUNREACH;
  case ENETUNREACH: return WASI_ENETUNREACH;
  case ENETDOWN: return WASI_ENETDOWN;
  case ENETRESET: return WASI_ENETRESET;
  case EMSGSIZE: return WASI_EMSGSIZE;
  case EDESTADDRREQ: return WASI_EDESTADDRREQ;
  case ENOBUFS: return WASI_ENOBUFS;
  case ENOMEM: return WASI_ENOMEM;
  case EMFILE: return WASI_EMFILE;
  case ENFILE: return WASI_ENFILE;
  case EINVAL: return WASI_EINVAL;
  case ENOPROTOOPT: return WASI_ENOPROTOOPT;
  case EOPNOTSUPP: return WASI_ENOTSUP;
  case EPROTONOSUPPORT: return WASI_EPROTONOSUPPORT;
  case EINTR: return WASI_EINTR;
  default: return WASI_EIO;
  }
}

/* ---- time and waiting ---- */

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
static uint64_t deadline_of(uint32_t ms) { return ms ? now_ns() + (uint64_t)ms * 1000000ull : UINT64_MAX; }
static int expired(uint64_t deadline) { return deadline != UINT64_MAX && now_ns() >= deadline; }

static struct timespec *timeout_of(uint64_t deadline, struct timespec *ts) {
  if (deadline == UINT64_MAX) return NULL;
  uint64_t now = now_ns(), left = deadline > now ? deadline - now : 0;
  ts->tv_sec = (time_t)(left / 1000000000ull);
  ts->tv_nsec = (long)(left % 1000000000ull);
  return ts;
}

/* A call that lets the WASI lock go holds its socket (taken and left with the lock held:
 * ksock_close, which holds it whole, sees every holder). Leaving: WASI_EBADF when the socket
 * was closed meanwhile (then s may be gone), else 0. */
static void sock_hold(struct ksock *s) { __atomic_add_fetch(&s->holders, 1, __ATOMIC_RELAXED); }

static int sock_leave(struct ksock *s) {
  int closed = s->closed;
  if (__atomic_sub_fetch(&s->holders, 1, __ATOMIC_ACQ_REL) == 0 && closed) {
    close(s->fd);
    free(s);
  }
  return closed ? WASI_EBADF : 0;
}

/* Blocks until s shows one of events (or an error/hang-up) or the deadline passes; 0, or
 * WASI_EBADF when s was closed meanwhile. */
static int wait_fd(struct ksock *s, short events, uint64_t deadline) {
  life_restart_point(); /* a policy restart stops a waiting instance here */
  if (life_next_ns() < deadline) deadline = life_next_ns();
  struct pollfd p = {.fd = s->fd, .events = events};
  struct timespec ts;
  sock_hold(s);
  int released = host_wasi_release(); /* other threads' WASI calls go on meanwhile */
  ppoll(&p, 1, timeout_of(deadline, &ts), NULL);
  host_wasi_reacquire(released);
  return sock_leave(s);
}

/* Whether a blocking call on s may block in the host's recvmsg/sendmsg itself: its fd is
 * blocking and nothing limits the wait (no socket timeout, no restart policy check due). */
static int may_block(const struct ksock *s, int nonblock, uint64_t deadline) {
  return !nonblock && s->blocking && deadline == UINT64_MAX && life_next_ns() == UINT64_MAX;
}

/* recvmsg (or sendmsg with sending) on s without waiting; with block (may_block), when that
 * finds nothing to do, a blocking one with the WASI lock let go. Trying first keeps the usual
 * call (data or room already there) at one system call under the lock, without letting it go
 * and taking it again (atomics on a line every thread's calls share). -1 with errno, or
 * *gone = WASI_EBADF when s was closed meanwhile (then s may be gone). */
static ssize_t sock_io(struct ksock *s, struct msghdr *m, int flags, int sending, int block, int *gone) {
  *gone = 0;
  ssize_t r = sending ? sendmsg(s->fd, m, flags | MSG_DONTWAIT) : recvmsg(s->fd, m, flags | MSG_DONTWAIT);
  if (!block || r >= 0 || errno != EAGAIN) return r;
  life_restart_point();
  sock_hold(s);
  int released = host_wasi_release();
  /* The CPU to whoever is runnable first, before this thread sleeps: the peer then sends (or
   * takes) more than the one piece whose arrival would wake us, and our wake-up does not
   * preempt it. Without, examples/broker's connection threads (hosted, receive 8 on 2 CPUs)
   * woke for every 1 KiB frame a load thread sent, each wake-up preempting the load, and ran at
   * 0.5 to 0.7 of the native broker, whose threads, slower to come back, found 16 KiB
   * waiting and never slept. */
  sched_yield();
  r = sending ? sendmsg(s->fd, m, flags) : recvmsg(s->fd, m, flags);
  int e = errno;
  host_wasi_reacquire(released);
  *gone = sock_leave(s);
  errno = e;
  return r;
}

/* The set is built under the WASI lock, which the wait itself lets go: each thread polls its
 * own copy. */
void net_plat_wait(uint64_t deadline_ns, int with_stdin) {
  life_restart_point();
  if (life_next_ns() < deadline_ns) deadline_ns = life_next_ns();
  static _Thread_local struct pollfd *pf;
  static _Thread_local size_t cap;
  size_t n = 0;
  for (struct ksock *s = all; s; s = s->next) n += s->interest != 0;
  if (n + 1 > cap) {
    size_t c = (n + 1) * 2;
    struct pollfd *p = realloc(pf, c * sizeof *p);
    if (p) pf = p, cap = c;
  }
  n = 0;
  if (with_stdin && cap) pf[n++] = (struct pollfd){.fd = 0, .events = POLLIN};
  for (struct ksock *s = all; s; s = s->next) {
    if (s->interest && n < cap) pf[n++] = (struct pollfd){.fd = s->fd, .events = s->interest};
    s->interest = 0; /* the next poll_oneoff round says again what it waits for */
  }
  struct timespec ts;
  int released = host_wasi_release();
  ppoll(pf, n, timeout_of(deadline_ns, &ts), NULL);
  host_wasi_reacquire(released);
}

/* ---- sockets ---- */

/* Every guest socket is a host fd: lift the soft limit of open fds to the hard one once. */
static void raise_fd_limit(void) {
  static int done;
  struct rlimit r;
  if (done++ || getrlimit(RLIMIT_NOFILE, &r) != 0 || r.rlim_cur >= r.rlim_max) return;
  r.rlim_cur = r.rlim_max > 65536 ? 65536 : r.rlim_max;
  setrlimit(RLIMIT_NOFILE, &r);
}

static struct ksock *sock_wrap(int fd, int type, int state) {
  struct ksock *s = calloc(1, sizeof *s);
  if (!s) return NULL;
  s->fd = fd;
  s->type = (uint8_t)type;
  s->state = (uint8_t)state;
  s->next = all;
  if (all) all->prev = s;
  all = s;
  counts.open++;
  if (type == KSOCK_TCP) counts.tcp_open++;
  else counts.udp_open++;
  return s;
}

int ksock_open(int type, struct ksock **out) {
  if (type != KSOCK_TCP && type != KSOCK_UDP) return WASI_EPROTONOSUPPORT;
  raise_fd_limit();
  int fd = socket(AF_INET, (type == KSOCK_TCP ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return map_errno(errno);
  struct ksock *s = sock_wrap(fd, type, S_NEW);
  if (!s) {
    close(fd);
    return WASI_ENOMEM;
  }
  *out = s;
  return 0;
}

int ksock_type(const struct ksock *s) { return s->type; }

/* A connected TCP socket that is not shut for reading: its recv and send touch only its host
 * fd and settings that the calls which change them (setsockopt, shutdown, close) change with
 * the WASI lock held whole. Others (a connect under way moves the state, a shut one drains
 * into a shared buffer, UDP) go one call at a time. */
int ksock_io_concurrent(const struct ksock *s) {
  return s->type == KSOCK_TCP && s->state == S_CONNECTED && !s->shut_rd;
}

/* An established TCP connection: its host fd blocks (calls that must not pass MSG_DONTWAIT). */
static void set_connected(struct ksock *s) {
  s->state = S_CONNECTED;
  int fl = fcntl(s->fd, F_GETFL);
  s->blocking = fl >= 0 && fcntl(s->fd, F_SETFL, fl & ~O_NONBLOCK) == 0;
}

static struct sockaddr_in sin_of(const uint8_t ip[4], uint16_t port) {
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
  memcpy(&a.sin_addr, ip, 4);
  return a;
}

int ksock_bind(struct ksock *s, const uint8_t ip[4], uint16_t port) {
  if (s->type == KSOCK_TCP && s->state != S_NEW) return WASI_EINVAL;
  struct sockaddr_in a = sin_of(ip, port);
  if (bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0) return map_errno(errno);
  if (s->state == S_NEW) s->state = S_BOUND;
  return 0;
}

int ksock_listen(struct ksock *s, int backlog) {
  if (s->type != KSOCK_TCP) return WASI_ENOTSUP;
  if (s->state == S_LISTEN) return 0;
  if (s->state != S_NEW && s->state != S_BOUND) return WASI_EINVAL;
  if (backlog <= 0) backlog = 255;
  if (listen(s->fd, backlog) != 0) return map_errno(errno); /* unbound: Linux binds any port */
  s->state = S_LISTEN;
  counts.listening++;
  return 0;
}

int ksock_listen_tcp(uint16_t port, struct ksock **out) {
  struct ksock *s;
  int r = ksock_open(KSOCK_TCP, &s), one = 1;
  if (r) return r;
  s->reuse = 1;
  setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if ((r = ksock_bind(s, listen_ip, port)) || (r = ksock_listen(s, SOMAXCONN))) {
    ksock_close(s);
    return r;
  }
  *out = s;
  return 0;
}

int ksock_accept(struct ksock *s, int nonblock, struct ksock **out) {
  if (s->type != KSOCK_TCP || s->state != S_LISTEN) return WASI_EINVAL;
  uint64_t deadline = deadline_of(s->rcvtimeo_ms);
  for (;;) {
    int fd = accept4(s->fd, NULL, NULL, SOCK_CLOEXEC); /* connected: a blocking fd */
    if (fd >= 0) {
      struct ksock *c = sock_wrap(fd, KSOCK_TCP, S_CONNECTED);
      if (!c) {
        close(fd);
        return WASI_ENOMEM;
      }
      c->blocking = 1;
      counts.accepted++;
      *out = c;
      return 0;
    }
    int e = errno;
    if (e != EAGAIN && e != EINTR && e != ECONNABORTED && e != EPROTO) return map_errno(e);
    if (e == EAGAIN && (nonblock || expired(deadline))) return WASI_EAGAIN;
    if (e == EAGAIN && wait_fd(s, POLLIN, deadline)) return WASI_EBADF;
    /* a connection that died in the queue (ECONNABORTED): take the next one */
  }
}

/* A connection under way: has it finished? Moves to S_CONNECTED, or records the error. */
static void check_connect(struct ksock *s) {
  if (s->state != S_CONNECTING) return;
  struct pollfd p = {.fd = s->fd, .events = POLLOUT};
  if (poll(&p, 1, 0) <= 0 || !p.revents) return;
  int e = 0;
  socklen_t len = sizeof e;
  if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0) e = errno;
  if (e == 0) {
    set_connected(s);
  } else {
    s->state = S_NEW;
    s->err = map_errno(e);
  }
}

int ksock_connect(struct ksock *s, const uint8_t ip[4], uint16_t port, int nonblock) {
  struct sockaddr_in a = sin_of(ip, port);
  if (s->type == KSOCK_UDP) {
    if (connect(s->fd, (struct sockaddr *)&a, sizeof a) != 0) return map_errno(errno);
    s->state = S_CONNECTED;
    return 0;
  }
  check_connect(s);
  if (s->state == S_CONNECTED) return WASI_EISCONN;
  if (s->state == S_CONNECTING) return WASI_EALREADY;
  if (s->state == S_LISTEN) return WASI_EINVAL;
  if (s->err) return s->err; /* an earlier attempt failed: the socket is dead, as in lwIP */
  if (connect(s->fd, (struct sockaddr *)&a, sizeof a) == 0) {
    set_connected(s);
    return 0;
  }
  if (errno != EINPROGRESS && errno != EINTR) return map_errno(errno);
  s->state = S_CONNECTING;
  if (nonblock) return WASI_EINPROGRESS;
  uint64_t deadline = deadline_of(s->sndtimeo_ms);
  for (;;) {
    check_connect(s);
    if (s->state != S_CONNECTING) break;
    if (expired(deadline)) return WASI_EINPROGRESS; /* timed out: it goes on */
    if (wait_fd(s, POLLOUT, deadline)) return WASI_EBADF;
  }
  if (s->state == S_CONNECTED) return 0;
  return s->err ? s->err : WASI_ECONNREFUSED;
}

/* The guest's buffers from byte `skip` on, as host iovecs (at most WASI_IOV_MAX of them,
 * which is Linux's IOV_MAX too). */
static size_t iov_from(const struct wasi_buf *iov, size_t n, size_t skip, struct iovec *out) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (skip >= iov[i].len) {
      skip -= iov[i].len;
      continue;
    }
    out[k].iov_base = iov[i].p + skip;
    out[k].iov_len = iov[i].len - skip;
    skip = 0;
    k++;
  }
  return k;
}
static _Thread_local struct iovec hiov[1024]; /* sends and receives run at once (ksock_io_concurrent) */

/* After shutdown(SHUT_RD) the kernel drops what arrives but keeps the window open; here the
 * same: read and discard what the host queued (bounded: a flood is dropped over later calls). */
static void drain(struct ksock *s) {
  static char junk[65536];
  for (int i = 0; i < 16 && recv(s->fd, junk, sizeof junk, MSG_DONTWAIT) > 0; i++) {
  }
}

static int udp_recv(struct ksock *s, const struct wasi_buf *iov, size_t n, int flags, int nonblock, size_t *done,
                    int *trunc, uint8_t from[4], uint16_t *port) {
  uint64_t deadline = deadline_of(s->rcvtimeo_ms);
  for (;;) {
    if (s->shut_rd) {
      drain(s);
      return 0;
    }
    struct sockaddr_in a = {0};
    struct msghdr m = {.msg_name = &a, .msg_namelen = sizeof a, .msg_iov = hiov, .msg_iovlen = iov_from(iov, n, 0, hiov)};
    ssize_t r = recvmsg(s->fd, &m, MSG_DONTWAIT | ((flags & KSOCK_PEEK) ? MSG_PEEK : 0));
    if (r >= 0) {
      *done = (size_t)r;
      if (trunc) *trunc = (m.msg_flags & MSG_TRUNC) != 0;
      if (from) memcpy(from, &a.sin_addr, 4);
      if (port) *port = ntohs(a.sin_port);
      return 0;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return map_errno(errno);
    if (nonblock || expired(deadline)) return WASI_EAGAIN;
    if (wait_fd(s, POLLIN, deadline)) return WASI_EBADF;
  }
}

static int tcp_recv(struct ksock *s, const struct wasi_buf *iov, size_t n, int flags, int nonblock, size_t *done) {
  size_t want = 0;
  for (size_t i = 0; i < n; i++) want += iov[i].len;
  check_connect(s);
  if (s->state != S_CONNECTED) {
    if (s->err) return s->err;
    return s->state == S_CONNECTING && nonblock ? WASI_EAGAIN : WASI_ENOTCONN;
  }
  if (s->shut_rd) { /* end of stream */
    drain(s);
    return 0;
  }
  if (want == 0) return 0;
  uint64_t deadline = deadline_of(s->rcvtimeo_ms);
  int peek = flags & KSOCK_PEEK, waitall = (flags & KSOCK_WAITALL) && !peek;
  for (;;) {
    struct msghdr m = {.msg_iov = hiov, .msg_iovlen = iov_from(iov, n, *done, hiov)};
    int gone;
    ssize_t r = sock_io(s, &m, peek ? MSG_PEEK : 0, 0, may_block(s, nonblock, deadline), &gone);
    if (gone) return gone;
    if (r > 0) {
      *done += (size_t)r;
      /* MSG_WAITALL: go on until the buffers are full or the stream ends. */
      if (!waitall || *done == want || nonblock) return 0;
      continue;
    }
    if (r == 0) return 0; /* end of stream (or WAITALL cut short by it) */
    if (errno == EINTR) continue;
    if (errno != EAGAIN) return *done ? 0 : map_errno(errno); /* Linux reports a reset once */
    if (nonblock || expired(deadline)) return *done ? 0 : WASI_EAGAIN;
    if (wait_fd(s, POLLIN | POLLRDHUP, deadline)) return WASI_EBADF;
  }
}

int ksock_recv(struct ksock *s, const struct wasi_buf *iov, size_t n, int flags, int nonblock, size_t *done,
               int *truncated, uint8_t from[4], uint16_t *from_port) {
  *done = 0;
  if (truncated) *truncated = 0;
  if (s->type == KSOCK_UDP) return udp_recv(s, iov, n, flags, nonblock, done, truncated, from, from_port);
  return tcp_recv(s, iov, n, flags, nonblock, done);
}

int ksock_send(struct ksock *s, const struct wasi_buf *iov, size_t n, int nonblock, size_t *done, const uint8_t *to,
               uint16_t to_port) {
  size_t want = 0;
  for (size_t i = 0; i < n; i++) want += iov[i].len;
  *done = 0;
  struct sockaddr_in a;
  struct msghdr m = {0};
  if (s->type == KSOCK_UDP) {
    if (s->shut_wr) return WASI_EPIPE;
    if (want > 65507) return WASI_EMSGSIZE;
    if (!to && s->state != S_CONNECTED) return WASI_EDESTADDRREQ;
    if (to) {
      a = sin_of(to, to_port);
      m.msg_name = &a, m.msg_namelen = sizeof a;
    }
  } else {
    check_connect(s);
    if (s->state != S_CONNECTED) return s->err ? s->err : WASI_ENOTCONN;
    if (s->shut_wr) return WASI_EPIPE;
  }
  uint64_t deadline = deadline_of(s->sndtimeo_ms);
  int r = 0;
  for (;;) {
    m.msg_iov = hiov;
    m.msg_iovlen = iov_from(iov, n, *done, hiov);
    int gone;
    ssize_t k = sock_io(s, &m, MSG_NOSIGNAL, 1, may_block(s, nonblock, deadline), &gone);
    if (gone) return gone;
    if (k >= 0) {
      *done += (size_t)k;
      if (*done >= want || s->type == KSOCK_UDP) break;
      continue;
    }
    if (errno == EINTR) continue;
    if (errno != EAGAIN) {
      r = map_errno(errno);
      break;
    }
    if (nonblock || expired(deadline)) {
      if (*done == 0) r = WASI_EAGAIN;
      break;
    }
    if (wait_fd(s, POLLOUT, deadline)) return WASI_EBADF;
  }
  if (r && *done) r = 0; /* report what went; the error shows on the next call */
  return r;
}

/* Hosted there is no copy to save (the host's kernel copies anyway): an ordinary send. */
int ksock_send_stable(struct ksock *s, const uint8_t *p, size_t len, int nonblock, size_t *done) {
  if (s->type != KSOCK_TCP) return WASI_ENOTSUP;
  struct wasi_buf iov = {(uint8_t *)p, len};
  return ksock_send(s, &iov, 1, nonblock, done, NULL, 0);
}

int ksock_shutdown(struct ksock *s, int how) {
  if (s->type == KSOCK_TCP) {
    check_connect(s);
    if (s->state != S_CONNECTED) return WASI_ENOTCONN;
  }
  if (how & 1) {
    s->shut_rd = 1;
    drain(s);
  }
  if ((how & 2) && !s->shut_wr) {
    s->shut_wr = 1;
    /* A connection the peer already reset has nothing to shut: not an error (as lwIP). */
    if (s->type == KSOCK_TCP && shutdown(s->fd, SHUT_WR) != 0 && errno != ENOTCONN) return map_errno(errno);
  }
  return 0;
}

void ksock_close(struct ksock *s) {
  if (!s) return;
  if (s->prev) s->prev->next = s->next;
  else all = s->next;
  if (s->next) s->next->prev = s->prev;
  if (s->state == S_LISTEN) counts.listening--;
  if (s->type == KSOCK_TCP) counts.tcp_open--;
  else counts.udp_open--;
  counts.open--;
  /* Calls wait on it: wake them; the last one to leave closes and frees it. */
  if (__atomic_load_n(&s->holders, __ATOMIC_RELAXED)) {
    s->closed = 1;
    shutdown(s->fd, SHUT_RDWR);
    return;
  }
  close(s->fd);
  free(s);
}

int ksock_poll(struct ksock *s, int events, uint64_t *nbytes, int *hangup) {
  *nbytes = 0;
  *hangup = 0;
  short want = events == 1 ? POLLIN : POLLOUT;
  int avail = 0;
  check_connect(s);
  struct pollfd p = {.fd = s->fd, .events = POLLIN | POLLOUT | POLLRDHUP};
  if (poll(&p, 1, 0) < 0) p.revents = 0;
  int ready = 0;
  if (s->type == KSOCK_UDP) {
    if (events == 1) {
      if (s->shut_rd) drain(s);
      ready = (p.revents & (POLLIN | POLLERR)) || s->shut_rd;
      if (ready && ioctl(s->fd, FIONREAD, &avail) == 0) *nbytes = (uint64_t)avail; /* the next datagram */
    } else {
      ready = 1;
      *nbytes = 65507;
    }
  } else if (s->state == S_LISTEN) {
    ready = events == 1 && (p.revents & (POLLIN | POLLERR));
    *nbytes = ready; /* Linux does not say how many wait */
  } else if (s->state == S_CONNECTED) {
    int dead = (p.revents & (POLLERR | POLLHUP)) != 0;
    *hangup = dead || (p.revents & POLLRDHUP);
    if (events == 1) {
      if (s->shut_rd) drain(s);
      ready = (p.revents & (POLLIN | POLLRDHUP)) || s->shut_rd || dead;
      if (ioctl(s->fd, FIONREAD, &avail) == 0 && !s->shut_rd) *nbytes = (uint64_t)avail;
    } else {
      ready = (p.revents & POLLOUT) || dead || s->shut_wr;
      int buf = 0, queued = 0;
      socklen_t len = sizeof buf;
      if (getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, &buf, &len) == 0 && ioctl(s->fd, SIOCOUTQ, &queued) == 0 &&
          buf > queued)
        *nbytes = (uint64_t)(buf - queued);
    }
  } else { /* new, bound, connecting: ready only once dead (a failed connect) */
    ready = *hangup = s->err != 0;
  }
  /* Wake net_plat_wait when this changes. Not for a socket that can never become ready (new
   * or bound): Linux reports an unconnected TCP socket as hung up, which would spin. */
  if (!ready && (s->type == KSOCK_UDP || s->state >= S_LISTEN)) s->interest |= want;
  return ready;
}

int ksock_addr(struct ksock *s, int peer, uint8_t ip[4], uint16_t *port) {
  check_connect(s);
  if (peer && s->state != S_CONNECTED) return WASI_ENOTCONN;
  struct sockaddr_in a = {0};
  socklen_t len = sizeof a;
  if ((peer ? getpeername : getsockname)(s->fd, (struct sockaddr *)&a, &len) != 0) return map_errno(errno);
  memcpy(ip, &a.sin_addr, 4);
  *port = ntohs(a.sin_port);
  return 0;
}

static int set_int(struct ksock *s, int level, int name, int value) {
  return setsockopt(s->fd, level, name, &value, sizeof value) == 0 ? 0 : map_errno(errno);
}

int ksock_setopt(struct ksock *s, int opt, int value) {
  int r;
  switch (opt) {
  case KSOCK_OPT_REUSEADDR:
    if (!(r = set_int(s, SOL_SOCKET, SO_REUSEADDR, !!value))) s->reuse = !!value;
    return r;
  case KSOCK_OPT_KEEPALIVE:
    if (!(r = set_int(s, SOL_SOCKET, SO_KEEPALIVE, !!value))) s->keepalive = !!value;
    return r;
  case KSOCK_OPT_NODELAY:
    if (s->type != KSOCK_TCP) return WASI_ENOPROTOOPT;
    if (!(r = set_int(s, IPPROTO_TCP, TCP_NODELAY, !!value))) s->nodelay = !!value;
    return r;
  case KSOCK_OPT_RCVTIMEO: s->rcvtimeo_ms = value < 0 ? 0 : (uint32_t)value; return 0;
  case KSOCK_OPT_SNDTIMEO: s->sndtimeo_ms = value < 0 ? 0 : (uint32_t)value; return 0;
  case KSOCK_OPT_RCVBUF: case KSOCK_OPT_SNDBUF: case KSOCK_OPT_LINGER:
    return 0; /* accepted and ignored, as the kernel does (its stack's sizes are fixed) */
  default:
    return WASI_ENOPROTOOPT;
  }
}

int ksock_getopt(struct ksock *s, int opt, int *value) {
  socklen_t len = sizeof *value;
  switch (opt) {
  case KSOCK_OPT_REUSEADDR: *value = s->reuse; return 0;
  case KSOCK_OPT_KEEPALIVE: *value = s->keepalive; return 0;
  case KSOCK_OPT_NODELAY: *value = s->nodelay; return 0;
  case KSOCK_OPT_RCVBUF:
    return getsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, value, &len) == 0 ? 0 : map_errno(errno);
  case KSOCK_OPT_SNDBUF:
    return getsockopt(s->fd, SOL_SOCKET, SO_SNDBUF, value, &len) == 0 ? 0 : map_errno(errno);
  case KSOCK_OPT_TYPE: *value = s->type; return 0;
  case KSOCK_OPT_ACCEPTCONN: *value = s->state == S_LISTEN; return 0;
  case KSOCK_OPT_LINGER: *value = 0; return 0;
  case KSOCK_OPT_RCVTIMEO: *value = (int)s->rcvtimeo_ms; return 0;
  case KSOCK_OPT_SNDTIMEO: *value = (int)s->sndtimeo_ms; return 0;
  case KSOCK_OPT_ERROR: check_connect(s); *value = s->err; return 0;
  default: return WASI_ENOPROTOOPT;
  }
}

void ksock_counts(struct ksock_counts *c) { *c = counts; }
