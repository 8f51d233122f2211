/* tests/boot/apps/cat.c — stdin to stdout with read(2) until it returns 0 (end of input), then
 * on stderr: the byte count, and what isatty() says of fds 0, 1, 2. */
#include <stdio.h>
#include <unistd.h>

int main(void) {
  static char buf[8192];
  long total = 0;
  ssize_t n;
  while ((n = read(0, buf, sizeof buf)) > 0) {
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(1, buf + off, (size_t)(n - off));
      if (w <= 0) return 1;
      off += w;
    }
    total += n;
  }
  if (n < 0) {
    perror("cat: read");
    return 1;
  }
  fprintf(stderr, "cat: %ld bytes, end of input; isatty %d %d %d\n", total, isatty(0), isatty(1), isatty(2));
  return 0;
}
