/* pthread/include/errno.h — errno for threaded apps. Over the wasi-libc that tools/wasi-libc.sh
 * builds (its sysroot has kiln-libc.h) libc's own `_Thread_local int errno` is per thread and
 * is left alone. Over Debian's wasi-libc, built without atomics, that errno is a plain global:
 * code built with -pthread would reach it through TLS relocations, which wasm-ld refuses. There
 * errno is that global, reached through a function of the pthread layer (pthread/errno.c), one
 * variable for every thread (README "Threads for C apps"). */
#ifndef KILN_PTHREAD_ERRNO_H
#define KILN_PTHREAD_ERRNO_H
#include_next <errno.h>
#if __has_include(<kiln-libc.h>)
#include <kiln-libc.h>
#endif
#ifndef KILN_LIBC_TLS_ERRNO
#undef errno
#ifdef __cplusplus
extern "C"
#endif
int *__kiln_errno_location(void) __attribute__((const));
#define errno (*__kiln_errno_location())
#endif
#endif
