/* pthread/include/errno.h — errno for threaded apps over Debian's wasi-libc. Its headers
 * declare `_Thread_local int errno`, but the library was built without atomics, so its errno
 * is a plain global: code built with -pthread would reach it through TLS relocations, which
 * wasm-ld refuses. Here errno is that global, reached through a function of the pthread layer
 * (pthread/errno.c). It is one variable for every thread (README "Threads for C apps"). */
#ifndef KILN_PTHREAD_ERRNO_H
#define KILN_PTHREAD_ERRNO_H
#include_next <errno.h>
#undef errno
#ifdef __cplusplus
extern "C"
#endif
int *__kiln_errno_location(void) __attribute__((const));
#define errno (*__kiln_errno_location())
#endif
