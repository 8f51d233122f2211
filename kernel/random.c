/* kernel/random.c — random bytes for random_get. RDSEED or RDRAND when CPUID has them (the
 * hardware generator); otherwise a ChaCha20 generator (RFC 8439 block function, fast key
 * erasure: each request rekeys) seeded from TSC jitter and the RTC — weak entropy, but the
 * best a bare VM without either instruction has. */
#include "kernel/kernel.h"

#define ROTL(v, n) (((v) << (n)) | ((v) >> (32 - (n))))
#define QR(a, b, c, d) \
  (a += b, d ^= a, d = ROTL(d, 16), c += d, b ^= c, b = ROTL(b, 12), a += b, d ^= a, d = ROTL(d, 8), c += d, \
   b ^= c, b = ROTL(b, 7))

void chacha20_block(const uint32_t k[8], uint32_t ctr, const uint32_t n[3], uint8_t out[64]) {
  uint32_t s[16] = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574, k[0], k[1], k[2], k[3],
                    k[4],       k[5],       k[6],       k[7],       ctr,  n[0], n[1], n[2]};
  uint32_t x[16];
  memcpy(x, s, sizeof x);
  for (int i = 0; i < 10; i++) {
    QR(x[0], x[4], x[8], x[12]), QR(x[1], x[5], x[9], x[13]), QR(x[2], x[6], x[10], x[14]),
        QR(x[3], x[7], x[11], x[15]);
    QR(x[0], x[5], x[10], x[15]), QR(x[1], x[6], x[11], x[12]), QR(x[2], x[7], x[8], x[13]),
        QR(x[3], x[4], x[9], x[14]);
  }
  for (int i = 0; i < 16; i++) {
    uint32_t v = x[i] + s[i];
    out[4 * i] = (uint8_t)v, out[4 * i + 1] = (uint8_t)(v >> 8), out[4 * i + 2] = (uint8_t)(v >> 16),
                out[4 * i + 3] = (uint8_t)(v >> 24);
  }
}

#ifndef KILN_HOST_TEST
static uint32_t key[8], nonce[3], counter;

static int hw_random(uint64_t *v) {
  for (int tries = 0; tries < 64; tries++) {
    uint8_t ok;
    if (cpu_has_rdseed) {
      __asm__ volatile("rdseed %0; setc %1" : "=r"(*v), "=qm"(ok));
      if (ok) return 1;
    }
    if (cpu_has_rdrand) {
      __asm__ volatile("rdrand %0; setc %1" : "=r"(*v), "=qm"(ok));
      if (ok) return 1;
    }
    __asm__ volatile("pause");
  }
  return 0;
}

void random_init(void) {
  /* Seed: TSC samples around port I/O (their low bits jitter) and the wall clock. */
  uint64_t rt = time_realtime_ns();
  for (int i = 0; i < 8; i++) {
    uint64_t t = rdtsc();
    inb(0x80);
    t ^= rdtsc() << 17;
    key[i] ^= (uint32_t)t ^ (uint32_t)(t >> 32) ^ (uint32_t)(rt >> (i * 4));
  }
  nonce[0] = (uint32_t)rt, nonce[1] = (uint32_t)(rt >> 32), nonce[2] = (uint32_t)rdtsc();
}

void random_bytes(void *buf, size_t n) {
  uint8_t *p = buf;
  uint64_t v;
  while (n && (cpu_has_rdseed || cpu_has_rdrand) && hw_random(&v)) {
    size_t k = n < 8 ? n : 8;
    memcpy(p, &v, k);
    p += k, n -= k;
  }
  if (!n) return;
  uint8_t block[64];
  static spinlock_t lock; /* the generator's state, on any CPU */
  uint64_t f = spin_lock_irqsave(&lock);
  key[0] ^= (uint32_t)rdtsc(); /* a little fresh jitter per request */
  while (n) {
    chacha20_block(key, ++counter, nonce, block);
    size_t k = n < 32 ? n : 32; /* the other 32 bytes become the next key */
    memcpy(p, block, k);
    memcpy(key, block + 32, 32);
    p += k, n -= k;
  }
  spin_unlock_irqrestore(&lock, f);
  memset(block, 0, sizeof block);
}
#endif
