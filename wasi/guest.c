/* wasi/guest.c — the one check every guest pointer and length goes through, iovec arrays,
 * and the allocation helpers built on kiln_plat_alloc. */
#include "wasi/wasi_int.h"

void *wasi_guest_ptr(kiln_instance *ctx, uint32_t p, uint64_t len) {
  /* Bounds against the *current* size: the reserve beyond it is unmapped (kernel) or
   * PROT_NONE (host), and touching it from C would fault outside any Wasm code. */
  if (!ctx || !ctx->mem0 || !ctx->memories || !ctx->memories[0]) return NULL;
  uint64_t size = ctx->memories[0]->bytes;
  if (len > size || (uint64_t)p > size - len) return NULL;
  return ctx->mem0 + p;
}

int wasi_iovs_get(kiln_instance *ctx, uint32_t iovs, uint32_t n, struct wasi_iovs *out) {
  out->v = out->small;
  out->n = 0;
  if (n > WASI_IOV_MAX) return WASI_EINVAL;
  const uint8_t *a = wasi_guest_ptr(ctx, iovs, (uint64_t)n * WASI_IOVEC_SIZE);
  if (!a) return WASI_EFAULT;
  if (n > sizeof out->small / sizeof out->small[0]) {
    out->v = wasi_alloc(n * sizeof *out->v);
    if (!out->v) {
      out->v = out->small;
      return WASI_ENOMEM;
    }
  }
  uint64_t total = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint32_t p = wasi_ld32(a + 8 * i), len = wasi_ld32(a + 8 * i + 4);
    uint8_t *h = wasi_guest_ptr(ctx, p, len);
    total += len;
    if (!h || total > 0xffffffffull) { /* sizes are u32 in the ABI: the sum must fit too */
      wasi_iovs_free(out);
      return h ? WASI_EINVAL : WASI_EFAULT;
    }
    out->v[i].p = h;
    out->v[i].len = len;
  }
  out->n = n;
  return 0;
}

void wasi_iovs_free(struct wasi_iovs *v) {
  if (v->v != v->small) wasi_free(v->v);
  v->v = v->small;
  v->n = 0;
}

size_t wasi_iovs_total(const struct wasi_iovs *v) {
  size_t t = 0;
  for (size_t i = 0; i < v->n; i++) t += v->v[i].len;
  return t;
}

/* The platform allocator does not know sizes; realloc needs the old one from the caller. */
void *wasi_alloc(size_t n) { return kiln_plat_alloc(n ? n : 1); }
void wasi_free(void *p) {
  if (p) kiln_plat_free(p);
}
void *wasi_realloc(void *p, size_t old, size_t n) {
  void *q = wasi_alloc(n);
  if (!q) return NULL;
  if (p) {
    memcpy(q, p, old < n ? old : n);
    wasi_free(p);
  }
  return q;
}
char *wasi_strndup(const char *s, size_t n) {
  char *d = wasi_alloc(n + 1);
  if (d) memcpy(d, s, n);
  return d;
}
