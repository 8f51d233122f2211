/* tests/real/libc_check.c — the calls Kiln's wasi-libc changes (tools/patches/wasi-libc/),
 * checked against their contracts, the same natively and in Wasm: qsort sorts every width
 * (the 4- and 8-byte paths, unaligned arrays, odd widths), keeps equal keys in order (a merge
 * sort, as glibc's), and makes at most n * ceil(log2 n) comparisons (musl's smoothsort made
 * 2.65 n log2 n on random keys); memcpy, memmove (overlapping either way), memset and
 * memcmp (its sign) agree with byte loops at every small length and offset. Prints one line per check. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long ncmp;
static size_t width;

/* An element: its key in the first byte (width 1) or first 4 bytes, then its original index. */
static uint32_t key_of(const unsigned char *e) {
  uint32_t k = 0;
  memcpy(&k, e, width < 4 ? width : 4);
  return k;
}

static int cmp(const void *a, const void *b) {
  ncmp++;
  uint32_t x = key_of(a), y = key_of(b);
  return (x > y) - (x < y);
}

static uint32_t rng = 12345;
static uint32_t next(void) { return rng = rng * 1103515245u + 12345u, rng >> 8; }

static int ceil_log2(size_t n) {
  int l = 0;
  while (((size_t)1 << l) < n) l++;
  return l;
}

/* Sorts n elements of width w (at offset off of an allocation), keys below distinct; returns
 * 0 or a failure's description. */
static const char *sort_case(size_t n, size_t w, size_t off, uint32_t distinct, int presorted) {
  unsigned char *buf = malloc(n * w + off + 1), *a = buf + off;
  width = w;
  for (size_t i = 0; i < n; i++) {
    unsigned char *e = a + i * w;
    memset(e, 0, w);
    uint32_t k = presorted ? (uint32_t)(i / 3) : next() % distinct;
    memcpy(e, &k, w < 4 ? w : 4);
    if (w >= 8) memcpy(e + 4, &(uint32_t){(uint32_t)i}, 4);
  }
  ncmp = 0;
  qsort(a, n, w, cmp);
  const char *bad = NULL;
  for (size_t i = 1; i < n && !bad; i++) {
    const unsigned char *p = a + (i - 1) * w, *q = a + i * w;
    if (key_of(p) > key_of(q)) bad = "not sorted";
    uint32_t ip, iq;
    if (w >= 8 && key_of(p) == key_of(q) && (memcpy(&ip, p + 4, 4), memcpy(&iq, q + 4, 4), ip > iq)) bad = "not stable";
  }
  if (!bad && n > 1 && ncmp > (long)n * ceil_log2(n)) bad = "too many comparisons";
  free(buf);
  return bad;
}

static int mem_cases(void) {
  static unsigned char a[640], b[640], ref[640];
  int failures = 0;
  for (size_t len = 0; len <= 300; len += len < 40 ? 1 : 13)
    for (size_t s = 0; s < 8; s++)
      for (size_t d = 0; d < 24; d += 5) {
        for (size_t i = 0; i < sizeof a; i++) a[i] = (unsigned char)(i * 7 + len), b[i] = (unsigned char)~i;
        /* memcpy between two buffers */
        memcpy(ref, b, sizeof b);
        for (size_t i = 0; i < len; i++) ref[d + i] = a[s + i];
        memcpy(b + d, a + s, len);
        failures += memcmp(ref, b, sizeof b) != 0;
        /* memmove within one, forwards (d > s) and backwards (s > d) */
        for (int dir = 0; dir < 2; dir++) {
          size_t from = dir ? s + d : s, to = dir ? s : s + d;
          memcpy(ref, a, sizeof a);
          for (size_t i = 0; i < len; i++) ref[to + i] = a[from + i];
          memmove(a + to, a + from, len);
          failures += memcmp(ref, a, sizeof a) != 0;
          memcpy(a, ref, sizeof a);
        }
        /* memcmp: equal, then one byte above or below: at each of the first 24 and last 7
         * positions, every seventh between */
        memcpy(b + d, a + s, len);
        failures += memcmp(a + s, b + d, len) != 0;
        for (size_t k = 0; k < len; k = k < 24 || k + 7 >= len ? k + 1 : k + 7) {
          for (int delta = -1; delta <= 1; delta += 2) {
            /* a later byte moved the other way must not matter (a word compare without the
             * byte swap gets that wrong) */
            size_t later = k + 1 + (len - k) / 2;
            unsigned char keep = b[d + k], keep_later = b[d + later];
            b[d + k] = (unsigned char)(keep + delta); /* a wrap makes the byte 0x00 or 0xff: the sign flips */
            if (later < len) b[d + later] = (unsigned char)(keep_later - 64 * delta);
            int want = b[d + k] > a[s + k] ? -1 : 1, got = memcmp(a + s, b + d, len);
            failures += (got > 0) - (got < 0) != want;
            b[d + k] = keep, b[d + later] = keep_later;
          }
        }
        /* memset */
        memcpy(ref, b, sizeof b);
        for (size_t i = 0; i < len; i++) ref[d + s + i] = (unsigned char)(len + 0x100 - 3);
        memset(b + d + s, (int)(len + 0x100 - 3), len);
        failures += memcmp(ref, b, sizeof b) != 0;
      }
  return failures;
}

int main(void) {
  static const size_t ns[] = {0, 1, 2, 3, 7, 64, 255, 256, 1000, 60000};
  static const size_t ws[] = {1, 4, 8, 12, 24};
  int failures = 0;
  for (size_t wi = 0; wi < sizeof ws / sizeof *ws; wi++)
    for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++)
      for (int kind = 0; kind < 4; kind++) {
        size_t w = ws[wi], n = ns[ni];
        /* random keys with many ties, random keys with few, sorted input, an unaligned array */
        uint32_t distinct = kind == 0 ? 10 : 1u << 20;
        const char *bad = sort_case(n, w, kind == 3 ? 1 : 0, w == 1 ? 200 : distinct, kind == 2);
        if (bad) {
          printf("qsort n=%zu width=%zu case %d: %s\n", n, w, kind, bad);
          failures++;
        }
      }
  printf("qsort: %s\n", failures ? "FAILED" : "sorted, stable, at most n*ceil(log2 n) comparisons");
  int m = mem_cases();
  printf("memcpy/memmove/memset/memcmp: %s\n", m ? "FAILED" : "equal to byte loops");
  return failures || m;
}
