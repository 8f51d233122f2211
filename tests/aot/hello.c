/* A small WASI program for tests/aot/run.sh: printf, malloc, argv, an indirect call,
 * integer edge cases and a float. Prints one line; exits with status 7. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }
int (*volatile fp)(int) = fib;
volatile int vmin = INT_MIN, vone = 1;

int main(int argc, char **argv) {
  int *a = malloc(100 * sizeof *a);
  for (int i = 0; i < 100; i++) a[i] = i;
  long sum = 0;
  for (int i = 0; i < 100; i++) sum += a[i];
  char *s = strdup(argv[argc - 1]);
  printf("hello %d argc=%d %s %d %f sum=%ld\n", fp(20), argc, s, vmin / vone, 0.5 * argc, sum);
  free(s);
  free(a);
  return 7;
}
