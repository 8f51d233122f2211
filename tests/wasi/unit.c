/* tests/wasi/unit.c — unit tests of wasi/ in a host build: each case gets a fresh fake
 * instance (one malloc'd page of guest memory) and a fresh wasi_state. This file: the
 * harness, args/env, stdio, clocks, random, proc_*, poll_oneoff, sockets; fs.c: the rest.
 * Usage: unit [ARCHIVE HOSTDIR]  (a kiln-pack archive of HOSTDIR, for the image tests) */
#include <ftw.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/host.h"
#include "tests/wasi/unit.h"
#include "wasi/vfs.h"

kiln_instance *C;
struct wasi_state *S;
uint8_t *M;
int case_failed;
const char *case_name;
static int passed, failed;
static kiln_memory mem;
static kiln_memory *mems[1] = {&mem};
static kiln_instance inst;

uint32_t gstr(uint32_t at, const char *s) {
  size_t n = strlen(s);
  memcpy(M + at, s, n);
  return (uint32_t)n;
}
uint32_t giov(uint32_t at, uint32_t buf, uint32_t len) {
  wasi_st32(M + at, buf);
  wasi_st32(M + at + 4, len);
  return at;
}
/* Guest scratch layout: 1000 path, 1500 second path, 2000 iovecs, 3000 results, 4096.. data. */
int gopen(int dirfd, const char *path, int oflags, uint64_t rights, int fdflags, uint32_t *fd) {
  /* like wasi-libc: the new fd inherits what the directory passes on */
  struct wasi_fd *d = wasi_fd_get(S, (uint32_t)dirfd);
  uint64_t inh = d ? d->rights_inheriting : 0;
  uint32_t n = gstr(1000, path);
  int e = W(path_open, iiiiiIIii_i)(C, dirfd, WASI_LOOKUP_SYMLINK_FOLLOW, 1000, (int32_t)n, oflags, (int64_t)rights,
                                    (int64_t)inh, fdflags, 3000);
  if (!e) *fd = wasi_ld32(M + 3000);
  return e;
}
int gwrite(uint32_t fd, const char *s) {
  uint32_t n = gstr(4096, s);
  giov(2000, 4096, n);
  int e = W(fd_write, iiii_i)(C, (int32_t)fd, 2000, 1, 3004);
  if (!e && wasi_ld32(M + 3004) != n) return -1;
  return e;
}
int gread(uint32_t fd, char *out, uint32_t max, uint32_t *n) {
  giov(2000, 8192, max);
  int e = W(fd_read, iiii_i)(C, (int32_t)fd, 2000, 1, 3004);
  if (!e) {
    *n = wasi_ld32(M + 3004);
    memcpy(out, M + 8192, *n);
    out[*n] = 0;
  }
  return e;
}
/* In the hostfs pass, every preopen is a fresh host directory served by host/hostfs.c, removed
 * after the case: the same tests then check both backends. */
int unit_hostfs;
struct wasi_vfs *unit_vfs;
char unit_tmp[8][64];
static int ntmp;
void add_preopen(const char *name) {
  if (!unit_hostfs) {
    struct wasi_node *root = memfs_node_new(S->fs, WASI_FILETYPE_DIRECTORY);
    memfs_preopen(S, root, name, strlen(name));
    return;
  }
  char err[256];
  struct wasi_vfs_file *root;
  if (ntmp == 8) abort();
  snprintf(unit_tmp[ntmp], sizeof unit_tmp[ntmp], "/tmp/kiln-unit.XXXXXX");
  if (!mkdtemp(unit_tmp[ntmp]) || hostfs_root(unit_vfs, unit_tmp[ntmp], &root, err, sizeof err) ||
      wasi_preopen_vfs(S, unit_vfs, root, name, strlen(name))) {
    printf("FAIL %s: cannot preopen a host directory: %s\n", case_name, err);
    case_failed = 1;
  }
  ntmp++;
}
static int rm1(const char *p, const struct stat *sb, int flag, struct FTW *ftw) { return remove(p); }

