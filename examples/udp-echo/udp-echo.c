/* examples/udp-echo — a UDP echo server (RFC 862) written against the WasmEdge socket API:
 * sock_open, sock_bind, sock_recv_from, sock_send_to (wasi-libc has no datagram calls).
 * Every datagram goes back to its sender unchanged; a datagram "quit" ends the server.
 *   kiln build udp-echo.wasm -o udp-echo.iso --arg udp-echo --arg 7
 * argv[1]: the port (default 7). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define IMPORT(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(name)))
typedef struct { uint32_t buf, len; } wasi_addr; /* len 4: the IPv4 octets */
typedef struct { uint8_t *buf; uint32_t len; } wasi_iovec;
IMPORT("sock_open") int32_t sock_open(int32_t af, int32_t type, int32_t *fd);
IMPORT("sock_bind") int32_t sock_bind(int32_t fd, wasi_addr *addr, int32_t port);
IMPORT("sock_recv_from") int32_t sock_recv_from(int32_t fd, wasi_iovec *iov, int32_t n, wasi_addr *addr,
                                                int32_t flags, uint32_t *port, uint32_t *got, uint16_t *oflags);
IMPORT("sock_send_to") int32_t sock_send_to(int32_t fd, wasi_iovec *iov, int32_t n, wasi_addr *addr, int32_t port,
                                            int32_t flags, uint32_t *sent);

int main(int argc, char **argv) {
  int port = argc > 1 ? atoi(argv[1]) : 7;
  int32_t fd, e;
  uint8_t any[4] = {0, 0, 0, 0}, from[4];
  wasi_addr a = {(uint32_t)(uintptr_t)any, 4}, fa = {(uint32_t)(uintptr_t)from, 4};
  if ((e = sock_open(1, 1, &fd)) || (e = sock_bind(fd, &a, port))) {
    fprintf(stderr, "udp-echo: cannot open udp port %d (errno %d)\n", port, e);
    return 1;
  }
  printf("udp-echo: serving on udp port %d\n", port);
  fflush(stdout);
  static uint8_t buf[65536];
  unsigned long n = 0;
  for (;;) {
    wasi_iovec v = {buf, sizeof buf};
    uint32_t fport = 0, got = 0, sent = 0;
    uint16_t of = 0;
    if ((e = sock_recv_from(fd, &v, 1, &fa, 0, &fport, &got, &of))) {
      fprintf(stderr, "udp-echo: sock_recv_from: errno %d\n", e);
      return 1;
    }
    if (got == 4 && !memcmp(buf, "quit", 4)) break;
    v.len = got;
    if ((e = sock_send_to(fd, &v, 1, &fa, (int32_t)fport, 0, &sent)))
      fprintf(stderr, "udp-echo: sock_send_to: errno %d\n", e);
    n++;
  }
  printf("udp-echo: %lu datagrams echoed\n", n);
  return 0;
}
