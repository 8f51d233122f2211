/* pthread/stdio_lock.c — makes the stdio of Debian's one-thread wasi-libc (no FILE locks) safe
 * for threads: the app links with wasm-ld's --wrap for each function below
 * (pthread/kiln-pthread.rsp), so every call, in the app and inside libc alike, reaches the
 * __wrap_ one, which calls the real one (__real_) under one lock. The lock is recursive, as
 * printf may call fwrite of the same FILE through another wrapped function. (malloc's lock
 * and thread caches: pthread/malloc.c.) */
#include <stdarg.h>
#include <stdio.h>

#include "pthread/pthread_int.h"

/* One recursive lock for all of stdio: owner tid + 1, depth. */
static int stdio_lock, stdio_owner, stdio_depth;

static void stdio_enter(void) {
  int me = kiln_pthread_self()->tid + 1;
  if (__atomic_load_n(&stdio_owner, __ATOMIC_RELAXED) == me) {
    stdio_depth++;
    return;
  }
  kiln_lock_word(&stdio_lock);
  __atomic_store_n(&stdio_owner, me, __ATOMIC_RELAXED);
  stdio_depth = 1;
}

static void stdio_leave(void) {
  if (--stdio_depth > 0) return;
  __atomic_store_n(&stdio_owner, 0, __ATOMIC_RELAXED);
  kiln_unlock_word(&stdio_lock);
}

#define STDIO_LOCKED(type, call) \
  do {                           \
    stdio_enter();               \
    type r_ = call;              \
    stdio_leave();               \
    return r_;                   \
  } while (0)

int __real_vfprintf(FILE *f, const char *fmt, va_list ap);
size_t __real_fwrite(const void *p, size_t size, size_t n, FILE *f);
int __real_fputs(const char *s, FILE *f);
int __real_puts(const char *s);
int __real_fputc(int c, FILE *f);
int __real_putc(int c, FILE *f);
int __real_putchar(int c);
int __real_fflush(FILE *f);
size_t __real_fread(void *p, size_t size, size_t n, FILE *f);
char *__real_fgets(char *s, int n, FILE *f);
int __real_fgetc(FILE *f);
int __real_getc(FILE *f);
int __real_fclose(FILE *f);
FILE *__real_fopen(const char *path, const char *mode);

int __wrap_vfprintf(FILE *f, const char *fmt, va_list ap) { STDIO_LOCKED(int, __real_vfprintf(f, fmt, ap)); }
size_t __wrap_fwrite(const void *p, size_t size, size_t n, FILE *f) { STDIO_LOCKED(size_t, __real_fwrite(p, size, n, f)); }
int __wrap_fputs(const char *s, FILE *f) { STDIO_LOCKED(int, __real_fputs(s, f)); }
int __wrap_puts(const char *s) { STDIO_LOCKED(int, __real_puts(s)); }
int __wrap_fputc(int c, FILE *f) { STDIO_LOCKED(int, __real_fputc(c, f)); }
int __wrap_putc(int c, FILE *f) { STDIO_LOCKED(int, __real_putc(c, f)); }
int __wrap_putchar(int c) { STDIO_LOCKED(int, __real_putchar(c)); }
int __wrap_fflush(FILE *f) { STDIO_LOCKED(int, __real_fflush(f)); }
size_t __wrap_fread(void *p, size_t size, size_t n, FILE *f) { STDIO_LOCKED(size_t, __real_fread(p, size, n, f)); }
char *__wrap_fgets(char *s, int n, FILE *f) { STDIO_LOCKED(char *, __real_fgets(s, n, f)); }
int __wrap_fgetc(FILE *f) { STDIO_LOCKED(int, __real_fgetc(f)); }
int __wrap_getc(FILE *f) { STDIO_LOCKED(int, __real_getc(f)); }
int __wrap_fclose(FILE *f) { STDIO_LOCKED(int, __real_fclose(f)); }
FILE *__wrap_fopen(const char *path, const char *mode) { STDIO_LOCKED(FILE *, __real_fopen(path, mode)); }
