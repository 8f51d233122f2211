/* tests/aot/sjlj/rt.c — the smallest runtime clang's wasm setjmp/longjmp lowering calls, only
 * for tests/aot/sjlj/main.c (the one apps use is built separately). jmp_buf holds the setjmp's
 * function invocation and label, then the {env, val} that __wasm_longjmp throws with the
 * __c_longjmp tag (tests/aot/sjlj/tag.s; clang-19 cannot name a tag it does not define). */
#include <stdint.h>

struct buf {
  void *id;
  uint32_t label;
  struct {
    void *env;
    int val;
  } arg;
};

_Noreturn void sjlj_throw(void *arg); /* tag.s */

void __wasm_setjmp(void *env, uint32_t label, void *id) {
  struct buf *b = env;
  b->id = id;
  b->label = label;
}

uint32_t __wasm_setjmp_test(void *env, void *id) {
  struct buf *b = env;
  return b->id == id ? b->label : 0;
}

void __wasm_longjmp(void *env, int val) {
  struct buf *b = env;
  b->arg.env = env;
  b->arg.val = val ? val : 1;
  sjlj_throw(&b->arg);
}
