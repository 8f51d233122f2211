/* tests/spec/selftest.c — tests of kernel/instance.c and host/platform.c with hand-written
 * module descriptors (C functions stand in for compiled code), so the runtime is checked
 * without the compiler. Prints PASS/FAIL lines like every suite; run by tests/spec/run.sh.
 */
#include <stdio.h>
#include <string.h>

#include "host/host.h"

static int failures;
#define CHECK(name, cond, ...)                                                                                         \
  do {                                                                                                                 \
    if (cond) printf("PASS runtime/%s\n", name);                                                                       \
    else {                                                                                                             \
      printf("FAIL runtime/%s: ", name);                                                                               \
      printf(__VA_ARGS__);                                                                                             \
      printf("\n");                                                                                                    \
      failures++;                                                                                                      \
    }                                                                                                                  \
  } while (0)

/* ---- "compiled" functions and their trampolines ---- */

static int32_t f_add(kiln_instance *ctx, int32_t a, int32_t b) { return a + b; }
static int32_t f_load(kiln_instance *ctx, int32_t addr) { /* no bounds check, like generated code */
  int32_t v;
  memcpy(&v, ctx->mem0 + (uint32_t)addr, 4);
  return v;
}
static int32_t f_init(kiln_instance *ctx, int32_t d, int32_t n) { /* a runtime service that traps */
  kiln_rt_memory_init(ctx, 0, 1, (uint32_t)d, 0, (uint32_t)n);
  return 0;
}
static int32_t f_recurse(kiln_instance *ctx, int32_t n) { /* no stack_limit check: hits the guard */
  volatile char pad[512];
  pad[0] = (char)n;
  return n == 0 ? pad[0] : f_recurse(ctx, n + 1) + pad[0];
}
static int32_t f_unreachable(kiln_instance *ctx, int32_t n) { kiln_trap(ctx, KILN_TRAP_UNREACHABLE); }
static int32_t f_nested(kiln_instance *ctx, int32_t n) { /* a host call that calls Wasm again, which traps */
  kiln_val v[1] = {{.i32 = 0}};
  uint32_t code = kiln_invoke(&ctx->funcs[4], v);
  return (int32_t)code * 100 + n;
}
static void t_ii_i(void *fn, kiln_instance *ctx, kiln_val *v) {
  v[0].i32 = ((int32_t (*)(kiln_instance *, int32_t, int32_t))fn)(ctx, v[0].i32, v[1].i32);
}
static void t_i_i(void *fn, kiln_instance *ctx, kiln_val *v) {
  v[0].i32 = ((int32_t (*)(kiln_instance *, int32_t))fn)(ctx, v[0].i32);
}

static const uint8_t ty_ii_i[] = {KILN_I32, KILN_I32, KILN_I32}, ty_i_i[] = {KILN_I32, KILN_I32};
static kiln_functype types[2] = {{2, 1, ty_ii_i, 0}, {1, 1, ty_i_i, 0}};

/* Module A: memory 1..2, table 4 funcref, global (mut i32) 42, data "hello" at 8, a passive
 * data segment, elem [add] at 1. */
static const kiln_func a_funcs[] = {
    {(void *)f_add, t_ii_i, &types[0], {"add", 3}, 0},   {(void *)f_load, t_i_i, &types[1], {"load", 4}, 0},
    {(void *)f_init, t_ii_i, &types[0], {0, 0}, 0},      {(void *)f_recurse, t_i_i, &types[1], {"recurse", 7}, 0},
    {(void *)f_unreachable, t_i_i, &types[1], {0, 0}, 0}, {(void *)f_nested, t_i_i, &types[1], {"nested", 6}, 0},
};
static const kiln_memory_desc a_mems[] = {{{1, 2, 1}, -1}};
static const kiln_table_desc a_tables[] = {{KILN_FUNCREF, {4, 0, 0}, -1}};
static const kiln_global_desc a_globals[] = {{KILN_I32, 1, {KILN_CONST_VALUE, KILN_I32, 0, {.i32 = 42}}, -1}};
static const kiln_export a_exports[] = {
    {{"add", 3}, KILN_EXTERN_FUNC, 0},  {{"load", 4}, KILN_EXTERN_FUNC, 1},     {{"init", 4}, KILN_EXTERN_FUNC, 2},
    {{"rec", 3}, KILN_EXTERN_FUNC, 3},  {{"unr", 3}, KILN_EXTERN_FUNC, 4},      {{"nested", 6}, KILN_EXTERN_FUNC, 5},
    {{"mem", 3}, KILN_EXTERN_MEMORY, 0}, {{"tab", 3}, KILN_EXTERN_TABLE, 0},    {{"g", 1}, KILN_EXTERN_GLOBAL, 0},
};
static const kiln_data_desc a_data[] = {
    {KILN_SEG_ACTIVE, 0, {KILN_CONST_VALUE, KILN_I32, 0, {.i32 = 8}}, (const uint8_t *)"hello", 5},
    {KILN_SEG_PASSIVE, 0, {0}, (const uint8_t *)"passive", 7},
};
static const kiln_const_expr a_items[] = {{KILN_CONST_REF_FUNC, KILN_FUNCREF, 0, {0}}};
static const kiln_elem_desc a_elems[] = {
    {KILN_SEG_ACTIVE, KILN_FUNCREF, 0, {KILN_CONST_VALUE, KILN_I32, 0, {.i32 = 1}}, 1, a_items}};
