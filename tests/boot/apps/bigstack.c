/* Unbounded recursion with 1 KiB of locals per call. Built with the flags `make` gives apps
 * (WASM_CFLAGS: the shadow stack first in linear memory), the overflow runs below address 0
 * and is the trap "out of bounds memory access". Built without --stack-first, the stack runs
 * into the data below it: the canary (2 KiB, so no frame can step over it) changes and the
 * app exits 3 (the silent corruption the flag prevents). */
#include <string.h>
#include <unistd.h>

#define WORDS 512
static volatile unsigned canary[WORDS] = {[0 ... WORDS - 1] = 0x1234abcd};

static int depth(int n, volatile char *prev) {
  volatile char buf[1024];
  memset((char *)buf, n, sizeof buf);
  for (int i = 0; i < WORDS; i++) {
    if (canary[i] != 0x1234abcd) {
      static const char msg[] = "data overwritten by the stack\n"; /* no stdio: its state may be hit too */
      write(1, msg, sizeof msg - 1);
      _exit(3);
    }
  }
  return depth(n + 1, buf) + buf[n % 1024] + (prev ? prev[1] : 0);
}

int main(void) {
  static const char msg[] = "recursing with big frames\n";
  write(1, msg, sizeof msg - 1);
  return depth(0, NULL) & 1;
}
