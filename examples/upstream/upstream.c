/* examples/upstream — the service behind auth-proxy in the issue 12 scenario: answers every
 * `GET PATH` with a small body naming the path. One request per connection, on the preopened
 * listener (fd 3, or the fd given as the first argument). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int lfd = argc > 1 ? atoi(argv[1]) : 3;
  printf("upstream: serving on fd %d\n", lfd);
  fflush(stdout);
  for (;;) {
    int fd = accept(lfd, NULL, NULL);
    if (fd < 0) continue;
    char req[2048], out[2300];
    size_t len = 0;
    while (len < sizeof req - 1) {
      ssize_t k = recv(fd, req + len, sizeof req - 1 - len, 0);
      if (k <= 0) break;
      len += (size_t)k;
      req[len] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[len] = 0;
    const char *path = !strncmp(req, "GET ", 4) ? req + 4 : "/";
    int pl = (int)strcspn(path, " \r\n");
    char body[2100];
    int bl = snprintf(body, sizeof body, "upstream: %.*s\n", pl > 2000 ? 2000 : pl, path);
    int n = snprintf(out, sizeof out, "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s", bl, body);
    for (int off = 0; off < n;) {
      ssize_t k = send(fd, out + off, (size_t)(n - off), 0);
      if (k <= 0) break;
      off += (int)k;
    }
    close(fd);
  }
}
