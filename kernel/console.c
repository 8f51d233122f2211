/* kernel/console.c — the VM's stdio, as `kiln run` wires QEMU (README, "Console streams"):
 *   COM1 out  the app's stdout, byte for byte
 *   COM2 out  the app's stderr and the kernel's notes, traps and panics (COM1 when the machine
 *             has no COM2, e.g. a plain `qemu -serial stdio`)
 *   stdin     the virtio console's port 0 (drivers/virtio_console.c), or COM1's input without
 *             one; framed by tools/kiln-stdin.c because neither has an end of input: 0xff 0x00
 *             is the data byte 0xff, 0xff 0x01 is end of input, any other byte is itself.
 *   COM3 out  one byte once stdin can be received: kiln-stdin sends nothing before it, as the
 *             UART drops what arrived while its FIFO was being switched on at boot.
 *   COM4 out  one byte once the listening sockets of listen= are up: kiln-fwd holds the host's
 *             clients until then (a connection QEMU forwards to a guest whose network is not up
 *             yet waits a second for its SYN to be sent again).
 * The fw_cfg file opt/kiln/stdio (three characters, '1' where the host's fd 0, 1, 2 is a
 * terminal, '0' where not) says that kiln is on the host side. Without it nothing frames
 * stdin, so stdin is empty (a program reading it never hangs) and stdio are terminals. */
#include "kernel/kernel.h"

enum { COM1 = 0, COM2 = 1, COM3 = 2, COM4 = 3 };
#define ESC 0xff
#define ESC_BYTE 0x00
#define ESC_EOF 0x01

static bool framed;                    /* kiln frames stdin (opt/kiln/stdio was there) */
static char host_tty[3] = {'1', '1', '1'};
static bool in_eof, in_esc;            /* saw the end marker; the last byte was ESC */

static int err_port(void) { return serial_present(COM2) ? COM2 : COM1; }

void console_init(void) { serial_init(); }

void console_host_init(void) {
  char v[8];
  int n = fw_cfg_read_file("opt/kiln/stdio", v, sizeof v);
  if (n < 0) return;
  if (n != 3 || (v[0] | 1) != '1' || (v[1] | 1) != '1' || (v[2] | 1) != '1') {
    klog("kiln: ignoring fw_cfg opt/kiln/stdio: want three of 0/1, got %d bytes\n", n);
    return;
  }
  memcpy(host_tty, v, 3);
  framed = true;
  /* Input through the virtio console when kiln attached one (fast), else COM1's receiver. */
  if (virtio_console_probe() != 0) serial_rx_enable();
  serial_write(COM3, "r", 1);
}

void console_listening(void) {
  if (!boot_tsc_listening) boot_tsc_listening = rdtsc();
  if (serial_present(COM4)) serial_write(COM4, "l", 1);
}

/* One writer at a time (any CPU), so lines from different threads do not interleave. */
static spinlock_t out_lock;

void console_write(int fd, const void *buf, size_t n) {
  uint64_t f = spin_lock_irqsave(&out_lock);
  serial_write(fd == 2 ? err_port() : COM1, buf, n);
  spin_unlock_irqrestore(&out_lock, f);
}

void console_note(const char *s, size_t n) {
  uint64_t f = spin_lock_irqsave(&out_lock);
  serial_write(err_port(), s, n);
  spin_unlock_irqrestore(&out_lock, f);
}

int console_isatty(int fd) { return fd >= 0 && fd < 3 && host_tty[fd] == '1'; }

/* Decodes what COM1 received into buf: > 0 bytes, 0 when nothing has arrived yet, -1 at the
 * end of input (from then on). Never blocks. Decoding is in place: output never outgrows
 * the raw bytes it came from. */
int64_t console_read(void *buf, size_t n) {
  if (!framed || in_eof) return -1;
  uint8_t *p = buf;
  size_t got = 0;
  while (got == 0 && !in_eof) {
    size_t raw = virtio_console_present() ? virtio_console_rx(p, n) : serial_rx(p, n);
    if (!raw) return 0;
    for (size_t i = 0; i < raw && !in_eof; i++) {
      uint8_t c = p[i];
      if (in_esc) {
        in_esc = false;
        if (c == ESC_BYTE) p[got++] = ESC;
        else if (c == ESC_EOF) in_eof = true;
        /* anything else is not kiln's framing: dropped */
      } else if (c == ESC) {
        in_esc = true;
      } else {
        p[got++] = c;
      }
    }
  }
  return got ? (int64_t)got : -1;
}

/* A read would not block: input or its end is there (an ESC alone counts: its pair follows). */
int console_read_ready(void) {
  return !framed || in_eof || (virtio_console_present() ? virtio_console_rx_ready() : serial_rx_ready());
}
