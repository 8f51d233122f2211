/* tools/kiln-stdin.c — the host side of the VM's stdin (kernel/console.c):
 *   kiln-stdin [READY [OUT]]
 * copies its stdin to OUT (default stdout): QEMU's virtio console or COM1 input, framed,
 * because neither can say "end of input": the byte 0xff goes as 0xff 0x00, and end of input
 * as 0xff 0x01. With READY (a FIFO QEMU's COM3 writes to), it first waits for the kernel's
 * byte there: what reaches a UART before the kernel has set it up is lost. OUT is opened
 * after that, so QEMU may open its files in any order. Writes each read at once, so a
 * terminal's lines reach the app as they are typed. Exits when its stdin ends or its
 * reader (QEMU) has gone. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
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

/* QEMU makes its stdout non-blocking; when that is the terminal we read too, the flag is on
 * our stdin as well. Reads then wait in poll(), and the terminal gets its flags back when we
 * are done (kiln run ends us with SIGTERM; Ctrl-C), so the user's shell does not inherit them. */
static int stdin_flags = -1;
static void restore_stdin(void) {
  if (stdin_flags >= 0) fcntl(0, F_SETFL, stdin_flags);
}
static void on_term(int sig) {
  restore_stdin();
  _exit(0);
}

int main(int argc, char **argv) {
  static unsigned char in[65536], out[2 * sizeof in];
  signal(SIGPIPE, SIG_DFL);
  stdin_flags = fcntl(0, F_GETFL);
  atexit(restore_stdin);
  signal(SIGTERM, on_term);
  signal(SIGINT, on_term); /* Ctrl-C stops the VM (QEMU and kiln get it too) */
  signal(SIGHUP, on_term);
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
  if (argc > 2) {
    int fd = open(argv[2], O_WRONLY);
    if (fd < 0 || dup2(fd, 1) < 0) {
      fprintf(stderr, "kiln: %s: %s\n", argv[2], strerror(errno));
      return 1;
    }
    close(fd);
  }
  for (;;) {
    ssize_t n = read(0, in, sizeof in);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) {
      struct pollfd p = {.fd = 0, .events = POLLIN};
      poll(&p, 1, -1);
      continue;
    }
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
