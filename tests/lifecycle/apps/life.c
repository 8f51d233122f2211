/* tests/lifecycle/apps/life.c — a small HTTP/1.0 server on the preopened listener (fd 3) whose
 * requests drive the lifecycle tests: one request per connection, answered and closed.
 *   /info       served=N (requests this instance answered) pages=N (linear memory) gen=G
 *               (a global set from the data segment, changed by /dirty: fresh after restart)
 *   /dirty      sets gen to 2
 *   /grow/N     allocates and touches N MiB, kept
 *   /entry      one cache entry (60,000 bytes) for an "outgoing request" (kiln.metric_add 1):
 *               the entries live in a ring of RING, the oldest freed (flat memory)
 *   /leak       the same entry, never freed (memory grows with the outgoing requests)
 *   /trap       unreachable
 *   /exit/N     exit(N)
 * Every request counts itself as processed (kiln.metric_add 0). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define RING 20
#define ENTRY 60000

__attribute__((import_module("kiln"), import_name("metric_add"))) void kiln_metric_add(int what, int n);

static int served;
static int gen = 1;
static char *ring[RING];
static unsigned ring_next;
static char *volatile kept; /* the last allocation of /grow and /leak: clang may not elide it */

static void reply(int fd, const char *body) {
  char out[512];
  int n = snprintf(out, sizeof out, "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\n\r\n%s", strlen(body), body);
  for (int off = 0; off < n;) {
    ssize_t k = send(fd, out + off, (size_t)(n - off), 0);
    if (k <= 0) return;
    off += (int)k;
  }
}

static char *entry(void) {
  char *e = malloc(ENTRY);
  if (e) memset(e, 0x5a, ENTRY);
  kiln_metric_add(1, 1);
  return e;
}

int main(void) {
  for (;;) {
    int fd = accept(3, NULL, NULL);
    if (fd < 0) continue;
    char req[1024];
    size_t len = 0;
    while (len < sizeof req - 1) {
      ssize_t k = recv(fd, req + len, sizeof req - 1 - len, 0);
      if (k <= 0) break;
      len += (size_t)k;
      req[len] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[len] = 0;
    served++;
    kiln_metric_add(0, 1);
    char body[256];
    const char *path = strncmp(req, "GET ", 4) == 0 ? req + 4 : "";
    if (!strncmp(path, "/grow/", 6)) {
      size_t mb = strtoul(path + 6, NULL, 10);
      char *p = malloc(mb << 20);
      if (p) memset(p, 1, mb << 20);
      kept = p;
      snprintf(body, sizeof body, "grew=%d pages=%zu\n", p != NULL, __builtin_wasm_memory_size(0));
    } else if (!strncmp(path, "/entry", 6)) {
      free(ring[ring_next % RING]);
      ring[ring_next++ % RING] = entry();
      snprintf(body, sizeof body, "pages=%zu\n", __builtin_wasm_memory_size(0));
    } else if (!strncmp(path, "/leak", 5)) {
      kept = entry();
      snprintf(body, sizeof body, "pages=%zu\n", __builtin_wasm_memory_size(0));
    } else if (!strncmp(path, "/dirty", 6)) {
      gen = 2;
      snprintf(body, sizeof body, "gen=%d\n", gen);
    } else if (!strncmp(path, "/trap", 5)) {
      close(fd);
      __builtin_trap();
    } else if (!strncmp(path, "/exit/", 6)) {
      close(fd);
      exit(atoi(path + 6));
    } else {
      snprintf(body, sizeof body, "served=%d pages=%zu gen=%d\n", served, __builtin_wasm_memory_size(0), gen);
    }
    reply(fd, body);
    close(fd);
  }
}
