/* tools/kiln-stdin.c — the host side of the VM's stdin (kernel/console.c):
 *   kiln-stdin [READY]
 * copies its stdin to its stdout (QEMU's COM1 input), framed, because a serial line cannot say
 * "end of input": the byte 0xff goes as 0xff 0x00, and end of input as 0xff 0x01. With READY
 * (a FIFO QEMU's COM3 writes to), it first waits for the kernel's byte there: what reaches
 * the UART before the kernel has set it up is lost. Writes each read at once, so a terminal's
 * lines reach the app as they are typed. Exits when its stdin ends or its reader (QEMU) has
 * gone. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int write_all(const unsigned char *p, size_t n) {
  while (n) {
    ssize_t r = write(1, p, n);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return -1;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

int main(int argc, char **argv) {
  static unsigned char in[65536], out[2 * sizeof in];
  signal(SIGPIPE, SIG_DFL);
  if (argc > 1) {
    int fd = open(argv[1], O_RDONLY);
    if (fd < 0) {
      fprintf(stderr, "kiln: %s: %s\n", argv[1], strerror(errno));
      return 1;
    }
    char c;
    ssize_t r;
    while ((r = read(fd, &c, 1)) < 0 && errno == EINTR) {}
    if (r != 1) return 0; /* the VM ended before it could read stdin */
    close(fd);
  }
  for (;;) {
    ssize_t n = read(0, in, sizeof in);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      fprintf(stderr, "kiln: reading stdin: %s (the app sees end of input)\n", strerror(errno));
      n = 0;
    }
    if (n == 0) break;
    size_t k = 0;
    for (ssize_t i = 0; i < n; i++) {
      out[k++] = in[i];
      if (in[i] == 0xff) out[k++] = 0x00;
    }
    if (write_all(out, k)) return 1;
  }
  static const unsigned char eof[2] = {0xff, 0x01};
  return write_all(eof, 2) ? 1 : 0;
}
