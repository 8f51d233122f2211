/* examples/http-server — a static file server over HTTP/1.1: GET and HEAD, keep-alive and
 * pipelining, Content-Length, Content-Type by extension, index.html for directories, files of
 * any size streamed (one shared buffer, pread at each connection's offset), 400/404/405/414
 * for bad requests. One poll loop over non-blocking sockets serves every client at once.
 *
 * Built to face hostile clients with bounded memory and a small, fixed stack:
 *   - at most MAXC connections; past that a new one evicts the connection that has waited
 *     longest for a request, or, when every one is busy sending, gets 503 and is closed;
 *   - a request head must arrive whole within 30 s of the previous response (or of the
 *     accept), however slowly it trickles (slowloris); a response that makes no progress for
 *     30 s is abandoned (clients that never read); the environment variable HTTP_TIMEOUT_MS
 *     sets both;
 *   - the request buffer grows to REQ_MAX bytes at most, and a connection is not read while
 *     its response is being sent, so pipelined bytes stay in the kernel's bounded window;
 *   - the poll set lives on the heap (wasi-libc's poll() puts 128 bytes per fd on the shadow
 *     stack), and no function has a large frame.
 *
 * Files of more than SENDFILE_MIN bytes go out without passing through the app: through
 * kiln.sendfile, Kiln's import (the image's file bytes go to the NIC without a copy); where
 * that is not available for a file (hosted, volumes, files the app changed: ENOTSUP) it falls
 * back to pread into the shared buffer and writev.
 *
 * usage: http-server [DOCROOT] [LISTEN_FD]
 *   DOCROOT    preopened directory to serve (default "/")
 *   LISTEN_FD  the listening socket (default: the first socket fd from 3 on, i.e. the one
 *              `kiln build --listen tcp:PORT` preopens after stdio and the directories)
 * Uses wasi-libc's accept/recv/send/writev on the preopened socket and WASI poll_oneoff. The
 * same source builds natively (the Linux guest of bench/serve runs it): poll(2) and
 * sendfile(2) stand in for poll_oneoff and kiln.sendfile. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#ifdef __wasi__
#include <wasi/api.h>
#else
#include <poll.h>
#include <sys/sendfile.h>
#endif

#define MAXC 256                  /* connections served at once (the kernel has 512 TCP pcbs) */
#define REQ_MIN 1024              /* first size of a request buffer */
#define REQ_MAX 8192              /* request line + headers; a longer request line gets 414 */
#define CHUNK (64 * 1024)         /* file bytes per send */
#define TIMEOUT_MS 30000          /* default of both timeouts; env HTTP_TIMEOUT_MS changes it */
#define ACCEPT_BURST 64           /* connections accepted per loop turn */
#define SENDFILE_MIN (16 * 1024)  /* smaller files: one writev of header and data is cheaper */
#define SENDFILE_MAX (1 << 20)    /* bytes per sendfile call */

struct conn {
  int fd;
  char *req; /* request bytes while reading (rcap bytes), else NULL */
  size_t rlen, rcap;
  char hdr[256]; /* response header being sent */
  size_t hlen, hoff;
  int file; /* file being streamed, or -1 */
  off_t foff, fend;
  int keep; /* keep the connection after this response */
  int sendfile; /* send the file with sendfile (cleared when it is not supported for it) */
  int sending, ready;
  int64_t deadline; /* ms: the request head or the next bit of progress is due by then */
};

static struct conn *conns[MAXC];
static int64_t head_timeout_ms = TIMEOUT_MS; /* a whole request head, from the accept or previous response */
static int64_t send_timeout_ms = TIMEOUT_MS; /* a response with no progress for this long is abandoned */
static int nconns;
static const char *root = "/";
static char chunk[CHUNK];
static char path[REQ_MAX + 64]; /* one request is parsed at a time: not on the stack */
#ifdef __wasi__
static __wasi_subscription_t subs[MAXC + 2];
static __wasi_event_t evs[MAXC + 2];
#else
static struct pollfd pfds[MAXC + 1];
#endif

