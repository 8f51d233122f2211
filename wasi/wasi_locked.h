/* wasi/wasi_locked.h — the WASI state safe under concurrent calls (aot/abi.h §8): a locked
 * entry for every import that touches it, written once for both runtimes. kernel/wasi_lock.c
 * and host/wasi_lock.c each include it once, after defining
 *   WASI_LOCK_ENTER, WASI_LOCK_LEAVE  their lock around a call (statements),
 *   WASI_LOCK_ENTER_IO(ctx, fd)       their lock around a call of WASI_IO_LIST on fd (an
 *                                     expression: how it was taken), and
 *   WASI_LOCK_LEAVE_IO(how)           its release (a statement), and
 *   WASI_LOCKED_LOOKUP                the name of the lookup it defines:
 *                                     void *LOOKUP(const char *symbol) gives the locked entry of
 *                                     a mangled import name (aot/abi.h §2), or NULL.
 * The runtimes bind each of these imports to its locked entry instead of the function itself.
 * Every WASI function wasi/ defines has a line in WASI_LOCKED_LIST or WASI_UNLOCKED_LIST
 * (tests/threads checks it), but proc_exit and proc_raise, which end the instance by unwinding
 * and touch no shared structure but the exit status; and Kiln's own kiln.sendfile, which reads
 * the fd table. */
#include "wasi/wasi_calls.h"

#define WASI_LOCKED_LIST(X) \
  X(wasi_snapshot_preview1, args_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, args_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, environ_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, environ_sizes_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, fd_advise, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, fd_allocate, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, fd_close, i_i, (kiln_instance *ctx, int32_t a), (ctx, a)) \
  X(wasi_snapshot_preview1, fd_datasync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a)) \
  X(wasi_snapshot_preview1, fd_fdstat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, fd_fdstat_set_flags, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, fd_fdstat_set_rights, iII_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, fd_filestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, fd_filestat_set_size, iI_i, (kiln_instance *ctx, int32_t a, int64_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, fd_filestat_set_times, iIIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int64_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, fd_pread, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e)) \
  X(wasi_snapshot_preview1, fd_prestat_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, fd_prestat_dir_name, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, fd_pwrite, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e)) \
  X(wasi_snapshot_preview1, fd_readdir, iiiIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int64_t d, int32_t e), (ctx, a, b, c, d, e)) \
  X(wasi_snapshot_preview1, fd_renumber, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, fd_seek, iIii_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, fd_sync, i_i, (kiln_instance *ctx, int32_t a), (ctx, a)) \
  X(wasi_snapshot_preview1, fd_tell, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, path_create_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, path_filestat_get, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  X(wasi_snapshot_preview1, path_filestat_set_times, iiiiIIi_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int64_t e, int64_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  X(wasi_snapshot_preview1, path_link, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  X(wasi_snapshot_preview1, path_open, iiiiiIIii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int64_t f, int64_t g, int32_t h, int32_t i), (ctx, a, b, c, d, e, f, g, h, i)) \
  X(wasi_snapshot_preview1, path_readlink, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f)) \
  X(wasi_snapshot_preview1, path_remove_directory, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, path_rename, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f)) \
  X(wasi_snapshot_preview1, path_symlink, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  X(wasi_snapshot_preview1, path_unlink_file, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, poll_oneoff, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, random_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, sock_accept, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, sock_shutdown, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, sock_open, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, sock_bind, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, sock_connect, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, sock_listen, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, sock_accept, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, sock_recv_from, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h)) \
  X(wasi_snapshot_preview1, sock_recv_from, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  X(wasi_snapshot_preview1, sock_send_to, iiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g), (ctx, a, b, c, d, e, f, g)) \
  X(wasi_snapshot_preview1, sock_getlocaladdr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, sock_getpeeraddr, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, sock_getlocaladdr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, sock_getpeeraddr, iii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, sock_setsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  X(wasi_snapshot_preview1, sock_getsockopt, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e)) \
  X(wasi_snapshot_preview1, sock_getaddrinfo, iiiiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f, int32_t g, int32_t h), (ctx, a, b, c, d, e, f, g, h)) \
  X(kiln, sendfile, iiIii_i, (kiln_instance *ctx, int32_t a, int32_t b, int64_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))

