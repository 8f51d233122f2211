/* host/wasi_lock.c — WASI state safe under concurrent calls, hosted (aot/abi.h §8): one lock
 * for all the WASI state of the process (fd table, preopens, quota, sockets), taken around
 * every WASI call a hosted app makes. host/main.c binds each WASI import to the locked entry
 * below instead of the function itself. A call that blocks (poll_oneoff's sleep, a blocking
 * socket operation, a read of stdin, sched_yield) lets the lock go while it waits
 * (host_wasi_release/reacquire in host/wasi_plat.c and host/net_plat.c), so one waiting
 * thread never stops the others. proc_exit and proc_raise take no lock: they end the
 * instance by unwinding, and touch no shared structure but the exit status.
 *
 * The list of locked entries is wasi/wasi_locked.h, shared with the kernel (kernel/wasi_lock.c). */
#include <pthread.h>
#include <string.h>

#include "host/host.h"

static pthread_mutex_t wasi_lock = PTHREAD_MUTEX_INITIALIZER;
static _Thread_local int held; /* this thread is inside a locked WASI call */

static void host_wasi_lock(void) {
  pthread_mutex_lock(&wasi_lock);
  held = 1;
}

static void host_wasi_unlock(void) {
  held = 0;
  pthread_mutex_unlock(&wasi_lock);
}

int host_wasi_release(void) {
  if (!held) return 0; /* not inside a locked call (unit tests, the fuzzer) */
  host_wasi_unlock();
  return 1;
}

void host_wasi_reacquire(int released) {
  if (released) host_wasi_lock();
}

/* The locked entry of each function: declared here with its type (the definition in wasi/ is
 * checked against the same mangled name), wrapped, and listed. */
#define WASI_LOCK_ENTER host_wasi_lock()
#define WASI_LOCK_LEAVE host_wasi_unlock()
#define WASI_LOCKED_LOOKUP host_wasi_locked
#include "wasi/wasi_locked.h"
