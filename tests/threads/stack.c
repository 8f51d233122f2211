/* tests/threads/stack.c — the C stack of threads (pthread/pthread.c, aot/abi.h §4).
 *   stack fit KIB    a thread of the default size sums a local array of KIB KiB, and one of
 *                    pthread_attr_setstacksize(4 MiB) one of 3 MiB; prints the default size
 *   stack thread     a thread recurses with 4 KiB frames until its stack runs out: the trap
 *                    "call stack exhausted", not writes over the memory below its stack
 *   stack main       the same in the main thread
 * Frames hold arrays whose address escapes, so they live on the C stack in linear memory. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile unsigned sink;

/* Sums a local array of n KiB, filled through an escaping pointer. */
static unsigned use_stack(size_t kib) {
  unsigned char *volatile p;
  unsigned char buf[kib << 10];
  p = buf;
  memset(p, 1, kib << 10);
  unsigned s = 0;
  for (size_t i = 0; i < kib << 10; i += 64) s += p[i];
  return s;
}

static void *fit(void *arg) {
  size_t kib = (size_t)arg;
  return (void *)(size_t)use_stack(kib);
}

static unsigned deep(unsigned n) {
  char buf[4096];
  char *volatile p = buf;
  memset(p, (int)n, sizeof buf);
  if (n % 16 == 0) printf("depth %u\n", n);
  fflush(stdout);
  return p[n % sizeof buf] + (n < 100000 ? deep(n + 1) : 0);
}

static void *recurse(void *arg) {
  (void)arg;
  sink = deep(1);
  return NULL;
}

int main(int argc, char **argv) {
  const char *mode = argc > 1 ? argv[1] : "fit";
  pthread_t t;
  void *r;
  if (!strcmp(mode, "fit")) {
    size_t kib = argc > 2 ? strtoul(argv[2], NULL, 0) : 64;
    pthread_attr_t a;
    size_t def;
    pthread_attr_init(&a);
    pthread_attr_getstacksize(&a, &def);
    printf("default thread stack %zu KiB\n", def >> 10);
    if (pthread_create(&t, NULL, fit, (void *)kib) || pthread_join(t, &r)) return 1;
    printf("default: %zu KiB on the stack, sum %zu\n", kib, (size_t)r);
    if (pthread_attr_setstacksize(&a, 4u << 20) || pthread_create(&t, &a, fit, (void *)(size_t)3072) ||
        pthread_join(t, &r))
      return 1;
    printf("4 MiB: 3072 KiB on the stack, sum %zu\n", (size_t)r);
    return 0;
  }
  if (!strcmp(mode, "thread")) {
    if (pthread_create(&t, NULL, recurse, NULL) || pthread_join(t, NULL)) return 1;
    printf("joined\n");
    return 0;
  }
  sink = deep(1);
  printf("returned\n");
  return 0;
}