/* The calls that move a socket's bytes, whose first parameter is the fd: a runtime may run them
 * under a shared hold of its lock when the fd is a socket that allows it (hosted: a connected
 * TCP socket, wasi_sock_io_shared), so that threads on different connections send and receive at
 * once; on any other fd they take the lock whole, as every other call. */
#define WASI_IO_LIST(X) \
  X(wasi_snapshot_preview1, fd_read, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, fd_write, iiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d), (ctx, a, b, c, d)) \
  X(wasi_snapshot_preview1, sock_recv, iiiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e, int32_t f), (ctx, a, b, c, d, e, f)) \
  X(wasi_snapshot_preview1, sock_send, iiiii_i, (kiln_instance *ctx, int32_t a, int32_t b, int32_t c, int32_t d, int32_t e), (ctx, a, b, c, d, e))

/* The calls that touch no WASI state (a clock, the scheduler): bound to the function itself.
 * Taking the lock for them made every thread's sched_yield (pthread/sync.c yields once before a
 * condition wait sleeps) and clock read queue behind the socket calls, which hold it whole in
 * the VM. The kernel's yield runs the network's poll hook, which takes the network's own lock. */
#define WASI_UNLOCKED_LIST(X) \
  X(wasi_snapshot_preview1, clock_res_get, ii_i, (kiln_instance *ctx, int32_t a, int32_t b), (ctx, a, b)) \
  X(wasi_snapshot_preview1, clock_time_get, iIi_i, (kiln_instance *ctx, int32_t a, int64_t b, int32_t c), (ctx, a, b, c)) \
  X(wasi_snapshot_preview1, sched_yield, _i, (kiln_instance *ctx), (ctx))

#define WASI_LOCKED_WRAP(module, name, sig, params, args)                                              \
  int32_t KILN_IMPORT(module, name, sig) params;                                                      \
  static int32_t locked_##module##__##name##__##sig params {                                          \
    WASI_LOCK_ENTER;                                                                                  \
    int32_t r = KILN_IMPORT(module, name, sig) args;                                                  \
    WASI_LOCK_LEAVE;                                                                                  \
    return r;                                                                                         \
  }
WASI_LOCKED_LIST(WASI_LOCKED_WRAP)

#define WASI_IO_WRAP(module, name, sig, params, args)                                                  \
  int32_t KILN_IMPORT(module, name, sig) params;                                                      \
  static int32_t locked_##module##__##name##__##sig params {                                          \
    int io_mode = WASI_LOCK_ENTER_IO(ctx, a);                                                         \
    int32_t r = KILN_IMPORT(module, name, sig) args;                                                  \
    WASI_LOCK_LEAVE_IO(io_mode);                                                                      \
    return r;                                                                                         \
  }
WASI_IO_LIST(WASI_IO_WRAP)

#define WASI_UNLOCKED_DECL(module, name, sig, params, args) int32_t KILN_IMPORT(module, name, sig) params;
WASI_UNLOCKED_LIST(WASI_UNLOCKED_DECL)

#define WASI_LOCKED_ENTRY(module, name, sig, params, args) \
  {#module "__" #name "__" #sig, (void *)locked_##module##__##name##__##sig},
#define WASI_UNLOCKED_ENTRY(module, name, sig, params, args) \
  {#module "__" #name "__" #sig, (void *)KILN_IMPORT(module, name, sig)},
static const struct {
  const char *symbol;
  void *fn;
} wasi_locked_table[] = {WASI_LOCKED_LIST(WASI_LOCKED_ENTRY) WASI_IO_LIST(WASI_LOCKED_ENTRY)
                           WASI_UNLOCKED_LIST(WASI_UNLOCKED_ENTRY)};

void *WASI_LOCKED_LOOKUP(const char *symbol) {
  for (size_t i = 0; i < sizeof wasi_locked_table / sizeof *wasi_locked_table; i++)
    if (strcmp(wasi_locked_table[i].symbol, symbol) == 0) return wasi_locked_table[i].fn;
  return NULL;
}
