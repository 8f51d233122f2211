/* Reads past the end of linear memory: both code generation modes (guard region, and
 * --bounds-checks) must turn it into the trap "out of bounds memory access". */
#include <stdio.h>

int main(int argc, char **argv) {
  volatile int *p = (volatile int *)(0x7fffff00u + (unsigned)argc);
  puts("before");
  return *p;
}
