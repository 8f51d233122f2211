/* tests/lifecycle/core_unit.c — kernel/lifecycle_core.c on the host, over hooks of its own (a
 * clock it sets, socket counts, an instance with one memory, the unwind caught by longjmp):
 * the restart point's timing (after:, the quiet wait and its grace, memory-ratio's samples,
 * never within threads or outside Wasm), life_decide's decisions and reasons, the log line,
 * and the metrics the counters make. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/instance.h"
#include "kernel/lifecycle.h"
#include "net/ksock.h"

#define S 1000000000ull
#define MS 1000000ull
static int passed, failed;
static char logged[512]; /* the last line life_plat_log printed */
static void check(int ok, const char *name) {
  if (ok) printf("PASS %s\n", name), passed++;
  else printf("FAIL %s: the last log line: %s\n", name, logged), failed++;
}

/* ---- the platform, faked ---- */
static uint64_t now;
static struct ksock_counts socks;
static int threads, locked, figures_unlocked;
static kiln_instance *caller;
static jmp_buf unwound;
static uint32_t unwind_code;

uint64_t kiln_plat_now_ns(void) { return now; }
void ksock_counts(struct ksock_counts *c) { *c = socks; }
int kiln_threads_spawned(void) { return threads; }
_Noreturn void kiln_plat_unwind(kiln_instance *ctx, uint32_t code, void *pc) {
  (void)ctx, (void)pc;
  unwind_code = code;
  longjmp(unwound, 1);
}
void life_plat_lock(void) { locked++; }
void life_plat_unlock(void) { locked--; }
kiln_instance *life_plat_caller(void) { return caller; }
void life_plat_figures(struct life_figures *f, const kiln_instance *inst) {
  figures_unlocked |= locked != 1;
  f->touched_bytes = inst ? 4096 : 0;
}
void life_plat_log(const char *line) { snprintf(logged, sizeof logged, "%s", line); }

/* The import kiln.metric_add as a compiled app calls it (aot/abi.h mangling). */
void kiln__metric_add__ii_(kiln_instance *ctx, int32_t what, int32_t n);

static kiln_memory mem = {.pages = 2};
static kiln_memory *mems[1] = {&mem};
static kiln_module module = {.nmemories = 1};
static kiln_instance *inst;

/* The restart point at time t (ms) with open sockets (one of them the listener): 1 when it
 * unwound the instance with LIFE_UNWIND_RESTART. */
static int point_at(uint64_t t_ms, uint32_t open) {
  now = t_ms * MS;
  socks.open = open, socks.listening = 1;
  unwind_code = 0;
  if (setjmp(unwound)) return unwind_code == LIFE_UNWIND_RESTART;
  life_restart_point();
  return 0;
}

/* The metric's value in the text, or -1. */
static long long metric(const char *text, const char *name) {
  size_t n = strlen(name);
  for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p)
    if (!strncmp(p, name, n) && p[n] == ' ') return atoll(p + n + 1);
  return -1;
}

static void policy(const char *spec) {
  char err[256];
  if (life_init(spec, err, sizeof err)) printf("  %s\n", err);
}

