/* tests/cache/args.c — prints its version (-DVERSION=N, so two builds differ in content) and
 * its argv: the cache suite checks which module ran and that argv[0] is the app's name. */
#include <stdio.h>

int main(int argc, char **argv) {
  printf("v%d", VERSION);
  for (int i = 0; i < argc; i++) printf(" %s", argv[i]);
  putchar('\n');
  return 3;
}
