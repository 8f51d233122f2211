/* Hits the Wasm `unreachable` instruction after printing a line. */
#include <stdio.h>
int main(void) {
  puts("before the trap");
  fflush(stdout);
  __builtin_trap();
}
