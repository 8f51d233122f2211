/* kernel/metrics_text.c — the lifecycle's text, written once for both platforms: the figures
 * in the Prometheus text format (version 0.0.4: "# HELP", "# TYPE", then one sample per line)
 * for the kernel's endpoint (net/metrics.c) and the hosted one (host/lifecycle.c), and the
 * writer kernel/lifecycle_core.c also makes its log lines with. Freestanding: no libc. */
#include "kernel/lifecycle.h"

void life_put(struct life_text *w, const char *s) {
  for (; *s && w->o + 1 < w->n; s++) w->b[w->o++] = *s;
  if (w->n) w->b[w->o] = 0;
}

void life_put_u64(struct life_text *w, uint64_t v) {
  char t[24];
  int k = sizeof t - 1;
  t[k] = 0;
  do t[--k] = (char)('0' + v % 10); while ((v /= 10) && k > 0);
  life_put(w, t + k);
}

static void family(struct life_text *w, const char *name, const char *type, const char *help) {
  life_put(w, "# HELP "), life_put(w, name), life_put(w, " "), life_put(w, help);
  life_put(w, "\n# TYPE "), life_put(w, name), life_put(w, " "), life_put(w, type), life_put(w, "\n");
}

static void sample(struct life_text *w, const char *name, const char *labels, uint64_t v) {
  life_put(w, name), life_put(w, labels), life_put(w, " "), life_put_u64(w, v), life_put(w, "\n");
}

static void metric(struct life_text *w, const char *name, const char *type, const char *help, uint64_t v) {
  family(w, name, type, help);
  sample(w, name, "", v);
}

size_t life_metrics_text(char *buf, size_t n, const struct life_figures *f) {
  struct life_text w = {buf, n, 0};
  metric(&w, "kiln_memory_allocated_bytes", "gauge", "Linear memory of the running instance (0 between instances).",
         f->mem_bytes);
  metric(&w, "kiln_memory_touched_bytes", "gauge",
         "Linear memory backed by RAM (the kernel maps every page it commits; hosted: resident pages).",
         f->touched_bytes);
  metric(&w, "kiln_requests_total", "counter",
         "Requests processed: counted by the app (kiln.metric_add 0) when it counts, else accepted connections.",
         f->requests);
  metric(&w, "kiln_connections_accepted_total", "counter", "TCP connections accepted by the app.", f->accepted);
  metric(&w, "kiln_outgoing_requests_total", "counter",
         "Outgoing requests: counted by the app (kiln.metric_add 1) when it counts, else its connects.", f->outgoing);
  metric(&w, "kiln_connects_total", "counter", "TCP connections the app opened.", f->connects);
  family(&w, "kiln_restarts_total", "counter", "Instance restarts in place, by reason (the policy that asked).");
  static const char *const reason[] = {0, "{reason=\"on-failure\"}", "{reason=\"after\"}", "{reason=\"memory-ratio\"}"};
  for (int k = LIFE_ON_FAILURE; k <= LIFE_MEMORY_RATIO; k++) sample(&w, "kiln_restarts_total", reason[k], f->restarts[k]);
  metric(&w, "kiln_traps_total", "counter", "Wasm traps of instances.", f->traps);
  metric(&w, "kiln_failures_total", "counter", "Instances that trapped or exited non-zero.", f->failures);
  metric(&w, "kiln_instance_uptime_seconds", "gauge", "Lifetime of the running instance.", f->uptime_s);
  metric(&w, "kiln_last_restart_microseconds", "gauge",
         "Time the last restart took, from the old instance's end to the new one's start (back-off excluded).",
         f->last_restart_us);
  metric(&w, "kiln_guest_free_bytes", "gauge", "Free guest RAM (the kernel's page allocator; hosted: 0).",
         f->guest_free);
  metric(&w, "kiln_memory_returned_bytes_total", "counter",
         "RAM given back to the host by restarts (VM: free page reporting; hosted: unmapped linear memory).",
         f->returned);
  if (f->ratio) {
    metric(&w, "kiln_memory_needed_bytes", "gauge",
           "memory-ratio: the memory the instance needs by its outgoing requests of the last window.",
           f->needed_bytes);
    metric(&w, "kiln_memory_surplus_bytes", "gauge", "memory-ratio: the memory it holds beyond that.",
           f->surplus_bytes);
  }
  return w.o;
}
