/* wasi/wasi.h — WASI preview1, written once, and the interface between it and the platform
 * (the kernel in kernel/, the hosted runtime in host/).
 *
 * How a call arrives: kiln-aot turns the import wasi_snapshot_preview1.fd_write (iiii)->i into a
 * call to wasi_snapshot_preview1__fd_write__iiii_i(ctx, ...) (aot/abi.h). Those functions are
 * defined in the wasi/ sources. Each one finds its state at ctx->host, which the platform MUST set to a
 * `struct wasi_state *` (created with wasi_create) before it runs any code of the instance.
 * A platform that needs more per-instance state hangs it on st->plat.
 *
 * Lifecycle, as the platform drives it:
 *     st = wasi_create();                         stdio is fds 0, 1, 2
 *     wasi_add_arg(st, ...) ...; wasi_add_env(st, "K=V", n) ...
 *     kernel:  wasi_load_image(st, module_bytes, module_len)   (the kiln-pack archive, fsimage.h)
 *     hosted:  wasi_preopen_vfs(st, hostfs, root, "GUEST", n)  (--dir HOST[:GUEST], host/hostfs.c)
 *     ctx->host = st; run _start under kiln_plat_call();
 *     if the call returned KILN_TRAP_EXIT: the app called proc_exit, status is st->exit_code;
 *     if it returned KILN_TRAP_NONE: _start returned, status 0.
 *     wasi_destroy(st);
 * Preopened directories get fds 3, 4, ... in the order they were added.
 *
 * Errors: every call returns a preview1 errno (wasi/wasi_types.h). Every guest pointer and
 * length goes through one check (wasi_guest_ptr in wasi/guest.c) before use; a bad one gives
 * WASI_EFAULT and nothing is touched.
 *
 * Freestanding: the wasi/ sources need only memcpy, memmove, memset, memcmp and strlen from the
 * platform, plus the allocator of kernel/instance.h (kiln_plat_alloc/kiln_plat_free).
 */
#ifndef KILN_WASI_H
#define KILN_WASI_H

#include <stddef.h>
#include <stdint.h>

#include "aot/abi.h"

struct wasi_state;
struct wasi_fd;

/* ---- provided by the platform (kernel/ or host/) ---- */

/* Console: fd 1 and 2 write here (fd is 1 or 2); returns bytes written (may be fewer than n)
 * or -errno (a WASI errno, negated). */
int64_t wasi_plat_console_write(int fd, const void *buf, size_t n);
/* Stdin: bytes read, 0 at end of input, or -errno. May block. The kernel may simply return 0. */
int64_t wasi_plat_console_read(void *buf, size_t n);
/* Nonzero when a console read would not block (for poll_oneoff). */
int wasi_plat_console_ready(void);
/* The WASI filetype of stdio fd 0, 1 or 2, as the program should see it: CHARACTER_DEVICE
 * only for a terminal (wasi-libc's isatty() is "CHARACTER_DEVICE without seek/tell rights"),
 * REGULAR_FILE for a file (fd_seek/fd_tell/fd_filestat_get then go through the two optional
 * hooks below), anything else (UNKNOWN for a pipe, as wasmtime; SOCKET_STREAM) for the rest. */
uint8_t wasi_plat_stdio_type(int fd);
/* Optional (wasi/ has weak defaults that answer ESPIPE / ENOTSUP): lseek on a stdio fd that is
 * a regular file (whence WASI_WHENCE_*; new offset or -errno), and its attributes. */
struct wasi_vfs_stat;
int64_t wasi_plat_stdio_seek(int fd, int64_t off, int whence);
int wasi_plat_stdio_stat(int fd, struct wasi_vfs_stat *out);

/* Clocks, in nanoseconds. id is a WASI clockid: 0 realtime (since the Unix epoch), 1 monotonic,
 * 2 process CPU time, 3 thread CPU time. Return 0, or WASI_EINVAL for an unknown id.
 * The resolution is the real granularity of the clock source (e.g. 1 ns for a TSC, 1e9/HZ
 * for a tick counter). The kernel may approximate the CPU-time clocks by the monotonic
 * clock since boot (one core, one instance). */
int wasi_plat_clock_get(uint32_t id, uint64_t *ns);
int wasi_plat_clock_res(uint32_t id, uint64_t *ns);

/* Fill buf with n bytes from a cryptographically strong source when the machine has one
 * (RDRAND/RDSEED, getrandom), else the best available. Never fails. */
void wasi_plat_random(void *buf, size_t n);

/* Wait until the monotonic clock reaches deadline_ns, or earlier when an event may have
 * changed the readiness of an fd (an interrupt, a packet: the kernel hlts once and polls the
 * network). UINT64_MAX means no deadline. poll_oneoff calls this in a loop and re-checks. */
void wasi_plat_wait(uint64_t deadline_ns);

/* sched_yield: let the platform do pending work (the kernel polls the NIC and lwIP timers). */
void wasi_plat_yield(void);

/* ---- provided by wasi/ for the platform ---- */

struct wasi_state *wasi_create(void); /* NULL when out of memory */
void wasi_destroy(struct wasi_state *st);
/* Append one argument / one "KEY=VALUE" environment string (bytes, NUL not needed).
 * 0 or a WASI errno (ENOMEM, EINVAL for an env string without '=' or with a NUL). */
