/* Stores far outside linear memory: the guard region must turn it into the Wasm trap. */
#include <stdint.h>
#include <stdio.h>
int main(void) {
  puts("storing out of bounds");
  fflush(stdout);
  volatile uint32_t *p = (volatile uint32_t *)(uintptr_t)0xfffffff0u;
  *p = 42;
  puts("not reached");
  return 0;
}
