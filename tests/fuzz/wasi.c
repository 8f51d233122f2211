/* tests/fuzz/wasi.c — libFuzzer target for wasi/: sequences of WASI calls with guest pointers,
 * lengths, fds and flags taken from the input, against a fresh state per input (stdio and a
 * memfs preopen holding a file, a directory and a symlink). Guest memory is one page allocated
 * to the byte, so ASan reports any access the shared guest-pointer check let through; every
 * call must return a WASI errno (0..76). Platform: tests/wasi/fakeplat.c with its clock warped
 * (a poll_oneoff timeout passes at once).
 *
 * Input: u16 n, n bytes copied to guest address 0 (so pointers can land on iovecs, strings and
 * structures the fuzzer wrote), then calls: u8 selector, then the call's arguments, 4 bytes per
 * i32 and 8 per i64. An i32 whose top byte is 0xff means MEMSIZE - (its low 16 bits), one
 * whose top byte is 0xfe means its low byte: the edges of memory and small fds come easily. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>

#include "tests/wasi/unit.h"

#define MEMSIZE 65536u

extern int fake_time_warp;
static kiln_memory mem;
static kiln_memory *mems[1] = {&mem};
static kiln_instance inst;

struct input {
  const uint8_t *p;
  size_t n;
};
static uint32_t i32(struct input *in) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) v |= (uint32_t)(in->n ? (in->n--, *in->p++) : 0) << (8 * i);
  if (v >> 24 == 0xff) return MEMSIZE - (v & 0xffff);
  if (v >> 24 == 0xfe) return v & 0xff;
  return v;
}
static uint64_t i64(struct input *in) {
  uint64_t lo = i32(in);
  return lo | (uint64_t)i32(in) << 32;
}

static void node(struct wasi_state *st, struct wasi_node *dir, const char *name, struct wasi_node *n) {
  if (!n || memfs_link(st->fs, dir, name, (uint32_t)strlen(name), n)) abort();
}

/* One call chosen by sel; its result. */
static int32_t call(kiln_instance *c, uint8_t sel, struct input *in) {
#define A i32(in)
#define L (int64_t)i64(in)
  switch (sel % 46) {
  case 0: return W(args_get, ii_i)(c, A, A);
  case 1: return W(args_sizes_get, ii_i)(c, A, A);
  case 2: return W(environ_get, ii_i)(c, A, A);
  case 3: return W(environ_sizes_get, ii_i)(c, A, A);
  case 4: return W(clock_res_get, ii_i)(c, A, A);
  case 5: { int32_t a = A; int64_t b = L; return W(clock_time_get, iIi_i)(c, a, b, A); }
  case 6: { int32_t a = A; int64_t b = L, d = L; return W(fd_advise, iIIi_i)(c, a, b, d, A); }
  case 7: { int32_t a = A; int64_t b = L; return W(fd_allocate, iII_i)(c, a, b, L); }
  case 8: return W(fd_close, i_i)(c, A);
  case 9: return W(fd_datasync, i_i)(c, A);
  case 10: return W(fd_fdstat_get, ii_i)(c, A, A);
  case 11: return W(fd_fdstat_set_flags, ii_i)(c, A, A);
  case 12: { int32_t a = A; int64_t b = L; return W(fd_fdstat_set_rights, iII_i)(c, a, b, L); }
  case 13: return W(fd_filestat_get, ii_i)(c, A, A);
  case 14: { int32_t a = A; return W(fd_filestat_set_size, iI_i)(c, a, L); }
  case 15: { int32_t a = A; int64_t b = L, d = L; return W(fd_filestat_set_times, iIIi_i)(c, a, b, d, A); }
  case 16: { int32_t a = A, b = A, d = A; int64_t o = L; return W(fd_pread, iiiIi_i)(c, a, b, d, o, A); }
  case 17: return W(fd_prestat_get, ii_i)(c, A, A);
  case 18: return W(fd_prestat_dir_name, iii_i)(c, A, A, A);
  case 19: { int32_t a = A, b = A, d = A; int64_t o = L; return W(fd_pwrite, iiiIi_i)(c, a, b, d, o, A); }
  case 20: return W(fd_read, iiii_i)(c, A, A, A, A);
  case 21: { int32_t a = A, b = A, d = A; int64_t o = L; return W(fd_readdir, iiiIi_i)(c, a, b, d, o, A); }
  case 22: return W(fd_renumber, ii_i)(c, A, A);
  case 23: { int32_t a = A; int64_t o = L; int32_t w = A; return W(fd_seek, iIii_i)(c, a, o, w, A); }
  case 24: return W(fd_sync, i_i)(c, A);
  case 25: return W(fd_tell, ii_i)(c, A, A);
  case 26: return W(fd_write, iiii_i)(c, A, A, A, A);
  case 27: return W(path_create_directory, iii_i)(c, A, A, A);
  case 28: return W(path_filestat_get, iiiii_i)(c, A, A, A, A, A);
  case 29: {
    int32_t a = A, b = A, p = A, n = A;
    int64_t x = L, y = L;
    return W(path_filestat_set_times, iiiiIIi_i)(c, a, b, p, n, x, y, A);
  }
  case 30: return W(path_link, iiiiiii_i)(c, A, A, A, A, A, A, A);
  case 31: {
    int32_t a = A, b = A, p = A, n = A, o = A;
    int64_t r = L, ri = L;
    int32_t f = A;
    return W(path_open, iiiiiIIii_i)(c, a, b, p, n, o, r, ri, f, A);
  }
  case 32: return W(path_readlink, iiiiii_i)(c, A, A, A, A, A, A);
  case 33: return W(path_remove_directory, iii_i)(c, A, A, A);
  case 34: return W(path_rename, iiiiii_i)(c, A, A, A, A, A, A);
  case 35: return W(path_symlink, iiiii_i)(c, A, A, A, A, A);
  case 36: return W(path_unlink_file, iii_i)(c, A, A, A);
  case 37: return W(poll_oneoff, iiii_i)(c, A, A, A, A);
  case 38: W(proc_exit, i_)(c, A);
  case 39: return W(proc_raise, i_i)(c, A);
  case 40: return W(sched_yield, _i)(c);
  case 41: return W(random_get, ii_i)(c, A, A);
  case 42: return W(sock_accept, iii_i)(c, A, A, A);
  case 43: return W(sock_recv, iiiiii_i)(c, A, A, A, A, A, A);
  case 44: return W(sock_send, iiiii_i)(c, A, A, A, A, A);
  default: return W(sock_shutdown, ii_i)(c, A, A);
  }
#undef A
#undef L
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static uint8_t *m;
  static int trace = -1; /* KILN_FUZZ_TRACE=1: each call and its result on stderr (reproducers) */
  if (trace < 0) trace = getenv("KILN_FUZZ_TRACE") != NULL;
  if (!m) m = malloc(MEMSIZE); /* kept: ASan still checks its bounds on every access */
  fake_time_warp = 1;
  struct input in = {data, size};
  size_t n = in.n >= 2 ? (size_t)(in.p[0] | in.p[1] << 8) : 0;
  in.p += in.n >= 2 ? 2 : in.n;
  in.n -= in.n >= 2 ? 2 : in.n;
  if (n > in.n) n = in.n;
  if (n > MEMSIZE) n = MEMSIZE;
  memset(m, 0, MEMSIZE);
  memcpy(m, in.p, n);
  in.p += n, in.n -= n;

  memset(&inst, 0, sizeof inst);
  mem = (kiln_memory){.base = m, .pages = 1, .bytes = MEMSIZE, .max_pages = 1};
  inst.mem0 = m;
  inst.memories = mems;
  struct wasi_state *st = wasi_create();
  if (!st) abort();
  inst.host = st;
  static const char *args[] = {"app", "one", "two words"};
  for (int i = 0; i < 3; i++) wasi_add_arg(st, args[i], strlen(args[i]));
  wasi_add_env(st, "K=V", 3);
  struct wasi_node *root = memfs_node_new(st->fs, WASI_FILETYPE_DIRECTORY);
  struct wasi_node *f = memfs_node_new(st->fs, WASI_FILETYPE_REGULAR_FILE);
  struct wasi_node *d = memfs_node_new(st->fs, WASI_FILETYPE_DIRECTORY);
  struct wasi_node *l = memfs_node_new(st->fs, WASI_FILETYPE_SYMBOLIC_LINK);
  if (!root || !f || !d || !l || memfs_write(f, 0, "hello, fuzzer\n", 14) || memfs_symlink_set(l, "a", 1)) abort();
  node(st, root, "a", f);
  node(st, root, "d", d);
  node(st, root, "l", l);
  if (memfs_preopen(st, root, "/", 1) < 0) abort();
  fake_in = "typed input\n";
  fake_in_len = 12;

  for (int calls = 0; in.n && calls < 64; calls++) {
    uint8_t sel = *in.p++;
    in.n--;
    if (setjmp(fake_unwind)) { /* proc_exit / proc_raise ended the instance */
      if (trace) fprintf(stderr, "call %d -> the instance ended (%u)\n", sel % 46, fake_unwind_code);
      break;
    }
    int32_t r = call(&inst, sel, &in);
    if (trace) fprintf(stderr, "call %d -> errno %d\n", sel % 46, r);
    if (r < 0 || r > WASI_ENOTCAPABLE) abort(); /* not a WASI errno */
  }
  wasi_destroy(st);
  return 0;
}
