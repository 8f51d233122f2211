/* setjmp.h for apps built with Kiln's setjmp/longjmp runtime (sjlj/setjmp.c), as Debian's
 * wasi-libc has none. clang lowers every call to setjmp and longjmp into Wasm exception
 * handling and calls into the runtime; compile with
 *     clang-19 --target=wasm32-wasi -mllvm -wasm-enable-sjlj -I sjlj/include ...
 * and link build/sjlj/libkiln-sjlj.a (see the README, "setjmp/longjmp"). */
#ifndef KILN_SETJMP_H
#define KILN_SETJMP_H

#ifndef __wasm_exception_handling__
#error "setjmp/longjmp need clang's lowering to Wasm exceptions: compile with -mllvm -wasm-enable-sjlj"
#endif

#ifdef __cplusplus
extern "C" {
#endif

/* The runtime uses the first words (struct sjlj_buf in sjlj/setjmp.c); the rest is room, so the
 * layout can grow without changing the size apps were compiled with. No signal mask is saved:
 * WASI has no signals, so sigsetjmp is setjmp. */
typedef struct __kiln_jmp_buf {
  unsigned long __words[8];
} jmp_buf[1], sigjmp_buf[1];

/* Never defined: the compiler replaces these calls (an app compiled without -wasm-enable-sjlj
 * fails to link with setjmp undefined, rather than running without it). */
int setjmp(jmp_buf env) __attribute__((__returns_twice__));
void longjmp(jmp_buf env, int val) __attribute__((__noreturn__));

#define _setjmp(env) setjmp(env)
#define _longjmp(env, val) longjmp(env, val)
#define sigsetjmp(env, savemask) setjmp(env)
#define siglongjmp(env, val) longjmp(env, val)

#ifdef __cplusplus
}
#endif
#endif
