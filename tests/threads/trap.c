/* tests/threads/trap.c — a trap in a worker thread ends the whole instance: main waits in
 * pthread_join (and other workers spin) when one worker reaches __builtin_trap(). The run must
 * end with the trap reported once ("unreachable", in the worker's function) and status 134,
 * and main must never print "joined". */
#include <pthread.h>
#include <stdio.h>

static volatile int spin = 1;

__attribute__((noinline)) static void *trapping_worker(void *arg) {
  for (volatile int i = 0; i < 100000; i++) {}
  __builtin_trap();
  return arg;
}

static void *spinner(void *arg) {
  while (spin) {}
  return arg;
}

int main(void) {
  pthread_t a, b, c;
  pthread_create(&b, NULL, spinner, NULL);
  pthread_create(&c, NULL, spinner, NULL);
  pthread_create(&a, NULL, trapping_worker, NULL);
  pthread_join(a, NULL);
  puts("joined"); /* never: the trap ended everything */
  return 0;
}
