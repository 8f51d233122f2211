/* pthread/errno.c — the address of libc's errno for pthread/include/errno.h, in the layer
 * built for Debian's one-thread wasi-libc (build/pthread/libkiln-pthread.a; the one over the
 * sysroot of tools/wasi-libc.sh has libc's thread-local errno): the plain global that libc
 * defines, named through an asm label, since <errno.h> (not included here) would declare it
 * thread-local. That libc defines this function too (tools/patches/wasi-libc/errno-guard.patch),
 * so this layer linked with it is a duplicate symbol, not an errno written at a TLS offset. */
int *__kiln_errno_location(void);

extern int libc_errno __asm__("errno");

int *__kiln_errno_location(void) { return &libc_errno; }
