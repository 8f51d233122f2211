/* drivers/serial.c — the console: COM1 (16550 UART) at 115200 8N1, polled. Output converts
 * "\n" to "\r\n" so terminals and QEMU's -serial stdio show lines properly. */
#include "kernel/kernel.h"

#define COM1 0x3f8
enum { DATA = 0, IER = 1, FCR = 2, LCR = 3, MCR = 4, LSR = 5 };
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

static int present;

void serial_init(void) {
  outb(COM1 + IER, 0x00);  /* no UART interrupts: the console is polled */
  outb(COM1 + LCR, 0x80);  /* DLAB on to set the divisor */
  outb(COM1 + DATA, 0x01); /* 115200 = 115200 / 1 */
  outb(COM1 + IER, 0x00);
  outb(COM1 + LCR, 0x03);  /* 8 bits, no parity, one stop bit; DLAB off */
  outb(COM1 + FCR, 0xc7);  /* FIFOs on and cleared, 14-byte threshold */
  outb(COM1 + MCR, 0x03);  /* DTR, RTS */
  /* A missing UART reads back 0xff: then writes are dropped instead of spinning forever. */
  present = inb(COM1 + LSR) != 0xff;
}

static void put_raw(char c) {
  if (!present) return;
  for (int spin = 0; !(inb(COM1 + LSR) & LSR_THR_EMPTY) && spin < 100000; spin++) __asm__ volatile("pause");
  outb(COM1 + DATA, (uint8_t)c);
}

void serial_putc(char c) {
  if (c == '\n') put_raw('\r');
  put_raw(c);
}

void serial_write(const char *s, size_t n) {
  for (size_t i = 0; i < n; i++) serial_putc(s[i]);
}

int serial_ready(void) { return present && (inb(COM1 + LSR) & LSR_DATA_READY); }

int serial_getc(void) { return serial_ready() ? inb(COM1 + DATA) : -1; }
