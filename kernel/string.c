/* kernel/string.c — the few C library functions freestanding code in the kernel needs (the
 * kernel itself, kernel/instance.c, wasi/, lwIP). rep movs/stos for the bulk, byte loops for
 * the rest: fast enough and safe under -mgeneral-regs-only. */
#include "kernel/kernel.h"

/* Whole quadwords first: under QEMU's TCG a rep movsq/stosq moves 8 bytes per iteration. */
void *memcpy(void *d, const void *s, size_t n) {
  void *r = d;
  size_t q = n / 8, b = n % 8;
  __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(q)::"memory");
  __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(b)::"memory");
  return r;
}

void *memmove(void *d, const void *s, size_t n) {
  unsigned char *dp = d;
  const unsigned char *sp = s;
  if (dp <= sp || dp >= sp + n) return memcpy(d, s, n);
  /* Overlap with the destination above: copy backwards. */
  dp += n - 1;
  sp += n - 1;
  __asm__ volatile("std; rep movsb; cld" : "+D"(dp), "+S"(sp), "+c"(n)::"memory");
  return d;
}

void *memset(void *d, int c, size_t n) {
  void *r = d;
  size_t q = n / 8, b = n % 8;
  uint64_t v = 0x0101010101010101ull * (uint8_t)c;
  __asm__ volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(v) : "memory");
  __asm__ volatile("rep stosb" : "+D"(d), "+c"(b) : "a"(v) : "memory");
  return r;
}

int memcmp(const void *a, const void *b, size_t n) {
  const unsigned char *x = a, *y = b;
  for (size_t i = 0; i < n; i++)
    if (x[i] != y[i]) return x[i] - y[i];
  return 0;
}

void *memchr(const void *s, int c, size_t n) {
  const unsigned char *p = s;
  for (size_t i = 0; i < n; i++)
    if (p[i] == (unsigned char)c) return (void *)(p + i);
  return NULL;
}

size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

int strcmp(const char *a, const char *b) {
  while (*a && *a == *b) a++, b++;
  return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (a[i] != b[i] || !a[i]) return (unsigned char)a[i] - (unsigned char)b[i];
  }
  return 0;
}

char *strchr(const char *s, int c) {
  for (;; s++) {
    if (*s == (char)c) return (char *)s;
    if (!*s) return NULL;
  }
}

int atoi(const char *s) {
  int neg = 0, v = 0;
  while (*s == ' ' || *s == '\t') s++;
  if (*s == '-' || *s == '+') neg = *s++ == '-';
  while (*s >= '0' && *s <= '9') v = v * 10 + (*s++ - '0');
  return neg ? -v : v;
}
