/* kernel/sched.c — what a processor does when it has nothing to run. */
#include "kernel/kernel.h"

_Noreturn void sched_idle_loop(void) {
  for (;;) kernel_idle();
}