static void run(const char *name, void (*fn)(void)) {
  memset(&inst, 0, sizeof inst);
  M = calloc(1, MEMSIZE);
  mem = (kiln_memory){.base = M, .pages = 1, .bytes = MEMSIZE, .max_pages = 1};
  inst.mem0 = M;
  inst.memories = mems;
  S = wasi_create();
  inst.host = S;
  C = &inst;
  fake_out_len[0] = fake_out_len[1] = 0;
  fake_in_len = 0;
  case_failed = 0;
  case_name = name;
  if (unit_hostfs) unit_vfs = hostfs_create(UINT64_MAX, UINT64_MAX);
  fn();
  if (case_failed) failed++;
  else {
    passed++;
    printf("PASS %s\n", name);
  }
  wasi_destroy(S);
  for (; ntmp > 0; ntmp--) nftw(unit_tmp[ntmp - 1], rm1, 16, FTW_DEPTH | FTW_PHYS);
  free(unit_vfs);
  unit_vfs = NULL;
  free(M);
}

/* ---- cases ---- */

static void t_guest_ptr(void) {
  CHECK(wasi_guest_ptr(C, 0, MEMSIZE) == M);
  CHECK(wasi_guest_ptr(C, MEMSIZE, 0) == M + MEMSIZE);
  CHECK(wasi_guest_ptr(C, MEMSIZE - 4, 4) != NULL);
  CHECK(wasi_guest_ptr(C, MEMSIZE - 3, 4) == NULL);
  CHECK(wasi_guest_ptr(C, MEMSIZE + 1, 0) == NULL);
  CHECK(wasi_guest_ptr(C, 0xffffffffu, 2) == NULL); /* no wrap-around */
  CHECK(wasi_guest_ptr(C, 1, 0xffffffffffffffffull) == NULL);
  kiln_instance none = {0};
  CHECK(wasi_guest_ptr(&none, 0, 0) == NULL);
}

static void t_args(void) {
  wasi_add_arg(S, "prog", 4);
  wasi_add_arg(S, "a b", 3);
  wasi_add_arg(S, "", 0);
  CHECK_EQ(W(args_sizes_get, ii_i)(C, 100, 104), 0);
  CHECK_EQ(wasi_ld32(M + 100), 3);
  CHECK_EQ(wasi_ld32(M + 104), 10);
  CHECK_EQ(W(args_get, ii_i)(C, 200, 300), 0);
  CHECK_EQ(wasi_ld32(M + 200), 300);
  CHECK_EQ(wasi_ld32(M + 204), 305);
  CHECK_EQ(wasi_ld32(M + 208), 309);
  CHECK(memcmp(M + 300, "prog\0a b\0\0", 10) == 0);
  CHECK_EQ(W(args_get, ii_i)(C, MEMSIZE - 8, 300), WASI_EFAULT);
  CHECK_EQ(W(args_get, ii_i)(C, 200, MEMSIZE - 9), WASI_EFAULT);
  CHECK_EQ(W(args_sizes_get, ii_i)(C, MEMSIZE - 2, 104), WASI_EFAULT);
  CHECK_EQ(W(args_sizes_get, ii_i)(C, 100, -1), WASI_EFAULT);
  CHECK_EQ(wasi_add_arg(S, "x\0y", 3), WASI_EINVAL);
}

static void t_environ(void) {
  CHECK_EQ(W(environ_sizes_get, ii_i)(C, 100, 104), 0);
  CHECK_EQ(wasi_ld32(M + 100), 0);
  CHECK_EQ(wasi_ld32(M + 104), 0);
  CHECK_EQ(wasi_add_env(S, "A=1", 3), 0);
  CHECK_EQ(wasi_add_env(S, "B=x=y", 5), 0);
  CHECK_EQ(wasi_add_env(S, "noequals", 8), WASI_EINVAL);
  CHECK_EQ(W(environ_sizes_get, ii_i)(C, 100, 104), 0);
  CHECK_EQ(wasi_ld32(M + 100), 2);
  CHECK_EQ(wasi_ld32(M + 104), 10);
  CHECK_EQ(W(environ_get, ii_i)(C, 200, 300), 0);
  CHECK_EQ(wasi_ld32(M + 204), 304);
  CHECK(memcmp(M + 300, "A=1\0B=x=y\0", 10) == 0);
  CHECK_EQ(W(environ_get, ii_i)(C, 200, MEMSIZE), WASI_EFAULT);
  CHECK_EQ(W(environ_sizes_get, ii_i)(C, MEMSIZE, 104), WASI_EFAULT);
}

