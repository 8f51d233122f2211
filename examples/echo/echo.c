/* examples/echo — TCP echo server: every byte a client sends comes back, for any number of
 * clients at once (one poll() loop, non-blocking sockets). It serves the listening socket the
 * runtime preopens (`kiln build --listen tcp:PORT`): fd 3 by default, or the fd given as the
 * first argument. Prints one line per closed connection with its byte count. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXC 512
#define BUFSZ 16384

struct conn {
  int fd;
  size_t len, off; /* pending bytes in buf[off..len) not yet sent back */
  unsigned long long total;
  char buf[BUFSZ];
};

static struct conn *conns[MAXC];
static int nconns;

static void drop(int i) {
  printf("echo: connection closed after %llu bytes\n", conns[i]->total);
  close(conns[i]->fd);
  free(conns[i]);
  conns[i] = conns[--nconns];
}

int main(int argc, char **argv) {
  int lfd = argc > 1 ? atoi(argv[1]) : 3;
  if (fcntl(lfd, F_SETFL, O_NONBLOCK) != 0) {
    fprintf(stderr, "echo: fd %d is not a listening socket (%s)\n", lfd, strerror(errno));
    return 1;
  }
  printf("echo: serving on fd %d\n", lfd);
  fflush(stdout);
  static struct pollfd pfd[MAXC + 1];
  for (;;) {
    pfd[0].fd = lfd;
    pfd[0].events = nconns < MAXC ? POLLIN : 0;
    for (int i = 0; i < nconns; i++) {
      pfd[i + 1].fd = conns[i]->fd;
      pfd[i + 1].events = conns[i]->len > conns[i]->off ? POLLOUT : POLLIN;
      pfd[i + 1].revents = 0;
    }
    if (poll(pfd, (nfds_t)nconns + 1, -1) < 0) {
      perror("echo: poll");
      return 1;
    }
    for (int i = nconns - 1; i >= 0; i--) {
      struct conn *c = conns[i];
      short re = pfd[i + 1].revents;
      if (!re) continue;
      if (c->len > c->off) {
        ssize_t k = send(c->fd, c->buf + c->off, c->len - c->off, 0);
        if (k < 0 && errno != EAGAIN) { drop(i); continue; }
        if (k > 0) c->off += (size_t)k;
        if (c->off == c->len) c->off = c->len = 0;
        continue;
      }
      ssize_t k = recv(c->fd, c->buf, BUFSZ, 0);
      if (k == 0 || (k < 0 && errno != EAGAIN)) { drop(i); continue; }
      if (k < 0) continue;
      c->total += (unsigned long long)k;
      c->len = (size_t)k, c->off = 0;
      ssize_t s = send(c->fd, c->buf, c->len, 0);
      if (s < 0 && errno != EAGAIN) { drop(i); continue; }
      if (s > 0) c->off = (size_t)s;
      if (c->off == c->len) c->off = c->len = 0;
    }
    if (pfd[0].revents & POLLIN) {
      for (;;) {
        int fd = accept(lfd, NULL, NULL);
        if (fd < 0) break;
        struct conn *c = calloc(1, sizeof *c);
        if (!c || nconns == MAXC) { close(fd); free(c); break; }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        c->fd = fd;
        conns[nconns++] = c;
      }
    }
  }
}
