/* tests/spec/driver_selftest.c — hand-written stand-ins for compiled modules, to test the spec
 * driver's command logic (driver_selftest.cmds, expected results in driver_selftest.expected)
 * without kiln-aot. Module 0 exports add/div/nan/g/ext/v, module 1 imports M.add and spectest. */
#include "host/host.h"

static int32_t f_add(kiln_instance *c, int32_t a, int32_t b) { return a + b; }
static int32_t f_div(kiln_instance *c, int32_t a, int32_t b) {
  if (b == 0) kiln_trap(c, KILN_TRAP_DIV_ZERO);
  return a / b;
}
static float f_nan(kiln_instance *c) { return __builtin_nanf(""); }
static void *f_ext(kiln_instance *c, void *r) { return r; }
/* A v128 crosses the C ABI as a 16-byte vector (abi.h): f32 lanes 1.0, canonical NaN, an
 * arithmetic NaN that is not canonical (0x7fa00000), -0.0. */
typedef float v4f32 __attribute__((vector_size(16)));
static v4f32 f_v(kiln_instance *c) {
  uint32_t bits[4] = {0x3f800000u, 0x7fc00000u, 0x7fe00000u, 0x80000000u};
  v4f32 v;
  __builtin_memcpy(&v, bits, 16);
  return v;
}
static int32_t f_add2(kiln_instance *c, int32_t a) { /* calls import 0 (M.add) through ctx->funcs */
  return ((int32_t (*)(kiln_instance *, int32_t, int32_t))c->funcs[0].fn)(c->funcs[0].ctx, a, a);
}
static void t_ii_i(void *fn, kiln_instance *c, kiln_val *v) {
  v[0].i32 = ((int32_t (*)(kiln_instance *, int32_t, int32_t))fn)(c, v[0].i32, v[1].i32);
}
static void t_i_i(void *fn, kiln_instance *c, kiln_val *v) {
  v[0].i32 = ((int32_t (*)(kiln_instance *, int32_t))fn)(c, v[0].i32);
}
static void t_v_f(void *fn, kiln_instance *c, kiln_val *v) { v[0].f32 = ((float (*)(kiln_instance *))fn)(c); }
static void t_x_x(void *fn, kiln_instance *c, kiln_val *v) {
  v[0].ref = ((void *(*)(kiln_instance *, void *))fn)(c, v[0].ref);
}
static void t_v_v128(void *fn, kiln_instance *c, kiln_val *v) {
  v4f32 r = ((v4f32 (*)(kiln_instance *))fn)(c);
  __builtin_memcpy(v[0].v128, &r, 16);
}
static void t_i_v(void *fn, kiln_instance *c, kiln_val *v) { ((void (*)(kiln_instance *, int32_t))fn)(c, v[0].i32); }

/* Hashes filled in by a constructor: kiln_functype_hash is not a constant expression. */
static const uint8_t ii_i[] = {KILN_I32, KILN_I32, KILN_I32}, v_f[] = {KILN_F32}, x_x[] = {KILN_EXTERNREF, KILN_EXTERNREF},
                     i_i[] = {KILN_I32, KILN_I32}, i_v[] = {KILN_I32}, v_v128[] = {KILN_V128};
static kiln_functype ty[6] = {{2, 1, ii_i, 0}, {0, 1, v_f, 0}, {1, 1, x_x, 0}, {1, 1, i_i, 0}, {1, 0, i_v, 0}, {0, 1, v_v128, 0}};
__attribute__((constructor)) static void hash_types(void) {
  for (int i = 0; i < 6; i++) ty[i].hash = kiln_functype_hash(ty[i].nparams, ty[i].types, ty[i].nresults, ty[i].types + ty[i].nparams);
}

static const kiln_func m0_funcs[] = {{(void *)f_add, t_ii_i, &ty[0], {"add", 3}, 0}, {(void *)f_div, t_ii_i, &ty[0], {"div", 3}, 0},
                                     {(void *)f_nan, t_v_f, &ty[1], {0, 0}, 0}, {(void *)f_ext, t_x_x, &ty[2], {0, 0}, 0},
                                     {(void *)f_v, t_v_v128, &ty[5], {0, 0}, 0}};
static const kiln_global_desc m0_globals[] = {{KILN_I32, 0, {KILN_CONST_VALUE, KILN_I32, 0, {.i32 = 7}}, -1}};
static const kiln_export m0_exports[] = {{{"add", 3}, KILN_EXTERN_FUNC, 0}, {{"div", 3}, KILN_EXTERN_FUNC, 1},
                                         {{"nan", 3}, KILN_EXTERN_FUNC, 2}, {{"ext", 3}, KILN_EXTERN_FUNC, 3},
                                         {{"g", 1}, KILN_EXTERN_GLOBAL, 0}, {{"v", 1}, KILN_EXTERN_FUNC, 4}};
static const kiln_module m0 = {.abi_version = KILN_ABI_VERSION, .ntypes = 6, .types = ty, .nfuncs = 5, .funcs = m0_funcs,
                               .nglobals = 1, .globals = m0_globals, .nexports = 6, .exports = m0_exports, .start = -1};

static const kiln_import m1_imports[] = {{{"M", 1}, {"add", 3}, KILN_EXTERN_FUNC, 0, 0, 0},
                                         {{"spectest", 8}, {"print_i32", 9}, KILN_EXTERN_FUNC, 1, 0, 0}};
static const kiln_func m1_funcs[] = {{0, t_ii_i, &ty[0], {0, 0}, 0}, {0, t_i_v, &ty[4], {0, 0}, 0}, {(void *)f_add2, t_i_i, &ty[3], {0, 0}, 0}};
static const kiln_export m1_exports[] = {{{"add2", 4}, KILN_EXTERN_FUNC, 2}, {{"print", 5}, KILN_EXTERN_FUNC, 1}};
static const kiln_module m1 = {.abi_version = KILN_ABI_VERSION, .ntypes = 5, .types = ty, .nimports = 2, .imports = m1_imports,
                               .nfuncs = 3, .nimported_funcs = 2, .funcs = m1_funcs, .nexports = 2, .exports = m1_exports,
                               .start = -1};

const kiln_module *const spec_modules[] = {&m0, &m1, 0};
const unsigned spec_nmodules = 3;