static void t_fd_write_stdio(void) {
  uint32_t n = gstr(4096, "hello ");
  gstr(4200, "world\n");
  giov(2000, 4096, n);
  giov(2008, 4200, 6);
  CHECK_EQ(W(fd_write, iiii_i)(C, 1, 2000, 2, 3000), 0);
  CHECK_EQ(wasi_ld32(M + 3000), 12);
  CHECK(fake_out_len[0] == 12 && memcmp(fake_out[0], "hello world\n", 12) == 0);
  CHECK_EQ(W(fd_write, iiii_i)(C, 2, 2000, 1, 3000), 0);
  CHECK(fake_out_len[1] == 6);
  CHECK_EQ(W(fd_write, iiii_i)(C, 1, 2000, 0, 3000), 0); /* zero iovecs: writes nothing */
  CHECK_EQ(wasi_ld32(M + 3000), 0);
  /* bad pointers: the iovec array, a buffer, nwritten; bad fds */
  CHECK_EQ(W(fd_write, iiii_i)(C, 1, MEMSIZE - 4, 1, 3000), WASI_EFAULT);
  CHECK_EQ(W(fd_write, iiii_i)(C, 1, 2000, 0x20000000, 3000), WASI_EINVAL);
  giov(2016, MEMSIZE - 2, 4);
  CHECK_EQ(W(fd_write, iiii_i)(C, 1, 2016, 1, 3000), WASI_EFAULT);
  giov(2016, 0xfffffff0u, 0x20);
  CHECK_EQ(W(fd_write, iiii_i)(C, 1, 2016, 1, 3000), WASI_EFAULT);
  CHECK_EQ(W(fd_write, iiii_i)(C, 1, 2000, 1, MEMSIZE - 3), WASI_EFAULT);
  CHECK_EQ(fake_out_len[0], 12); /* nothing written on any error */
  CHECK_EQ(W(fd_write, iiii_i)(C, 7, 2000, 1, 3000), WASI_EBADF);
  CHECK_EQ(W(fd_write, iiii_i)(C, -1, 2000, 1, 3000), WASI_EBADF);
  CHECK_EQ(W(fd_write, iiii_i)(C, 0, 2000, 1, 3000), WASI_ENOTCAPABLE); /* stdin is read-only */
}

static void t_fd_read_stdin(void) {
  fake_in = "abcdef";
  fake_in_len = 6;
  char buf[64];
  uint32_t n;
  CHECK_EQ(gread(0, buf, 4, &n), 0);
  CHECK(n == 4 && !strcmp(buf, "abcd"));
  CHECK_EQ(gread(0, buf, 10, &n), 0);
  CHECK(n == 2 && !strcmp(buf, "ef"));
  CHECK_EQ(gread(0, buf, 10, &n), 0);
  CHECK_EQ(n, 0); /* end of input */
  CHECK_EQ(W(fd_read, iiii_i)(C, 0, 2000, 1, MEMSIZE), WASI_EFAULT);
  CHECK_EQ(W(fd_read, iiii_i)(C, 1, 2000, 1, 3000), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_read, iiii_i)(C, 99, 2000, 1, 3000), WASI_EBADF);
}

static void t_fd_close(void) {
  CHECK_EQ(W(fd_close, i_i)(C, 2), 0);
  CHECK_EQ(W(fd_close, i_i)(C, 2), WASI_EBADF);
  CHECK_EQ(gwrite(2, "x"), WASI_EBADF);
  CHECK_EQ(W(fd_close, i_i)(C, 1000), WASI_EBADF);
  CHECK_EQ(W(fd_close, i_i)(C, -5), WASI_EBADF);
  uint32_t fd;
  CHECK_EQ(wasi_fd_new(S, WASI_FD_FILE, NULL, NULL, 0, 0, &fd), 0);
  CHECK_EQ(fd, 2); /* the lowest free fd is reused */
}

