/* tests/aot/eh_host.c — exceptions and host frames, on the hosted runtime: Wasm calls a host
 * function that calls Wasm again (kiln_invoke), and that inner call throws. aot/abi.h §5: the
 * exception becomes the trap "uncaught exception" of the inner call, the host function sees
 * it as a failed call, and the outer Wasm frame's handler is not run. Build: kiln-aot --name m
 * tests/aot/eh_host.wasm, link with libkiln-rt.a. Prints one line per check, exits 1 on any
 * failure. */
#include <stdio.h>
#include <string.h>

#include "host/host.h"

extern const kiln_module kiln_module_m;

static int32_t reenter(kiln_instance *ctx, int32_t x) {
  kiln_extern inner;
  if (kiln_export_get(ctx, "inner", &inner) != 0) return -2;
  kiln_val v[1] = {{.i32 = x}};
  uint32_t code = kiln_invoke(&inner.u.func, v);
  return code ? 1000 * (int32_t)code : v[0].i32;
}

static int resolve(void *ud, const kiln_module *m, const kiln_import *imp, kiln_extern *out, char *err, size_t n) {
  if (strcmp(imp->module.s, "host") || strcmp(imp->field.s, "reenter")) return -1;
  static const uint8_t i32 = KILN_I32;
  memset(out, 0, sizeof *out);
  out->kind = KILN_EXTERN_FUNC;
  out->u.func.fn = (void *)reenter;
  out->u.func.type_hash = kiln_functype_hash(1, &i32, 1, &i32);
  return 0;
}

static int failures;

static void check(kiln_instance *inst, const char *fn, int32_t arg, uint32_t want_code, int32_t want) {
  kiln_extern f;
  if (kiln_export_get(inst, fn, &f) != 0) {
    printf("FAIL %s: no such export\n", fn);
    failures++;
    return;
  }
  kiln_val v[1] = {{.i32 = arg}};
  uint32_t code = kiln_invoke(&f.u.func, v);
  int32_t got = code ? 0 : v[0].i32;
  if (code != want_code || got != want) {
    printf("FAIL %s(%d): trap %u (%s), result %d; want trap %u, result %d\n", fn, arg, code,
           kiln_host_trap_message(code), got, want_code, want);
    failures++;
  } else {
    if (code) printf("PASS %s(%d): trap %s\n", fn, arg, kiln_host_trap_message(code));
    else printf("PASS %s(%d) = %d\n", fn, arg, got);
  }
}

int main(void) {
  char err[256];
  kiln_instance *inst = kiln_instantiate(&kiln_module_m, resolve, NULL, NULL, err, sizeof err);
  if (!inst) {
    printf("FAIL instantiate: %s\n", err);
    return 1;
  }
  int32_t uncaught = 1000 * KILN_TRAP_UNCAUGHT_EXCEPTION;
  check(inst, "outer", 0, KILN_TRAP_NONE, 100);                      /* no throw: the result */
  check(inst, "outer", 5, KILN_TRAP_NONE, uncaught);                 /* not caught by outer's try */
  check(inst, "outer-then-throw", 5, KILN_TRAP_NONE, uncaught + 1);  /* outer's chain still works */
  check(inst, "inner", 7, KILN_TRAP_UNCAUGHT_EXCEPTION, 0);          /* escaping an export: a trap */
  check(inst, "outer", 0, KILN_TRAP_NONE, 100);                      /* and all is well after */
  return failures ? 1 : 0;
}
