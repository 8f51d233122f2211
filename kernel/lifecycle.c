/* kernel/lifecycle.c — the instance's life in the kernel: the restart policy (restart=, see
 * kernel/lifecycle.h), the counters of every instance since boot, the restart point where a
 * running instance is stopped for a policy restart, and the metrics in the Prometheus text
 * format (net/metrics.c serves them on metrics=PORT).
 *
 * The restart point: a policy restart (after:, memory-ratio) must stop an instance that is
 * running. It happens where the instance waits (every WASI wait: net_wait, wasi_plat_wait,
 * the console read), which runs at least at every tick (TIMER_HZ) while it waits: the
 * instance unwinds as for proc_exit, with LIFE_UNWIND_RESTART, and kernel/app.c restarts
 * it. An instance that computes without calling WASI is restarted at its next wait. */
#include "kernel/instance.h"
#include "kernel/kernel.h"
#include "kernel/lifecycle.h"
#include "net/ksock.h"

static struct life_policy policy;
static kiln_instance *current;
static uint64_t started_ns;
static struct life_ratio ratio;
static int pending; /* a policy decided to restart: LIFE_AFTER or LIFE_MEMORY_RATIO */
static uint64_t next_check_ns, pending_since;

static struct {
  uint64_t restarts[LIFE_MEMORY_RATIO + 1]; /* by policy (reason) */
  uint64_t traps, failures;
  uint64_t app_requests, app_outgoing; /* kiln.metric_add */
  uint64_t last_restart_ns;            /* guest time of the last restart */
} stats;

void life_init(void) {
  char err[200];
  const char *s = kernel_cmdline_get("restart");
  if (s && life_policy_parse(s, &policy, err, sizeof err)) panic("%s", err);
  if (policy.kind != LIFE_NEVER) klog("kiln: restart policy %s\n", s);
}

const struct life_policy *life_policy(void) { return &policy; }

/* The pages of the instance's own linear memories. */
static uint64_t mem_pages(void) {
  uint64_t n = 0;
  if (!current) return 0;
  const kiln_module *m = current->module;
  for (uint32_t i = m->nimported_memories; i < m->nmemories; i++) n += current->memories[i]->pages;
  return n;
}

/* Outgoing requests: what the app counts (kiln.metric_add) when it counts, else its connects. */
static uint64_t outgoing(void) {
  struct ksock_counts c;
  ksock_counts(&c);
  return stats.app_outgoing ? stats.app_outgoing : c.connects;
}

void life_started(kiln_instance *inst) {
  current = inst;
  started_ns = time_ns();
  pending = 0;
  if (policy.kind == LIFE_MEMORY_RATIO) life_ratio_start(&ratio, &policy, started_ns, mem_pages(), outgoing());
  next_check_ns = policy.kind == LIFE_AFTER ? started_ns + policy.lifetime_ns : started_ns;
}

void life_ended(void) { current = NULL; }

static uint64_t uptime_ns(void) { return current ? time_ns() - started_ns : 0; }

void life_restarted(int reason, uint64_t guest_ns) {
  stats.restarts[reason]++;
  stats.last_restart_ns = guest_ns;
}

void life_failed(uint32_t trap_code) {
  stats.failures++;
  if (trap_code) stats.traps++;
}

/* A policy restart waits for a quiet moment: no socket of the app open besides its listeners
 * and the connections waiting in their backlogs (a one-request-per-connection server between
 * requests), so no request in flight is cut; after LIFE_GRACE_NS without one, it goes ahead
 * anyway (keep-alive clients may hold connections for ever). */
static int quiet(void) {
  struct ksock_counts c;
  ksock_counts(&c);
  return c.open == c.listening + c.pending_accept;
}

void life_restart_point(void) {
  /* An app with threads is not restarted in place (kernel/instance.h). */
  if (!current || policy.kind < LIFE_AFTER || !call_current() || kiln_threads_spawned()) return;
  uint64_t now = time_ns();
  if (!pending && now >= next_check_ns) {
    if (policy.kind == LIFE_AFTER) {
      pending = LIFE_AFTER;
    } else {
      if (life_ratio_sample(&ratio, &policy, now, mem_pages(), outgoing(), KILN_PAGE_SIZE)) pending = LIFE_MEMORY_RATIO;
      next_check_ns = ratio.next_ns;
    }
    if (pending) pending_since = now;
  }
  if (pending && (quiet() || now - pending_since >= LIFE_GRACE_NS))
    kiln_plat_unwind(call_current(), LIFE_UNWIND_RESTART, __builtin_return_address(0));
}

int life_pending(void) { return pending; }

uint64_t life_next_ns(void) {
  if (!current || policy.kind < LIFE_AFTER || kiln_threads_spawned()) return UINT64_MAX;
  return pending ? time_ns() + 10000000ull : next_check_ns; /* pending: look for quiet every 10 ms */
}

/* kiln.metric_add(what, n): the app counts what the kernel cannot see (aot/abi.h mangling). */
void kiln__metric_add__ii_(kiln_instance *ctx, int32_t what, int32_t n) {
  (void)ctx;
  if (n < 0) return;
  if (what == LIFE_COUNT_REQUESTS) stats.app_requests += (uint32_t)n;
  else if (what == LIFE_COUNT_OUTGOING) stats.app_outgoing += (uint32_t)n;
}

int life_metrics_format(char *buf, size_t n) {
  struct ksock_counts c;
  ksock_counts(&c);
  struct life_figures f = {
      .mem_bytes = mem_pages() * KILN_PAGE_SIZE,
      .touched_bytes = mem_pages() * KILN_PAGE_SIZE,
      .requests = stats.app_requests ? stats.app_requests : c.accepted,
      .accepted = c.accepted,
      .outgoing = outgoing(),
      .connects = c.connects,
      .traps = stats.traps,
      .failures = stats.failures,
      .uptime_s = uptime_ns() / 1000000000ull,
      .last_restart_us = stats.last_restart_ns / 1000,
      .guest_free = pmem_free_bytes(),
      .returned = balloon_reported_bytes(),
      .ratio = policy.kind == LIFE_MEMORY_RATIO,
      .needed_bytes = ratio.needed * KILN_PAGE_SIZE,
      .surplus_bytes = ratio.surplus * KILN_PAGE_SIZE,
  };
  for (int k = 0; k <= LIFE_MEMORY_RATIO; k++) f.restarts[k] = stats.restarts[k];
  return (int)life_metrics_text(buf, n, &f);
}
