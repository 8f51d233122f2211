/* examples/msg-send — connects to HOST:PORT and sends COUNT messages of SIZE bytes, then
 * closes and reports the rate. preview1 has no connect(), so this uses the WasmEdge socket
 * extension (sock_open/sock_connect in module wasi_snapshot_preview1), which Kiln provides.
 *
 * usage: msg-send IPV4 PORT COUNT SIZE      (e.g. 10.0.2.2 9000 100000 64 from inside QEMU's
 * user network, where 10.0.2.2 is the host) */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WASMEDGE(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
WASMEDGE(sock_open) int32_t we_sock_open(int32_t af, int32_t type, uint32_t *fd);
WASMEDGE(sock_connect) int32_t we_sock_connect(int32_t fd, const void *addr, int32_t port);

struct we_addr {
  uint32_t buf, len; /* wasm32 pointers are 32-bit */
};

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
  unsigned a, b, c, d;
  if (argc != 5 || sscanf(argv[1], "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 ||
      d > 255 || atoi(argv[2]) <= 0 || atoi(argv[2]) > 65535 || atoll(argv[3]) < 0 || atol(argv[4]) <= 0) {
    fprintf(stderr, "usage: msg-send IPV4 PORT COUNT SIZE\n");
    return 2;
  }
  long long count = atoll(argv[3]);
  size_t size = (size_t)atol(argv[4]);
  uint8_t ip[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
  struct we_addr addr = {(uint32_t)(uintptr_t)ip, 4};
  uint32_t fd;
  int32_t e = we_sock_open(1 /* INET4 */, 2 /* STREAM */, &fd);
  if (e == 0) e = we_sock_connect((int32_t)fd, &addr, atoi(argv[2]));
  if (e) {
    fprintf(stderr, "msg-send: cannot connect to %s:%s (WASI errno %d)\n", argv[1], argv[2], e);
    return 1;
  }
  /* Messages are packed back to back into a batch buffer, so small messages need few calls. */
  size_t per = size >= 65536 ? 1 : 65536 / size;
  char *batch = malloc(per * size);
  if (!batch) return 1;
  for (size_t i = 0; i < per * size; i++) batch[i] = (char)('a' + i % 26);
  double t0 = now();
  long long sent = 0;
  while (sent < count) {
    size_t n = (size_t)(count - sent) < per ? (size_t)(count - sent) : per;
    size_t len = n * size, off = 0;
    while (off < len) {
      ssize_t k = send((int)fd, batch + off, len - off, 0);
      if (k <= 0) {
        perror("msg-send: send");
        return 1;
      }
      off += (size_t)k;
    }
    sent += (long long)n;
  }
  /* Wait for the receiver to close its side: then every byte has arrived (the VM ends when
   * main returns, which would cut off data still in flight). */
  shutdown((int)fd, SHUT_WR);
  while (recv((int)fd, batch, 1, 0) > 0) {
  }
  close((int)fd);
  double dt = now() - t0;
  if (dt <= 0) dt = 1e-9;
  printf("msg-send: %lld messages of %zu bytes in %.3f s: %.0f msgs/s, %.1f MiB/s\n", count, size, dt, count / dt,
         (double)count * size / dt / 1048576.0);
  return 0;
}
