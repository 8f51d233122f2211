/* kernel/lifecycle_core.c — the running instance's life under a restart policy
 * (kernel/lifecycle.h), written once for the kernel and the hosted runtime: the policy, the
 * counters of every instance since the start, the restart point, the decision after an
 * instance's end, and the metrics (net/metrics.c and host/lifecycle.c serve them). The clock
 * is the runtime's (kiln_plat_now_ns), the sockets' counts net/ksock.h's; the rest each
 * platform gives through its life_plat_* hooks (kernel/lifecycle.c, host/lifecycle.c).
 *
 * The restart point: a policy restart (after:, memory-ratio) must stop an instance that is
 * running. It happens where the instance waits (every WASI wait: the kernel's net_wait,
 * wasi_plat_wait and console read, the hosted runtime's net_plat waits), which waits at most
 * until life_next_ns(): the instance unwinds as for proc_exit, with LIFE_UNWIND_RESTART, and
 * the platform's restart loop (kernel/app.c, host/main.c) restarts it. An instance that
 * computes without calling WASI is restarted at its next wait. */
#include "kernel/instance.h"
#include "kernel/lifecycle.h"
#include "net/ksock.h"

static struct life_policy policy;
static struct life_ratio ratio;
static kiln_instance *current; /* changes under life_plat_lock, with started_ns */
static uint64_t started_ns;
static int pending; /* a policy decided to restart: LIFE_AFTER or LIFE_MEMORY_RATIO */
static uint64_t next_check_ns, pending_since;
static uint32_t failure_run; /* on-failure: the current run of failures */

/* The restart life_decide asked for, until life_restarted logs it. */
static struct {
  int reason;
  uint64_t ran_ns;
  char why[300];
} restart;

static struct {
  uint64_t restarts[LIFE_MEMORY_RATIO + 1]; /* by policy (reason) */
  uint64_t traps, failures;
  uint64_t app_requests, app_outgoing; /* kiln.metric_add */
  uint64_t last_restart_ns;            /* how long the last restart took */
  uint64_t returned;                   /* bytes given back to the host, as life_restarted was told */
} stats;

int life_init(const char *spec, char *err, size_t errlen) {
  return spec ? life_policy_parse(spec, &policy, err, errlen) : 0;
}

const struct life_policy *life_policy(void) { return &policy; }

/* The pages of the instance's own linear memories. Racy against memory.grow in the app's
 * thread when the metrics read them: an aligned 64-bit load, at worst the figure before. */
static uint64_t pages_of(const kiln_instance *inst) {
  uint64_t n = 0;
  if (!inst) return 0;
  const kiln_module *m = inst->module;
  for (uint32_t i = m->nimported_memories; i < m->nmemories; i++) n += inst->memories[i]->pages;
  return n;
}

uint64_t life_linear_bytes(const kiln_instance *inst) { return pages_of(inst) * KILN_PAGE_SIZE; }

/* Outgoing requests: what the app counts (kiln.metric_add) when it counts, else its connects. */
static uint64_t outgoing(void) {
  struct ksock_counts c;
  ksock_counts(&c);
  return stats.app_outgoing ? stats.app_outgoing : c.connects;
}

void life_started(kiln_instance *inst) {
  uint64_t now = kiln_plat_now_ns();
  life_plat_lock();
  current = inst;
  started_ns = now;
  life_plat_unlock();
  pending = 0;
  if (policy.kind == LIFE_MEMORY_RATIO) life_ratio_start(&ratio, &policy, now, pages_of(inst), outgoing());
  next_check_ns = policy.kind == LIFE_AFTER ? now + policy.lifetime_ns : ratio.next_ns;
}

void life_ended(void) {
  life_plat_lock();
  current = NULL;
  life_plat_unlock();
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
  if (!current || policy.kind < LIFE_AFTER) return;
  /* Only inside a Wasm call; an app with threads is not restarted in place (kernel/instance.h). */
  kiln_instance *ctx = life_plat_caller();
  if (!ctx || kiln_threads_spawned()) return;
  uint64_t now = kiln_plat_now_ns();
  if (!pending && now >= next_check_ns) {
    if (policy.kind == LIFE_AFTER) {
      pending = LIFE_AFTER;
    } else {
      if (life_ratio_sample(&ratio, &policy, now, pages_of(current), outgoing(), KILN_PAGE_SIZE))
        pending = LIFE_MEMORY_RATIO;
      next_check_ns = ratio.next_ns;
    }
    if (pending) pending_since = now;
  }
  if (pending && (quiet() || now - pending_since >= LIFE_GRACE_NS))
    kiln_plat_unwind(ctx, LIFE_UNWIND_RESTART, __builtin_return_address(0));
}

