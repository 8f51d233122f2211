/* host/host.h — the hosted runtime's internal interface (a Linux process providing the ABI of
 * aot/abi.h), grouped by defining file. kiln_plat_* themselves are declared in kernel/instance.h.
 */
#ifndef KILN_HOST_H
#define KILN_HOST_H

#include "kernel/instance.h"

/* ---- host/platform.c: memory, Wasm stack, traps (kiln_plat_* for Linux) ---- */

/* Where the last unwind came from: the trap code, the code address and the instance that
 * trapped. Valid after kiln_plat_call returned something other than KILN_TRAP_NONE. */
typedef struct kiln_host_trap {
  uint32_t code;
  void *pc;
  kiln_instance *ctx;
  void *fault_addr; /* for faults: the address accessed */
  int sig;          /* for faults: the signal, else 0 */
} kiln_host_trap;
extern _Thread_local kiln_host_trap kiln_host_last_trap; /* of the calling thread */

/* When set, a fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL) inside Wasm code that is neither in a linear-memory reserve nor on the
 * stack guard unwinds with code KILN_HOST_WILD_FAULT instead of killing the process (the spec
 * harness uses this to report a compiler bug as one failed case and go on). */
extern int kiln_host_catch_wild_faults;
#define KILN_HOST_WILD_FAULT 0x100u

/* Installs the fault handlers and the Wasm stack; called lazily by kiln_plat_call. 0 or -1. */
int kiln_host_init(void);
/* stack_limit value for any instance running on the Wasm stack (0 before kiln_host_init). */
uintptr_t kiln_host_stack_limit(void);
/* Message for a code returned by kiln_plat_call, including KILN_HOST_WILD_FAULT. */
const char *kiln_host_trap_message(uint32_t code);
/* The end of an instance (kiln_plat_instance_end, and main() after _start): for a trap, prints
 * "kiln: trap: MESSAGE in FUNCTION" (from this thread's kiln_host_last_trap) and returns
 * KILN_HOST_EXIT_TRAP; for KILN_TRAP_EXIT the status kiln_host_exit_status gives (proc_exit's,
 * set by main(); 1 when unset); 0 for KILN_TRAP_NONE. */
#define KILN_HOST_EXIT_TRAP 134
extern int (*kiln_host_exit_status)(kiln_instance *ctx);
int kiln_host_report(kiln_instance *ctx, uint32_t code);

/* ---- host/wasi_lock.c: one lock around the WASI state, for apps with threads ---- */

/* The locked entry of the WASI function with this mangled name (aot/abi.h §2), or NULL. */
void *host_wasi_locked(const char *symbol);
/* Around a blocking wait inside a WASI call: lets the WASI lock go when this thread holds
 * it (returns how it held it, shared or whole; 0 when it did not), and takes it back so. */
int host_wasi_release(void);
void host_wasi_reacquire(int released);

/* The instance of the innermost kiln_plat_call, or NULL outside Wasm code. */
kiln_instance *kiln_host_current(void);
/* Gives the Wasm stack's pages back (below the top page), between instances. */
void kiln_host_stack_trim(void);

/* ---- host/lifecycle.c: the lifecycle's hooks (kernel/lifecycle.h) and its metrics endpoint ---- */
int host_life_metrics(const char *port); /* --metrics PORT: the endpoint's thread; 0 or -1 */

/* ---- host/hostfs.c: --dir, a host directory served read-write (a backend of wasi/vfs.h) ---- */

struct wasi_vfs;
struct wasi_vfs_file;
struct wasi_vfs_stat;
struct stat;
/* One backend for all --dir of the process (so the quota is shared), with its limits. */
struct wasi_vfs *hostfs_create(uint64_t max_file_size, uint64_t write_budget);
/* Open host directory `path` as a root for wasi_preopen_vfs; 0 or a WASI errno with the reason
 * in err (missing directory, no openat2 on this kernel). */
int hostfs_root(struct wasi_vfs *v, const char *path, struct wasi_vfs_file **root, char *err, size_t errlen);
int hostfs_errno(int linux_errno); /* the WASI errno for a Linux one */
void hostfs_stat_fill(const struct stat *s, struct wasi_vfs_stat *out);

/* ---- host/net_plat.c: net/ksock.h over the host's BSD sockets ---- */

/* The address --listen binds (default 127.0.0.1); call before wasi_sock_preopen_listen. */
void net_plat_listen_addr(const uint8_t ip[4]);
/* Sleep until the monotonic deadline (UINT64_MAX: none) or until a socket becomes ready for
 * what ksock_poll last found it not ready for, or stdin becomes readable (with_stdin). */
void net_plat_wait(uint64_t deadline_ns, int with_stdin);

#endif