static void t_fdstat(void) {
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 1, 3000), 0);
  CHECK_EQ(M[3000], WASI_FILETYPE_CHARACTER_DEVICE);
  CHECK(wasi_ld64(M + 3008) & WASI_RIGHT(WASI_R_FD_WRITE));
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 1, MEMSIZE - 23), WASI_EFAULT);
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 42, 3000), WASI_EBADF);
  CHECK_EQ(W(fd_fdstat_set_flags, ii_i)(C, 1, WASI_FDFLAG_NONBLOCK), 0);
  W(fd_fdstat_get, ii_i)(C, 1, 3000);
  CHECK_EQ(wasi_ld16(M + 3002), WASI_FDFLAG_NONBLOCK);
  CHECK_EQ(W(fd_fdstat_set_flags, ii_i)(C, 1, 0x100), WASI_EINVAL);
  CHECK_EQ(W(fd_fdstat_set_flags, ii_i)(C, 9, 0), WASI_EBADF);
  /* rights only shrink */
  uint64_t r = wasi_ld64(M + 3008);
  CHECK_EQ(W(fd_fdstat_set_rights, iII_i)(C, 1, (int64_t)(r & ~WASI_RIGHT(WASI_R_FD_WRITE)), 0), 0);
  CHECK_EQ(gwrite(1, "x"), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_fdstat_set_rights, iII_i)(C, 1, (int64_t)r, 0), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_fdstat_set_rights, iII_i)(C, 1, 0, 1), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_fdstat_set_rights, iII_i)(C, 77, 0, 0), WASI_EBADF);
}

/* stdio takes the type the platform reports; rights follow it, so wasi-libc's isatty()
 * ("CHARACTER_DEVICE without seek/tell") is true only for a terminal. */
extern uint8_t fake_stdio_type[3];
static void t_stdio_types(void) {
  fake_stdio_type[0] = WASI_FILETYPE_UNKNOWN; /* a pipe */
  fake_stdio_type[1] = WASI_FILETYPE_REGULAR_FILE;
  fake_stdio_type[2] = WASI_FILETYPE_CHARACTER_DEVICE;
  struct wasi_state *t = wasi_create();
  fake_stdio_type[0] = fake_stdio_type[1] = WASI_FILETYPE_CHARACTER_DEVICE;
  C->host = t;
  const uint64_t seek = WASI_RIGHT(WASI_R_FD_SEEK) | WASI_RIGHT(WASI_R_FD_TELL);
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 0, 3000), 0);
  CHECK_EQ(M[3000], WASI_FILETYPE_UNKNOWN);
  CHECK_EQ(wasi_ld64(M + 3008) & seek, 0);
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 1, 3000), 0);
  CHECK_EQ(M[3000], WASI_FILETYPE_REGULAR_FILE);
  CHECK_EQ(wasi_ld64(M + 3008) & seek, seek);
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 2, 3000), 0);
  CHECK_EQ(M[3000], WASI_FILETYPE_CHARACTER_DEVICE);
  CHECK_EQ(wasi_ld64(M + 3008) & seek, 0);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, 0, 3000), 0);
  CHECK_EQ(M[3016], WASI_FILETYPE_UNKNOWN);
  /* a file stdio seeks through the platform's hook (this fake platform has none: ESPIPE) */
  CHECK_EQ(W(fd_seek, iIii_i)(C, 1, 0, WASI_WHENCE_SET, 3000), WASI_ESPIPE);
  CHECK_EQ(W(fd_seek, iIii_i)(C, 1, 0, 7, 3000), WASI_EINVAL);
  CHECK_EQ(W(fd_seek, iIii_i)(C, 0, 0, WASI_WHENCE_SET, 3000), WASI_ESPIPE);
  C->host = S;
  wasi_destroy(t);
  /* a stdio fd keeps its stream when renumbered: stderr moved onto fd 1 still writes stderr */
  CHECK_EQ(W(fd_renumber, ii_i)(C, 2, 1), 0);
  CHECK_EQ(gwrite(1, "to stderr"), 0);
  CHECK_EQ(fake_out_len[1], 9);
  CHECK_EQ(fake_out_len[0], 0);
}