uint64_t life_next_ns(void) {
  if (!current || policy.kind < LIFE_AFTER || kiln_threads_spawned()) return UINT64_MAX;
  return pending ? kiln_plat_now_ns() + 10000000ull : next_check_ns; /* pending: look for quiet every 10 ms */
}

int life_decide(uint32_t code, int exit_code, uint64_t ran_ns, const char *trap, uint64_t *backoff_ns) {
  struct life_text why = {restart.why, sizeof restart.why, 0};
  *backoff_ns = 0;
  if (code == LIFE_UNWIND_RESTART) {
    restart.reason = pending;
    life_put(&why, pending == LIFE_AFTER ? "lifetime reached" : "memory surplus");
  } else {
    int failed = code == KILN_TRAP_EXIT ? exit_code != 0 : code != KILN_TRAP_NONE;
    if (failed) stats.failures++;
    if (failed && code != KILN_TRAP_EXIT) stats.traps++;
    if (!life_restart_on_failure(&policy, failed, ran_ns, &failure_run)) return 0;
    restart.reason = LIFE_ON_FAILURE;
    *backoff_ns = life_backoff_ns(&policy, failure_run);
    if (code == KILN_TRAP_EXIT) {
      life_put(&why, exit_code < 0 ? "exit -" : "exit ");
      life_put_u64(&why, exit_code < 0 ? -(uint64_t)(int64_t)exit_code : (uint64_t)exit_code);
    } else {
      life_put(&why, "trap: ");
      life_put(&why, trap);
    }
  }
  restart.ran_ns = ran_ns;
  return restart.reason;
}

void life_restarted(uint64_t took_ns, uint64_t returned) {
  char line[400];
  struct life_text w = {line, sizeof line, 0};
  stats.restarts[restart.reason]++;
  stats.last_restart_ns = took_ns;
  stats.returned += returned;
  life_put(&w, "kiln: restart "), life_put(&w, life_policy_name(restart.reason));
  life_put(&w, " ("), life_put(&w, restart.why), life_put(&w, ") after ");
  life_put_u64(&w, restart.ran_ns / 1000000), life_put(&w, " ms: "), life_put_u64(&w, took_ns / 1000);
  life_put(&w, " us, "), life_put_u64(&w, returned >> 10), life_put(&w, " KiB back to the host\n");
  life_plat_log(line);
}

/* kiln.metric_add(what, n): the app counts what the platform cannot see (aot/abi.h mangling).
 * Any of the app's threads may count while the metrics read. */
void kiln__metric_add__ii_(kiln_instance *ctx, int32_t what, int32_t n) {
  (void)ctx;
  if (n < 0) return;
  if (what == LIFE_COUNT_REQUESTS) __atomic_add_fetch(&stats.app_requests, (uint64_t)n, __ATOMIC_RELAXED);
  else if (what == LIFE_COUNT_OUTGOING) __atomic_add_fetch(&stats.app_outgoing, (uint64_t)n, __ATOMIC_RELAXED);
}

int life_metrics_format(char *buf, size_t n) {
  struct ksock_counts c;
  ksock_counts(&c);
  struct life_figures f = {
      .requests = stats.app_requests ? stats.app_requests : c.accepted,
      .accepted = c.accepted,
      .outgoing = outgoing(),
      .connects = c.connects,
      .traps = stats.traps,
      .failures = stats.failures,
      .last_restart_us = stats.last_restart_ns / 1000,
      .returned = stats.returned,
      .ratio = policy.kind == LIFE_MEMORY_RATIO,
      .needed_bytes = ratio.needed * KILN_PAGE_SIZE,
      .surplus_bytes = ratio.surplus * KILN_PAGE_SIZE,
  };
  for (int k = 0; k <= LIFE_MEMORY_RATIO; k++) f.restarts[k] = stats.restarts[k];
  life_plat_lock(); /* the instance stays while its figures are read */
  f.mem_bytes = life_linear_bytes(current);
  f.uptime_s = current ? (kiln_plat_now_ns() - started_ns) / 1000000000ull : 0;
  life_plat_figures(&f, current);
  life_plat_unlock();
  return (int)life_metrics_text(buf, n, &f);
}
