/* host/lifecycle.c — the hosted runtime's side of kernel/lifecycle.h: the restart policy
 * (--restart), the restart point in its waits, the app's kiln.metric_add counts, and the
 * metrics endpoint (--metrics PORT: 127.0.0.1 only, one thread answering each connection with
 * the Prometheus text and closing it). host/main.c does the restart itself.
 *
 * The restart point: host/net_plat.c and host/wasi_plat.c call host_life_restart_point()
 * before they wait and wait at most until host_life_next_ns(), so a policy restart stops a
 * waiting instance on time; it unwinds with LIFE_UNWIND_RESTART as for proc_exit. */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"
#include "kernel/lifecycle.h"
#include "net/ksock.h"

static struct life_policy policy;
static struct life_ratio ratio;
static int pending;
static uint64_t started_ns, pending_since, next_ns = UINT64_MAX;
/* Held while the instance changes (started, ended) and while the metrics thread reads it. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static kiln_instance *current;
static struct {
  uint64_t restarts[LIFE_MEMORY_RATIO + 1], traps, failures, app_requests, app_outgoing, last_restart_ns, returned;
} stats;

static uint64_t now_ns(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

int host_life_init(const char *spec) {
  char err[256];
  if (spec && life_policy_parse(spec, &policy, err, sizeof err)) {
    fprintf(stderr, "kiln: --restart: %s\n", err);
    return -1;
  }
  return 0;
}

const struct life_policy *host_life_policy(void) { return &policy; }

/* Pages of the instance's own memories; racy against memory.grow in the app's thread when the
 * metrics thread calls it (an aligned 64-bit load: at worst the figure before the grow). */
static uint64_t pages_of(const kiln_instance *inst) {
  uint64_t n = 0;
  if (!inst) return 0;
  const kiln_module *m = inst->module;
  for (uint32_t i = m->nimported_memories; i < m->nmemories; i++) n += inst->memories[i]->pages;
  return n;
}
static uint64_t mem_pages(void) { return pages_of(current); }

/* Resident pages of the instance's memories (mincore). */
static uint64_t resident_bytes(void) {
  uint64_t r = 0;
  unsigned char vec[256];
  if (!current) return 0;
  const kiln_module *m = current->module;
  long pg = sysconf(_SC_PAGESIZE);
  for (uint32_t i = m->nimported_memories; i < m->nmemories; i++) {
    kiln_memory *mem = current->memories[i];
    for (uint64_t off = 0; off < mem->bytes; off += sizeof vec * (uint64_t)pg) {
      uint64_t len = mem->bytes - off < sizeof vec * (uint64_t)pg ? mem->bytes - off : sizeof vec * (uint64_t)pg;
      if (mincore(mem->base + off, len, vec)) break;
      for (uint64_t k = 0; k < (len + (uint64_t)pg - 1) / (uint64_t)pg; k++) r += (vec[k] & 1) ? (uint64_t)pg : 0;
    }
  }
  return r;
}

static uint64_t outgoing(void) {
  struct ksock_counts c;
  ksock_counts(&c);
  return stats.app_outgoing ? stats.app_outgoing : c.connects;
}

void host_life_started(kiln_instance *inst) {
  pthread_mutex_lock(&lock);
  current = inst;
  pthread_mutex_unlock(&lock);
  started_ns = now_ns();
  pending = 0;
  if (policy.kind == LIFE_MEMORY_RATIO) {
    life_ratio_start(&ratio, &policy, started_ns, mem_pages(), outgoing());
    next_ns = ratio.next_ns;
  } else {
    next_ns = policy.kind == LIFE_AFTER ? started_ns + policy.lifetime_ns : UINT64_MAX;
  }
}

void host_life_ended(void) {
  pthread_mutex_lock(&lock);
  current = NULL;
  pthread_mutex_unlock(&lock);
  next_ns = UINT64_MAX;
}

void host_life_failed(uint32_t trap_code) {
  stats.failures++;
  if (trap_code) stats.traps++;
}

void host_life_restarted(int reason, uint64_t took_ns, uint64_t returned) {
  stats.restarts[reason]++;
  stats.last_restart_ns = took_ns;
  stats.returned += returned;
}

int host_life_pending(void) { return pending; }
uint64_t host_life_next_ns(void) { return next_ns; }
uint64_t host_life_linear_bytes(const kiln_instance *inst) { return pages_of(inst) * KILN_PAGE_SIZE; }

/* As the kernel's: a quiet moment (no socket open but the listeners), or LIFE_GRACE_NS. */
void host_life_restart_point(void) {
  kiln_instance *ctx = kiln_host_current();
  /* An app with threads is not restarted in place (kernel/instance.h). */
  if (!current || !ctx || policy.kind < LIFE_AFTER || kiln_threads_spawned()) return;
  uint64_t now = now_ns();
  if (!pending && now >= next_ns) {
    if (policy.kind == LIFE_AFTER) {
      pending = LIFE_AFTER;
    } else {
      if (life_ratio_sample(&ratio, &policy, now, mem_pages(), outgoing(), KILN_PAGE_SIZE)) pending = LIFE_MEMORY_RATIO;
      next_ns = ratio.next_ns;
    }
    if (pending) pending_since = now;
  }
  if (!pending) return;
  struct ksock_counts c;
  ksock_counts(&c);
  if (c.open == c.listening + c.pending_accept || now - pending_since >= LIFE_GRACE_NS)
    kiln_plat_unwind(ctx, LIFE_UNWIND_RESTART, __builtin_return_address(0));
  next_ns = now + 10000000ull; /* not quiet yet: waits look again every 10 ms */
}

void kiln__metric_add__ii_(kiln_instance *ctx, int32_t what, int32_t n) {
  (void)ctx;
  if (n < 0) return;
  if (what == LIFE_COUNT_REQUESTS) __atomic_add_fetch(&stats.app_requests, (uint64_t)n, __ATOMIC_RELAXED);
  else if (what == LIFE_COUNT_OUTGOING) __atomic_add_fetch(&stats.app_outgoing, (uint64_t)n, __ATOMIC_RELAXED);
}

static size_t format(char *buf, size_t n) {
  struct ksock_counts c;
  ksock_counts(&c);
  pthread_mutex_lock(&lock);
  struct life_figures f = {
      .mem_bytes = mem_pages() * KILN_PAGE_SIZE,
      .touched_bytes = resident_bytes(),
      .requests = stats.app_requests ? stats.app_requests : c.accepted,
      .accepted = c.accepted,
      .outgoing = outgoing(),
      .connects = c.connects,
      .traps = stats.traps,
      .failures = stats.failures,
      .uptime_s = current ? (now_ns() - started_ns) / 1000000000ull : 0,
      .last_restart_us = stats.last_restart_ns / 1000,
      .returned = stats.returned,
      .ratio = policy.kind == LIFE_MEMORY_RATIO,
      .needed_bytes = ratio.needed * KILN_PAGE_SIZE,
      .surplus_bytes = ratio.surplus * KILN_PAGE_SIZE,
  };
  for (int k = 0; k <= LIFE_MEMORY_RATIO; k++) f.restarts[k] = stats.restarts[k];
  pthread_mutex_unlock(&lock);
  return life_metrics_text(buf, n, &f);
}

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
    size_t n = format(body, sizeof body);
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