static const struct {
  const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"}, {"css", "text/css"},
    {"js", "text/javascript"}, {"json", "application/json"}, {"txt", "text/plain; charset=utf-8"},
    {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
    {"svg", "image/svg+xml"}, {"ico", "image/x-icon"}, {"wasm", "application/wasm"},
    {"pdf", "application/pdf"}, {"xml", "application/xml"}, {"webp", "image/webp"},
};

static int64_t now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static const char *content_type(const char *p) {
  const char *dot = strrchr(p, '.'), *slash = strrchr(p, '/');
  if (dot && (!slash || dot > slash))
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
      if (!strcasecmp(dot + 1, types[i].ext)) return types[i].type;
  return "application/octet-stream";
}

static void conn_close(int i) {
  struct conn *c = conns[i];
  if (c->file >= 0) close(c->file);
  close(c->fd);
  free(c->req);
  free(c);
  conns[i] = conns[--nconns];
}

static void respond_error(struct conn *c, int code, const char *reason, const char *extra) {
  char body[64];
  int blen = snprintf(body, sizeof body, "%d %s\n", code, reason);
  c->hlen = (size_t)snprintf(c->hdr, sizeof c->hdr,
                             "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n%s"
                             "Connection: close\r\n\r\n%s",
                             code, reason, blen, extra ? extra : "", body);
  c->hoff = 0;
  c->keep = 0;
  c->sending = 1;
}

/* Decodes %XX in place; -1 on a malformed escape or a NUL. */
static int url_decode(char *s) {
  char *o = s;
  for (; *s; s++) {
    if (*s == '%') {
      int hi, lo;
      char a = s[1], b = a ? s[2] : 0;
      hi = a >= '0' && a <= '9' ? a - '0' : (a | 32) >= 'a' && (a | 32) <= 'f' ? (a | 32) - 'a' + 10 : -1;
      lo = b >= '0' && b <= '9' ? b - '0' : (b | 32) >= 'a' && (b | 32) <= 'f' ? (b | 32) - 'a' + 10 : -1;
      if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) return -1;
      *o++ = (char)(hi * 16 + lo);
      s += 2;
    } else {
      *o++ = *s;
    }
  }
  *o = 0;
  return 0;
}

