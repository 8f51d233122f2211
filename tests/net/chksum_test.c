/* tests/net/chksum_test.c — net/chksum.c against RFC 1071 computed byte by byte: 20,000 buffers of
 * 0..66,000 bytes at every alignment, plain and fused with the copy. Prints "N bad". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
unsigned short kiln_chksum(const void *data, int len);
unsigned short kiln_chksum_copy(void *dst, const void *src, unsigned short len);
static unsigned short ref(const unsigned char *p, int n) { /* RFC 1071, words as in memory (LE) */
  unsigned long s = 0;
  for (int i = 0; i + 1 < n; i += 2) s += p[i] | p[i + 1] << 8;
  if (n & 1) s += p[n - 1];
  while (s >> 16) s = (s & 0xffff) + (s >> 16);
  return (unsigned short)s;
}
int main(void) {
  static unsigned char buf[70000], dst[70000];
  int bad = 0;
  for (int t = 0; t < 20000; t++) {
    int n = t < 100 ? t : rand() % 66000, off = rand() % 16;
    for (int i = 0; i < n + 16; i++) buf[i] = t % 3 == 0 ? 0xff : rand();
    unsigned short r = ref(buf + off, n);
    if (kiln_chksum(buf + off, n) != r) bad++;
    if (n < 65536) {
      int doff = rand() % 16;
      if (kiln_chksum_copy(dst + doff, buf + off, n) != r || memcmp(dst + doff, buf + off, n)) bad++;
    }
  }
  printf("%d bad\n", bad);
  return bad != 0;
}
