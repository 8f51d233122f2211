/* kernel/cmdline.c — the kernel command line: space-separated tokens.
 *   arg=VALUE         one argv entry, in order (argv[0] included)
 *   env=NAME=VALUE    one environment entry
 *   KEY=VALUE         anything else (ip=, gw=, mask=, listen=...), for kernel_cmdline_get();
 *                     the kernel itself reads quiet=1 (no kernel notes), timer=pit, stats=1
 * VALUEs are percent-encoded (%20 is a space). Tokens without '=' (some loaders pass the
 * kernel's file name first) are ignored.
 * There are two lines: the image's own, which `kiln build` writes into the ELF (section
 * .kiln.cmdline, boot/entry.S), and the loader's. The loader's goes over the image's one key at
 * a time: a key it names replaces all the image's tokens of that key (every listen=, say),
 * env=NAME replaces that variable only, and any arg= replaces the image's argv as a whole. So
 * an image boots with its own settings under a loader that passes only the network (urunc
 * gives "ip=A/BITS gateway=G"), and `kiln run`, which passes the whole line, sees no change. */
#include "kernel/kernel.h"

#define MAX_ITEMS 256
#define MAX_KEYS 64
#define POOL_SIZE (2 * BOOT_CMDLINE_MAX + MAX_ITEMS + MAX_KEYS * 2) /* both lines */

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

/* The next token of *p (advancing past it) and its length; NULL at the end of the line. */
static const char *next_token(const char **p, size_t *n) {
  const char *s = *p;
  while (*s == ' ' || *s == '\t') s++;
  const char *tok = s;
  while (*s && *s != ' ' && *s != '\t') s++;
  *p = s;
  *n = (size_t)(s - tok);
  return *n ? tok : NULL;
}

/* How much of a token names what it sets: "ip" of ip=..., "env=NAME" of env=NAME=VALUE,
 * "arg" of every arg=; 0 for a token without '='. */
static size_t key_len(const char *tok, size_t n) {
  const char *eq = memchr(tok, '=', n);
  if (!eq) return 0;
  size_t k = (size_t)(eq - tok);
  if (k == 3 && !memcmp(tok, "env", 3)) {
    const char *name_end = memchr(eq + 1, '=', n - k - 1);
    if (name_end) return (size_t)(name_end - tok);
  }
  return k;
}

/* Whether a token of `line` sets the key tok[0..klen) (compared as written: both lines are
 * encoded by the same `kiln` function). */
static bool line_sets(const char *line, const char *tok, size_t klen) {
  size_t n;
  for (const char *p = line, *t; (t = next_token(&p, &n));)
    if (key_len(t, n) == klen && !memcmp(t, tok, klen)) return true;
  return false;
}

/* Adds one token; 0, or -1 with a message in err (if none is there yet). */
static int add_token(const char *tok, size_t n, char *err, size_t errlen) {
  const char *eq = memchr(tok, '=', n);
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
  if (!why) return 0;
  if (err && !err[0]) ksnprintf(err, errlen, "command line token '%.*s': %s", (int)(n > 64 ? 64 : n), tok, why);
  return -1;
}

int cmdline_parse(const char *image, const char *boot, char *err, size_t errlen) {
  pool_len = 0;
  argc = envc = nkeys = 0;
  int rc = 0;
  size_t n, k;
  if (err && errlen) err[0] = 0;
  if (!boot) boot = "";
  for (const char *p = image ? image : "", *tok; (tok = next_token(&p, &n));)
    if ((k = key_len(tok, n)) && !line_sets(boot, tok, k) && add_token(tok, n, err, errlen)) rc = -1;
  for (const char *p = boot, *tok; (tok = next_token(&p, &n));)
    if (key_len(tok, n) && add_token(tok, n, err, errlen)) rc = -1;
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
