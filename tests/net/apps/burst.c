/* tests/net/apps/burst.c — writes a burst and exits at once: accepts one connection on the
 * preopened listener (fd 3), reads one request line "SIZE\n", writes SIZE bytes of a known
 * pattern (byte i is (i * 7 + i / 4096) & 0xff) and ends without closing the socket, with
 * exit status argv[1] (0: _start returns; otherwise proc_exit). The kernel must still
 * deliver every byte before the machine stops. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  int status = argc > 1 ? atoi(argv[1]) : 0;
  printf("burst: waiting\n");
  fflush(stdout);
  int c = accept(3, NULL, NULL);
  if (c < 0) {
    perror("burst: accept");
    return 100;
  }
  char line[32];
  size_t n = 0;
  while (n < sizeof line - 1) {
    ssize_t k = recv(c, line + n, 1, 0);
    if (k <= 0) break;
    if (line[n++] == '\n') break;
  }
  line[n] = 0;
  long size = atol(line);
  static unsigned char buf[65536];
  for (long off = 0; off < size;) {
    long k = size - off < (long)sizeof buf ? size - off : (long)sizeof buf;
    for (long i = 0; i < k; i++) buf[i] = (unsigned char)(((off + i) * 7 + (off + i) / 4096) & 0xff);
    for (long done = 0; done < k;) {
      ssize_t w = send(c, buf + done, (size_t)(k - done), 0);
      if (w <= 0) {
        perror("burst: send");
        return 101;
      }
      done += w;
    }
    off += k;
  }
  printf("burst: wrote %ld bytes, exiting with %d\n", size, status);
  return status;
}
