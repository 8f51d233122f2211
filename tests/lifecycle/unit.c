/* tests/lifecycle/unit.c — kernel/restart_policy.c on the host: parsing, on-failure's back-off,
 * and the memory-ratio decision on synthetic patterns (a second of samples is 1e9 ns here). */
#include <stdio.h>
#include <string.h>

#include "kernel/lifecycle.h"

#define S 1000000000ull
#define MS 1000000ull
static int passed, failed;
static void check(int ok, const char *name) {
  if (ok) printf("PASS %s\n", name), passed++;
  else printf("FAIL %s: see the line above\n", name), failed++;
}

/* Runs a pattern for `secs` seconds sampled every 100 ms: pages(t) and outgoing(t) given as
 * functions of the time in ms. Returns the time (ms) of the first restart, or -1. */
typedef unsigned long long (*fig_fn)(unsigned long long ms);
static long long run(const char *policy, fig_fn pages, fig_fn out, unsigned secs) {
  struct life_policy p;
  char err[256];
  if (life_policy_parse(policy, &p, err, sizeof err)) {
    printf("  %s\n", err);
    return -2;
  }
  struct life_ratio r;
  life_ratio_start(&r, &p, 0, pages(0), out(0));
  for (unsigned long long ms = 100; ms <= secs * 1000ull; ms += 100)
    if (life_ratio_sample(&r, &p, ms * MS, pages(ms), out(ms), 65536)) return (long long)ms;
  return -1;
}

/* grows 128 pages (8 MiB) in its first second, sends nothing out, then idles */
static unsigned long long grow_idle_pages(unsigned long long ms) { return 2 + (ms < 1000 ? ms * 128 / 1000 : 128); }
static unsigned long long none(unsigned long long ms) { (void)ms; return 0; }
/* a cache: one 1-page entry per outgoing request, 10 per second; entries live 2 s, so memory
 * levels off at 20 entries (reused afterwards) */
static unsigned long long cache_out(unsigned long long ms) { return ms / 100; }
static unsigned long long cache_pages(unsigned long long ms) { return 2 + (ms < 2000 ? ms / 100 : 20); }
/* the same cache leaking: every entry kept */
static unsigned long long leak_pages(unsigned long long ms) { return 2 + ms / 100; }
/* nothing at all */
static unsigned long long flat_pages(unsigned long long ms) { (void)ms; return 2; }
/* a burst of logins (entries) in the first second, then nothing: the study's logout phase */
static unsigned long long burst_out(unsigned long long ms) { return ms < 1000 ? ms / 10 : 100; }
static unsigned long long burst_pages(unsigned long long ms) { return 2 + (ms < 1000 ? ms / 10 : 100); }

