/* examples/http-server — a static file server over HTTP/1.1: GET and HEAD, keep-alive and
 * pipelining, Content-Length, Content-Type by extension, index.html for directories, files of
 * any size streamed (one shared buffer, pread at each connection's offset), 400/404/405/414
 * for bad requests. One poll() loop over non-blocking sockets serves every client at once.
 *
 * usage: http-server [DOCROOT] [LISTEN_FD]
 *   DOCROOT    preopened directory to serve (default "/")
 *   LISTEN_FD  the listening socket (default: the first socket fd from 3 on, i.e. the one
 *              `kiln build --listen tcp:PORT` preopens after stdio and the directories)
 * Uses wasi-libc's accept/recv/send/writev on the preopened socket. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#define MAXC 1024
#define REQ_MAX 8192     /* request line + headers; a longer request line gets 414 */
#define CHUNK (64 * 1024) /* file bytes per send */

struct conn {
  int fd;
  char *req;      /* REQ_MAX bytes while reading, else NULL */
  size_t rlen;
  char hdr[512];  /* response header being sent */
  size_t hlen, hoff;
  int file;       /* file being streamed, or -1 */
  off_t foff, fend;
  int keep;       /* keep the connection after this response */
  int sending;
};

static struct conn *conns[MAXC];
static int nconns;
static const char *root = "/";
static char chunk[CHUNK];

static const struct {
  const char *ext, *type;
} types[] = {
    {"html", "text/html; charset=utf-8"}, {"htm", "text/html; charset=utf-8"}, {"css", "text/css"},
    {"js", "text/javascript"}, {"json", "application/json"}, {"txt", "text/plain; charset=utf-8"},
    {"png", "image/png"}, {"jpg", "image/jpeg"}, {"jpeg", "image/jpeg"}, {"gif", "image/gif"},
    {"svg", "image/svg+xml"}, {"ico", "image/x-icon"}, {"wasm", "application/wasm"},
    {"pdf", "application/pdf"}, {"xml", "application/xml"}, {"webp", "image/webp"},
};

static const char *content_type(const char *path) {
  const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
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
  char body[128];
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
  char path[REQ_MAX + 64];
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
      if (!strstr(c->req, "\r\n")) respond_error(c, 414, "URI Too Long", NULL);
      else respond_error(c, 400, "Bad Request", NULL);
      return 1;
    }
    return 0;
  }
  size_t used = (size_t)(end - c->req) + 4;
  char saved = c->req[used];
  handle_request(c, used);
  /* Keep pipelined bytes after this request for the next one. */
  c->req[used] = saved;
  memmove(c->req, c->req + used, c->rlen - used);
  c->rlen -= used;
  return 1;
}

/* Sends what it can; returns -1 when the connection must be closed. */
static int pump(struct conn *c) {
  for (;;) {
    struct iovec iov[2];
    int n = 0;
    if (c->hoff < c->hlen) iov[n].iov_base = c->hdr + c->hoff, iov[n].iov_len = c->hlen - c->hoff, n++;
    size_t want = 0;
    if (c->file >= 0 && c->foff < c->fend) {
      want = (size_t)(c->fend - c->foff) < CHUNK ? (size_t)(c->fend - c->foff) : CHUNK;
      ssize_t r = pread(c->file, chunk, want, c->foff);
      if (r <= 0) return -1;
      want = (size_t)r;
      iov[n].iov_base = chunk, iov[n].iov_len = want, n++;
    }
    if (n == 0) break;
    ssize_t k = writev(c->fd, iov, n);
    if (k < 0) return errno == EAGAIN ? 0 : -1;
    size_t h = c->hlen - c->hoff < (size_t)k ? c->hlen - c->hoff : (size_t)k;
    c->hoff += h;
    c->foff += (off_t)((size_t)k - h);
    if ((size_t)k < h + want) return 0; /* the socket is full: wait for POLLOUT */
  }
  /* Response complete. */
  if (c->file >= 0) close(c->file), c->file = -1;
  c->sending = 0;
  return c->keep ? 1 : -1;
}

static int find_listener(void) {
  for (int fd = 3; fd < 64; fd++) {
    struct stat s;
    if (fstat(fd, &s) == 0 && S_ISSOCK(s.st_mode)) return fd;
  }
  return -1;
}

int main(int argc, char **argv) {
  if (argc > 1) root = argv[1];
  int lfd = argc > 2 ? atoi(argv[2]) : find_listener();
  if (lfd < 0 || fcntl(lfd, F_SETFL, O_NONBLOCK) != 0) {
    fprintf(stderr, "http-server: no listening socket (build the image with --listen tcp:PORT)\n");
    return 1;
  }
  printf("http-server: serving %s on fd %d\n", root, lfd);
  fflush(stdout);
  static struct pollfd pfd[MAXC + 1];
  for (;;) {
    pfd[0].fd = lfd;
    pfd[0].events = nconns < MAXC ? POLLIN : 0;
    for (int i = 0; i < nconns; i++) {
      pfd[i + 1].fd = conns[i]->fd;
      pfd[i + 1].events = conns[i]->sending ? POLLOUT : POLLIN;
      pfd[i + 1].revents = 0;
    }
    if (poll(pfd, (nfds_t)nconns + 1, -1) < 0) {
      perror("http-server: poll");
      return 1;
    }
    for (int i = nconns - 1; i >= 0; i--) {
      struct conn *c = conns[i];
      if (!pfd[i + 1].revents) continue;
      if (!c->sending) {
        if (!c->req && !(c->req = malloc(REQ_MAX))) { conn_close(i); continue; }
        ssize_t k = recv(c->fd, c->req + c->rlen, REQ_MAX - 1 - c->rlen, 0);
        if (k == 0 || (k < 0 && errno != EAGAIN)) { conn_close(i); continue; }
        if (k < 0) continue;
        c->rlen += (size_t)k;
      }
      /* Answer every complete request we hold, as far as the socket takes it. */
      int r = 1;
      while (r == 1) {
        if (!c->sending && !(c->req && try_parse(c))) break;
        r = pump(c);
        if (r == 0) break; /* socket full: continue on POLLOUT */
      }
      if (r < 0) { conn_close(i); continue; }
      if (!c->sending && c->rlen == 0) free(c->req), c->req = NULL;
    }
    if (pfd[0].revents & POLLIN) {
      for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) break;
        struct conn *c = calloc(1, sizeof *c);
        if (!c || nconns == MAXC) { close(fd); free(c); break; }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        c->fd = fd;
        c->file = -1;
        conns[nconns++] = c;
      }
    }
  }
}
