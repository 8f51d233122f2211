/* drivers/serial.c — the 16550 UARTs of the console (kernel/console.c gives them their
 * roles): COM1 to COM4 at 115200 8N1. Bytes go out exactly as given (no "\n" -> "\r\n": the
 * app's streams must stay byte-exact; a host terminal adds its own CR). COM1's receiver is
 * interrupt-driven (IRQ 4) into a ring, so a reader can hlt until input arrives. */
#include "kernel/kernel.h"

static const uint16_t base[SERIAL_NPORTS] = {0x3f8, 0x2f8, 0x3e8, 0x2e8};
enum { DATA = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, SCR = 7 };
#define IER_RX 0x01 /* received data available (and the FIFO timeout) */
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20
#define FIFO_LEN 16 /* a 16550A's transmit FIFO */
#define MCR_OUT2 0x08 /* gates the UART's interrupt line on PC hardware */

static bool present[SERIAL_NPORTS];

/* COM1 input: filled by the interrupt handler, emptied by serial_rx. When full, the receive
 * interrupt is turned off so bytes wait in the UART (and QEMU stops feeding it): none is lost. */
#define RX_RING 4096
static uint8_t rx[RX_RING];
static volatile uint32_t rx_head, rx_tail; /* head: next write (irq), tail: next read */
static volatile bool rx_irq_on;

static void rx_drain(void *arg) {
  uint16_t p = base[0];
  while (inb(p + LSR) & LSR_DATA_READY) {
    if (rx_head - rx_tail == RX_RING) {
      outb(p + IER, 0); /* full: leave the rest in the UART until the reader catches up */
      rx_irq_on = false;
      break;
    }
    rx[rx_head % RX_RING] = inb(p + DATA);
    rx_head++;
  }
  kernel_event();
}

void serial_init(void) {
  for (int i = 0; i < SERIAL_NPORTS; i++) {
    uint16_t p = base[i];
    /* A missing UART reads back 0xff, and has no scratch register: then it is left unused,
     * so writes are dropped instead of spinning forever. */
    outb(p + SCR, 0x5a);
    if (inb(p + LSR) == 0xff || inb(p + SCR) != 0x5a) continue;
    outb(p + IER, 0x00);  /* no interrupts until serial_rx_enable */
    outb(p + LCR, 0x80);  /* DLAB on to set the divisor */
    outb(p + DATA, 0x01); /* 115200 = 115200 / 1 */
    outb(p + IER, 0x00);
    outb(p + LCR, 0x03);  /* 8 bits, no parity, one stop bit; DLAB off */
    outb(p + FCR, 0xc7);  /* FIFOs on and cleared, 14-byte threshold (the timeout covers less) */
    outb(p + MCR, 0x03 | MCR_OUT2); /* DTR, RTS, interrupt line enabled */
    present[i] = true;
  }
}

bool serial_present(int port) { return port >= 0 && port < SERIAL_NPORTS && present[port]; }

/* Polled output: waits for the transmit FIFO to empty, then fills it without asking again. A
 * slow reader on the host side only delays us (QEMU holds THRE clear until it has written). */
void serial_write(int port, const void *buf, size_t n) {
  if (!serial_present(port)) return;
  uint16_t p = base[port];
  const uint8_t *s = buf;
  while (n) {
    while (!(inb(p + LSR) & LSR_THR_EMPTY)) __asm__ volatile("pause");
    size_t k = n < FIFO_LEN ? n : FIFO_LEN;
    for (size_t i = 0; i < k; i++) outb(p + DATA, s[i]);
    s += k;
    n -= k;
  }
}

/* Unmasks COM1's receive interrupt; after irq_init (kernel/trap.c) and pic_init. */
void serial_rx_enable(void) {
  if (!present[0]) return;
  if (irq_register(4, rx_drain, NULL) != 0) return;
  rx_irq_on = true;
  outb(base[0] + IER, IER_RX);
}

/* Up to n received bytes of COM1 (0 when none is waiting); never blocks. */
size_t serial_rx(uint8_t *buf, size_t n) {
  uint64_t f = irq_save();
  size_t k = 0;
  if (rx_irq_on) rx_drain(NULL); /* cheap, and covers an interrupt edge the PIC missed */
  while (k < n && rx_tail != rx_head) buf[k++] = rx[rx_tail++ % RX_RING];
  if (!rx_irq_on && present[0]) {
    rx_drain(NULL); /* what waited in the UART while the ring was full */
    if (rx_head - rx_tail < RX_RING) {
      rx_irq_on = true;
      outb(base[0] + IER, IER_RX);
    }
  }
  irq_restore(f);
  return k;
}

bool serial_rx_ready(void) {
  return rx_head != rx_tail || (present[0] && (inb(base[0] + LSR) & LSR_DATA_READY));
}
