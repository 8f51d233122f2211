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
static uint64_t next_check_ns;

static struct {
  uint64_t restarts[LIFE_MEMORY_RATIO + 1]; /* by policy (reason) */
  uint64_t traps, failures;
  uint64_t app_requests, app_outgoing; /* kiln.metric_add */
  uint64_t last_restart_ns;            /* guest time of the last restart */
  uint64_t instances;
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
  stats.instances++;
  if (policy.kind == LIFE_MEMORY_RATIO) life_ratio_start(&ratio, &policy, started_ns, mem_pages(), outgoing());
  next_check_ns = policy.kind == LIFE_AFTER ? started_ns + policy.lifetime_ns : started_ns;
}

void life_ended(void) { current = NULL; }

uint64_t life_uptime_ns(void) { return current ? time_ns() - started_ns : 0; }

void life_restarted(int reason, uint64_t guest_ns) {
  stats.restarts[reason]++;
  stats.last_restart_ns = guest_ns;
}

void life_failed(uint32_t trap_code) {
  stats.failures++;
  if (trap_code) stats.traps++;
}

void life_restart_point(void) {
  if (!current || policy.kind < LIFE_AFTER || !call_current()) return;
  uint64_t now = time_ns();
  if (now < next_check_ns) return;
  if (policy.kind == LIFE_AFTER) {
    pending = LIFE_AFTER;
  } else {
    if (life_ratio_sample(&ratio, &policy, now, mem_pages(), outgoing(), KILN_PAGE_SIZE)) pending = LIFE_MEMORY_RATIO;
    next_check_ns = ratio.next_ns;
  }
  if (pending) kiln_plat_unwind(call_current(), LIFE_UNWIND_RESTART, __builtin_return_address(0));
}

int life_pending(void) { return pending; }

/* kiln.metric_add(what, n): the app counts what the kernel cannot see (aot/abi.h mangling). */
void kiln__metric_add__ii_(kiln_instance *ctx, int32_t what, int32_t n) {
  (void)ctx;
  if (n < 0) return;
  if (what == 0) stats.app_requests += (uint32_t)n;
  else if (what == 1) stats.app_outgoing += (uint32_t)n;
}

/* One metric: HELP, TYPE and the value (labels, if any, in `labels`). */
static int metric(char *b, size_t n, const char *name, const char *type, const char *help, uint64_t v) {
  return ksnprintf(b, n, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name,
                   (unsigned long long)v);
}

int life_metrics_format(char *buf, size_t n) {
  struct ksock_counts c;
  ksock_counts(&c);
  uint64_t pages = mem_pages();
  size_t o = 0;
#define PUT(...) do { int w_ = __VA_ARGS__; if (w_ > 0) o += (size_t)w_ < n - o ? (size_t)w_ : n - o - 1; } while (0)
  PUT(metric(buf + o, n - o, "kiln_memory_allocated_bytes", "gauge",
             "Linear memory of the running instance (0 between instances).", pages * KILN_PAGE_SIZE));
  PUT(metric(buf + o, n - o, "kiln_memory_touched_bytes", "gauge",
             "Linear memory backed by guest pages (the kernel maps every page it commits).",
             pages * KILN_PAGE_SIZE));
  PUT(metric(buf + o, n - o, "kiln_requests_total", "counter",
             "Requests processed: counted by the app (kiln.metric_add 0) when it counts, else accepted connections.",
             stats.app_requests ? stats.app_requests : c.accepted));
  PUT(metric(buf + o, n - o, "kiln_connections_accepted_total", "counter", "TCP connections accepted by the app.",
             c.accepted));
  PUT(metric(buf + o, n - o, "kiln_outgoing_requests_total", "counter",
             "Outgoing requests: counted by the app (kiln.metric_add 1) when it counts, else connects.", outgoing()));
  PUT(metric(buf + o, n - o, "kiln_connects_total", "counter", "TCP connections the app opened.", c.connects));
  PUT(ksnprintf(buf + o, n - o, "# HELP kiln_restarts_total Instance restarts, by reason (policy).\n"
                                "# TYPE kiln_restarts_total counter\n"));
  for (int k = LIFE_ON_FAILURE; k <= LIFE_MEMORY_RATIO; k++)
    PUT(ksnprintf(buf + o, n - o, "kiln_restarts_total{reason=\"%s\"} %llu\n", life_policy_name(k),
                  (unsigned long long)stats.restarts[k]));
  PUT(metric(buf + o, n - o, "kiln_traps_total", "counter", "Wasm traps of instances.", stats.traps));
  PUT(metric(buf + o, n - o, "kiln_failures_total", "counter", "Instances that trapped or exited non-zero.",
             stats.failures));
  PUT(metric(buf + o, n - o, "kiln_instance_uptime_seconds", "gauge", "Lifetime of the running instance.",
             life_uptime_ns() / 1000000000ull));
  PUT(metric(buf + o, n - o, "kiln_last_restart_microseconds", "gauge",
             "Guest time the last restart took (old instance freed to new one started).",
             stats.last_restart_ns / 1000));
  PUT(metric(buf + o, n - o, "kiln_guest_free_bytes", "gauge", "Free guest RAM (the kernel's page allocator).",
             pmem_free_bytes()));
  PUT(metric(buf + o, n - o, "kiln_memory_returned_bytes_total", "counter",
             "Guest RAM reported free to the host (virtio-balloon free page reporting).", balloon_reported_bytes()));
  if (policy.kind == LIFE_MEMORY_RATIO) {
    PUT(metric(buf + o, n - o, "kiln_memory_needed_bytes", "gauge",
               "memory-ratio: the memory the instance needs by its recent outgoing requests.",
               ratio.needed * KILN_PAGE_SIZE));
    PUT(metric(buf + o, n - o, "kiln_memory_surplus_bytes", "gauge",
               "memory-ratio: the memory the instance holds beyond that.", ratio.surplus * KILN_PAGE_SIZE));
  }
#undef PUT
  return (int)o;
}
