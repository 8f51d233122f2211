/* tools/kiln-fwd.c — the TCP forwarder `kiln run --fwd` puts in front of QEMU's user network.
 *
 * QEMU's user-mode networking (libslirp) listens for a host forward with a backlog of 1: a burst
 * of clients (wrk -c100) overflows its accept queue, Linux drops their SYNs, and each waits for a
 * one-second retransmission — socket timeouts for the client. kiln-fwd listens on the public
 * port itself with a real backlog, accepts everyone at once, and hands the connections to QEMU's
 * forward (on a private loopback port) one at a time: a connect that does not complete at once
 * met a full queue, so it is abandoned and tried again a few milliseconds later with a fresh SYN
 * instead of waiting for the kernel's retransmission. And a connect starts only once QEMU has
 * taken the previous one out of its accept queue (the queue's length read with sock_diag, as
 * `ss -lt` reads it): a handshake whose last ACK met a full queue would complete on our side
 * while Linux dropped that ACK and kept the connection half-open on QEMU's, retrying its
 * SYN-ACK at 1, 3, 7, 15 and 31 s, each retry meeting the queue we kept full again; the client
 * waited up to half a minute with its data sent (tests/threads vm-smp2-broker under load: 80
 * clients at once, two of them never reached the guest in 15 s). Data is then copied both ways;
 * a half-close is passed on as a half-close and a reset as a reset.
 *
 *   kiln-fwd [--ready FIFO] HOSTPORT...
 *        listens on 127.0.0.1:HOSTPORT for each, picks one free private port per forward, prints
 *        them on one line ("P1 P2 ...") and serves; the caller gives QEMU
 *        hostfwd=tcp:127.0.0.1:Pn-:GUESTPORT. With --ready, clients wait in our queue until a
 *        byte arrives on FIFO (the kernel writes one on COM4 once its listening sockets are up):
 *        QEMU accepts a forward at once and sends the guest a SYN, and a SYN sent before the
 *        guest's network is up is only retried a second later. Images whose kernel never
 *        writes it are served READY_WAIT_MS after we start, as without --ready.
 * It ends with its parent (kiln run) or on SIGTERM. */
#include <errno.h>
#include <fcntl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_FWDS 32
#define MAX_CONNS 4096       /* past this, clients wait in the kernel's backlog */
#define BUF_SIZE (32 * 1024) /* per direction */
#define RETRY_MS 20          /* a loopback handshake that takes longer met a full accept queue */
#define GIVE_UP_MS 30000     /* a client whose forward never answers (no VM) is closed */
#define READY_WAIT_MS 3000   /* --ready: how long clients wait for the guest's byte at most */

struct side { /* what epoll's data points at: one fd of a connection, or a listener (c NULL) */
  struct conn *c;
  int idx; /* the fd's index in c->fd, or the listener's in fwds[] */
};
struct dir { /* bytes read from fd[i] not yet written to fd[1 - i] */
  char buf[BUF_SIZE];
  size_t off, len;
  int eof;
};
struct conn {
  struct fwd *f;
  int fd[2]; /* 0: the client, 1: QEMU's forward (-1 until connected) */
  struct side side[2];
  struct dir dir[2];
  long long deadline, give_up; /* while connecting */
  struct conn *next;           /* in f's queue of clients waiting for a connect, or in `dead` */
  int dead;                    /* closed; freed after the current batch of events */
  int tries;                   /* connects to QEMU's forward so far */
};
struct fwd {
  int lfd, port, target;
  struct side lside;
  struct conn *connecting;    /* at most one connect in flight per forward */
  struct conn *head, **tail;  /* clients waiting their turn */
  long long retry_at;
};

static int ep, nconns;
static struct fwd fwds[MAX_FWDS];
static int nfwds;
static struct conn *dead; /* events of this batch may still name them */

static long long now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void die(const char *what) {
  fprintf(stderr, "kiln-fwd: %s: %s\n", what, strerror(errno));
  exit(1);
}

static void watch(int fd, struct side *s, uint32_t ev) {
  struct epoll_event e = {.events = ev, .data.ptr = s};
  if (ev == 0 && s->c) { /* nothing wanted: not even hang-ups, which would fire again and again */
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    return;
  }
  if (epoll_ctl(ep, EPOLL_CTL_MOD, fd, &e) < 0 && (errno != ENOENT || epoll_ctl(ep, EPOLL_CTL_ADD, fd, &e) < 0))
    die("epoll_ctl");
}