/* Parses one complete request (head of c->req, `end` bytes incl. the blank line). */
static void handle_request(struct conn *c, size_t end) {
  char *line = c->req, *eol = strstr(line, "\r\n");
  *eol = 0;
  char *sp1 = strchr(line, ' '), *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (!sp1 || !sp2 || strchr(sp2 + 1, ' ') || sp1 == line) return respond_error(c, 400, "Bad Request", NULL);
  *sp1 = 0, *sp2 = 0;
  const char *method = line, *version = sp2 + 1;
  char *target = sp1 + 1;
  if (strncmp(version, "HTTP/1.", 7) || (version[7] != '0' && version[7] != '1') || version[8])
    return respond_error(c, 400, "Bad Request", NULL);
  for (const char *m = method; *m; m++)
    if (*m < 'A' || *m > 'Z') return respond_error(c, 400, "Bad Request", NULL);
  int head = !strcmp(method, "HEAD");
  if (!head && strcmp(method, "GET")) return respond_error(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
  /* Headers: only Connection matters here. */
  int keep = version[7] == '1';
  for (char *h = eol + 2; h < c->req + end - 2;) {
    char *e = strstr(h, "\r\n");
    *e = 0;
    if (!strncasecmp(h, "Connection:", 11)) {
      const char *v = h + 11;
      while (*v == ' ' || *v == '\t') v++;
      if (!strncasecmp(v, "close", 5)) keep = 0;
      else if (!strncasecmp(v, "keep-alive", 10)) keep = 1;
    } else if (!strchr(h, ':')) {
      return respond_error(c, 400, "Bad Request", NULL);
    }
    h = e + 2;
  }
  char *q = strchr(target, '?');
  if (q) *q = 0;
  if (target[0] != '/' || url_decode(target) || strstr(target, "/../") ||
      (strlen(target) >= 3 && !strcmp(target + strlen(target) - 3, "/..")))
    return respond_error(c, 400, "Bad Request", NULL);
  snprintf(path, sizeof path, "%s%s%s", root, root[strlen(root) - 1] == '/' ? "" : "/", target + 1);
  struct stat stt;
  int fd = open(path, O_RDONLY);
  if (fd >= 0 && fstat(fd, &stt) == 0 && S_ISDIR(stt.st_mode)) {
    close(fd);
    strncat(path, path[strlen(path) - 1] == '/' ? "index.html" : "/index.html", sizeof path - strlen(path) - 1);
    fd = open(path, O_RDONLY);
  }
  if (fd < 0 || fstat(fd, &stt) != 0 || !S_ISREG(stt.st_mode)) {
    if (fd >= 0) close(fd);
    return respond_error(c, 404, "Not Found", NULL);
  }
  c->keep = keep;
  c->hlen = (size_t)snprintf(c->hdr, sizeof c->hdr,
                             "HTTP/1.1 200 OK\r\nContent-Type: %s\r\nContent-Length: %lld\r\nConnection: %s\r\n\r\n",
                             content_type(path), (long long)stt.st_size, keep ? "keep-alive" : "close");
  c->hoff = 0;
  c->foff = 0;
  c->fend = head ? 0 : stt.st_size;
  c->sendfile = c->fend > SENDFILE_MIN;
  if (head || stt.st_size == 0) close(fd), fd = -1;
  c->file = fd;
  c->sending = 1;
}

/* Looks for a complete request in the buffer; returns 1 if one is being answered. */
static int try_parse(struct conn *c) {
  c->req[c->rlen] = 0;
  char *end = strstr(c->req, "\r\n\r\n");
  if (!end) {
    if (c->rlen >= REQ_MAX - 1) {
      c->deadline = now_ms() + send_timeout_ms;
      if (!strstr(c->req, "\r\n")) respond_error(c, 414, "URI Too Long", NULL);
      else respond_error(c, 400, "Bad Request", NULL);
      return 1;
    }
    return 0;
  }
  size_t used = (size_t)(end - c->req) + 4;
  c->deadline = now_ms() + send_timeout_ms; /* the response's first bytes are due */
  char saved = c->req[used];
  handle_request(c, used);
  /* Keep pipelined bytes after this request for the next one. */
  c->req[used] = saved;
  memmove(c->req, c->req + used, c->rlen - used);
  c->rlen -= used;
  return 1;
}

#ifdef __wasi__
__attribute__((import_module("kiln"), import_name("sendfile"))) int32_t
kiln_sendfile(int32_t out_fd, int32_t in_fd, int64_t offset, int32_t count, int32_t *nsent);

/* Sends up to len bytes of file `in` from off on socket `out` without reading them into the
 * app. Returns the bytes sent, -1 with errno set, or -2 when the file cannot go this way. */
static ssize_t send_file(int out, int in, off_t off, size_t len) {
  int32_t sent = 0;
  int32_t e = kiln_sendfile(out, in, off, (int32_t)len, &sent);
  if (e == __WASI_ERRNO_NOTSUP) return -2;
  if (e) return errno = e, -1;
  return sent;
}
#else
static ssize_t send_file(int out, int in, off_t off, size_t len) {
  ssize_t k = sendfile(out, in, &off, len);
  return k < 0 && (errno == EINVAL || errno == ENOSYS) ? -2 : k;
}
#endif

/* Sends what it can; returns -1 when the connection must be closed, 0 when the socket is
 * full, 1 when the response is complete and the connection stays. */
static int pump(struct conn *c) {
  for (;;) {
    if (c->sendfile && c->hoff == c->hlen && c->file >= 0 && c->foff < c->fend) {
      size_t want = c->fend - c->foff < SENDFILE_MAX ? (size_t)(c->fend - c->foff) : SENDFILE_MAX;
      ssize_t k = send_file(c->fd, c->file, c->foff, want);
      if (k == -2) {
        c->sendfile = 0;
        continue;
      }
      if (k < 0) return errno == EAGAIN ? 0 : -1;
      c->deadline = now_ms() + send_timeout_ms; /* progress */
      c->foff += k;
      if ((size_t)k < want) return 0;
      continue;
    }
    struct iovec iov[2];
    int n = 0;
    if (c->hoff < c->hlen) iov[n].iov_base = c->hdr + c->hoff, iov[n].iov_len = c->hlen - c->hoff, n++;
    size_t want = 0;
    if (c->file >= 0 && c->foff < c->fend && !c->sendfile) {
      want = (size_t)(c->fend - c->foff) < CHUNK ? (size_t)(c->fend - c->foff) : CHUNK;
      ssize_t r = pread(c->file, chunk, want, c->foff);
      if (r <= 0) return -1;
      want = (size_t)r;
      iov[n].iov_base = chunk, iov[n].iov_len = want, n++;
    }
    if (n == 0) break;
    ssize_t k = writev(c->fd, iov, n);
    if (k < 0) return errno == EAGAIN ? 0 : -1;
    c->deadline = now_ms() + send_timeout_ms; /* progress */
    size_t h = c->hlen - c->hoff < (size_t)k ? c->hlen - c->hoff : (size_t)k;
    c->hoff += h;
    c->foff += (off_t)((size_t)k - h);
    if ((size_t)k < h + want) return 0; /* the socket is full: wait until it is writable */
  }
  /* Response complete: the next request head is due within head_timeout_ms. */
  if (c->file >= 0) close(c->file), c->file = -1;
  c->sending = 0;
  c->deadline = now_ms() + head_timeout_ms;
  return c->keep ? 1 : -1;
}

/* Reads what the client sent into its bounded buffer; -1 when the connection must close. */
static int fill(struct conn *c) {
  if (c->rlen + 1 >= c->rcap) { /* grow by doubling up to REQ_MAX */
    size_t cap = c->rcap ? c->rcap * 2 : REQ_MIN;
    if (cap > REQ_MAX) cap = REQ_MAX;
    char *n = cap > c->rcap ? realloc(c->req, cap) : NULL;
    if (n) c->req = n, c->rcap = cap;
    if (!c->req) return -1;
  }
  if (c->rlen + 1 >= c->rcap) return 0; /* full (REQ_MAX): try_parse answers 414/400 */
  ssize_t k = recv(c->fd, c->req + c->rlen, c->rcap - 1 - c->rlen, 0);
  if (k == 0 || (k < 0 && errno != EAGAIN)) return -1;
  if (k > 0) c->rlen += (size_t)k;
  return 0;
}

/* Serves connection i after poll said it is ready; closes it when it is done or broken. */
static void serve(int i) {
  struct conn *c = conns[i];
  if (!c->sending && fill(c) < 0) return conn_close(i);
  /* Answer every complete request we hold, as far as the socket takes it. */
  int r = 1;
  while (r == 1) {
    if (!c->sending && !(c->req && c->rlen && try_parse(c))) break;
    r = pump(c);
  }
  if (r < 0) return conn_close(i);
  if (!c->sending && c->rlen == 0) free(c->req), c->req = NULL, c->rcap = 0;
}

/* A new connection when all MAXC are taken: the one waiting longest for a request head goes
 * (HTTP lets a server close an idle connection at any time); if every one is sending, the
 * newcomer is told 503 and closed. Returns 1 when there is room now. */
static int make_room(int fd) {
  int victim = -1;
  for (int i = 0; i < nconns; i++)
    if (!conns[i]->sending && (victim < 0 || conns[i]->deadline < conns[victim]->deadline)) victim = i;
  if (victim >= 0) {
    conn_close(victim);
    return 1;
  }
  static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                             "Content-Length: 20\r\nConnection: close\r\n\r\n503 Service Unavailable\n";
  send(fd, busy, sizeof busy - 1, 0);
  return 0;
}

static void accept_new(int lfd) {
  for (int n = 0; n < ACCEPT_BURST; n++) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) return;
    fcntl(fd, F_SETFL, O_NONBLOCK);
    struct conn *c = NULL;
    if ((nconns < MAXC || make_room(fd)) && (c = calloc(1, sizeof *c))) {
      c->fd = fd;
      c->file = -1;
      c->deadline = now_ms() + head_timeout_ms;
      conns[nconns++] = c;
    } else {
      close(fd);
    }
  }
}

