/* Dense matrix multiply C = A x B of n x n doubles, i-k-j loop order (the inner loop streams a
 * row of B and of C, so it vectorizes without reassociation and the result is bit-identical
 * everywhere). Usage: matmul [n] */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 1200;
  if (n < 1 || n > 4096) {
    fputs("n must be 1..4096\n", stderr);
    return 1;
  }
  double *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b);
  double *c = calloc((size_t)n * n, sizeof *c);
  if (!a || !b || !c) {
    fputs("out of memory\n", stderr);
    return 1;
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < n; j++) {
      a[i * n + j] = (double)((i * 7 + j * 3) % 17) / 16.0 - 0.5;
      b[i * n + j] = (double)((i * 5 + j * 11) % 13) / 12.0 - 0.5;
    }
  for (int rep = 0; rep < 2; rep++)
    for (int i = 0; i < n; i++)
      for (int k = 0; k < n; k++) {
        double aik = a[i * n + k];
        for (int j = 0; j < n; j++)
          c[i * n + j] += aik * b[k * n + j];
      }
  double sum = 0, trace = 0;
  for (int i = 0; i < n; i++) {
    trace += c[i * n + i];
    for (int j = 0; j < n; j++)
      sum += c[i * n + j] * (double)((i + j) % 5 + 1);
  }
  printf("n %d trace %.6f weighted sum %.6f\n", n, trace, sum);
  free(a);
  free(b);
  free(c);
  return 0;
}