static void conn_free(struct conn *c, int reset) {
  for (int i = 0; i < 2; i++) {
    if (c->fd[i] < 0) continue;
    if (reset) { /* close with RST, so the other end sees the reset its peer made */
      struct linger l = {1, 0};
      setsockopt(c->fd[i], SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(c->fd[i]);
  }
  if (nconns-- == MAX_CONNS) /* room again: take clients from the backlogs */
    for (int i = 0; i < nfwds; i++) watch(fwds[i].lfd, &fwds[i].lside, EPOLLIN);
  c->dead = 1;
  c->next = dead;
  dead = c;
}

/* Moves what can be moved in both directions and sets what to wait for; frees c when done. */
static void pump(struct conn *c) {
  for (int i = 0; i < 2; i++) {
    struct dir *d = &c->dir[i];
    int src = c->fd[i], dst = c->fd[1 - i];
    for (;;) {
      if (d->len == 0 && !d->eof) {
        ssize_t n = read(src, d->buf, sizeof d->buf);
        if (n > 0) d->off = 0, d->len = (size_t)n;
        else if (n == 0) {
          d->eof = 1;
          shutdown(dst, SHUT_WR);
        } else if (errno == EAGAIN || errno == EINTR) break;
        else return conn_free(c, 1);
      }
      if (d->len == 0) break;
      ssize_t n = send(dst, d->buf + d->off, d->len, MSG_NOSIGNAL);
      if (n > 0) d->off += (size_t)n, d->len -= (size_t)n;
      else if (n < 0 && (errno == EAGAIN || errno == EINTR)) break;
      else return conn_free(c, 1);
    }
  }
  if (c->dir[0].eof && c->dir[1].eof && !c->dir[0].len && !c->dir[1].len) return conn_free(c, 0);
  for (int i = 0; i < 2; i++) {
    uint32_t ev = 0;
    if (c->dir[i].len == 0 && !c->dir[i].eof) ev |= EPOLLIN;
    if (c->dir[1 - i].len) ev |= EPOLLOUT;
    watch(c->fd[i], &c->side[i], ev);
  }
}

/* How many connections wait in the accept queue of the listener on 127.0.0.1:port (QEMU's
 * forward), or -1 if sock_diag cannot say (then connects are not held back). */
static int accept_queue(int port) {
  static int nl = -2;
  if (nl == -2) nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
  if (nl < 0) return -1;
  struct {
    struct nlmsghdr nh;
    struct inet_diag_req_v2 r;
  } req = {.nh = {.nlmsg_len = sizeof req, .nlmsg_type = SOCK_DIAG_BY_FAMILY, .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP},
           .r = {.sdiag_family = AF_INET, .sdiag_protocol = IPPROTO_TCP, .idiag_states = 1 << 10 /* TCP_LISTEN */}};
  if (send(nl, &req, sizeof req, 0) < 0) return -1;
  int q = -1;
  for (;;) { /* the dump of every listening TCP socket, up to NLMSG_DONE */
    long buf[2048];
    ssize_t n = recv(nl, buf, sizeof buf, 0);
    if (n <= 0) return -1;
    for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
      if (h->nlmsg_type == NLMSG_DONE) return q;
      if (h->nlmsg_type == NLMSG_ERROR) return -1;
      struct inet_diag_msg *m = NLMSG_DATA(h);
      if (h->nlmsg_type == SOCK_DIAG_BY_FAMILY && ntohs(m->id.idiag_sport) == port &&
          m->id.idiag_src[0] == htonl(INADDR_LOOPBACK))
        q = (int)m->idiag_rqueue;
    }
  }
}

/* Starts the next waiting client's connect to QEMU's forward, if none is in flight and QEMU has
 * accepted the previous one. */
static void start_connect(struct fwd *f) {
  while (!f->connecting && f->head) {
    if (now_ms() < f->retry_at) return;
    struct conn *c = f->head;
    if (now_ms() > c->give_up) { /* no VM behind the forward: let the client go */
      f->head = c->next;
      if (!f->head) f->tail = &f->head;
      conn_free(c, 0);
      continue;
    }
    if (accept_queue(f->target) > 0) { /* look again in a millisecond */
      f->retry_at = now_ms() + 1;
      return;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    /* Every connect comes from 127.0.0.2 (QEMU shows any 127.x.x.x to the guest as 10.0.2.2, so
     * the guest's 4-tuple is this socket's port: two host addresses would let two live
     * connections meet as one in the guest, and their sequence numbers fight in an endless ACK
     * storm). The first try takes the client's own port, so the guest sees it as it would
     * without us (logs; a client port coming round again while the guest holds TIME_WAIT).
     * Retries take any free port: an abandoned try may yet have been half-accepted, and a
     * second SYN on the same 4-tuple would meet that state and be reset. */
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    if (c->tries++ != 0 || getpeername(c->fd[0], (struct sockaddr *)&a, &alen) != 0) a.sin_port = 0;
    else setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000002);
    setsockopt(s, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one); /* port 0: connect picks */
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 && a.sin_port) { /* taken: any port will do */
      a.sin_port = 0;
      bind(s, (struct sockaddr *)&a, sizeof a);
    }
    a = (struct sockaddr_in){.sin_family = AF_INET, .sin_port = htons((uint16_t)f->target),
                             .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    c->fd[1] = s;
    f->head = c->next;
    if (!f->head) f->tail = &f->head;
    f->connecting = c;
    c->deadline = now_ms() + RETRY_MS;
    if (connect(s, (struct sockaddr *)&a, sizeof a) == 0 || errno == EINPROGRESS) watch(s, &c->side[1], EPOLLOUT);
    else watch(s, &c->side[1], EPOLLOUT); /* the error shows as EPOLLERR and SO_ERROR */
  }
}

/* The connect in flight failed or took too long: put its client back at the head, retry later. */
static void retry_connect(struct fwd *f, int delay_ms) {
  struct conn *c = f->connecting;
  close(c->fd[1]);
  c->fd[1] = -1;
  f->connecting = NULL;
  c->next = f->head;
  f->head = c;
  if (!c->next) f->tail = &c->next;
  f->retry_at = now_ms() + delay_ms;
}

static void connect_done(struct conn *c) {
  struct fwd *f = c->f;
  int err = 0;
  socklen_t len = sizeof err;
  getsockopt(c->fd[1], SOL_SOCKET, SO_ERROR, &err, &len);
  if (err == EINPROGRESS || err == EALREADY) return;
  if (err) return retry_connect(f, 50); /* refused: QEMU is not listening yet */
  f->connecting = NULL;
  pump(c);
  start_connect(f);
}

static void accept_all(struct fwd *f) {
  while (nconns < MAX_CONNS) {
    int s = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (s < 0) {
      if (errno == EAGAIN || errno == EINTR || errno == ECONNABORTED) return;
      if (errno == EMFILE || errno == ENFILE) return; /* the backlog holds them meanwhile */
      die("accept");
    }
    struct conn *c = calloc(1, sizeof *c);
    if (!c) {
      close(s);
      return;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->f = f;
    c->fd[0] = s;
    c->fd[1] = -1;
    for (int i = 0; i < 2; i++) c->side[i] = (struct side){c, i};
    c->give_up = now_ms() + GIVE_UP_MS;
    /* Nothing is read from the client before the forward is connected; a reset is noticed
     * (EPOLLHUP/EPOLLERR come unasked), a half-close only when its turn comes. */
    struct epoll_event e = {.events = 0, .data.ptr = &c->side[0]};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, s, &e) < 0) die("epoll_ctl");
    *f->tail = c;
    f->tail = &c->next;
    nconns++;
  }
  watch(f->lfd, &f->lside, 0); /* full: stop accepting until a connection ends */
}