int wasi_add_arg(struct wasi_state *st, const char *s, size_t len);
int wasi_add_env(struct wasi_state *st, const char *kv, size_t len);
/* Kernel: load a kiln-pack archive (format in wasi/fsimage.h) — its preopened directories,
 * and its args/env when it carries them. The bytes must stay valid and unchanged while st
 * lives: file contents are not copied until the guest first writes to them.
 * 0 or a WASI errno (EINVAL for a malformed archive, ENOMEM). */
int wasi_load_image(struct wasi_state *st, const void *img, size_t len);
/* Directories served outside memfs (the hosted --dir, a 9P volume): wasi_preopen_vfs in
 * wasi/vfs.h. */

/* ---- the state ---- */

struct wasi_fs; /* the in-memory file system (wasi/memfs.c) */

struct wasi_state {
  /* argv and environ, each a packed sequence of NUL-terminated strings, as args_get lays
   * them out in guest memory. */
  char *args;
  uint32_t args_len, args_cap, argc;
  char *env;
  uint32_t env_len, env_cap, envc;

  struct wasi_fd *fds; /* the fd table, indexed by WASI fd (wasi/fdtable.c) */
  uint32_t nfds;

  struct wasi_fs *fs;

  int32_t exit_code; /* set by proc_exit before it unwinds with KILN_TRAP_EXIT */
  uint8_t exited;

  /* poll_oneoff's working arrays, kept (and grown) here rather than allocated per call: a
   * restart in place may unwind out of its wait, and they are freed with the state. */
  uint8_t *poll_scratch;
  size_t poll_scratch_len;

  void *plat; /* the platform's own per-instance data; wasi/ never touches it */
};

/* ---- the fd table's plug-in point (for wasi/socket_fd.c) ----
 * Each fd has a kind; stdio and sockets carry an ops table, files and directories are served
 * by memfs directly, or by a backend of wasi/vfs.h when `vfs` is set. socket_fd.c creates socket fds with wasi_fd_new(st, WASI_FD_SOCKET, ...)
 * and its own ops; the preview1 sock_* calls (wasi/preview1_sock.c) check the guest pointers and the
 * fd, return WASI_ENOTSOCK for non-sockets and otherwise forward here. fd_read/fd_write/
 * fd_close/fd_fdstat_get/poll_oneoff forward to the ops of any fd that has them. Buffers
 * passed to ops are already checked and translated to host pointers. */
enum { WASI_FD_FREE = 0, WASI_FD_STDIO, WASI_FD_FILE, WASI_FD_DIR, WASI_FD_SOCKET };

struct wasi_buf {
  uint8_t *p;
  size_t len;
};

struct wasi_fd_ops {
  uint8_t filetype; /* WASI filetype reported by fd_fdstat_get/fd_filestat_get */
  /* Each returns a WASI errno; a NULL entry means WASI_ENOTSUP (WASI_ENOTSOCK for sock_*). */
  int (*read)(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, size_t *done);
  int (*write)(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, size_t *done);
  void (*close)(struct wasi_state *st, struct wasi_fd *f); /* release f->priv */
  /* Readiness for poll_oneoff: events is 1 (read) or 2 (write); returns 1 ready, 0 not yet;
   * *nbytes gets the bytes available when known; *hangup 1 when the peer closed. */
  int (*poll)(struct wasi_state *st, struct wasi_fd *f, int events, uint64_t *nbytes, int *hangup);
  int (*sock_accept)(struct wasi_state *st, struct wasi_fd *f, uint16_t flags, uint32_t *newfd);
  int (*sock_recv)(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, uint16_t riflags,
                   size_t *done, uint16_t *roflags);
  int (*sock_send)(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, uint16_t siflags,
                   size_t *done);
  int (*sock_shutdown)(struct wasi_state *st, struct wasi_fd *f, uint8_t how);
};

struct wasi_node;
struct wasi_vfs;
struct wasi_vfs_file;
struct wasi_fd {
  uint8_t kind;     /* WASI_FD_* */
  uint8_t type;     /* WASI filetype of stdio and vfs fds (for stdio, 0 is UNKNOWN) */
  uint16_t fdflags; /* WASI_FDFLAGS_* */
  uint64_t rights_base, rights_inheriting;
  const struct wasi_fd_ops *ops; /* stdio, sockets; NULL for files and directories */
  void *priv;                    /* the ops' own data (e.g. the lwIP pcb) */
  struct wasi_node *node;        /* files and directories of memfs */
  struct wasi_vfs *vfs;          /* files and directories of a backend (wasi/vfs.h) ... */
  struct wasi_vfs_file *vf;      /* ... and its handle, closed with the fd */
  uint64_t offset;               /* files */
  char *preopen;                 /* guest name of a preopened directory, else NULL */
  uint32_t preopen_len;
};

/* Allocate the lowest free fd; returns 0 and *fd, or WASI_EMFILE/ENOMEM. The table may move:
 * re-fetch any struct wasi_fd * held across this call (wasi_fd_get). */
int wasi_fd_new(struct wasi_state *st, uint8_t kind, const struct wasi_fd_ops *ops, void *priv, uint64_t rights_base,
                uint64_t rights_inheriting, uint32_t *fd);
/* The open fd `fd`, or NULL. */
struct wasi_fd *wasi_fd_get(struct wasi_state *st, uint32_t fd);

/* The shared guest-pointer check: host address of guest bytes [p, p+len) of memory 0 of
 * ctx, or NULL when any of them is outside the memory (or there is no memory). len 0 at
 * p == size is allowed. Callers return WASI_EFAULT on NULL. */
void *wasi_guest_ptr(kiln_instance *ctx, uint32_t p, uint64_t len);

#endif
