/* host/lifecycle.c — the hosted runtime's hooks of the instance's lifecycle (kernel/lifecycle.h;
 * kernel/lifecycle_core.c is the lifecycle itself, host/main.c the restart loop), and the
 * metrics endpoint (--metrics PORT: 127.0.0.1 only, one thread answering each connection with
 * the Prometheus text and closing it). */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include "host/host.h"
#include "kernel/lifecycle.h"

/* The metrics thread reads the instance while the app's thread changes it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

void life_plat_lock(void) { pthread_mutex_lock(&lock); }
void life_plat_unlock(void) { pthread_mutex_unlock(&lock); }

kiln_instance *life_plat_caller(void) { return kiln_host_current(); }

/* Resident pages of the instance's memories (mincore); no free guest RAM to speak of. */
void life_plat_figures(struct life_figures *f, const kiln_instance *inst) {
  uint64_t r = 0;
  unsigned char vec[256];
  if (!inst) return;
  const kiln_module *m = inst->module;
  long pg = sysconf(_SC_PAGESIZE);
  for (uint32_t i = m->nimported_memories; i < m->nmemories; i++) {
    kiln_memory *mem = inst->memories[i];
    for (uint64_t off = 0; off < mem->bytes; off += sizeof vec * (uint64_t)pg) {
      uint64_t len = mem->bytes - off < sizeof vec * (uint64_t)pg ? mem->bytes - off : sizeof vec * (uint64_t)pg;
      if (mincore(mem->base + off, len, vec)) break;
      for (uint64_t k = 0; k < (len + (uint64_t)pg - 1) / (uint64_t)pg; k++) r += (vec[k] & 1) ? (uint64_t)pg : 0;
    }
  }
  f->touched_bytes = r;
}

void life_plat_log(const char *line) { fputs(line, stderr); }

static void *serve(void *arg) {
  int l = (int)(intptr_t)arg;
  static char body[4096], head[160], req[2048];
  for (;;) {
    int c = accept(l, NULL, NULL);
    if (c < 0) continue;
    struct timeval tv = {2, 0}; /* a client that never asks is dropped */
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    size_t got = 0;
    while (got < sizeof req - 1) {
      ssize_t k = recv(c, req + got, sizeof req - 1 - got, 0);
      if (k <= 0) break;
      got += (size_t)k;
      req[got] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    size_t n = (size_t)life_metrics_format(body, sizeof body);
    int h = snprintf(head, sizeof head,
                     "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n\r\n", n);
    if (send(c, head, (size_t)h, MSG_NOSIGNAL) == h) send(c, body, n, MSG_NOSIGNAL);
    close(c);
  }
  return NULL;
}

int host_life_metrics(const char *port_s) {
  char *end;
  long port = strtol(port_s, &end, 10);
  int l = port > 0 && port < 65536 && !*end ? socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0) : -1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int one = 1;
  pthread_t t;
  if (l < 0 || setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) || bind(l, (void *)&a, sizeof a) ||
      listen(l, 16) || pthread_create(&t, NULL, serve, (void *)(intptr_t)l)) {
    fprintf(stderr, "kiln: --metrics %s: cannot serve metrics on 127.0.0.1:%s\n", port_s, port_s);
    return -1;
  }
  pthread_detach(t);
  return 0;
}
