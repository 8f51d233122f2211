/* Checksums over a large buffer: CRC-32 (IEEE, table-driven, byte at a time) and FNV-1a-64
 * over the same pseudo-random buffer, several passes. Byte loads and table lookups.
 * Usage: hash [mebibytes] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static uint32_t crc_table[256];

static void crc_init(void) {
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++)
      c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
    crc_table[i] = c;
  }
}

static uint32_t crc32(uint32_t crc, const uint8_t *p, size_t n) {
  crc = ~crc;
  for (size_t i = 0; i < n; i++)
    crc = crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
  return ~crc;
}

static uint64_t fnv1a64(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++)
    h = (h ^ p[i]) * 0x100000001b3ull;
  return h;
}

int main(int argc, char **argv) {
  long mib = argc > 1 ? atol(argv[1]) : 64;
  if (mib < 1 || mib > 1024) {
    fputs("size must be 1..1024 MiB\n", stderr);
    return 1;
  }
  size_t n = (size_t)mib << 20;
  uint8_t *buf = malloc(n);
  if (!buf) {
    fputs("out of memory\n", stderr);
    return 1;
  }
  uint64_t x = 0x9e3779b97f4a7c15ull; /* xorshift64: the same bytes everywhere */
  for (size_t i = 0; i < n; i += 8) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    for (int k = 0; k < 8; k++)
      buf[i + k] = (uint8_t)(x >> (8 * k));
  }
  crc_init();
  uint32_t crc = 0;
  uint64_t fnv = 0xcbf29ce484222325ull;
  for (int pass = 0; pass < 4; pass++) {
    crc = crc32(crc, buf, n);
    fnv = fnv1a64(fnv, buf, n);
  }
  printf("%ld MiB crc32 %08x fnv1a64 %016llx\n", mib, (unsigned)crc, (unsigned long long)fnv);
  free(buf);
  return 0;
}
