/* Sorting millions of 32-bit ints: a hand-written quicksort (median of three, insertion sort
 * for small ranges) and a bottom-up merge sort of the same data, so neither libc's qsort nor
 * its differences between glibc and wasi-libc are measured. Usage: sort [count] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void insertion(int32_t *a, long n) {
  for (long i = 1; i < n; i++) {
    int32_t v = a[i];
    long j = i - 1;
    for (; j >= 0 && a[j] > v; j--)
      a[j + 1] = a[j];
    a[j + 1] = v;
  }
}

static void quicksort(int32_t *a, long n) {
  while (n > 16) {
    long m = n / 2;
    /* median of three into a[m] */
    if (a[0] > a[m]) { int32_t t = a[0]; a[0] = a[m]; a[m] = t; }
    if (a[m] > a[n - 1]) { int32_t t = a[m]; a[m] = a[n - 1]; a[n - 1] = t; }
    if (a[0] > a[m]) { int32_t t = a[0]; a[0] = a[m]; a[m] = t; }
    int32_t p = a[m];
    long i = 0, j = n - 1;
    for (;;) {
      while (a[i] < p) i++;
      while (a[j] > p) j--;
      if (i >= j) break;
      int32_t t = a[i]; a[i] = a[j]; a[j] = t;
      i++, j--;
    }
    /* recurse into the smaller half, loop on the larger: bounded stack depth */
    if (j + 1 < n - j - 1) {
      quicksort(a, j + 1);
      a += j + 1, n -= j + 1;
    } else {
      quicksort(a + j + 1, n - j - 1);
      n = j + 1;
    }
  }
  insertion(a, n);
}

static void mergesort(int32_t *a, int32_t *tmp, long n) {
  for (long w = 1; w < n; w *= 2) {
    for (long lo = 0; lo < n; lo += 2 * w) {
      long mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
      long i = lo, j = mid, k = lo;
      while (i < mid && j < hi)
        tmp[k++] = a[j] < a[i] ? a[j++] : a[i++];
      while (i < mid) tmp[k++] = a[i++];
      while (j < hi) tmp[k++] = a[j++];
    }
    int32_t *t = a; a = tmp; tmp = t;
    memcpy(tmp, a, n * sizeof *a); /* keep both buffers equal so the swap is harmless */
  }
}

static uint64_t digest(const int32_t *a, long n) {
  uint64_t h = 0;
  for (long i = 0; i < n; i++) {
    if (i > 0 && a[i - 1] > a[i]) {
      printf("not sorted at %ld\n", i);
      exit(1);
    }
    h = h * 31 + (uint32_t)a[i];
  }
  return h;
}

int main(int argc, char **argv) {
  long n = argc > 1 ? atol(argv[1]) : 5000000;
  if (n < 1 || n > 100000000) {
    fputs("count must be 1..100000000\n", stderr);
    return 1;
  }
  int32_t *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b), *t = malloc(n * sizeof *t);
  if (!a || !b || !t) {
    fputs("out of memory\n", stderr);
    return 1;
  }
  uint32_t x = 12345; /* LCG: the same data everywhere */
  for (long i = 0; i < n; i++) {
    x = x * 1103515245u + 12345u;
    a[i] = b[i] = (int32_t)(x ^ (x >> 15));
  }
  quicksort(a, n);
  memcpy(t, b, n * sizeof *b);
  mergesort(b, t, n);
  uint64_t ha = digest(a, n), hb = digest(b, n);
  printf("%ld ints quicksort %016llx mergesort %016llx %s\n", n, (unsigned long long)ha,
         (unsigned long long)hb, ha == hb ? "agree" : "DISAGREE");
  return ha != hb;
}
