/* tests/aot/tailcall.c — mutual recursion 10,000,000 deep through tail calls, built with
 * -O2 -mtail-call: each `musttail` return is a Wasm return_call or return_call_indirect (the
 * test checks the binary for both). Without constant-stack tail calls this exhausts any
 * stack; with them it prints the sum. One hop goes through a function pointer. (C's
 * musttail needs equal signatures; tests/aot/tailcall.wast covers different ones.) */
#include <stdint.h>
#include <stdio.h>

typedef int64_t (*hop_fn)(uint32_t, int64_t);
static int64_t odd(uint32_t n, int64_t acc);
static int64_t by3(uint32_t n, int64_t acc);
static volatile hop_fn hop = odd; /* volatile: a real indirect call, not inlined away */

__attribute__((noinline)) static int64_t even(uint32_t n, int64_t acc) {
  if (n == 0) return acc;
  if (n % 3 == 0) __attribute__((musttail)) return by3(n, acc + 1);
  __attribute__((musttail)) return hop(n - 1, acc + 1);
}

__attribute__((noinline)) static int64_t by3(uint32_t n, int64_t acc) {
  __attribute__((musttail)) return odd(n - 1, acc * 3 % 1000003);
}

__attribute__((noinline)) static int64_t odd(uint32_t n, int64_t acc) {
  if (n == 0) return -acc;
  __attribute__((musttail)) return even(n - 1, acc);
}

int main(int argc, char **argv) {
  (void)argv;
  uint32_t n = 10000000u + (uint32_t)argc - 1; /* not a constant the compiler can fold */
  printf("tailcall %lld\n", (long long)even(n, 0));
  return 0;
}
