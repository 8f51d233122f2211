/* kernel/lifecycle.c — the kernel's hooks of the instance's lifecycle (kernel/lifecycle.h;
 * kernel/lifecycle_core.c is the lifecycle itself, kernel/app.c the restart loop). */
#include "kernel/instance.h"
#include "kernel/kernel.h"
#include "kernel/lifecycle.h"

/* The metrics run on lwIP's callbacks, from an interrupt or on another CPU. */
static spinlock_t lock;
static uint64_t lock_flags;

void life_plat_lock(void) {
  uint64_t f = spin_lock_irqsave(&lock);
  lock_flags = f;
}

void life_plat_unlock(void) { spin_unlock_irqrestore(&lock, lock_flags); }

kiln_instance *life_plat_caller(void) { return call_current(); }

/* The kernel maps every page it commits; free RAM is the page allocator's; what went back to
 * the host is the balloon's total, counted as soon as it is reported. */
void life_plat_figures(struct life_figures *f, const kiln_instance *inst) {
  f->touched_bytes = f->mem_bytes;
  f->guest_free = pmem_free_bytes();
  f->returned = balloon_reported_bytes();
}

void life_plat_log(const char *line) { klog("%s", line); }
