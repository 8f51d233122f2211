/* tests/aot/sjlj/main.c — setjmp/longjmp as clang-19 lowers them to exceptions
 * (`-mexception-handling -mllvm -wasm-enable-sjlj`: try/catch around calls, throw of the
 * __c_longjmp tag), run by kiln and compared with the same program built natively. The
 * runtime clang calls is tests/aot/sjlj/rt.c (a minimal one, for this test). */
#include <stdio.h>
#ifdef __wasm__
#include <stdint.h>
typedef struct { void *id; uint32_t label; void *env; int val; } jmp_buf[1]; /* wasi-libc has none */
int setjmp(jmp_buf) __attribute__((returns_twice));
_Noreturn void longjmp(jmp_buf, int);
#else
#include <setjmp.h>
#endif

static jmp_buf top;
static int depth;

__attribute__((noinline)) static void deep(int n) {
  if (n == 0) longjmp(top, 42);
  deep(n - 1);
  depth++; /* never reached */
}

int main(void) {
  volatile int tries = 0;
  int r = setjmp(top);
  tries++;
  if (r == 0) deep(1000);
  printf("setjmp returned %d after %d tries, depth %d\n", r, tries, depth);
  jmp_buf inner;
  int sum = 0;
  for (volatile int i = 0; i < 5; i++) {
    int v = setjmp(inner);
    if (v == 0) longjmp(inner, i + 1);
    sum += v;
  }
  printf("sum %d\n", sum);
  return 0;
}