static void t_seek_stdio(void) {
  CHECK_EQ(W(fd_seek, iIii_i)(C, 1, 0, WASI_WHENCE_CUR, 3000), WASI_ESPIPE);
  CHECK_EQ(W(fd_seek, iIii_i)(C, 0, 5, WASI_WHENCE_SET, 3000), WASI_ESPIPE);
  CHECK_EQ(W(fd_tell, ii_i)(C, 1, 3000), WASI_ESPIPE);
  CHECK_EQ(W(fd_seek, iIii_i)(C, 50, 0, WASI_WHENCE_SET, 3000), WASI_EBADF);
  CHECK_EQ(W(fd_pwrite, iiiIi_i)(C, 1, 2000, 0, 0, 3000), WASI_ESPIPE);
  CHECK_EQ(W(fd_pread, iiiIi_i)(C, 0, 2000, 0, 0, 3000), WASI_ESPIPE);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, 1, 3000), 0);
  CHECK_EQ(M[3016], WASI_FILETYPE_CHARACTER_DEVICE);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, 1, MEMSIZE - 8), WASI_EFAULT);
  CHECK_EQ(W(fd_sync, i_i)(C, 1), 0);
  CHECK_EQ(W(fd_datasync, i_i)(C, 8), WASI_EBADF);
  CHECK_EQ(W(fd_advise, iIIi_i)(C, 1, 0, 0, 0), WASI_ESPIPE);
  CHECK_EQ(W(fd_allocate, iII_i)(C, 1, 0, 1), WASI_ESPIPE);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 1, 4096, 100, 0, 3000), WASI_ENOTDIR);
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, 1, 0), WASI_ENOTCAPABLE);
}

static void t_clocks(void) {
  for (int id = 0; id < 4; id++) {
    CHECK_EQ(W(clock_res_get, ii_i)(C, id, 3000), 0);
    uint64_t res = wasi_ld64(M + 3000);
    CHECK(res > 0 && res <= 1000000000ull);
    CHECK_EQ(W(clock_time_get, iIi_i)(C, id, 1, 3008), 0);
  }
  CHECK_EQ(W(clock_time_get, iIi_i)(C, WASI_CLOCK_REALTIME, 1, 3000), 0);
  CHECK(wasi_ld64(M + 3000) > 1600000000ull * 1000000000ull); /* after 2020 */
  W(clock_time_get, iIi_i)(C, WASI_CLOCK_MONOTONIC, 1, 3000);
  W(clock_time_get, iIi_i)(C, WASI_CLOCK_MONOTONIC, 1, 3008);
  CHECK(wasi_ld64(M + 3008) >= wasi_ld64(M + 3000));
  CHECK_EQ(W(clock_time_get, iIi_i)(C, 4, 1, 3000), WASI_EINVAL);
  CHECK_EQ(W(clock_res_get, ii_i)(C, -1, 3000), WASI_EINVAL);
  CHECK_EQ(W(clock_time_get, iIi_i)(C, 0, 1, MEMSIZE - 7), WASI_EFAULT);
  CHECK_EQ(W(clock_res_get, ii_i)(C, 0, MEMSIZE), WASI_EFAULT);
}

static void t_random(void) {
  CHECK_EQ(W(random_get, ii_i)(C, 4096, 256), 0);
  int nonzero = 0;
  for (int i = 0; i < 256; i++) nonzero += M[4096 + i] != 0;
  CHECK(nonzero > 200);
  CHECK_EQ(W(random_get, ii_i)(C, MEMSIZE, 0), 0);
  CHECK_EQ(W(random_get, ii_i)(C, MEMSIZE - 10, 11), WASI_EFAULT);
  CHECK_EQ(W(random_get, ii_i)(C, 10, -1), WASI_EFAULT);
}

