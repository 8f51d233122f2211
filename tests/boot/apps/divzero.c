/* Integer division by zero traps; the divisor comes from argc so clang cannot fold it. */
#include <stdio.h>
int main(int argc, char **argv) {
  volatile int zero = argc - 1;
  printf("%d\n", 100 / zero);
  return 0;
}
