/* kernel/wasi_lock.c — the WASI state safe under concurrent calls in the VM (aot/abi.h §8):
 * one lock for all of it (fd table, preopens, memfs, volumes, sockets' fd side), taken around
 * every WASI call the app makes; kernel/app.c binds each WASI import to the locked entry below
 * instead of the function itself. It is a kiln_lock, so a thread that finds it held sleeps.
 * A call that blocks lets it go while it waits: every wait in the kernel goes through
 * kernel_idle_until (kernel/sched.c), which calls wasi_lock_release/reacquire, so one thread
 * waiting in poll_oneoff, a socket call, a stdin read or a 9P reply never stops the others.
 * proc_exit and proc_raise take no lock: they end the instance by unwinding.
 *
 * The list is the same as the hosted runtime's (host/wasi_lock.c): every WASI function wasi/
 * defines has one line; kernel/app.c stops the boot when an app imports one that is not here. */
#include "kernel/instance.h"
#include "kernel/kernel.h"
#include "wasi/wasi_calls.h"

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
  int got = try_lock();
  for (int i = 0; !got && ncpus > 1 && i < WASI_LOCK_SPINS; i++) {
    __asm__ volatile("pause");
    got = __atomic_load_n(&wasi_lock, __ATOMIC_RELAXED) == 0 && try_lock();
  }
  if (!got) {
    __atomic_fetch_add(&sched_stats.wasi_sleeps, 1, __ATOMIC_RELAXED);
    kiln_lock(&wasi_lock);
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

#define LOCKED(name, sig, params, args)                                                                     \
  int32_t WASI_FN(name, sig) params;                                                                        \
  static int32_t locked_##name##__##sig params {                                                            \
    lock();                                                                                                 \
    int32_t r = WASI_FN(name, sig) args;                                                                    \
    unlock();                                                                                               \
    return r;                                                                                               \
  }
#define WASI_LOCKED_LIST \
  LOCKED(args_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(args_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(environ_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(environ_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(clock_res_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(clock_time_get, iIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(fd_advise, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(fd_allocate, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c)) \
  LOCKED(fd_close, i_i, (kiln_instance *ctx, int32_t a), (ctx, a)) \
  LOCKED(fd_datasync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a)) \
  LOCKED(fd_fdstat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(fd_fdstat_set_flags, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(fd_fdstat_set_rights, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c)) \
  LOCKED(fd_filestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(fd_filestat_set_size, iI_i, (kiln_instance *ctx, int32_t a, int64_t b), (ctx, a, b)) \
  LOCKED(fd_filestat_set_times, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(fd_pread, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(fd_prestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(fd_prestat_dir_name, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(fd_pwrite, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(fd_read, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(fd_readdir, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(fd_renumber, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(fd_seek, iIii_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(fd_sync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a)) \
  LOCKED(fd_tell, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(fd_write, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(path_create_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(path_filestat_get, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(path_filestat_set_times, iiiiIIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int64_t e, int64_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  LOCKED(path_link, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  LOCKED(path_open, iiiiiIIii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int64_t f, int64_t g, int32_t h, int32_t i), (ctx, a, b, c, d, e, f, g, h, i)) \
  LOCKED(path_readlink, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f)) \
  LOCKED(path_remove_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(path_rename, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f)) \
  LOCKED(path_symlink, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(path_unlink_file, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(poll_oneoff, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(sched_yield, _i, (kiln_instance *ctx), (ctx)) \
  LOCKED(random_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(sock_accept, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(sock_recv, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f)) \
  LOCKED(sock_send, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(sock_shutdown, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(sock_open, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(sock_bind, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(sock_connect, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(sock_listen, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(sock_accept, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  LOCKED(sock_recv_from, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h)) \
  LOCKED(sock_recv_from, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  LOCKED(sock_send_to, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  LOCKED(sock_getlocaladdr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(sock_getpeeraddr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  LOCKED(sock_getlocaladdr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(sock_getpeeraddr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  LOCKED(sock_setsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(sock_getsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  LOCKED(sock_getaddrinfo, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h))
WASI_LOCKED_LIST
#undef LOCKED

static const struct {
  const char *symbol; /* the mangled import name (aot/abi.h §2) */
  void *fn;
} locked[] = {
#define LOCKED(name, sig, params, args) {"wasi_snapshot_preview1__" #name "__" #sig, (void *)locked_##name##__##sig},
    WASI_LOCKED_LIST
#undef LOCKED
};

void *wasi_locked_entry(const char *symbol) {
  for (size_t i = 0; i < ARRAY_LEN(locked); i++)
    if (!strcmp(locked[i].symbol, symbol)) return locked[i].fn;
  return NULL;
}
