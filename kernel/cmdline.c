/* kernel/cmdline.c — the kernel command line: space-separated tokens.
 *   arg=VALUE         one argv entry, in order (argv[0] included)
 *   env=NAME=VALUE    one environment entry
 *   KEY=VALUE         anything else (ip=, gw=, mask=, listen=...), for kernel_cmdline_get();
 *                     the kernel itself reads quiet=1 (no kernel notes), timer=pit, stats=1
 * VALUEs are percent-encoded (%20 is a space). Tokens without '=' (some loaders pass the
 * kernel's file name first) are ignored. */
#include "kernel/kernel.h"

#define MAX_ITEMS 256
#define MAX_KEYS 64
#define POOL_SIZE (BOOT_CMDLINE_MAX + MAX_ITEMS + MAX_KEYS * 2)

static char pool[POOL_SIZE];
static size_t pool_len;
static const char *argv[MAX_ITEMS], *envv[MAX_ITEMS];
static int argc, envc;
static struct {
  const char *key, *value;
} keys[MAX_KEYS];
static int nkeys;

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

long percent_decode(char *dst, const char *src, size_t n) {
  size_t j = 0;
  for (size_t i = 0; i < n; i++) {
    if (src[i] != '%') {
      dst[j++] = src[i];
      continue;
    }
    if (i + 2 >= n) return -1;
    int hi = hexval(src[i + 1]), lo = hexval(src[i + 2]);
    if (hi < 0 || lo < 0) return -1;
    dst[j++] = (char)(hi * 16 + lo);
    i += 2;
  }
  dst[j] = 0;
  return (long)j;
}

/* Copies src[0..n) into the pool, decoded when possible; NULL when the pool is full. */
static const char *save(const char *src, size_t n, int *bad) {
  if (pool_len + n + 1 > sizeof pool) return NULL;
  char *d = pool + pool_len;
  long len = percent_decode(d, src, n);
  if (len < 0) { /* keep the raw text; the caller reports it */
    memcpy(d, src, n);
    d[n] = 0;
    len = (long)n;
    *bad = 1;
  }
  pool_len += (size_t)len + 1;
  return d;
}

int cmdline_parse(const char *line, char *err, size_t errlen) {
  pool_len = 0;
  argc = envc = nkeys = 0;
  int rc = 0;
  if (err && errlen) err[0] = 0;
  for (const char *p = line; p && *p;) {
    while (*p == ' ' || *p == '\t') p++;
    const char *tok = p;
    while (*p && *p != ' ' && *p != '\t') p++;
    size_t n = (size_t)(p - tok);
    const char *eq = memchr(tok, '=', n);
    if (!n || !eq) continue;
    size_t klen = (size_t)(eq - tok);
    const char *val = eq + 1;
    size_t vlen = n - klen - 1;
    int bad = 0;
    const char *why = NULL;
    if (klen == 3 && !memcmp(tok, "arg", 3)) {
      const char *s = save(val, vlen, &bad);
      if (!s || argc == MAX_ITEMS) why = "too many arguments";
      else argv[argc++] = s;
    } else if (klen == 3 && !memcmp(tok, "env", 3)) {
      const char *s = save(val, vlen, &bad);
      if (!s || envc == MAX_ITEMS) why = "too many environment entries";
      else if (!strchr(s, '=') || s[0] == '=') why = "env= wants NAME=VALUE";
      else envv[envc++] = s;
    } else {
      const char *k = save(tok, klen, &bad), *s = save(val, vlen, &bad);
      if (!k || !s || nkeys == MAX_KEYS) why = "too many options";
      else keys[nkeys].key = k, keys[nkeys++].value = s;
    }
    if (bad && !why) why = "malformed %-escape (kept as written)";
    if (why && rc == 0) {
      rc = -1;
      if (err) ksnprintf(err, errlen, "command line token '%.*s': %s", (int)(n > 64 ? 64 : n), tok, why);
    }
  }
  return rc;
}

int cmdline_argc(void) { return argc; }
const char *cmdline_argv(int i) { return i >= 0 && i < argc ? argv[i] : NULL; }
int cmdline_envc(void) { return envc; }
const char *cmdline_env(int i) { return i >= 0 && i < envc ? envv[i] : NULL; }

const char *kernel_cmdline_get_nth(const char *key, int n) {
  for (int i = 0; i < nkeys; i++)
    if (!strcmp(keys[i].key, key) && n-- == 0) return keys[i].value;
  return NULL;
}

const char *kernel_cmdline_get(const char *key) {
  for (int i = nkeys - 1; i >= 0; i--)
    if (!strcmp(keys[i].key, key)) return keys[i].value;
  return NULL;
}
