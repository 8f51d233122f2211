/* tests/spec/hostapp.c — a hand-written stand-in for a compiled WASI app, to test
 * build/host/libkiln-host.a (main, WASI platform, traps, exit status) without kiln-aot.
 * _start writes "hello <argc> <argv[1]> <$GREETING>\n"; argv[1] == "exit3" calls
 * proc_exit(3), "trap" traps unreachable in function "boom", "oob" reads out of bounds. */
#include <string.h>

#include "aot/abi.h"

/* the weak import symbols kiln-aot emits for WASI imports */
#define W(f, sig) extern __attribute__((weak)) char KILN_IMPORT(wasi_snapshot_preview1, f, sig)[]
W(fd_write, iiii_i);
W(args_sizes_get, ii_i);
W(args_get, ii_i);
W(environ_sizes_get, ii_i);
W(environ_get, ii_i);
W(proc_exit, i_);

typedef int32_t (*f_ii_i)(kiln_instance *, int32_t, int32_t);
static int32_t call2(kiln_instance *c, int i, int32_t a, int32_t b) { return ((f_ii_i)c->funcs[i].fn)(c->funcs[i].ctx, a, b); }

static void boom(kiln_instance *c) { kiln_trap(c, KILN_TRAP_UNREACHABLE); }

static void start(kiln_instance *c) {
  uint8_t *m = c->mem0;
  call2(c, 1, 0, 4);       /* argc at 0, argv buf size at 4 */
  call2(c, 2, 64, 1024);   /* argv pointers at 64, strings at 1024 */
  int32_t argc, argv1 = 0;
  memcpy(&argc, m, 4);
  if (argc > 1) memcpy(&argv1, m + 68, 4);
  const char *a1 = argc > 1 ? (const char *)m + argv1 : "";
  call2(c, 3, 8, 12);      /* environ count/size */
  call2(c, 4, 128, 4096);  /* environ pointers at 128, strings at 4096 */
  int32_t envc, ep;
  memcpy(&envc, m + 8, 4);
  const char *greet = "";
  for (int i = 0; i < envc; i++) {
    memcpy(&ep, m + 128 + 4 * i, 4);
    if (strncmp((const char *)m + ep, "GREETING=", 9) == 0) greet = (const char *)m + ep + 9;
  }
  char *out = (char *)m + 8192;
  int n = 0;
  const char *parts[] = {"hello ", "", " ", a1, " ", greet, "\n"};
  char num[2] = {(char)('0' + argc % 10), 0};
  parts[1] = num;
  for (int i = 0; i < 7; i++) for (const char *p = parts[i]; *p; p++) out[n++] = *p;
  int32_t iov[2] = {8192, n};
  memcpy(m + 16, iov, 8);
  ((int32_t(*)(kiln_instance *, int32_t, int32_t, int32_t, int32_t))c->funcs[0].fn)(c->funcs[0].ctx, 1, 16, 1, 24);
  if (strcmp(a1, "exit3") == 0) ((void (*)(kiln_instance *, int32_t))c->funcs[5].fn)(c->funcs[5].ctx, 3);
  if (strcmp(a1, "trap") == 0) boom(c);
  if (strcmp(a1, "oob") == 0) out[1 << 20] = 1;
}
static void t_v_v(void *fn, kiln_instance *c, kiln_val *v) { ((void (*)(kiln_instance *))fn)(c); }
static void t_any(void *fn, kiln_instance *c, kiln_val *v) {} /* imports are never invoked through it */

static const uint8_t iiii_i[] = {KILN_I32, KILN_I32, KILN_I32, KILN_I32, KILN_I32};
static kiln_functype ty[4] = {{4, 1, iiii_i, 0}, {2, 1, iiii_i, 0}, {1, 0, iiii_i, 0}, {0, 0, iiii_i, 0}};
__attribute__((constructor)) static void hash(void) {
  for (int i = 0; i < 4; i++) ty[i].hash = kiln_functype_hash(ty[i].nparams, ty[i].types, ty[i].nresults, ty[i].types + ty[i].nparams);
}
#define IMP(f, sig, i) {{"wasi_snapshot_preview1", 22}, {#f, sizeof #f - 1}, KILN_EXTERN_FUNC, i, \
  (void *)KILN_IMPORT(wasi_snapshot_preview1, f, sig), "wasi_snapshot_preview1__" #f "__" #sig}
static const kiln_import imports[] = {IMP(fd_write, iiii_i, 0), IMP(args_sizes_get, ii_i, 1), IMP(args_get, ii_i, 2),
                                      IMP(environ_sizes_get, ii_i, 3), IMP(environ_get, ii_i, 4), IMP(proc_exit, i_, 5)};
static const kiln_func funcs[] = {{0, t_any, &ty[0], {0, 0}, 0}, {0, t_any, &ty[1], {0, 0}, 0}, {0, t_any, &ty[1], {0, 0}, 0},
                                  {0, t_any, &ty[1], {0, 0}, 0}, {0, t_any, &ty[1], {0, 0}, 0}, {0, t_any, &ty[2], {0, 0}, 0},
                                  {(void *)start, t_v_v, &ty[3], {"_start", 6}, 0}, {(void *)boom, t_v_v, &ty[3], {"boom", 4}, 0}};
static const kiln_memory_desc mems[] = {{{1, 0, 0}, -1}};
static const kiln_export exports[] = {{{"_start", 6}, KILN_EXTERN_FUNC, 6}, {{"memory", 6}, KILN_EXTERN_MEMORY, 0}};
const struct kiln_module app __asm__("kiln_module") = {
    .abi_version = KILN_ABI_VERSION, .ntypes = 4, .types = ty, .nimports = 6, .imports = imports, .nfuncs = 8,
    .nimported_funcs = 6, .funcs = funcs, .nmemories = 1, .memories = mems, .nexports = 2, .exports = exports, .start = -1};
