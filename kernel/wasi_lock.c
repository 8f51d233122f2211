/* kernel/wasi_lock.c — the WASI state safe under concurrent calls in the VM (aot/abi.h §8):
 * one lock for all of it (fd table, preopens, memfs, volumes, sockets' fd side), taken around
 * every WASI call the app makes but the clocks and sched_yield (wasi/wasi_locked.h's
 * WASI_UNLOCKED_LIST); kernel/app.c binds each WASI import to the locked entry below
 * instead of the function itself. It is a kiln_lock, so a thread that finds it held sleeps.
 * A call that blocks lets it go while it waits: every wait in the kernel goes through
 * kernel_idle_until (kernel/sched.c), which calls wasi_lock_release/reacquire, so one thread
 * waiting in poll_oneoff, a socket call, a stdin read or a 9P reply never stops the others.
 * proc_exit and proc_raise take no lock: they end the instance by unwinding.
 *
 * The list of locked entries is wasi/wasi_locked.h, shared with the hosted runtime
 * (host/wasi_lock.c); kernel/app.c stops the boot when an app imports a WASI function that is
 * not in it. */
#include "kernel/instance.h"
#include "kernel/kernel.h"

static uint32_t wasi_lock;

/* Pause-loop iterations a caller spins before it sleeps on a held lock. The holder is
 * running (kernel code is never preempted, and a call that blocks lets the lock go) and its
 * section is short, so a spin usually wins; sleeping costs a switch now and a wake-up IPI to
 * this CPU at the unlock, and the holder's next call then finds the lock taken by a thread
 * still waking up (a lock convoy). Measured in bench/broker, see README "Several CPUs". */
#define WASI_LOCK_SPINS 4000

static int try_lock(void) {
  uint32_t free = 0;
  return __atomic_compare_exchange_n(&wasi_lock, &free, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

static void lock(void) {
  if (!try_lock()) {
    uint64_t t0 = rdtsc();
    int got = 0;
    for (int i = 0; !got && ncpus > 1 && i < WASI_LOCK_SPINS; i++) {
      __asm__ volatile("pause");
      got = __atomic_load_n(&wasi_lock, __ATOMIC_RELAXED) == 0 && try_lock();
    }
    if (!got) {
      __atomic_fetch_add(&sched_stats.wasi_sleeps, 1, __ATOMIC_RELAXED);
      kiln_lock(&wasi_lock);
    }
    sched_stats.wasi_wait_tsc += rdtsc() - t0; /* under the lock */
  }
  sched_current()->wasi_held = 1;
}

static void unlock(void) {
  sched_current()->wasi_held = 0;
  kiln_unlock(&wasi_lock);
}

int wasi_lock_release(void) {
  if (!sched_current()->wasi_held) return 0; /* not inside a locked call (boot, exit hooks) */
  unlock();
  return 1;
}

void wasi_lock_reacquire(int released) {
  if (released) lock();
}

#define WASI_LOCK_ENTER lock()
#define WASI_LOCK_LEAVE unlock()
#define WASI_LOCK_ENTER_IO(ctx, fd) (lock(), 0) /* whole: lwIP runs one call at a time anyway */
#define WASI_LOCK_LEAVE_IO(how) ((void)(how), unlock())
#define WASI_LOCKED_LOOKUP wasi_locked_entry
#include "wasi/wasi_locked.h"