static const kiln_module mod_a = {
    .abi_version = KILN_ABI_VERSION, .ntypes = 2, .types = types, .nfuncs = 6, .funcs = a_funcs,
    .ntables = 1, .tables = a_tables, .nmemories = 1, .memories = a_mems, .nglobals = 1, .globals = a_globals,
    .nexports = 9, .exports = a_exports, .ndata = 2, .data = a_data, .nelems = 1, .elems = a_elems, .start = -1,
};

/* Module B imports A's memory (min from `b_min`), table, global and "add"; its second elem
 * segment is out of bounds, after the first one was applied. */
static kiln_import b_imports[] = {
    {{"A", 1}, {"mem", 3}, KILN_EXTERN_MEMORY, 0, 0, 0},
    {{"A", 1}, {"tab", 3}, KILN_EXTERN_TABLE, 0, 0, 0},
    {{"A", 1}, {"g", 1}, KILN_EXTERN_GLOBAL, 0, 0, 0},
    {{"A", 1}, {"add", 3}, KILN_EXTERN_FUNC, 0, 0, "A__add__ii_i"},
};
static kiln_func b_funcs[] = {{0, t_ii_i, &types[0], {0, 0}, 0}, {(void *)f_add, t_ii_i, &types[0], {0, 0}, 0}};
static kiln_memory_desc b_mems[] = {{{1, 0, 0}, 0}};
static const kiln_table_desc b_tables[] = {{KILN_FUNCREF, {1, 0, 0}, 1}};
static kiln_global_desc b_globals[] = {{KILN_I32, 1, {0}, 2}};
static const kiln_const_expr b_items[] = {{KILN_CONST_REF_FUNC, KILN_FUNCREF, 1, {0}},
                                          {KILN_CONST_REF_FUNC, KILN_FUNCREF, 1, {0}}};
static kiln_elem_desc b_elems[] = {
    {KILN_SEG_ACTIVE, KILN_FUNCREF, 0, {KILN_CONST_VALUE, KILN_I32, 0, {.i32 = 0}}, 1, b_items},
    {KILN_SEG_ACTIVE, KILN_FUNCREF, 0, {KILN_CONST_VALUE, KILN_I32, 0, {.i32 = 5}}, 2, b_items},
};
static kiln_module mod_b = {
    .abi_version = KILN_ABI_VERSION, .ntypes = 2, .types = types, .nimports = 4, .imports = b_imports,
    .nfuncs = 2, .nimported_funcs = 1, .funcs = b_funcs, .ntables = 1, .nimported_tables = 1, .tables = b_tables,
    .nmemories = 1, .nimported_memories = 1, .memories = b_mems, .nglobals = 1, .nimported_globals = 1,
    .globals = b_globals, .nelems = 2, .elems = b_elems, .start = -1,
};

static kiln_instance *inst_a;
static int resolve(void *ud, const kiln_module *m, const kiln_import *imp, kiln_extern *out, char *err, size_t n) {
  if (strcmp(imp->module.s, "A") != 0) return -1;
  return kiln_export_get(inst_a, imp->field.s, out);
}

static int32_t call_i(kiln_instance *inst, const char *name, int32_t a, int32_t b, uint32_t *code) {
  kiln_extern ex;
  if (kiln_export_get(inst, name, &ex) != 0) return -99999;
  kiln_val v[2] = {{.i32 = a}, {.i32 = b}};
  *code = kiln_invoke(&ex.u.func, v);
  return v[0].i32;
}

