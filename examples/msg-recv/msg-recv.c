/* examples/msg-recv — receives fixed-size messages on one TCP connection and reports the rate.
 *
 * usage: msg-recv SIZE [COUNT] [LISTEN_FD]
 * Accepts one connection on the preopened listening socket (`kiln build --listen tcp:PORT`;
 * the first socket fd from 3 on unless LISTEN_FD is given), reads until the sender closes,
 * counts whole messages of SIZE bytes and prints "msg-recv: N messages of S bytes in T s:
 * R msgs/s, M MiB/s". Exit status 0, or 1 when COUNT is given and a different number (or a
 * partial message) arrived. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  if (argc < 2 || atol(argv[1]) <= 0) {
    fprintf(stderr, "usage: msg-recv SIZE [COUNT] [LISTEN_FD]\n");
    return 2;
  }
  unsigned long long size = (unsigned long long)atoll(argv[1]);
  long long expect = argc > 2 ? atoll(argv[2]) : -1;
  int lfd = -1;
  if (argc > 3) lfd = atoi(argv[3]);
  for (int fd = 3; lfd < 0 && fd < 64; fd++) {
    struct stat s;
    if (fstat(fd, &s) == 0 && S_ISSOCK(s.st_mode)) lfd = fd;
  }
  printf("msg-recv: waiting on fd %d\n", lfd);
  fflush(stdout);
  int c = accept(lfd, NULL, NULL);
  if (c < 0) {
    perror("msg-recv: accept");
    return 1;
  }
  static char buf[65536];
  unsigned long long total = 0;
  double t0 = 0;
  for (;;) {
    ssize_t k = recv(c, buf, sizeof buf, 0);
    if (k < 0) {
      perror("msg-recv: recv");
      return 1;
    }
    if (k == 0) break;
    if (total == 0) t0 = now();
    total += (unsigned long long)k;
  }
  double dt = now() - t0;
  if (dt <= 0) dt = 1e-9;
  unsigned long long n = total / size;
  printf("msg-recv: %llu messages of %llu bytes in %.3f s: %.0f msgs/s, %.1f MiB/s\n", n, size, dt, n / dt,
         total / dt / 1048576.0);
  close(c);
  if (total % size) {
    printf("msg-recv: %llu stray bytes (a partial message)\n", total % size);
    return 1;
  }
  return expect >= 0 && (long long)n != expect ? 1 : 0;
}
