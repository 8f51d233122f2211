/* tests/hosted/sockcheck.c — socket semantics seen by a Wasm app (wasm32-wasi): what the
 * guest gets from net/ksock.h, hosted (host/net_plat.c) as in the kernel (net/ksock.c).
 * Sockets are made with the WasmEdge extension (preview1 has no socket/bind/connect) and
 * used through wasi-libc's preview1 calls (accept, recv, send, shutdown, poll). 127.0.0.1
 * only. Prints "PASS name" / "FAIL name: why" per case; exit status 1 when any failed. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WE(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
WE(sock_open) int32_t we_open(int32_t af, int32_t type, uint32_t *fd);
WE(sock_bind) int32_t we_bind(int32_t fd, const void *addr, int32_t port);
WE(sock_connect) int32_t we_connect(int32_t fd, const void *addr, int32_t port);
WE(sock_listen) int32_t we_listen(int32_t fd, int32_t backlog);
WE(sock_getlocaladdr) int32_t we_localaddr(int32_t fd, void *addr, uint32_t *type, uint32_t *port);
WE(sock_send_to) int32_t we_send_to(int32_t fd, const void *iovs, int32_t n, const void *addr, int32_t port,
                                    int32_t flags, uint32_t *sent);
WE(sock_recv_from) int32_t we_recv_from(int32_t fd, void *iovs, int32_t n, void *addr, int32_t flags,
                                        uint32_t *port, uint32_t *got, uint16_t *roflags);
WE(sock_setsockopt) int32_t we_setsockopt(int32_t fd, int32_t level, int32_t name, const void *v, int32_t size);
WE(sock_getsockopt) int32_t we_getsockopt(int32_t fd, int32_t level, int32_t name, void *v, uint32_t *size);

/* WASI errnos the cases expect (wasi/wasi_types.h) */
enum { W_EAGAIN = 6, W_ECONNREFUSED = 14, W_ECONNRESET = 15, W_EINPROGRESS = 26, W_ENOTCONN = 53, W_EPIPE = 64 };

struct we_addr {
  uint32_t buf, len;
};
struct iov32 {
  uint32_t buf, len;
};
static uint8_t lo[4] = {127, 0, 0, 1};
static struct we_addr lo_addr;
static int failed;

