/* pthread/include/__errno.h — found before wasi-libc's own (-Ipthread/include), which declares
 * errno _Thread_local. Debian's wasi-libc was compiled without atomics, so its errno is an
 * ordinary global; with -pthread the compiler would make a real TLS reference to it, and wasm-ld
 * refuses that ("R_WASM_MEMORY_ADDR_TLS_SLEB ... against non-TLS symbol errno"). So the app sees
 * errno as what it is: one variable for every thread (README, "Threads for C apps"). */
#ifndef __wasilibc___errno_h
#define __wasilibc___errno_h

#ifdef __cplusplus
extern "C" {
#endif

extern int errno;
#define errno errno

#ifdef __cplusplus
}
#endif

#endif
