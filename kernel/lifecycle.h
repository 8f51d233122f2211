/* kernel/lifecycle.h — restart policies of an instance (the `restart=` kernel token, `kiln
 * build/run --restart`) and the instance's life under them, written once in portable
 * freestanding C for the kernel and the hosted runtime: the policies' parsing and decisions
 * (kernel/restart_policy.c), the state of the running instance with its restart point,
 * counters and metrics (kernel/lifecycle_core.c), their text (kernel/metrics_text.c). Each
 * platform provides the few life_plat_* hooks below (kernel/lifecycle.c, host/lifecycle.c)
 * and does the restart itself (kernel/app.c, host/main.c), asking life_decide whether to.
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

/* ---- kernel/metrics_text.c: the lifecycle's text, the same on both platforms ---- */
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
/* Text written into b[0..n): cut there, always NUL-terminated; o is the length so far. */
struct life_text {
  char *b;
  size_t n, o;
};
void life_put(struct life_text *w, const char *s);
void life_put_u64(struct life_text *w, uint64_t v);

/* The app's counts (import kiln.metric_add(what, n): what 0 = requests it processed, 1 =
 * outgoing requests it sent), for what the platform cannot see, such as HTTP requests on a
 * keep-alive connection. kernel/lifecycle_core.c defines the import and keeps them. */
enum { LIFE_COUNT_REQUESTS = 0, LIFE_COUNT_OUTGOING = 1 };

/* ---- kernel/lifecycle_core.c: the running instance's life, counters and metrics ---- */
/* kiln_plat_unwind code of a policy restart (beyond every trap code) */
#define LIFE_UNWIND_RESTART 0x10000
struct kiln_instance;
/* The policy (spec NULL: never); 0, or -1 with a message in err. */
int life_init(const char *spec, char *err, size_t errlen);
const struct life_policy *life_policy(void);
void life_started(struct kiln_instance *inst); /* _start is about to run */
void life_ended(void);                         /* it returned (or unwound) */
/* Where the instance waits (every WASI wait): unwinds it (LIFE_UNWIND_RESTART) when a policy
 * restart is due, once the app has no connection open (LIFE_GRACE_NS at most). */
void life_restart_point(void);
/* When the restart point must run next (a wait that sleeps longer caps its deadline there;
 * kiln_plat_now_ns's clock), or UINT64_MAX. */
uint64_t life_next_ns(void);
/* The restart loop's decision after an instance ended, having run ran_ns: code is what
 * kiln_invoke returned (KILN_TRAP_NONE, KILN_TRAP_EXIT with proc_exit's exit_code,
 * LIFE_UNWIND_RESTART, or a trap, described in trap as "MESSAGE in FUNCTION"). Counts a
 * failure (a trap, a non-zero exit). Returns 0 when the app ends as without a policy, else
 * the policy that restarts it in place (LIFE_ON_FAILURE, LIFE_AFTER, LIFE_MEMORY_RATIO),
 * with the back-off to wait before the new instance in *backoff_ns (on-failure's, else 0). */
int life_decide(uint32_t code, int exit_code, uint64_t ran_ns, const char *trap, uint64_t *backoff_ns);
/* The restart life_decide asked for is done: it took took_ns (the old instance's end to the
 * new one's start) and gave returned bytes back to the host. Counts it and logs
 * "kiln: restart POLICY (WHY) after N ms: N us, N KiB back to the host". */
void life_restarted(uint64_t took_ns, uint64_t returned);
uint64_t life_linear_bytes(const struct kiln_instance *inst); /* its own linear memories */
/* The figures in the Prometheus text format (life_metrics_text); returns the length. */
int life_metrics_format(char *buf, size_t n);

/* ---- provided by the platform (kernel/lifecycle.c, host/lifecycle.c) ---- */
/* Held while the running instance changes (life_started, life_ended) and while the metrics,
 * served by another thread or from an interrupt, read it. */
void life_plat_lock(void);
void life_plat_unlock(void);
/* The instance of this thread's innermost Wasm call, or NULL outside Wasm code. */
struct kiln_instance *life_plat_caller(void);
/* Fills in the figures only the platform knows, for inst (NULL between instances), under
 * the lock: touched_bytes, guest_free, and returned where it keeps that total itself. */
void life_plat_figures(struct life_figures *f, const struct kiln_instance *inst);
void life_plat_log(const char *line); /* prints a line of the lifecycle's log */

#endif
