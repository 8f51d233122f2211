/* host/wasi_lock.c — WASI state safe under concurrent calls, hosted (aot/abi.h §8): one lock
 * for all the WASI state of the process (fd table, preopens, quota, sockets), taken around
 * every WASI call a hosted app makes but the clocks and sched_yield (wasi/wasi_locked.h's
 * WASI_UNLOCKED_LIST). host/main.c binds each WASI import to the locked entry below instead of
 * the function itself. A call that blocks (poll_oneoff's sleep, a blocking socket operation, a
 * read of stdin) lets the lock go while it waits
 * (host_wasi_release/reacquire in host/wasi_plat.c and host/net_plat.c), so one waiting
 * thread never stops the others. proc_exit and proc_raise take no lock: they end the
 * instance by unwinding, and touch no shared structure but the exit status.
 *
 * It is a read-write lock: every call takes it whole (write), but for the calls that move a
 * socket's bytes (wasi/wasi_locked.h's WASI_IO_LIST) on a connected socket
 * (wasi_sock_io_shared), which take it shared (read), so that threads on different
 * connections send and receive at once: the host's own sockets are safe under that, and a
 * call that changes the fd table or a socket's state waits for them to leave. With one mutex
 * around every send and recv, the broker's connection threads on two cores queued behind each
 * other (bench/broker, hosted/native: 0.62-0.69 at the transfer points). Writers go first, so
 * a stream of sends cannot hold off an accept or a close.
 *
 * The list of locked entries is wasi/wasi_locked.h, shared with the kernel (kernel/wasi_lock.c). */
#include <pthread.h>
#include <string.h>

#include "host/host.h"
#include "wasi/socket_fd.h"

enum { HELD_ALL = 1, HELD_SHARED = 2 };

static pthread_rwlock_t wasi_lock = PTHREAD_RWLOCK_INITIALIZER;
static _Thread_local int held; /* how this thread holds the lock inside a locked WASI call, or 0 */

static void host_wasi_lock(int how) {
  if (how == HELD_SHARED) pthread_rwlock_rdlock(&wasi_lock);
  else pthread_rwlock_wrlock(&wasi_lock);
  held = how;
}

static void host_wasi_unlock(void) {
  held = 0;
  pthread_rwlock_unlock(&wasi_lock);
}

/* A call of WASI_IO_LIST: shared when fd allows it (looked at under the shared hold, so the fd
 * table cannot change meanwhile), otherwise whole. */
static int host_wasi_lock_io(kiln_instance *ctx, int32_t fd) {
  host_wasi_lock(HELD_SHARED);
  if (wasi_sock_io_shared(ctx, fd)) return HELD_SHARED;
  host_wasi_unlock();
  host_wasi_lock(HELD_ALL);
  return HELD_ALL;
}

int host_wasi_release(void) {
  int how = held;
  if (!how) return 0; /* not inside a locked call (unit tests, the fuzzer) */
  host_wasi_unlock();
  return how;
}

void host_wasi_reacquire(int released) {
  if (released) host_wasi_lock(released);
}

/* The locked entry of each function: declared here with its type (the definition in wasi/ is
 * checked against the same mangled name), wrapped, and listed. */
#define WASI_LOCK_ENTER host_wasi_lock(HELD_ALL)
#define WASI_LOCK_LEAVE host_wasi_unlock()
#define WASI_LOCK_ENTER_IO(ctx, fd) host_wasi_lock_io(ctx, fd)
#define WASI_LOCK_LEAVE_IO(how) ((void)(how), host_wasi_unlock())
#define WASI_LOCKED_LOOKUP host_wasi_locked
#include "wasi/wasi_locked.h"
