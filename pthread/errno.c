/* pthread/errno.c — the address of libc's errno for pthread/include/errno.h, over Debian's
 * one-thread wasi-libc only (where tools/wasi-libc.sh could not build a threaded one; then
 * pthread/pthread.mk adds this file): the plain global that libc defines, named through an asm
 * label, since <errno.h> (not included here) would declare it thread-local. */
int *__kiln_errno_location(void);

extern int libc_errno __asm__("errno");

int *__kiln_errno_location(void) { return &libc_errno; }