static int listen_on(int port, int backlog) {
  int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0), one = 1;
  if (s < 0) die("socket");
  setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                          .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  if (bind(s, (struct sockaddr *)&a, sizeof a) < 0) {
    fprintf(stderr, "kiln-fwd: cannot listen on 127.0.0.1:%d: %s\n", port, strerror(errno));
    exit(1);
  }
  if (listen(s, backlog) < 0) die("listen");
  return s;
}

/* A free loopback port for QEMU's side of a forward. */
static int free_port(void) {
  int s = listen_on(0, 1);
  struct sockaddr_in a;
  socklen_t len = sizeof a;
  if (getsockname(s, (struct sockaddr *)&a, &len) < 0) die("getsockname");
  close(s);
  return ntohs(a.sin_port);
}

/* --ready: the guest's byte (or the FIFO's end: QEMU is gone) lets the queued clients go. */
static struct side ready_side = {NULL, -1};
static int ready_fd = -1;
static void guest_ready(void) {
  char b[64];
  ssize_t r = read(ready_fd, b, sizeof b);
  if (r < 0 && (errno == EAGAIN || errno == EINTR)) return;
  for (int i = 0; i < nfwds; i++) fwds[i].retry_at = 0;
  epoll_ctl(ep, EPOLL_CTL_DEL, ready_fd, NULL);
  close(ready_fd);
  ready_fd = -1;
}

