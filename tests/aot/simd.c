/* tests/aot/simd.c — a C program that clang turns into Wasm SIMD with -msimd128: loops the
 * vectorizer widens (integer and float arithmetic, min/max, saturation by hand, conversions,
 * widening and narrowing) and GCC vector types passed to and returned from a function called
 * through a pointer (v128 params and results through call_indirect). The output is a list of
 * checksums, compared with the same program built natively. */
#include <stdint.h>
#include <stdio.h>

#define N 4099 /* not a multiple of any vector width: the scalar tails run too */

typedef int32_t v4i32 __attribute__((vector_size(16)));
typedef float v4f32 __attribute__((vector_size(16)));

static int8_t a8[N], b8[N];
static int16_t a16[N], b16[N];
static int32_t a32[N], b32[N];
static int64_t a64[N];
static uint8_t u8[N];
static float f[N], g[N];
static double d[N];

static uint64_t mix(uint64_t h, uint64_t x) { return (h ^ x) * 0x100000001b3ull; }

__attribute__((noinline)) static v4i32 vmix(v4i32 a, v4i32 b) { return a * b + (a >> 3) - (b ^ a); }
__attribute__((noinline)) static v4f32 vfma(v4f32 a, v4f32 b) { return a * b + a / (b + 1.0f); }
static v4i32 (*volatile vmix_p)(v4i32, v4i32) = vmix;
static v4f32 (*volatile vfma_p)(v4f32, v4f32) = vfma;

int main(void) {
  uint32_t s = 12345;
  for (int i = 0; i < N; i++) {
    s = s * 1103515245u + 12345u;
    a8[i] = (int8_t)(s >> 24), b8[i] = (int8_t)(s >> 16), u8[i] = (uint8_t)(s >> 8);
    a16[i] = (int16_t)(s >> 12), b16[i] = (int16_t)s;
    a32[i] = (int32_t)s, b32[i] = (int32_t)(s * 7u);
    a64[i] = (int64_t)s * (int64_t)(i - 2000);
    f[i] = (float)(int32_t)s / 65536.0f, g[i] = (float)(i % 97) - 48.5f;
    d[i] = (double)(int32_t)s / 3.0;
  }
  uint64_t h[16] = {0};
  for (int r = 0; r < 3; r++) {
    for (int i = 0; i < N; i++) { /* saturating add, min/max, abs */
      int v = a8[i] + b8[i];
      a8[i] = (int8_t)(v > 127 ? 127 : v < -128 ? -128 : v);
      b16[i] = (int16_t)(a16[i] < b16[i] ? a16[i] : b16[i]) ^ (int16_t)(a16[i] < 0 ? -a16[i] : a16[i]);
      u8[i] = (uint8_t)((u8[i] + (uint8_t)a8[i] + 1) >> 1);
    }
    for (int i = 0; i < N; i++) { /* multiply, shifts, widening */
      a32[i] = a32[i] * b32[i] + (a32[i] >> (r + 1)) + (int32_t)((uint32_t)b32[i] >> 3);
      a64[i] += (int64_t)a32[i] * b16[i];
      a16[i] = (int16_t)(((int32_t)a16[i] * b16[i]) >> 15);
    }
    for (int i = 0; i < N; i++) { /* floats: arithmetic, min, sqrt-free, conversions both ways */
      f[i] = f[i] * 0.75f + g[i];
      g[i] = f[i] < g[i] ? f[i] : g[i];
      b32[i] = (int32_t)(f[i] * 0.25f);
      d[i] = d[i] * 0.5 + (double)b32[i];
    }
  }
  for (int i = 0; i < N; i++) {
    h[0] = mix(h[0], (uint8_t)a8[i]), h[1] = mix(h[1], (uint16_t)b16[i]), h[2] = mix(h[2], u8[i]);
    h[3] = mix(h[3], (uint32_t)a32[i]), h[4] = mix(h[4], (uint64_t)a64[i]), h[5] = mix(h[5], (uint16_t)a16[i]);
    h[6] = mix(h[6], (uint32_t)b32[i]);
    union { float x; uint32_t u; } uf = {f[i]}, ug = {g[i]};
    union { double x; uint64_t u; } ud = {d[i]};
    h[7] = mix(h[7], uf.u), h[8] = mix(h[8], ug.u), h[9] = mix(h[9], ud.u);
  }
  v4i32 vi = {1, 2, 3, 4};
  v4f32 vf = {0.5f, -1.5f, 2.25f, 3.0f};
  for (int i = 0; i < 1000; i++) {
    vi = vmix_p(vi, (v4i32){i, -i, i * 3, 7});
    vf = vfma_p(vf, (v4f32){0.5f, 0.25f, 0.125f, 0.0625f});
  }
  for (int k = 0; k < 4; k++) {
    union { float x; uint32_t u; } uf = {vf[k]};
    h[10] = mix(h[10], (uint32_t)vi[k]), h[11] = mix(h[11], uf.u);
  }
  for (int k = 0; k < 12; k++) printf("%016llx\n", (unsigned long long)h[k]);
  return 0;
}
