/* net/libc/string.h — the few <string.h> functions lwIP uses, for the freestanding build.
 * Declarations only: the kernel (or net/libc.c when it has none) defines them. */
#ifndef KILN_NET_STRING_H
#define KILN_NET_STRING_H
#include <stddef.h>
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
int strcmp(const char *a, const char *b);
#endif