int main(void) {
  struct life_policy p;
  char err[256];
  check(life_policy_parse("never", &p, err, sizeof err) == 0 && p.kind == LIFE_NEVER, "parse never");
  check(life_policy_parse("on-failure", &p, err, sizeof err) == 0 && p.kind == LIFE_ON_FAILURE && p.limit == 0 &&
            p.backoff_ns == 100 * MS && p.max_backoff_ns == 10 * S,
        "parse on-failure (Docker's defaults: 100ms doubling to 10s)");
  check(life_policy_parse("on-failure:5,backoff=10ms,max-backoff=1s,reset=2m", &p, err, sizeof err) == 0 &&
            p.limit == 5 && p.backoff_ns == 10 * MS && p.max_backoff_ns == S && p.reset_ns == 120 * S,
        "parse on-failure:5 with options");
  check(life_policy_parse("after:90s", &p, err, sizeof err) == 0 && p.kind == LIFE_AFTER && p.lifetime_ns == 90 * S,
        "parse after:90s");
  check(life_policy_parse("after:1h", &p, err, sizeof err) == 0 && p.lifetime_ns == 3600 * S, "parse after:1h");
  check(life_policy_parse("memory-ratio", &p, err, sizeof err) == 0 && p.measure_ns == 900 * S &&
            p.window_ns == 600 * S && p.sample_ns == S && p.min_bytes == 4 << 20,
        "parse memory-ratio (the study's 15 and 10 minutes)");
  check(life_policy_parse("memory-ratio,measure=3s,window=2s,sample=250ms,min=1M", &p, err, sizeof err) == 0 &&
            p.measure_ns == 3 * S && p.window_ns == 2 * S && p.sample_ns == 250 * MS && p.min_bytes == 1 << 20,
        "parse memory-ratio with its periods");
  const char *bad[] = {"", "always", "after", "after:", "after:0", "after:5x", "on-failure:x", "on-failure,backoff",
                       "never,backoff=1s", "memory-ratio,window=20m", "memory-ratio,sample=0", "after:5s,min=1M",
                       "on-failure:99999999999", "memory-ratio,min=1T"};
  int all_bad = 1;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    if (life_policy_parse(bad[i], &p, err, sizeof err) == 0 || !strstr(err, "restart")) {
      printf("  accepted or no message: '%s'\n", bad[i]);
      all_bad = 0;
    }
  check(all_bad, "bad policies refused with a message");

  life_policy_parse("on-failure,backoff=100ms,max-backoff=1s", &p, err, sizeof err);
  check(life_backoff_ns(&p, 1) == 100 * MS && life_backoff_ns(&p, 2) == 200 * MS &&
            life_backoff_ns(&p, 4) == 800 * MS && life_backoff_ns(&p, 5) == S && life_backoff_ns(&p, 60) == S,
        "on-failure back-off doubles up to its maximum");

  life_policy_parse("on-failure:2,reset=10s", &p, err, sizeof err);
  uint32_t fails = 0;
  int r1 = life_restart_on_failure(&p, 1, S, &fails), r2 = life_restart_on_failure(&p, 1, S, &fails);
  int r3 = life_restart_on_failure(&p, 1, S, &fails), r0 = life_restart_on_failure(&p, 0, S, &fails);
  uint32_t at_limit = fails;
  int r4 = life_restart_on_failure(&p, 1, 0, &fails); /* at the limit: even a long run ends it */
  life_policy_parse("on-failure:2,reset=10s", &p, err, sizeof err);
  fails = 2;
  int r5 = p.limit == 2 && life_restart_on_failure(&p, 1, 11 * S, &fails) == 0;
  life_policy_parse("never", &p, err, sizeof err);
  uint32_t zero = 0;
  check(r1 && r2 && !r3 && !r0 && at_limit == 2 && !r4 && r5 && !life_restart_on_failure(&p, 1, S, &zero),
        "on-failure restarts a failure up to its limit, never a success; never restarts nothing");

  const char *pol = "memory-ratio,measure=3s,window=2s,sample=100ms,min=256K";
  long long t = run(pol, grow_idle_pages, none, 20);
  check(t >= 3000 && t <= 3200, "memory-ratio: grows then idles: restarted once the measure period ends");
  if (t < 3000 || t > 3200) printf("  restart at %lld ms\n", t);
  t = run(pol, cache_pages, cache_out, 60);
  check(t == -1, "memory-ratio: a cache whose memory follows its outgoing requests: no restart in 60 s");
  if (t != -1) printf("  restart at %lld ms\n", t);
  t = run(pol, leak_pages, cache_out, 60);
  check(t > 3000 && t < 6000, "memory-ratio: the same cache leaking its entries: restarted");
  if (t <= 3000 || t >= 6000) printf("  restart at %lld ms\n", t);
  t = run(pol, flat_pages, none, 60);
  check(t == -1, "memory-ratio: flat memory, nothing sent: no restart");
  t = run(pol, burst_pages, burst_out, 20);
  /* the logins ended at 1 s: at 3 s the window [1 s, 3 s] saw no outgoing request */
  check(t >= 3000 && t <= 3100, "memory-ratio: a burst of logins then logouts: restarted when a window has passed");
  if (t < 3000 || t > 3100) printf("  restart at %lld ms\n", t);
  t = run("memory-ratio,measure=3s,window=2s,sample=100ms,min=16M", grow_idle_pages, none, 20);
  check(t == -1, "memory-ratio: a surplus below min is kept");
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
