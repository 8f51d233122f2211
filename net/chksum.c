/* net/chksum.c — the Internet checksum (RFC 1071) for lwIP (LWIP_CHKSUM), and the same fused
 * with the copy of application data into segments (LWIP_CHKSUM_COPY with
 * LWIP_CHECKSUM_ON_COPY), so outgoing TCP payload is read once instead of twice.
 * Eight bytes per load: under emulation every guest load costs the same whatever its width,
 * and natively it halves the work of lwIP's 4-byte loop.
 *
 * The one's-complement sum does not depend on byte order (RFC 1071 2.(B)), so native 64-bit
 * loads are summed as they are; the result is the 16-bit sum of the data's words as they
 * lie in memory, which is what lwIP expects of LWIP_CHKSUM (not yet complemented). */
#include <stddef.h>
#include <stdint.h>

unsigned short kiln_chksum(const void *data, int len);
unsigned short kiln_chksum_copy(void *dst, const void *src, unsigned short len);
unsigned long long kiln_chksum_bytes; /* what checksums cost: every byte summed, for net/stats.c */

static inline uint64_t load64(const uint8_t *p) {
  uint64_t v;
  __builtin_memcpy(&v, p, 8); /* unaligned: fine on x86 */
  return v;
}

/* 32-bit halves into a 64-bit accumulator: no carry is lost below 2^32 additions. */
static inline uint64_t add64(uint64_t acc, uint64_t v) { return acc + (v & 0xffffffffu) + (v >> 32); }

static unsigned short fold(uint64_t acc) {
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffffffffu) + (acc >> 32);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  acc = (acc & 0xffff) + (acc >> 16);
  return (unsigned short)acc;
}

/* The bytes after the last whole 8: 16-bit words as in memory, an odd last byte padded. */
static uint64_t tail(uint64_t acc, const uint8_t *p, size_t n) {
  for (; n >= 2; p += 2, n -= 2) acc += (uint64_t)p[0] | (uint64_t)p[1] << 8;
  if (n) acc += p[0];
  return acc;
}

unsigned short kiln_chksum(const void *data, int len) {
  const uint8_t *p = data;
  size_t n = len > 0 ? (size_t)len : 0;
  uint64_t a = 0, b = 0;
  kiln_chksum_bytes += n;
  for (; n >= 32; p += 32, n -= 32) {
    a = add64(a, load64(p));
    b = add64(b, load64(p + 8));
    a = add64(a, load64(p + 16));
    b = add64(b, load64(p + 24));
  }
  for (; n >= 8; p += 8, n -= 8) a = add64(a, load64(p));
  return fold(tail(a + (b & 0xffffffffu) + (b >> 32), p, n));
}

unsigned short kiln_chksum_copy(void *dst, const void *src, unsigned short len) {
  uint8_t *d = dst;
  const uint8_t *s = src;
  size_t n = len;
  uint64_t a = 0;
  kiln_chksum_bytes += n;
  for (; n >= 16; d += 16, s += 16, n -= 16) {
    uint64_t x = load64(s), y = load64(s + 8);
    __builtin_memcpy(d, &x, 8);
    __builtin_memcpy(d + 8, &y, 8);
    a = add64(add64(a, x), y);
  }
  for (; n >= 8; d += 8, s += 8, n -= 8) {
    uint64_t x = load64(s);
    __builtin_memcpy(d, &x, 8);
    a = add64(a, x);
  }
  for (size_t i = 0; i < n; i++) d[i] = s[i];
  return fold(tail(a, s, n));
}