int main(void) {
  setvbuf(stdout, NULL, _IOLBF, 0);
  for (int i = 0; i < 2; i++) types[i].hash = kiln_functype_hash(types[i].nparams, types[i].types,
                                                                  types[i].nresults, types[i].types + types[i].nparams);
  char err[128];
  uint32_t code;
  inst_a = kiln_instantiate(&mod_a, NULL, NULL, NULL, err, sizeof err);
  CHECK("instantiate", inst_a != NULL, "%s", err);
  if (!inst_a) return 1;
  CHECK("data-segment", memcmp(inst_a->mem0 + 8, "hello", 5) == 0, "memory at 8 is not \"hello\"");
  CHECK("elem-segment", inst_a->tables[0]->elems[1] == &inst_a->funcs[0] && inst_a->tables[0]->elems[0] == NULL,
        "table not [null, add, ...]");
  CHECK("global-init", inst_a->globals[0]->i32 == 42, "got %d", inst_a->globals[0]->i32);
  int32_t r = call_i(inst_a, "add", 2, 3, &code);
  CHECK("invoke", code == 0 && r == 5, "code %u result %d", code, r);
  r = call_i(inst_a, "load", 8, 0, &code);
  CHECK("load-in-bounds", code == 0 && memcmp(&r, "hell", 4) == 0, "code %u", code);
  r = call_i(inst_a, "load", 65534, 0, &code);
  CHECK("load-oob-fault", code == KILN_TRAP_MEMORY_OOB, "code %u", code);
  r = call_i(inst_a, "load", -1, 0, &code);
  CHECK("load-oob-far", code == KILN_TRAP_MEMORY_OOB, "code %u", code);
  r = call_i(inst_a, "init", 65530, 7, &code);
  CHECK("init-oob-no-write", code == KILN_TRAP_MEMORY_OOB && inst_a->mem0[65530] == 0, "code %u", code);
  r = call_i(inst_a, "init", 65530, 6, &code);
  CHECK("init-in-bounds", code == 0 && memcmp(inst_a->mem0 + 65530, "passiv", 6) == 0, "code %u", code);
  r = call_i(inst_a, "unr", 0, 0, &code);
  CHECK("trap-unreachable", code == KILN_TRAP_UNREACHABLE, "code %u", code);
  char where[64];
  kiln_describe_pc(inst_a, kiln_host_last_trap.pc, where, sizeof where);
  CHECK("describe-pc", strcmp(where, "func[4]") == 0, "got %s", where);
  r = call_i(inst_a, "rec", 1, 0, &code);
  CHECK("stack-guard", code == KILN_TRAP_STACK_EXHAUSTED, "code %u", code);
  r = call_i(inst_a, "nested", 7, 0, &code);
  CHECK("nested-call-trap", code == 0 && r == KILN_TRAP_UNREACHABLE * 100 + 7, "code %u result %d", code, r);
  r = call_i(inst_a, "add", 40, 2, &code);
  CHECK("after-traps", code == 0 && r == 42, "code %u result %d", code, r);

  /* memory.grow up to the max, then -1; memory.init of passive data, drop */
  CHECK("grow", kiln_rt_memory_grow(inst_a, 0, 1) == 1 && inst_a->memories[0]->pages == 2, "grow 1 failed");
  CHECK("grow-past-max", kiln_rt_memory_grow(inst_a, 0, 1) == -1, "grow past max succeeded");
  inst_a->mem0[70000] = 1;
  CHECK("grown-page-writable", inst_a->mem0[70000] == 1, "");
  CHECK("table-grow", kiln_rt_table_grow(inst_a, 0, NULL, 2) == 4 && inst_a->tables[0]->size == 6, "");

  /* imports: limits subtyping, kinds, unknown names, symbol fallback */
  b_mems[0].limits = (kiln_limits){3, 0, 0};
  kiln_instance *b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("import-mem-min-too-big", !b && strncmp(err, "incompatible import type", 24) == 0, "%s", err);
  b_mems[0].limits = (kiln_limits){1, 4, 1};
  b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("import-mem-max-ok", !b && strcmp(err, "out of bounds table access") == 0, "%s", err);
  b_mems[0].limits = (kiln_limits){1, 1, 1};
  b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("import-mem-max-too-small", !b && strncmp(err, "incompatible import type", 24) == 0, "%s", err);
  b_mems[0].limits = (kiln_limits){1, 0, 0};
  b_globals[0].mut = 0;
  b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("import-global-mut", !b && strncmp(err, "incompatible import type", 24) == 0, "%s", err);
  b_globals[0].mut = 1;
  b_funcs[0].type = &types[1];
  b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("import-func-type", !b && strncmp(err, "incompatible import type", 24) == 0, "%s", err);
  b_funcs[0].type = &types[0];
  b_imports[3].field = (kiln_name){"nope", 4};
  b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("import-unknown", !b && strncmp(err, "unknown import", 14) == 0, "%s", err);
  b_imports[3].symbol = (void *)f_add; /* linked statically: the fallback */
  inst_a->tables[0]->elems[0] = NULL;
  b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("segment-trap-keeps-earlier", !b && strcmp(err, "out of bounds table access") == 0 &&
                                          inst_a->tables[0]->elems[0] != NULL,
        "%s", err);
  /* the failed instance's function stays callable through the shared table */
  kiln_funcref *f = inst_a->tables[0]->elems[0];
  kiln_val v[2] = {{.i32 = 20}, {.i32 = 22}};
  code = f ? kiln_invoke(f, v) : 99;
  CHECK("failed-instance-callable", code == 0 && v[0].i32 == 42, "code %u result %d", code, v[0].i32);
  b_elems[1].offset.value.i32 = 4;
  b = kiln_instantiate(&mod_b, resolve, NULL, NULL, err, sizeof err);
  CHECK("import-all-ok", b != NULL, "%s", err);
  if (b) {
    CHECK("import-shares-memory", b->mem0 == inst_a->mem0 && b->globals[0] == inst_a->globals[0], "");
    kiln_val w[2] = {{.i32 = 1}, {.i32 = 2}};
    code = kiln_invoke(&b->funcs[0], w);
    CHECK("symbol-fallback-call", code == 0 && w[0].i32 == 3 && b->funcs[0].ctx == b, "code %u", code);
    kiln_instance_free(b);
  }
  kiln_instance_free(inst_a);
  printf("%d failed\n", failures);
  return failures != 0;
}
