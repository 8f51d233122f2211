/* kernel/uniproc.c — the thread hooks of kernel/instance.h (aot/abi.h §8) on the one-core
 * kernel: there is no second thread of execution, so thread-spawn fails with EAGAIN, nothing
 * is ever woken by another thread, and a memory.atomic.wait sleeps (hlt) until its deadline.
 * The SMP kernel replaces this file with its scheduler. */
#include "kernel/instance.h"
#include "kernel/kernel.h"

/* Only the timeout (or any interrupt: callers check again) ends a wait here. */
void kiln_plat_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns) {
  uint64_t seen = kernel_events();
  if (__atomic_load_n(word, __ATOMIC_ACQUIRE) == expected) kernel_idle_until(deadline_ns, seen);
}

void kiln_plat_wake(uint32_t *word, uint32_t n) {
  (void)word, (void)n; /* no one else can be sleeping */
}

uint64_t kiln_plat_now_ns(void) { return time_ns(); }

int kiln_plat_thread_create(void (*fn)(void *), void *arg) {
  (void)fn, (void)arg;
  return -1;
}
