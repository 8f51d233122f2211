/* kernel/restart_policy.c — the restart policies of kernel/lifecycle.h: parsing, on-failure's
 * back-off and the memory-ratio decision. Pure freestanding C (no libc, no platform), shared
 * by the kernel and the hosted runtime and unit-tested on the host. */
#include "kernel/lifecycle.h"

#define MS 1000000ull
#define SEC 1000000000ull

const char *life_policy_name(int kind) {
  static const char *const names[] = {"never", "on-failure", "after", "memory-ratio"};
  return kind >= LIFE_NEVER && kind <= LIFE_MEMORY_RATIO ? names[kind] : "?";
}

static void say(char *err, size_t n, const char *a, const char *b) {
  size_t k = 0;
  for (const char *s = a; s && *s && k + 1 < n; s++) err[k++] = *s;
  for (const char *s = b; s && *s && k + 1 < n; s++) err[k++] = *s;
  if (n) err[k] = 0;
}

/* Does s[0..n) start with the word w (followed by '=', ':', ',' or the end)? */
static int word(const char *s, const char *w) {
  size_t k = 0;
  for (; w[k]; k++)
    if (s[k] != w[k]) return 0;
  return s[k] == 0 || s[k] == '=' || s[k] == ':' || s[k] == ',';
}

/* A number with an optional unit from units ("ms" before "m"); *s advances past it. */
static int number(const char **s, uint64_t *out, const char *const *units, const uint64_t *scale) {
  const char *p = *s;
  uint64_t v = 0;
  int digits = 0;
  for (; *p >= '0' && *p <= '9'; p++, digits++) {
    if (v > (UINT64_MAX - 9) / 10) return -1;
    v = v * 10 + (uint64_t)(*p - '0');
  }
  if (!digits) return -1;
  uint64_t mult = scale[0];
  for (int i = 1; units[i]; i++) {
    size_t k = 0;
    while (units[i][k] && p[k] == units[i][k]) k++;
    if (!units[i][k]) {
      mult = scale[i];
      p += k;
      break;
    }
  }
  if (*p && *p != ',') return -1;
  if (mult && v > UINT64_MAX / mult) return -1;
  *out = v * mult;
  *s = p;
  return 0;
}

static int duration(const char **s, uint64_t *ns) {
  static const char *const u[] = {"", "ms", "s", "m", "h", 0};
  static const uint64_t k[] = {SEC, MS, SEC, 60 * SEC, 3600 * SEC};
  return number(s, ns, u, k);
}

static int size(const char **s, uint64_t *bytes) {
  static const char *const u[] = {"", "K", "M", "G", 0};
  static const uint64_t k[] = {1, 1ull << 10, 1ull << 20, 1ull << 30};
  return number(s, bytes, u, k);
}

int life_policy_parse(const char *s, struct life_policy *p, char *err, size_t errlen) {
  *p = (struct life_policy){.kind = LIFE_NEVER,
                            .backoff_ns = 100 * MS, .max_backoff_ns = 10 * SEC, .reset_ns = 10 * SEC,
                            .measure_ns = 15 * 60 * SEC, .sample_ns = SEC, .min_bytes = 4ull << 20};
  const char *full = s;
  if (word(s, "never")) {
    s += 5;
  } else if (word(s, "on-failure")) {
    p->kind = LIFE_ON_FAILURE;
    s += 10;
    if (*s == ':') {
      uint64_t n;
      static const char *const u[] = {"", 0};
      static const uint64_t k[] = {1};
      s++;
      if (number(&s, &n, u, k) || n > 0xffffffffu) goto bad;
      p->limit = (uint32_t)n;
    }
  } else if (word(s, "after")) {
    p->kind = LIFE_AFTER;
    s += 5;
    if (*s++ != ':' || duration(&s, &p->lifetime_ns) || !p->lifetime_ns) goto bad;
  } else if (word(s, "memory-ratio")) {
    p->kind = LIFE_MEMORY_RATIO;
    s += 12;
  } else {
    goto bad;
  }
  int window_set = 0;
  while (*s == ',') {
    s++;
    const char *opt = s;
    while (*s && *s != '=' && *s != ',') s++;
    if (*s++ != '=') goto bad;
    int r = -1;
    if (p->kind == LIFE_ON_FAILURE && word(opt, "backoff")) r = duration(&s, &p->backoff_ns);
    else if (p->kind == LIFE_ON_FAILURE && word(opt, "max-backoff")) r = duration(&s, &p->max_backoff_ns);
    else if (p->kind == LIFE_ON_FAILURE && word(opt, "reset")) r = duration(&s, &p->reset_ns);
    else if (p->kind == LIFE_MEMORY_RATIO && word(opt, "measure")) r = duration(&s, &p->measure_ns);
    else if (p->kind == LIFE_MEMORY_RATIO && word(opt, "window")) r = duration(&s, &p->window_ns), window_set = 1;
    else if (p->kind == LIFE_MEMORY_RATIO && word(opt, "sample")) r = duration(&s, &p->sample_ns);
    else if (p->kind == LIFE_MEMORY_RATIO && word(opt, "min")) r = size(&s, &p->min_bytes);
    if (r) goto bad;
  }
  if (*s) goto bad;
  if (p->kind == LIFE_MEMORY_RATIO) {
    if (!window_set) p->window_ns = p->measure_ns / 3 * 2;
    if (!p->sample_ns || !p->window_ns || p->window_ns > p->measure_ns) {
      say(err, errlen, "restart=memory-ratio: sample and window must be > 0 and window <= measure: ", full);
      return -1;
    }
  }
  return 0;
bad:
  say(err, errlen, "bad restart policy (never, on-failure[:N][,backoff=DUR], after:DUR, memory-ratio[,measure=DUR,window=DUR,sample=DUR,min=SIZE]): ", full);
  return -1;
}