static int find_listener(void) {
  for (int fd = 3; fd < 64; fd++) {
    struct stat s;
    if (fstat(fd, &s) == 0 && S_ISSOCK(s.st_mode)) return fd;
  }
  return -1;
}

/* Waits until the listener or a connection is ready (reading, or writing while it sends) or
 * the earliest deadline passes; marks the ready connections and returns whether the listener
 * is, or -1 on an error. */
static int wait_ready(int lfd) {
  int64_t now = now_ms(), first = INT64_MAX;
  for (int i = 0; i < nconns; i++) {
    conns[i]->ready = 0;
    if (conns[i]->deadline < first) first = conns[i]->deadline;
  }
  int64_t wait = first == INT64_MAX ? -1 : first > now ? first - now + 1 : 1;
  int listener = 0;
#ifdef __wasi__
  /* userdata: 0 the listener, i + 1 connection i, MAXC + 1 the clock. */
  size_t n = 0;
  subs[n++] = (__wasi_subscription_t){.userdata = 0, .u.tag = __WASI_EVENTTYPE_FD_READ,
                                      .u.u.fd_read.file_descriptor = (__wasi_fd_t)lfd};
  for (int i = 0; i < nconns; i++)
    subs[n++] = (__wasi_subscription_t){.userdata = (uint64_t)i + 1,
                                        .u.tag = conns[i]->sending ? __WASI_EVENTTYPE_FD_WRITE : __WASI_EVENTTYPE_FD_READ,
                                        .u.u.fd_read.file_descriptor = (__wasi_fd_t)conns[i]->fd};
  if (wait >= 0)
    subs[n++] = (__wasi_subscription_t){.userdata = MAXC + 1, .u.tag = __WASI_EVENTTYPE_CLOCK,
                                        .u.u.clock = {.id = __WASI_CLOCKID_MONOTONIC,
                                                      .timeout = (uint64_t)wait * 1000000u}};
  __wasi_size_t got = 0;
  __wasi_errno_t e = __wasi_poll_oneoff(subs, evs, n, &got);
  if (e) {
    fprintf(stderr, "http-server: poll_oneoff: %s\n", strerror(e));
    return -1;
  }
  for (__wasi_size_t k = 0; k < got; k++) {
    uint64_t u = evs[k].userdata;
    if (u == 0) listener = 1;
    else if (u <= (uint64_t)nconns) conns[u - 1]->ready = 1;
  }
#else
  pfds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
  for (int i = 0; i < nconns; i++)
    pfds[i + 1] = (struct pollfd){.fd = conns[i]->fd, .events = conns[i]->sending ? POLLOUT : POLLIN};
  if (poll(pfds, (nfds_t)nconns + 1, wait > INT32_MAX ? INT32_MAX : (int)wait) < 0 && errno != EINTR) {
    perror("http-server: poll");
    return -1;
  }
  listener = pfds[0].revents != 0;
  for (int i = 0; i < nconns; i++) conns[i]->ready = pfds[i + 1].revents != 0;
#endif
  return listener;
}

int main(int argc, char **argv) {
  if (argc > 1) root = argv[1];
  const char *t = getenv("HTTP_TIMEOUT_MS");
  if (t && atoi(t) > 0) head_timeout_ms = send_timeout_ms = atoi(t);
  int lfd = argc > 2 ? atoi(argv[2]) : find_listener();
  if (lfd < 0 || fcntl(lfd, F_SETFL, O_NONBLOCK) != 0) {
    fprintf(stderr, "http-server: no listening socket (build the image with --listen tcp:PORT)\n");
    return 1;
  }
  printf("http-server: serving %s on fd %d\n", root, lfd);
  fflush(stdout);
  for (;;) {
    int listener = wait_ready(lfd);
    if (listener < 0) return 1;
    /* Downwards: conn_close moves the last connection (already seen) into slot i. */
    for (int i = nconns - 1; i >= 0; i--)
      if (conns[i]->ready) serve(i);
    int64_t now = now_ms();
    for (int i = nconns - 1; i >= 0; i--)
      if (now >= conns[i]->deadline) conn_close(i);
    if (listener) accept_new(lfd);
  }
}