int main(void) {
  static kiln_instance one;
  one.module = &module, one.memories = mems, inst = &one;
  uint64_t backoff;
  char text[4096];

  /* on-failure:2 (trap, exit 3, then the limit) */
  policy("on-failure:2,backoff=100ms");
  life_started(inst);
  check(life_next_ns() == UINT64_MAX, "on-failure: no restart point to wait for");
  life_ended();
  int r1 = life_decide(KILN_TRAP_UNREACHABLE, 0, 1500 * MS, "unreachable in f", &backoff);
  uint64_t b1 = backoff;
  life_restarted(250000, 128 << 10);
  check(r1 == LIFE_ON_FAILURE && b1 == 100 * MS &&
            !strcmp(logged, "kiln: restart on-failure (trap: unreachable in f) after 1500 ms: 250 us, 128 KiB back "
                            "to the host\n"),
        "on-failure: a trap restarts after the back-off, logged with its reason");
  int r2 = life_decide(KILN_TRAP_EXIT, 3, 20 * MS, "", &backoff);
  life_restarted(1000, 0);
  check(r2 == LIFE_ON_FAILURE && backoff == 200 * MS && strstr(logged, "(exit 3) after 20 ms: 1 us, 0 KiB"),
        "on-failure: exit 3 restarts after twice the back-off");
  check(life_decide(KILN_TRAP_EXIT, 0, S, "", &backoff) == 0 && backoff == 0 &&
            life_decide(KILN_TRAP_NONE, 0, S, "", &backoff) == 0,
        "on-failure: exit 0 and a return end the app");
  check(life_decide(KILN_TRAP_UNREACHABLE, 0, S, "unreachable in f", &backoff) == 0,
        "on-failure:2: the third failure ends the app");

  /* after:1s */
  policy("after:1s");
  now = 0;
  life_started(inst);
  caller = NULL;
  int outside = point_at(2000, 1);
  caller = inst;
  now = 0;
  life_started(inst);
  check(!outside && life_next_ns() == S && !point_at(999, 1), "after:1s: the restart point waits for the lifetime");
  int busy = point_at(1000, 3);
  uint64_t next = life_next_ns();
  int quiet = point_at(1200, 1);
  check(!outside && !busy && next == 1010 * MS && quiet,
        "after:1s: due, it waits for a quiet moment (looking every 10 ms), then unwinds; never outside Wasm");
  life_ended();
  check(life_next_ns() == UINT64_MAX && life_decide(LIFE_UNWIND_RESTART, 0, 1200 * MS, "", &backoff) == LIFE_AFTER &&
            backoff == 0,
        "after:1s: decided as the policy's restart");
  life_restarted(300000, 0);
  check(!strcmp(logged, "kiln: restart after (lifetime reached) after 1200 ms: 300 us, 0 KiB back to the host\n"),
        "after:1s: the restart is logged with its reason");
  now = 10 * S;
  life_started(inst);
  int early = point_at(11000, 5) || point_at(15999, 5), grace = point_at(16000, 5);
  check(!early && grace, "after:1s: without a quiet moment it goes ahead after the 5 s grace");
  life_ended();
  threads = 1;
  now = 0;
  life_started(inst);
  check(!point_at(5000, 1) && life_next_ns() == UINT64_MAX, "after:1s: an app with threads is not restarted");
  life_ended();
  threads = 0;

  /* memory-ratio: grows 8 pages, sends nothing, idles: restarted once measure has passed */
  policy("memory-ratio,measure=1s,window=500ms,sample=100ms,min=64K");
  now = 0;
  mem.pages = 2;
  life_started(inst);
  check(life_next_ns() == 100 * MS, "memory-ratio: the first sample is due after the sample period");
  mem.pages = 10;
  uint64_t at = 0;
  for (uint64_t t = 100; t <= 3000 && !at; t += 100)
    if (point_at(t, 1)) at = t;
  check(at >= 1000 && at <= 1100, "memory-ratio: grown and idle, restarted once measure has passed");
  if (at < 1000 || at > 1100) printf("  restarted at %llu ms\n", (unsigned long long)at);
  int n = life_metrics_format(text, sizeof text);
  check(n == (int)strlen(text) && metric(text, "kiln_memory_surplus_bytes") == 8 * 65536 &&
            metric(text, "kiln_memory_needed_bytes") == 2 * 65536 && metric(text, "kiln_instance_uptime_seconds") == 1,
        "memory-ratio: its needed and surplus memory in the metrics");
  life_ended();
  check(life_decide(LIFE_UNWIND_RESTART, 0, S, "", &backoff) == LIFE_MEMORY_RATIO, "memory-ratio: decided");
  life_restarted(500000, 10 * 65536);
  check(strstr(logged, "restart memory-ratio (memory surplus) after 1000 ms: 500 us, 640 KiB") != NULL,
        "memory-ratio: the restart is logged with its reason");

  /* the metrics: counters of every instance, the app's own counts replacing the platform's */
  socks.accepted = 7, socks.connects = 3;
  life_metrics_format(text, sizeof text);
  check(metric(text, "kiln_requests_total") == 7 && metric(text, "kiln_outgoing_requests_total") == 3 &&
            metric(text, "kiln_memory_allocated_bytes") == 0 && metric(text, "kiln_memory_touched_bytes") == 0 &&
            metric(text, "kiln_instance_uptime_seconds") == 0,
        "metrics: between instances no memory; requests and outgoing requests as the sockets count them");
  life_started(inst);
  kiln__metric_add__ii_(inst, LIFE_COUNT_REQUESTS, 40);
  kiln__metric_add__ii_(inst, LIFE_COUNT_OUTGOING, 2);
  kiln__metric_add__ii_(inst, LIFE_COUNT_OUTGOING, -1);
  life_metrics_format(text, sizeof text);
  check(metric(text, "kiln_requests_total") == 40 && metric(text, "kiln_outgoing_requests_total") == 2 &&
            metric(text, "kiln_connections_accepted_total") == 7 && metric(text, "kiln_connects_total") == 3 &&
            metric(text, "kiln_memory_allocated_bytes") == 10 * 65536 && metric(text, "kiln_memory_touched_bytes") == 4096,
        "metrics: the app's kiln.metric_add counts replace the sockets'; the instance's memory");
  check(metric(text, "kiln_restarts_total{reason=\"on-failure\"}") == 2 &&
            metric(text, "kiln_restarts_total{reason=\"after\"}") == 1 &&
            metric(text, "kiln_restarts_total{reason=\"memory-ratio\"}") == 1 && metric(text, "kiln_traps_total") == 2 &&
            metric(text, "kiln_failures_total") == 3 && metric(text, "kiln_last_restart_microseconds") == 500 &&
            metric(text, "kiln_memory_returned_bytes_total") == (128 << 10) + 10 * 65536,
        "metrics: restarts by reason, traps, failures, the last restart's time, memory returned");
  check(!locked && !figures_unlocked, "the platform's figures are read under its lock, and every lock let go");

  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