int life_restart_on_failure(const struct life_policy *p, int failed, uint64_t ran_ns, uint32_t *failures) {
  if (!failed || p->kind != LIFE_ON_FAILURE || (p->limit && *failures >= p->limit)) return 0;
  if (ran_ns >= p->reset_ns) *failures = 0; /* it ran long enough: the back-off starts over */
  (*failures)++;
  return 1;
}

uint64_t life_backoff_ns(const struct life_policy *p, uint32_t n) {
  uint64_t t = p->backoff_ns;
  for (uint32_t i = 1; i < n && t < p->max_backoff_ns; i++) t *= 2;
  return t < p->max_backoff_ns ? t : p->max_backoff_ns;
}

void life_ratio_start(struct life_ratio *r, const struct life_policy *p, uint64_t now_ns, uint64_t pages,
                      uint64_t outgoing) {
  *r = (struct life_ratio){.start_ns = now_ns, .pages0 = pages, .out0 = outgoing};
  /* The ring covers the window at the sample period, or coarser when that needs more slots. */
  r->step_ns = p->sample_ns;
  if (p->window_ns / r->step_ns > LIFE_RING - 1) r->step_ns = p->window_ns / (LIFE_RING - 1);
  r->nring = (uint32_t)(p->window_ns / r->step_ns) + 1;
  r->next_ns = now_ns + r->step_ns;
  r->ring[0] = outgoing;
  r->filled = 1;
}

int life_ratio_sample(struct life_ratio *r, const struct life_policy *p, uint64_t now_ns, uint64_t pages,
                      uint64_t outgoing, uint64_t page_bytes) {
  if (now_ns < r->next_ns) return 0;
  r->next_ns = now_ns + r->step_ns;
  r->head = (r->head + 1) % r->nring;
  r->ring[r->head] = outgoing;
  if (r->filled < r->nring) r->filled++;
  if (now_ns - r->start_ns < p->measure_ns) return 0;
  if (!r->measured) {
    /* End of the measure period: memory per outgoing request (0 when none went out). */
    uint64_t grown = pages > r->pages0 ? pages - r->pages0 : 0, out = outgoing - r->out0;
    r->per_out_milli = out ? grown * 1000 / out : 0;
    r->measured = 1;
  }
  /* Outgoing requests of the last window: the oldest sample still in the ring. */
  uint32_t oldest = (r->head + r->nring - (r->filled - 1)) % r->nring;
  uint64_t recent = outgoing - r->ring[oldest];
  uint64_t needed = r->pages0 + recent * r->per_out_milli / 1000;
  if (needed > pages) needed = pages;
  uint64_t surplus = pages - needed;
  r->needed = needed;
  r->surplus = surplus;
  /* Growth since the start: the surplus started at 0, the needed memory at pages0. */
  return surplus > needed - r->pages0 && surplus * page_bytes >= p->min_bytes;
}