int main(int argc, char **argv) {
  const char *ready = NULL;
  if (argc > 2 && !strcmp(argv[1], "--ready")) {
    ready = argv[2];
    argv += 2, argc -= 2;
  }
  if (argc < 2 || argc - 1 > MAX_FWDS) {
    fprintf(stderr, "usage: kiln-fwd [--ready FIFO] HOSTPORT... (at most %d)\n", MAX_FWDS);
    return 2;
  }
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() == 1) return 0; /* the parent is already gone */
  signal(SIGPIPE, SIG_IGN);
  ep = epoll_create1(EPOLL_CLOEXEC);
  if (ep < 0) die("epoll_create1");
  for (int i = 1; i < argc; i++) {
    char *end;
    long p = strtol(argv[i], &end, 10);
    if (*end || p < 1 || p > 65535) {
      fprintf(stderr, "kiln-fwd: bad port '%s'\n", argv[i]);
      return 2;
    }
    struct fwd *f = &fwds[nfwds++];
    f->port = (int)p;
    f->lfd = listen_on(f->port, SOMAXCONN);
    f->lside = (struct side){NULL, nfwds - 1};
    f->tail = &f->head;
  }
  if (ready) { /* O_NONBLOCK: opening a FIFO for reading does not wait for its writer then */
    ready_fd = open(ready, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (ready_fd < 0) die(ready);
    watch(ready_fd, &ready_side, EPOLLIN);
    for (int i = 0; i < nfwds; i++) fwds[i].retry_at = now_ms() + READY_WAIT_MS;
  }
  for (int i = 0; i < nfwds; i++) {
    fwds[i].target = free_port();
    printf("%s%d", i ? " " : "", fwds[i].target);
    watch(fwds[i].lfd, &fwds[i].lside, EPOLLIN);
  }
  printf("\n");
  fflush(stdout);

  struct epoll_event ev[256];
  for (;;) {
    long long t = now_ms(), next = -1;
    for (int i = 0; i < nfwds; i++) {
      struct fwd *f = &fwds[i];
      long long due = f->connecting ? f->connecting->deadline : f->head ? f->retry_at : -1;
      if (due >= 0 && (next < 0 || due < next)) next = due;
    }
    int timeout = next < 0 ? -1 : next <= t ? 0 : (int)(next - t);
    int n = epoll_wait(ep, ev, 256, timeout);
    if (n < 0 && errno != EINTR) die("epoll_wait");
    for (int i = 0; i < n; i++) {
      struct side *s = ev[i].data.ptr;
      struct conn *c = s->c;
      if (!c && s->idx < 0) guest_ready();
      else if (!c) accept_all(&fwds[s->idx]);
      else if (c->dead) continue;
      else if (c->f->connecting == c) {
        if (s->idx == 1) connect_done(c);
        else { /* the client left during its connect */
          c->f->connecting = NULL;
          conn_free(c, 0);
        }
      } else if (c->fd[1] >= 0) pump(c);
      else if (s->idx == 0) { /* reset while waiting for its turn: drop it from the queue */
        struct conn **pp = &c->f->head;
        while (*pp && *pp != c) pp = &(*pp)->next;
        if (*pp) {
          *pp = c->next;
          if (!c->next) c->f->tail = pp;
        }
        conn_free(c, 0);
      }
    }
    while (dead) {
      struct conn *c = dead;
      dead = c->next;
      free(c);
    }
    t = now_ms();
    for (int i = 0; i < nfwds; i++) {
      struct fwd *f = &fwds[i];
      if (f->connecting && t >= f->connecting->deadline) {
        /* Late, but maybe done (a loaded machine runs us late): a connect that completed is
         * used, not abandoned; closed, it would still sit in QEMU's queue, and reach the guest
         * as a connection that ends at once. */
        struct pollfd p = {.fd = f->connecting->fd[1], .events = POLLOUT};
        if (poll(&p, 1, 0) == 1 && !(p.revents & (POLLERR | POLLHUP))) connect_done(f->connecting);
        else retry_connect(f, 1);
      }
      start_connect(f);
    }
  }
}