static void t_proc(void) {
  CHECK_EQ(W(sched_yield, _i)(C), 0);
  CHECK_EQ(W(proc_raise, i_i)(C, 0), 0);
  CHECK_EQ(W(proc_raise, i_i)(C, 16), 0); /* chld: ignored by default */
  CHECK_EQ(W(proc_raise, i_i)(C, 31), WASI_EINVAL);
  CHECK_EQ(W(proc_raise, i_i)(C, -1), WASI_EINVAL);
  S->exited = 0;
  if (setjmp(fake_unwind) == 0) {
    W(proc_raise, i_i)(C, 6); /* abrt: ends the instance like a process killed by SIGABRT */
    CHECK(!"proc_raise(abrt) returned");
  }
  CHECK_EQ(fake_unwind_code, KILN_TRAP_EXIT);
  CHECK_EQ(S->exit_code, 134);
  if (setjmp(fake_unwind) == 0) W(proc_raise, i_i)(C, 30); /* sys: Linux 31 */
  CHECK_EQ(S->exit_code, 128 + 31);
  S->exited = 0;
  if (setjmp(fake_unwind) == 0) {
    W(proc_exit, i_)(C, 42);
    CHECK(!"proc_exit returned");
  }
  CHECK_EQ(fake_unwind_code, KILN_TRAP_EXIT);
  CHECK_EQ(S->exit_code, 42);
  CHECK_EQ(S->exited, 1);
}

/* Write a subscription at guest offset `at`. */
static void sub(uint32_t at, uint64_t ud, uint8_t tag, uint32_t id_or_fd, uint64_t timeout, uint16_t flags) {
  memset(M + at, 0, WASI_SUBSCRIPTION_SIZE);
  wasi_st64(M + at, ud);
  M[at + 8] = tag;
  wasi_st32(M + at + 16, id_or_fd);
  wasi_st64(M + at + 24, timeout);
  wasi_st16(M + at + 40, flags);
}

static uint64_t mono(void) {
  uint64_t t;
  wasi_plat_clock_get(1, &t);
  return t;
}

static void t_poll(void) {
  /* a relative clock really sleeps */
  sub(10000, 7, WASI_EVENTTYPE_CLOCK, WASI_CLOCK_MONOTONIC, 30000000, 0);
  uint64_t t0 = mono();
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 1, 3000), 0);
  CHECK(mono() - t0 >= 30000000);
  CHECK_EQ(wasi_ld32(M + 3000), 1);
  CHECK_EQ(wasi_ld64(M + 20000), 7);
  CHECK_EQ(wasi_ld16(M + 20008), 0);
  CHECK_EQ(M[20010], WASI_EVENTTYPE_CLOCK);
  /* an absolute realtime deadline 20 ms ahead */
  uint64_t now;
  wasi_plat_clock_get(0, &now);
  sub(10000, 8, WASI_EVENTTYPE_CLOCK, WASI_CLOCK_REALTIME, now + 20000000, WASI_SUBCLOCK_ABSTIME);
  t0 = mono();
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 1, 3000), 0);
  CHECK(mono() - t0 >= 15000000);
  /* fd readiness beats a long clock: stdout is writable now */
  sub(10000, 1, WASI_EVENTTYPE_CLOCK, WASI_CLOCK_MONOTONIC, 10000000000ull, 0);
  sub(10048, 2, WASI_EVENTTYPE_FD_WRITE, 1, 0, 0);
  sub(10096, 3, WASI_EVENTTYPE_FD_READ, 99, 0, 0); /* bad fd: an event with EBADF */
  t0 = mono();
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 3, 3000), 0);
  CHECK(mono() - t0 < 1000000000ull);
  CHECK_EQ(wasi_ld32(M + 3000), 2);
  CHECK_EQ(wasi_ld64(M + 20000), 2);
  CHECK_EQ(wasi_ld64(M + 20032), 3);
  CHECK_EQ(wasi_ld16(M + 20040), WASI_EBADF);
  /* a bad clock id is reported in its event */
  sub(10000, 5, WASI_EVENTTYPE_CLOCK, 17, 1000, 0);
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 1, 3000), 0);
  CHECK_EQ(wasi_ld16(M + 20008), WASI_EINVAL);
  /* call errors */
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 0, 3000), WASI_EINVAL);
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, MEMSIZE - 40, 20000, 1, 3000), WASI_EFAULT);
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, MEMSIZE - 31, 1, 3000), WASI_EFAULT);
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 1, MEMSIZE), WASI_EFAULT);
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 0x7fffffff, 3000), WASI_EFAULT);
  M[10008] = 9;
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 1, 3000), WASI_EINVAL);
}

