/* tests/boot/apps/bytes.c — binary stdout: argv[1] bytes (default 300 KiB) where byte i is
 * (i ^ i>>8 ^ i>>16) & 0xff (every value, LF, CR and 0xff included), written in uneven chunks;
 * one line on stderr, which must not mix into stdout. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 300 * 1024;
  static unsigned char buf[70000];
  long done = 0;
  for (int chunk = 1; done < n; chunk = chunk * 3 % 65521 + 1) {
    long k = n - done < chunk ? n - done : chunk;
    for (long j = 0; j < k; j++) {
      long i = done + j;
      buf[j] = (unsigned char)(i ^ i >> 8 ^ i >> 16);
    }
    for (long off = 0; off < k;) {
      ssize_t w = write(1, buf + off, (size_t)(k - off));
      if (w <= 0) return 1;
      off += w;
    }
    done += k;
  }
  fprintf(stderr, "bytes: %ld bytes written\n", done);
  return 0;
}
