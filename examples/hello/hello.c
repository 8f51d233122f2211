/* hello: the smallest real WASI command — printf, malloc, argv and environment. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
  printf("Hello from Kiln!\n");
  for (int i = 0; i < argc; i++) printf("argv[%d] = %s\n", i, argv[i]);
  const char *who = getenv("WHO");
  if (who) printf("WHO = %s\n", who);
  /* malloc'd work that would show a broken heap or memory.grow */
  size_t n = 1 << 20;
  unsigned char *buf = malloc(n);
  if (!buf) return 1;
  memset(buf, 7, n);
  unsigned long sum = 0;
  for (size_t i = 0; i < n; i += 4096) sum += buf[i];
  printf("sum = %lu\n", sum);
  free(buf);
  return 0;
}