/* A socket fd kind plugged in the way wasi/socket_fd.c will. */
static int sent;
static int fsend(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, uint16_t fl,
                 size_t *done) {
  *done = 0;
  for (size_t i = 0; i < n; i++) *done += iov[i].len;
  sent += (int)*done;
  return 0;
}
static int fshut(struct wasi_state *st, struct wasi_fd *f, uint8_t how) { return how == 3 ? 0 : WASI_ENOTCONN; }
static const struct wasi_fd_ops fake_sock = {.filetype = WASI_FILETYPE_SOCKET_STREAM, .sock_send = fsend,
                                             .write = NULL, .sock_shutdown = fshut};

static void t_sock(void) {
  CHECK_EQ(W(sock_shutdown, ii_i)(C, 1, WASI_SDFLAGS_RD), WASI_ENOTSOCK);
  CHECK_EQ(W(sock_shutdown, ii_i)(C, 3, WASI_SDFLAGS_RD), WASI_EBADF);
  CHECK_EQ(W(sock_accept, iii_i)(C, 1, 0, 3000), WASI_ENOTSOCK);
  CHECK_EQ(W(sock_accept, iii_i)(C, 10, 0, 3000), WASI_EBADF);
  CHECK_EQ(W(sock_recv, iiiiii_i)(C, 0, 2000, 1, 0, 3000, 3004), WASI_ENOTSOCK);
  CHECK_EQ(W(sock_send, iiiii_i)(C, 2, 2000, 1, 0, 3000), WASI_ENOTSOCK);
  CHECK_EQ(W(sock_send, iiiii_i)(C, 12, 2000, 1, 0, 3000), WASI_EBADF);
  uint32_t fd;
  CHECK_EQ(wasi_fd_new(S, WASI_FD_SOCKET, &fake_sock, NULL, WASI_RIGHTS_ALL, 0, &fd), 0);
  CHECK_EQ(fd, 3);
  giov(2000, 4096, 5);
  CHECK_EQ(W(sock_send, iiiii_i)(C, 3, 2000, 1, 0, 3000), 0);
  CHECK_EQ(wasi_ld32(M + 3000), 5);
  CHECK_EQ(sent, 5);
  CHECK_EQ(W(sock_send, iiiii_i)(C, 3, 2000, 1, 0, MEMSIZE), WASI_EFAULT);
  CHECK_EQ(W(sock_shutdown, ii_i)(C, 3, 3), 0);
  CHECK_EQ(W(sock_shutdown, ii_i)(C, 3, 0), WASI_EINVAL);
  CHECK_EQ(W(sock_recv, iiiiii_i)(C, 3, 2000, 1, 0, 3000, 3004), WASI_ENOTSUP);
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 3, 3000), 0);
  CHECK_EQ(M[3000], WASI_FILETYPE_SOCKET_STREAM);
  CHECK_EQ(W(fd_write, iiii_i)(C, 3, 2000, 1, 3000), WASI_ENOTSUP);
  CHECK_EQ(W(fd_seek, iIii_i)(C, 3, 0, 0, 3000), WASI_ESPIPE);
  CHECK_EQ(W(fd_close, i_i)(C, 3), 0);
}

int main(int argc, char **argv) {
  extern const char *unit_archive, *unit_hostdir;
  if (argc == 3) unit_archive = argv[1], unit_hostdir = argv[2];
  run("guest_ptr", t_guest_ptr);
  run("args_get", t_args);
  run("environ_get", t_environ);
  run("fd_write_stdio", t_fd_write_stdio);
  run("fd_read_stdin", t_fd_read_stdin);
  run("fd_close", t_fd_close);
  run("fd_fdstat", t_fdstat);
  run("stdio_not_seekable", t_seek_stdio);
  run("stdio_types", t_stdio_types);
  run("clocks", t_clocks);
  run("random_get", t_random);
  run("proc_sched", t_proc);
  run("poll_oneoff", t_poll);
  run("sock_non_socket", t_sock);
  fs_tests(run);
  unit_hostfs = 1;
  fs_tests(run);
  printf("%d passed, %d failed\n", passed, failed);
  return failed != 0;
}
