/* mandelbrot (the Computer Language Benchmarks Game): the n x n bitmap of the set in
 * [-1.5,0.5] x [-1,1], 50 iterations, limit 2. The PBM bytes are not printed (the run would
 * measure the terminal); their FNV-1a hash is. Usage: mandelbrot [n] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 4000;
  if (n < 8 || n > 100000) {
    fputs("n must be in 8..100000\n", stderr);
    return 1;
  }
  uint32_t hash = 2166136261u;
  long inside = 0;
  for (int y = 0; y < n; y++) {
    double ci = 2.0 * y / n - 1.0;
    unsigned byte = 0;
    int bit = 0;
    for (int x = 0; x < n; x++) {
      double cr = 2.0 * x / n - 1.5, zr = 0, zi = 0, tr = 0, ti = 0;
      int i = 0;
      for (; i < 50 && tr + ti <= 4.0; i++) {
        zi = 2.0 * zr * zi + ci;
        zr = tr - ti + cr;
        tr = zr * zr;
        ti = zi * zi;
      }
      byte = byte << 1 | (tr + ti <= 4.0);
      inside += tr + ti <= 4.0;
      if (++bit == 8 || x == n - 1) {
        byte <<= 8 - bit; /* pad the last byte of a row, as PBM does */
        hash = (hash ^ byte) * 16777619u;
        byte = 0;
        bit = 0;
      }
    }
  }
  printf("P4 %d %d fnv1a %08x inside %ld\n", n, n, (unsigned)hash, inside);
  return 0;
}
