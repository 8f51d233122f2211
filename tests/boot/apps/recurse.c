/* Unbounded recursion: must become the trap "call stack exhausted", not a crash. */
#include <stdio.h>
static int depth(volatile int *n) {
  int local[16];
  local[(*n) & 15] = *n;
  (*n)++;
  return depth(n) + local[3];
}
int main(void) {
  volatile int n = 0;
  printf("%d\n", depth(&n));
  return 0;
}
