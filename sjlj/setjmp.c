/* The setjmp/longjmp runtime for apps (wasm32-wasi). clang's WebAssemblyLowerEmscriptenEHSjLj
 * pass (-mllvm -wasm-enable-sjlj) rewrites, in every function that calls setjmp:
 *   setjmp(env)        -> __wasm_setjmp(env, LABEL, ID), then 0; LABEL numbers the call site
 *                         (never 0), ID is the address of a local of this invocation of the
 *                         function, so it tells apart invocations of a recursive function;
 *   longjmp(env, val)  -> __wasm_longjmp(env, val), which throws the tag __c_longjmp with
 *                         one i32: the address of {env, val};
 *   every call         -> wrapped in a catch of __c_longjmp that asks __wasm_setjmp_test(env, ID)
 *                         which of its own setjmp sites env belongs to: 0 means none (the
 *                         function rethrows by calling __wasm_longjmp(env, val) again), LABEL
 *                         means continue there with setjmp returning val.
 * So the runtime only records (ID, LABEL) in the jmp_buf and compares: the unwinding is the
 * Wasm engine's exception handling. The tag __c_longjmp (one i32 parameter) is defined, weak,
 * by the lowering in every object that uses it, this one included (built with the same flag). */
#include <setjmp.h>
#include <stdint.h>

/* The words of jmp_buf the runtime owns. */
struct sjlj_buf {
  void *invocation; /* ID of the function invocation that called setjmp */
  uint32_t label;   /* which setjmp site in it */
  /* What longjmp throws: kept in the buffer itself (the catching code reads it while the
   * buffer is necessarily alive), so no global state is needed. */
  struct sjlj_args {
    void *env;
    int val;
  } args;
};
_Static_assert(sizeof(struct sjlj_buf) <= sizeof(jmp_buf), "jmp_buf of setjmp.h too small");

/* The lowering's tag number for __c_longjmp in __builtin_wasm_throw (LLVM's WasmEHFuncInfo.h:
 * 0 is the C++ tag, 1 the longjmp one). */
#define SJLJ_TAG_C_LONGJMP 1

void __wasm_setjmp(void *env, uint32_t label, void *invocation) {
  struct sjlj_buf *b = env;
  b->invocation = invocation;
  b->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *invocation) {
  struct sjlj_buf *b = env;
  return b->invocation == invocation ? b->label : 0;
}

_Noreturn void __wasm_longjmp(void *env, int val) {
  struct sjlj_buf *b = env;
  b->args.env = env;
  b->args.val = val == 0 ? 1 : val; /* C11 7.13.2.1: setjmp never returns 0 from a longjmp */
  __builtin_wasm_throw(SJLJ_TAG_C_LONGJMP, &b->args);
}
