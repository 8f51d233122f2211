/* tests/fuzz/target.c — libFuzzer targets for kiln-aot, built by `make fuzz` (aot/fuzz.mk):
 *   fuzz-read     (default)        the feature scan, the reader and module-level validation
 *   fuzz-compile  (-DFUZZ_COMPILE) all of that, then lowering every body to LLVM IR (which
 *                 validates the bodies), IR verification, and at -O1 our own passes after SROA
 * A rejected module is the expected outcome for most inputs: kiln-aot's fail_at longjmps back
 * here instead of exiting. A crash, a sanitizer report, an exit (kiln-aot's "internal error:
 * generated IR does not verify") or a timeout is a bug. Allocations of a rejected module are
 * leaked (the reader has no unwinding), so leak detection is off (tests/fuzz/run.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot/aot.h"

static jmp_buf *fail_jmp;

_Noreturn void fail_at(const Module *m, size_t off, const char *fmt, ...) {
  (void)m, (void)off, (void)fmt;
  if (!fail_jmp) abort(); /* an error outside the guarded region */
  longjmp(*fail_jmp, 1);
}

void *xmalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) abort();
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) abort();
  return p;
}

#ifdef FUZZ_COMPILE
static Options o = {.opt = 1, .cpu = "x86-64-v2", .out = "/dev/null"};
static LLVMTargetMachineRef tm;
static LLVMTargetDataRef dl;
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  Module m = {.path = "fuzz.wasm", .buf = data, .size = size};
  jmp_buf jb;
  fail_jmp = &jb;
  if (setjmp(jb)) {
    fail_jmp = NULL;
    return 0;
  }
  Features feat;
  scan_features(&m, &feat);
  if (first_unsupported(&feat) >= 0) {
    fail_jmp = NULL;
    return 0;
  }
  read_module(&m);
#ifdef FUZZ_COMPILE
  o.tail_calls = feat.use[FEAT_TAIL_CALL].used; /* as aot/main.c: tailcc functions then */
  o.exceptions = feat.use[FEAT_EH].used;
  if (!tm) {
    tm = aot_target_machine(&m, &o);
    dl = LLVMCreateTargetDataLayout(tm);
  }
  static Compiler c;
  c = (Compiler){.m = &m, .opt = &o, .llc = LLVMContextCreate(), .lo = m.nimported_funcs, .hi = m.nfuncs, .descriptor = true};
  jmp_buf jb2;
  fail_jmp = &jb2;
  if (setjmp(jb2)) { /* a body failed validation: the context owns everything LLVM */
    LLVMContextDispose(c.llc);
    fail_jmp = NULL;
    return 0;
  }
  build_ir(&c, dl);
  pre_optimize(&c, tm);
  LLVMContextDispose(c.llc);
#endif
  fail_jmp = NULL;
  return 0;
}
