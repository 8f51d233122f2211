/* bench/wasi-shim.c — a minimal WASI preview1 for wasm2c output (wabt 1.0.32, which ships the
 * wasm2c runtime but no WASI), so wasm2c can be measured on the same .wasm files as the other
 * runtimes. It covers what wasi-libc's start-up, stdio and the compute programs import: args,
 * environ (empty), fd_write/fd_read on the standard streams, fd_seek/fd_close/fd_fdstat_get,
 * clock_time_get, random_get and proc_exit. Anything else does not link, which is the point:
 * a program needing more would be measured with a WASI we have not written.
 *
 * The generated module must be named "prog" (wasm2c -n prog). Build:
 *   clang-19 -O2 -I/usr/share/wabt/wasm2c prog.c bench/wasi-shim.c wasm-rt-impl.c -lm
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "prog.h"
#include "wasm-rt-impl.h"

enum { WASI_ESUCCESS = 0, WASI_EBADF = 8, WASI_EFAULT = 21, WASI_EINVAL = 28, WASI_EIO = 29, WASI_ESPIPE = 70 };

struct Z_wasi_snapshot_preview1_instance_t {
  wasm_rt_memory_t *mem;
  int argc;
  char **argv;
};

/* Every guest pointer goes through here: a range outside memory is EFAULT, never a host fault. */
static uint8_t *guest(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t p, uint64_t n) {
  if ((uint64_t)p + n > w->mem->size)
    return NULL;
  return w->mem->data + p;
}

static int put32(struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t p, uint32_t v) {
  uint8_t *d = guest(w, p, 4);
  if (!d)
    return 0;
  memcpy(d, &v, 4); /* x86-64 and Wasm are both little-endian */
  return 1;
}

static uint32_t strings_sizes(int n, char **s, struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t pn,
                              uint32_t psize) {
  uint32_t size = 0;
  for (int i = 0; i < n; i++)
    size += strlen(s[i]) + 1;
  return put32(w, pn, n) && put32(w, psize, size) ? WASI_ESUCCESS : WASI_EFAULT;
}

static uint32_t strings_get(int n, char **s, struct Z_wasi_snapshot_preview1_instance_t *w, uint32_t pptrs,
                            uint32_t pbuf) {
  for (int i = 0; i < n; i++) {
    size_t len = strlen(s[i]) + 1;
    uint8_t *d = guest(w, pbuf, len);
    if (!d || !put32(w, pptrs + 4 * i, pbuf))
      return WASI_EFAULT;
    memcpy(d, s[i], len);
    pbuf += len;
  }
  return WASI_ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_args_sizes_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pn, u32 psize) {
  return strings_sizes(w->argc, w->argv, w, pn, psize);
}
u32 Z_wasi_snapshot_preview1Z_args_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pptrs, u32 pbuf) {
  return strings_get(w->argc, w->argv, w, pptrs, pbuf);
}
u32 Z_wasi_snapshot_preview1Z_environ_sizes_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pn, u32 psize) {
  return strings_sizes(0, NULL, w, pn, psize);
}
u32 Z_wasi_snapshot_preview1Z_environ_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 pptrs, u32 pbuf) {
  return WASI_ESUCCESS;
}

/* Shared by fd_write and fd_read: walk the iovec array, one host call per buffer. */
static u32 fd_rw(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 iovs, u32 n, u32 pdone, int writing) {
  if (writing ? fd != 1 && fd != 2 : fd != 0)
    return WASI_EBADF;
  uint32_t done = 0;
  for (u32 i = 0; i < n; i++) {
    uint8_t *iov = guest(w, iovs + 8 * i, 8);
    if (!iov)
      return WASI_EFAULT;
    uint32_t p, len;
    memcpy(&p, iov, 4);
    memcpy(&len, iov + 4, 4);
    uint8_t *buf = guest(w, p, len);
    if (!buf)
      return WASI_EFAULT;
    ssize_t r = writing ? write(fd, buf, len) : read(fd, buf, len);
    if (r < 0)
      return WASI_EIO;
    done += r;
    if ((uint32_t)r < len)
      break;
  }
  return put32(w, pdone, done) ? WASI_ESUCCESS : WASI_EFAULT;
}

u32 Z_wasi_snapshot_preview1Z_fd_write(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 iovs, u32 n,
                                       u32 pdone) {
  return fd_rw(w, fd, iovs, n, pdone, 1);
}
u32 Z_wasi_snapshot_preview1Z_fd_read(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 iovs, u32 n,
                                      u32 pdone) {
  return fd_rw(w, fd, iovs, n, pdone, 0);
}
u32 Z_wasi_snapshot_preview1Z_fd_seek(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u64 off, u32 whence,
                                      u32 pnew) {
  return fd <= 2 ? WASI_ESPIPE : WASI_EBADF;
}
u32 Z_wasi_snapshot_preview1Z_fd_close(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd) {
  return fd <= 2 ? WASI_ESUCCESS : WASI_EBADF;
}

/* fdstat: filetype character device for the three standard streams, all rights. */
u32 Z_wasi_snapshot_preview1Z_fd_fdstat_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 fd, u32 p) {
  if (fd > 2)
    return WASI_EBADF;
  uint8_t *d = guest(w, p, 24);
  if (!d)
    return WASI_EFAULT;
  memset(d, 0, 24);
  d[0] = 2; /* __WASI_FILETYPE_CHARACTER_DEVICE */
  memset(d + 8, 0xff, 16);
  return WASI_ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_clock_time_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 id, u64 precision,
                                             u32 p) {
  static const clockid_t ids[] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
  struct timespec ts;
  if (id > 3)
    return WASI_EINVAL;
  clock_gettime(ids[id], &ts);
  uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + ts.tv_nsec;
  uint8_t *d = guest(w, p, 8);
  if (!d)
    return WASI_EFAULT;
  memcpy(d, &ns, 8);
  return WASI_ESUCCESS;
}

u32 Z_wasi_snapshot_preview1Z_random_get(struct Z_wasi_snapshot_preview1_instance_t *w, u32 p, u32 n) {
  uint8_t *d = guest(w, p, n);
  if (!d)
    return WASI_EFAULT;
  for (u32 i = 0; i < n; i++)
    d[i] = (uint8_t)rand();
  return WASI_ESUCCESS;
}

void Z_wasi_snapshot_preview1Z_proc_exit(struct Z_wasi_snapshot_preview1_instance_t *w, u32 code) {
  exit((int)code);
}

int main(int argc, char **argv) {
  static Z_prog_instance_t inst;
  struct Z_wasi_snapshot_preview1_instance_t wasi = {NULL, argc, argv};
  wasm_rt_init();
  Z_prog_init_module();
  Z_prog_instantiate(&inst, &wasi);
  wasi.mem = Z_progZ_memory(&inst);
  wasm_rt_trap_t trap = wasm_rt_impl_try();
  if (trap) {
    fprintf(stderr, "wasm2c: trap: %s\n", wasm_rt_strerror(trap));
    return 134;
  }
  Z_progZ__start(&inst);
  Z_prog_free(&inst);
  wasm_rt_free();
  return 0;
}
