/* kernel/printf.c — formatted output to the console's note stream (the host's stderr):
 * %d %i %u %x %X %p %s %.*s %c %% with the l, ll, z sizes, a width and the 0, - and # flags;
 * enough for kernel messages. */
#include "kernel/kernel.h"

struct out {
  char *buf;
  size_t n, len;
};

static void put(struct out *o, char c) {
  if (o->len + 1 < o->n) o->buf[o->len] = c;
  o->len++;
}

static void put_num(struct out *o, uint64_t v, int base, int upper, int neg, int width, char pad, int left) {
  char tmp[24];
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  int k = 0;
  do {
    tmp[k++] = digits[v % base];
    v /= base;
  } while (v);
  int len = k + neg;
  if (neg && pad == '0') put(o, '-');
  if (!left)
    for (; len < width; width--) put(o, pad);
  if (neg && pad != '0') put(o, '-');
  while (k) put(o, tmp[--k]);
  if (left)
    for (; len < width; width--) put(o, ' ');
}

int kvsnprintf(char *buf, size_t n, const char *fmt, va_list ap) {
  struct out o = {buf, n, 0};
  for (const char *f = fmt; *f; f++) {
    if (*f != '%') {
      put(&o, *f);
      continue;
    }
    f++;
    int left = 0, width = 0, lng = 0, alt = 0;
    char pad = ' ';
    for (; *f == '-' || *f == '0' || *f == '#'; f++) {
      if (*f == '-') left = 1;
      else if (*f == '#') alt = 1;
      else pad = '0';
    }
    for (; *f >= '0' && *f <= '9'; f++) width = width * 10 + (*f - '0');
    int prec = -1;
    if (*f == '.' && f[1] == '*') prec = va_arg(ap, int), f += 2;
    for (; *f == 'l' || *f == 'z'; f++) lng++;
    switch (*f) {
    case 'd':
    case 'i': {
      int64_t v = lng ? va_arg(ap, int64_t) : va_arg(ap, int);
      put_num(&o, v < 0 ? -(uint64_t)v : (uint64_t)v, 10, 0, v < 0, width, pad, left);
      break;
    }
    case 'u':
    case 'x':
    case 'X': {
      uint64_t v = lng ? va_arg(ap, uint64_t) : va_arg(ap, unsigned);
      if (alt && *f != 'u') put(&o, '0'), put(&o, 'x');
      put_num(&o, v, *f == 'u' ? 10 : 16, *f == 'X', 0, width, pad, left);
      break;
    }
    case 'p':
      put(&o, '0');
      put(&o, 'x');
      put_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, width, pad, left);
      break;
    case 's': {
      const char *s = va_arg(ap, const char *);
      if (!s) s = "(null)";
      int len = 0;
      while (s[len] && (prec < 0 || len < prec)) len++;
      if (!left)
        for (; len < width; width--) put(&o, ' ');
      for (int k = 0; k < len; k++) put(&o, s[k]);
      if (left)
        for (; len < width; width--) put(&o, ' ');
      break;
    }
    case 'c':
      put(&o, (char)va_arg(ap, int));
      break;
    case '%':
      put(&o, '%');
      break;
    case 0:
      f--;
      break;
    default:
      put(&o, '%');
      put(&o, *f);
    }
  }
  if (n) buf[o.len < n ? o.len : n - 1] = 0;
  return (int)o.len;
}

int ksnprintf(char *buf, size_t n, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int r = kvsnprintf(buf, n, fmt, ap);
  va_end(ap);
  return r;
}

static void vprint(const char *fmt, va_list ap) {
  char buf[512];
  int r = kvsnprintf(buf, sizeof buf, fmt, ap);
  console_note(buf, r < (int)sizeof buf ? (size_t)r : sizeof buf - 1);
}

void kprintf(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprint(fmt, ap);
  va_end(ap);
}

/* Kernel notes (banner, device and network lines) all go through klog, so quiet=1 can keep
 * the console for the app's own output. Panics, traps and fault dumps use kprintf. */
static int quiet;

void klog_set_quiet(int q) { quiet = q; }

void klog(const char *fmt, ...) {
  if (quiet) return;
  va_list ap;
  va_start(ap, fmt);
  vprint(fmt, ap);
  va_end(ap);
}
