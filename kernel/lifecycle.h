/* kernel/lifecycle.h — restart policies of an instance (the `restart=` kernel token, `kiln
 * build/run --restart`): parsing and the memory-ratio decision, written once in portable
 * freestanding C (kernel/restart_policy.c) for the kernel and the hosted runtime. The
 * platforms do the restart itself (kernel/app.c, host/main.c) and count (kernel/lifecycle.c).
 *
 * Policies (DUR is N with ms, s, m or h; SIZE is N with K, M or G; options after commas):
 *   never                         the instance's end is the machine's (the default)
 *   on-failure[:LIMIT]            restart after a trap or a non-zero exit, at most LIMIT times
 *     [,backoff=DUR][,max-backoff=DUR][,reset=DUR]
 *                                 (0: no limit), as Docker's: waits backoff (100ms) before the
 *                                 first, doubling up to max-backoff (10s); an instance that ran
 *                                 reset (10s) starts the back-off over
 *   after:DUR                     restart every DUR of lifetime (the study's baseline)
 *   memory-ratio[,measure=DUR][,window=DUR][,sample=DUR][,min=SIZE]
 *                                 the study's policy (below), periods as parameters
 *
 * memory-ratio. Inputs: the instance's linear memory (pages) and its outgoing requests, read
 * every `sample` (1s). During `measure` (15m) after the start it estimates the memory one
 * outgoing request brings: (pages grown) / (outgoing requests); a cache that asks its
 * backend on a miss grows by one entry per outgoing request. Entries live about a TTL,
 * `window` (2/3 of measure: the study's 10 of 15 minutes), so the memory the instance needs
 * is its initial size plus that estimate times the outgoing requests of the last window.
 * The surplus is what it holds beyond that. After measure, at every sample, the instance is
 * restarted when the surplus has grown (since the start) more than the needed memory has,
 * and is at least `min` (4M): memory held for entries that expired or were dropped. An
 * instance that grows while sending nothing out (and then idles) is restarted after measure;
 * one whose memory follows its outgoing requests never is. */
#ifndef KILN_LIFECYCLE_H
#define KILN_LIFECYCLE_H

#include <stddef.h>
#include <stdint.h>

enum { LIFE_NEVER = 0, LIFE_ON_FAILURE, LIFE_AFTER, LIFE_MEMORY_RATIO };

/* A policy restart (after:, memory-ratio) waits until the app has no socket open besides its
 * preopened listeners, so that no request in flight is cut, for at most this long. */
#define LIFE_GRACE_NS 5000000000ull

struct life_policy {
  int kind;
  uint32_t limit;                                 /* on-failure: most restarts, 0 = no limit */
  uint64_t backoff_ns, max_backoff_ns, reset_ns;  /* on-failure */
  uint64_t lifetime_ns;                           /* after */
  uint64_t measure_ns, window_ns, sample_ns;      /* memory-ratio */
  uint64_t min_bytes;
};

/* Parses a policy; 0, or -1 with a message in err. */
int life_policy_parse(const char *s, struct life_policy *p, char *err, size_t errlen);
const char *life_policy_name(int kind); /* "never", "on-failure", "after", "memory-ratio" */

/* memory-ratio's state for one instance: samples of the outgoing-request count in a ring
 * covering the window. */
#define LIFE_RING 512
struct life_ratio {
  uint64_t start_ns, next_ns, step_ns;
  uint64_t pages0, out0;        /* at the start */
  uint64_t per_out_milli;       /* pages per outgoing request, x1000, from the measure period */
  int measured;
  uint64_t ring[LIFE_RING];     /* outgoing count at each step, the newest at head */
  uint32_t head, filled, nring;
  uint64_t needed, surplus;     /* the last decision's figures, in pages (for metrics) */
};
void life_ratio_start(struct life_ratio *r, const struct life_policy *p, uint64_t now_ns, uint64_t pages,
                      uint64_t outgoing);
/* A sample at now_ns (no-op before the next one is due). Returns 1 when the instance should
 * restart. page_bytes: the size of a page (Wasm: 65536), for min. */
int life_ratio_sample(struct life_ratio *r, const struct life_policy *p, uint64_t now_ns, uint64_t pages,
                      uint64_t outgoing, uint64_t page_bytes);

/* on-failure: the wait before restart number n (1, 2, ...) of a run of failures. */
uint64_t life_backoff_ns(const struct life_policy *p, uint32_t n);
/* After an instance ended by itself (failed: a trap or a non-zero exit) having run ran_ns:
 * whether the policy restarts it (on-failure, within its limit); *failures counts the current
 * run of failures, started over after reset_ns of running. */
int life_restart_on_failure(const struct life_policy *p, int failed, uint64_t ran_ns, uint32_t *failures);

/* ---- kernel/metrics_text.c: the figures both platforms report ---- */
struct life_figures {
  uint64_t mem_bytes, touched_bytes;
  uint64_t requests, accepted, outgoing, connects;
  uint64_t restarts[LIFE_MEMORY_RATIO + 1]; /* by reason */
  uint64_t traps, failures, uptime_s, last_restart_us;
  uint64_t guest_free, returned;
  int ratio; /* memory-ratio's own figures below are meaningful */
  uint64_t needed_bytes, surplus_bytes;
};
/* Writes them in the Prometheus text format (NUL-terminated, cut at n); returns the length. */
size_t life_metrics_text(char *buf, size_t n, const struct life_figures *f);

/* The app's counts (import kiln.metric_add(what, n): what 0 = requests it processed, 1 =
 * outgoing requests it sent), for what the platform cannot see, such as HTTP requests on a
 * keep-alive connection. Each platform defines the import and keeps these. */
enum { LIFE_COUNT_REQUESTS = 0, LIFE_COUNT_OUTGOING = 1 };

#endif
