/* host/wasi_lock.c — WASI state safe under concurrent calls, hosted (aot/abi.h §8): one lock
 * for all the WASI state of the process (fd table, preopens, quota, sockets), taken around
 * every WASI call a hosted app makes. host/main.c binds each WASI import to the locked entry
 * below instead of the function itself. A call that blocks (poll_oneoff's sleep, a blocking
 * socket operation, a read of stdin, sched_yield) lets the lock go while it waits
 * (host_wasi_release/reacquire in host/wasi_plat.c and host/net_plat.c), so one waiting
 * thread never stops the others. proc_exit and proc_raise take no lock: they end the
 * instance by unwinding, and touch no shared structure but the exit status.
 *
 * Every WASI function wasi/ defines has one line here; a new one must be added (the test
 * tests/threads checks that an app's imports all resolve to a locked entry). */
#include <pthread.h>
#include <string.h>

#include "host/host.h"
#include "wasi/wasi_calls.h"

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
#define LOCKED(name, sig, params, args)                                                                     \
  int32_t WASI_FN(name, sig) params;                                                                        \
  static int32_t locked_##name##__##sig params {                                                            \
    host_wasi_lock();                                                                                       \
    int32_t r = WASI_FN(name, sig) args;                                                                    \
    host_wasi_unlock();                                                                                     \
    return r;                                                                                               \
  }
LOCKED(args_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(args_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(environ_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(environ_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(clock_res_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(clock_time_get, iIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c), (ctx, a, b, c))
LOCKED(fd_advise, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_allocate, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c))
LOCKED(fd_close, i_i, (kiln_instance *ctx, int32_t a), (ctx, a))
LOCKED(fd_datasync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a))
LOCKED(fd_fdstat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_fdstat_set_flags, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_fdstat_set_rights, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c))
LOCKED(fd_filestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_filestat_set_size, iI_i, (kiln_instance *ctx, int32_t a, int64_t b), (ctx, a, b))
LOCKED(fd_filestat_set_times, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_pread, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(fd_prestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_prestat_dir_name, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(fd_pwrite, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(fd_read, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_readdir, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(fd_renumber, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_seek, iIii_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_sync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a))
LOCKED(fd_tell, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_write, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(path_create_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(path_filestat_get, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(path_filestat_set_times, iiiiIIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int64_t e, int64_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(path_link, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(path_open, iiiiiIIii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int64_t f, int64_t g, int32_t h, int32_t i), (ctx, a, b, c, d, e, f, g, h, i))
LOCKED(path_readlink, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f))
LOCKED(path_remove_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(path_rename, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f))
LOCKED(path_symlink, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(path_unlink_file, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(poll_oneoff, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(sched_yield, _i, (kiln_instance *ctx), (ctx))
LOCKED(random_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_accept, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_recv, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f))
LOCKED(sock_send, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(sock_shutdown, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_open, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_bind, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_connect, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_listen, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_accept, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_recv_from, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h))
LOCKED(sock_recv_from, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(sock_send_to, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(sock_getlocaladdr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(sock_getpeeraddr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(sock_getlocaladdr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_getpeeraddr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_setsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(sock_getsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(sock_getaddrinfo, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h))
#undef LOCKED

static const struct {
  const char *symbol; /* the mangled import name (aot/abi.h §2) */
  void *fn;
} locked[] = {
#define LOCKED(name, sig, params, args) {"wasi_snapshot_preview1__" #name "__" #sig, (void *)locked_##name##__##sig},
LOCKED(args_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(args_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(environ_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(environ_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(clock_res_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(clock_time_get, iIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c), (ctx, a, b, c))
LOCKED(fd_advise, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_allocate, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c))
LOCKED(fd_close, i_i, (kiln_instance *ctx, int32_t a), (ctx, a))
LOCKED(fd_datasync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a))
LOCKED(fd_fdstat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_fdstat_set_flags, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_fdstat_set_rights, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c))
LOCKED(fd_filestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_filestat_set_size, iI_i, (kiln_instance *ctx, int32_t a, int64_t b), (ctx, a, b))
LOCKED(fd_filestat_set_times, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_pread, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(fd_prestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_prestat_dir_name, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(fd_pwrite, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(fd_read, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_readdir, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(fd_renumber, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_seek, iIii_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(fd_sync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a))
LOCKED(fd_tell, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(fd_write, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(path_create_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(path_filestat_get, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(path_filestat_set_times, iiiiIIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int64_t e, int64_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(path_link, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(path_open, iiiiiIIii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int64_t f, int64_t g, int32_t h, int32_t i), (ctx, a, b, c, d, e, f, g, h, i))
LOCKED(path_readlink, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f))
LOCKED(path_remove_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(path_rename, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f))
LOCKED(path_symlink, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(path_unlink_file, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(poll_oneoff, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(sched_yield, _i, (kiln_instance *ctx), (ctx))
LOCKED(random_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_accept, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_recv, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f))
LOCKED(sock_send, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(sock_shutdown, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_open, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_bind, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_connect, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_listen, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_accept, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b))
LOCKED(sock_recv_from, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h))
LOCKED(sock_recv_from, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(sock_send_to, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g))
LOCKED(sock_getlocaladdr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(sock_getpeeraddr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d))
LOCKED(sock_getlocaladdr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_getpeeraddr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c))
LOCKED(sock_setsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(sock_getsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))
LOCKED(sock_getaddrinfo, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h))
#undef LOCKED
};

void *host_wasi_locked(const char *symbol) {
  for (size_t i = 0; i < sizeof locked / sizeof *locked; i++)
    if (strcmp(locked[i].symbol, symbol) == 0) return locked[i].fn;
  return NULL;
}