static void result(const char *name, const char *why) {
  if (why) printf("FAIL %s: %s\n", name, why), failed = 1;
  else printf("PASS %s\n", name);
  fflush(stdout);
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static uint32_t port_of(int fd) {
  uint8_t ip[4];
  struct we_addr a = {(uint32_t)(uintptr_t)ip, 4};
  uint32_t type = 0, port = 0;
  return we_localaddr(fd, &a, &type, &port) == 0 ? port : 0;
}

/* A listening TCP socket on 127.0.0.1 (any port): fd, *port. */
static int tcp_listener(uint32_t *port) {
  uint32_t fd;
  if (we_open(1, 2, &fd) || we_bind((int)fd, &lo_addr, 0) || we_listen((int)fd, 16)) return -1;
  *port = port_of((int)fd);
  return (int)fd;
}

static int tcp_connect(uint32_t port, int32_t *err) {
  uint32_t fd;
  *err = we_open(1, 2, &fd);
  if (*err) return -1;
  *err = we_connect((int)fd, &lo_addr, (int32_t)port);
  return (int)fd;
}

static int set_nonblock(int fd) { return fcntl(fd, F_SETFL, O_NONBLOCK); }

/* A connected pair through a listener: *c client, *s server side. */
static int tcp_pair(int *c, int *s) {
  uint32_t port;
  int32_t e;
  int l = tcp_listener(&port);
  if (l < 0) return -1;
  *c = tcp_connect(port, &e);
  if (*c < 0 || e) return -1;
  *s = accept(l, NULL, NULL);
  close(l);
  return *s < 0 ? -1 : 0;
}

static void udp_case(void) {
  uint32_t a, b, sent = 0, got = 0, from_port = 0;
  if (we_open(1, 1, &a) || we_open(1, 1, &b) || we_bind((int)a, &lo_addr, 0) || we_bind((int)b, &lo_addr, 0))
    return result("udp datagram", "cannot open and bind two UDP sockets");
  char msg[] = "datagram over 127.0.0.1", buf[64] = {0};
  struct iov32 out = {(uint32_t)(uintptr_t)msg, sizeof msg}, in = {(uint32_t)(uintptr_t)buf, sizeof buf};
  uint8_t ip[4] = {0};
  struct we_addr from = {(uint32_t)(uintptr_t)ip, 4};
  uint16_t ro = 0;
  int32_t e = we_send_to((int)a, &out, 1, &lo_addr, (int32_t)port_of((int)b), 0, &sent);
  if (e || sent != sizeof msg) return result("udp datagram", "send_to failed");
  e = we_recv_from((int)b, &in, 1, &from, 0, &from_port, &got, &ro);
  if (e || got != sizeof msg || memcmp(buf, msg, sizeof msg) || from_port != port_of((int)a) || ip[0] != 127)
    return result("udp datagram", "recv_from: wrong bytes or sender");
  /* a datagram larger than the buffer: truncated flag, the rest dropped */
  char small[4];
  struct iov32 in2 = {(uint32_t)(uintptr_t)small, sizeof small};
  we_send_to((int)a, &out, 1, &lo_addr, (int32_t)port_of((int)b), 0, &sent);
  e = we_recv_from((int)b, &in2, 1, &from, 0, &from_port, &got, &ro);
  if (e || got != 4 || ro != 1) return result("udp datagram", "no truncation flag for a short buffer");
  set_nonblock((int)b);
  e = we_recv_from((int)b, &in, 1, &from, 0, &from_port, &got, &ro);
  result("udp datagram", e == W_EAGAIN ? NULL : "non-blocking recv on an empty socket is not EAGAIN");
  close((int)a), close((int)b);
}

static void tcp_cases(void) {
  int c, s;
  if (tcp_pair(&c, &s)) return result("tcp connect/accept", "no connected pair");
  result("tcp connect/accept", NULL);

  /* data both ways, byte-exact, with a blocking recv waiting for it */
  static char big[200000], back[200000];
  for (size_t i = 0; i < sizeof big; i++) big[i] = (char)(i * 7 + (i >> 8));
  size_t off = 0, got = 0;
  set_nonblock(c);
  set_nonblock(s);
  while (got < sizeof big) {
    if (off < sizeof big) {
      ssize_t k = send(c, big + off, sizeof big - off, 0);
      if (k > 0) off += (size_t)k;
      else if (errno != EAGAIN) break;
    }
    ssize_t k = recv(s, back + got, sizeof back - got, 0);
    if (k > 0) got += (size_t)k;
    else if (k == 0 || errno != EAGAIN) break;
  }
  result("tcp 200 KB byte-exact", got == sizeof big && !memcmp(big, back, sizeof big) ? NULL : "bytes differ");

  /* non-blocking recv with nothing queued */
  char b[16];
  ssize_t k = recv(s, b, sizeof b, 0);
  result("tcp non-blocking recv: EAGAIN", k < 0 && errno == EAGAIN ? NULL : "not EAGAIN");

  /* poll: not readable, then readable after a send; always writable */
  struct pollfd p = {.fd = s, .events = POLLIN};
  int n0 = poll(&p, 1, 0);
  send(c, "ping", 4, 0);
  double t0 = now();
  int n1 = poll(&p, 1, 5000);
  struct pollfd w = {.fd = c, .events = POLLOUT};
  int n2 = poll(&w, 1, 0);
  result("poll readiness", n0 == 0 && n1 == 1 && (p.revents & POLLIN) && n2 == 1 && now() - t0 < 2
                               ? NULL : "wrong readiness");

  /* MSG_PEEK leaves the bytes queued */
  char pk[4] = {0}, rd[4] = {0};
  ssize_t a1 = recv(s, pk, 4, MSG_PEEK), a2 = recv(s, rd, 4, 0);
  result("MSG_PEEK", a1 == 4 && a2 == 4 && !memcmp(pk, "ping", 4) && !memcmp(rd, "ping", 4) ? NULL : "peek consumed");

  /* a poll that waits: woken by data sent 0.2 s later is not possible single-threaded, so
   * check the timeout side: an idle socket's poll sleeps for its timeout */
  t0 = now();
  int n3 = poll(&p, 1, 200);
  double dt = now() - t0;
  result("poll timeout sleeps", n3 == 0 && dt >= 0.19 && dt < 2 ? NULL : "returned early or late");

  /* shutdown(SHUT_WR): the peer reads end of stream, our send is EPIPE; hang-up shows */
  shutdown(c, SHUT_WR);
  p.revents = 0;
  int n4 = poll(&p, 1, 5000);
  k = recv(s, b, sizeof b, 0);
  ssize_t k2 = send(c, "x", 1, 0);
  int e2 = errno;
  result("shutdown: EOF to the peer, EPIPE to us", n4 == 1 && k == 0 && k2 < 0 && e2 == EPIPE ? NULL : "wrong");
  close(c), close(s);

  /* reset: the server closes with unread data (an RST); the client's recv gets ECONNRESET
   * once, then end of stream, and send EPIPE */
  if (tcp_pair(&c, &s)) return result("reset", "no connected pair");
  send(c, "unread", 6, 0);
  struct pollfd ps = {.fd = s, .events = POLLIN};
  poll(&ps, 1, 5000);
  close(s);
  struct pollfd pc = {.fd = c, .events = POLLIN};
  int n5 = poll(&pc, 1, 5000);
  k = recv(c, b, sizeof b, 0);
  int e3 = errno;
  ssize_t k3 = recv(c, b, sizeof b, 0);
  ssize_t k4 = send(c, "x", 1, 0);
  int e4 = errno;
  char why[128];
  snprintf(why, sizeof why, "poll %d revents %#x, recv %zd errno %d, recv %zd, send %zd errno %d", n5, pc.revents, k,
           e3, k3, k4, e4);
  result("reset: ECONNRESET once, then EOF and EPIPE",
         n5 == 1 && (pc.revents & POLLHUP) && k < 0 && e3 == ECONNRESET && k3 == 0 && k4 < 0 && e4 == EPIPE ? NULL
                                                                                                          : why);
  close(c);
}

static void connect_cases(void) {
  /* a port nobody listens on: refused */
  uint32_t port;
  int l = tcp_listener(&port);
  close(l);
  int32_t e;
  int c = tcp_connect(port, &e);
  result("connect to a closed port: ECONNREFUSED", e == W_ECONNREFUSED ? NULL : "another errno");
  if (c >= 0) close(c);

  /* recv on a socket never connected */
  uint32_t fd;
  we_open(1, 2, &fd);
  char b[4];
  ssize_t k = recv((int)fd, b, 4, 0);
  result("recv unconnected: ENOTCONN", k < 0 && errno == ENOTCONN ? NULL : "another result");

  /* non-blocking connect: EINPROGRESS, then writable and SO_ERROR 0 */
  l = tcp_listener(&port);
  set_nonblock((int)fd);
  e = we_connect((int)fd, &lo_addr, (int32_t)port);
  struct pollfd p = {.fd = (int)fd, .events = POLLOUT};
  int n = poll(&p, 1, 5000);
  int32_t soerr = -1;
  uint32_t size = 4;
  int32_t ge = we_getsockopt((int)fd, 0, 2 /* SO_ERROR */, &soerr, &size);
  result("non-blocking connect", (e == W_EINPROGRESS || e == 0) && n == 1 && ge == 0 && soerr == 0
                                     ? NULL : "not EINPROGRESS then connected");
  int s = accept(l, NULL, NULL);

  /* SO_RCVTIMEO: a blocking recv gives up with EAGAIN */
  fcntl((int)fd, F_SETFL, 0);
  int64_t tv[2] = {0, 200000};
  int32_t se = we_setsockopt((int)fd, 0, 11 /* SO_RCVTIMEO */, tv, 16);
  double t0 = now();
  k = recv((int)fd, b, 4, 0);
  double dt = now() - t0;
  result("SO_RCVTIMEO", se == 0 && k < 0 && errno == EAGAIN && dt >= 0.19 && dt < 2 ? NULL : "no timeout");

  /* MSG_WAITALL waits for the whole buffer: with 4 of 8 bytes there, it waits until the
   * timeout and then returns the 4 */
  send(s, "half", 4, 0);
  char w8[8];
  t0 = now();
  k = recv((int)fd, w8, 8, MSG_WAITALL);
  dt = now() - t0;
  result("MSG_WAITALL waits for more", k == 4 && !memcmp(w8, "half", 4) && dt >= 0.19 && dt < 2
                                            ? NULL : "returned early or wrong bytes");
  close(s), close(l), close((int)fd);
}

int main(void) {
  lo_addr = (struct we_addr){(uint32_t)(uintptr_t)lo, 4};
  udp_case();
  tcp_cases();
  connect_cases();
  return failed;
}
