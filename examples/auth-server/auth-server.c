/* examples/auth-server — the authorization server of the auth-proxy scenario (the study of
 * issue 12): `GET /token/USER` answers a 1 KiB token for USER (derived from the name and a
 * counter, so every issue differs). One request per connection, on the preopened listener
 * (fd 3, or the fd given as the first argument). Prints nothing per request: it is a backend. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define TOKEN 1024

static int send_all(int fd, const char *p, size_t n) {
  while (n) {
    ssize_t k = send(fd, p, n, 0);
    if (k <= 0) return -1;
    p += k, n -= (size_t)k;
  }
  return 0;
}

/* Reads a request head (up to its blank line) into req; its length, or -1. */
static int read_head(int fd, char *req, size_t cap) {
  size_t len = 0;
  while (len < cap - 1) {
    ssize_t k = recv(fd, req + len, cap - 1 - len, 0);
    if (k <= 0) return -1;
    len += (size_t)k;
    req[len] = 0;
    if (strstr(req, "\r\n\r\n")) return (int)len;
  }
  return -1;
}

int main(int argc, char **argv) {
  int lfd = argc > 1 ? atoi(argv[1]) : 3;
  unsigned long issued = 0;
  printf("auth-server: serving on fd %d\n", lfd);
  fflush(stdout);
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    char req[1024], head[128], token[TOKEN + 1];
    if (read_head(fd, req, sizeof req) > 0 && !strncmp(req, "GET /token/", 11)) {
      const char *user = req + 11;
      size_t ulen = strcspn(user, " \r\n");
      /* A token: the user, the issue number, then hex digits of a simple mix of both. */
      uint64_t h = 1469598103934665603ull ^ ++issued;
      int n = snprintf(token, sizeof token, "%.*s.%lu.", (int)(ulen > 64 ? 64 : ulen), user, issued);
      for (int i = n; i < TOKEN; i++) {
        h = (h ^ (unsigned char)user[i % (ulen ? ulen : 1)]) * 1099511628211ull;
        token[i] = "0123456789abcdef"[h >> 60];
      }
      token[TOKEN] = 0;
      int hl = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n", TOKEN);
      if (send_all(fd, head, (size_t)hl) == 0) send_all(fd, token, TOKEN);
    } else {
      static const char nf[] = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\n\r\n";
      send_all(fd, nf, sizeof nf - 1);
    }
    close(fd);
  }
}
