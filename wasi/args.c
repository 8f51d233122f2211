/* wasi/args.c — the per-instance state's lifecycle, and args_* / environ_* calls. */
#include "wasi/wasi_int.h"

struct wasi_state *wasi_create(void) {
  struct wasi_state *st = wasi_alloc(sizeof *st);
  if (!st) return NULL;
  st->fs = memfs_create();
  if (!st->fs || wasi_stdio_init(st)) {
    wasi_destroy(st);
    return NULL;
  }
  return st;
}

void wasi_destroy(struct wasi_state *st) {
  if (!st) return;
  for (uint32_t i = 0; i < st->nfds; i++)
    if (st->fds[i].kind != WASI_FD_FREE) wasi_fd_release(st, i);
  wasi_free(st->fds);
  if (st->fs) memfs_destroy(st->fs);
  wasi_free(st->args);
  wasi_free(st->env);
  wasi_free(st->poll_scratch);
  wasi_free(st);
}

/* Append s[0..len) and a NUL to a packed string list. */
static int append(char **buf, uint32_t *used, uint32_t *cap, uint32_t *count, const char *s, size_t len) {
  if (len > 0x7fffffff || *used + len + 1 > 0x7fffffffu) return WASI_E2BIG;
  if (*used + len + 1 > *cap) {
    uint32_t ncap = *cap ? *cap : 64;
    while (ncap < *used + len + 1) ncap *= 2;
    char *n = wasi_realloc(*buf, *used, ncap);
    if (!n) return WASI_ENOMEM;
    *buf = n;
    *cap = ncap;
  }
  memcpy(*buf + *used, s, len);
  (*buf)[*used + len] = 0;
  *used += len + 1;
  (*count)++;
  return 0;
}

/* memchr is not among the few libc functions the kernel provides. */
static int has_byte(const char *s, size_t len, char c) {
  for (size_t i = 0; i < len; i++)
    if (s[i] == c) return 1;
  return 0;
}

int wasi_add_arg(struct wasi_state *st, const char *s, size_t len) {
  if (has_byte(s, len, 0)) return WASI_EINVAL;
  return append(&st->args, &st->args_len, &st->args_cap, &st->argc, s, len);
}

int wasi_add_env(struct wasi_state *st, const char *kv, size_t len) {
  if (has_byte(kv, len, 0) || !has_byte(kv, len, '=')) return WASI_EINVAL;
  return append(&st->env, &st->env_len, &st->env_cap, &st->envc, kv, len);
}

/* args_get/environ_get: a pointer array of count u32 at `ptrs`, the packed strings at `buf`. */
static int32_t list_get(kiln_instance *ctx, const char *src, uint32_t len, uint32_t count, uint32_t ptrs,
                        uint32_t buf) {
  uint8_t *p = wasi_guest_ptr(ctx, ptrs, (uint64_t)count * 4);
  uint8_t *b = wasi_guest_ptr(ctx, buf, len);
  if (!p || !b) return WASI_EFAULT;
  uint32_t off = 0;
  for (uint32_t i = 0; i < count; i++) {
    wasi_st32(p + 4 * i, buf + off);
    off += (uint32_t)strlen(src + off) + 1;
  }
  memcpy(b, src, len);
  return 0;
}

static int32_t sizes_get(kiln_instance *ctx, uint32_t count, uint32_t len, uint32_t pcount, uint32_t plen) {
  uint8_t *c = wasi_guest_ptr(ctx, pcount, 4), *l = wasi_guest_ptr(ctx, plen, 4);
  if (!c || !l) return WASI_EFAULT;
  wasi_st32(c, count);
  wasi_st32(l, len);
  return 0;
}

int32_t WASI_FN(args_get, ii_i)(kiln_instance *ctx, int32_t argv, int32_t buf) {
  struct wasi_state *st = WASI_STATE(ctx);
  return list_get(ctx, st->args, st->args_len, st->argc, (uint32_t)argv, (uint32_t)buf);
}

int32_t WASI_FN(args_sizes_get, ii_i)(kiln_instance *ctx, int32_t pargc, int32_t psize) {
  struct wasi_state *st = WASI_STATE(ctx);
  return sizes_get(ctx, st->argc, st->args_len, (uint32_t)pargc, (uint32_t)psize);
}

int32_t WASI_FN(environ_get, ii_i)(kiln_instance *ctx, int32_t env, int32_t buf) {
  struct wasi_state *st = WASI_STATE(ctx);
  return list_get(ctx, st->env, st->env_len, st->envc, (uint32_t)env, (uint32_t)buf);
}

int32_t WASI_FN(environ_sizes_get, ii_i)(kiln_instance *ctx, int32_t pcount, int32_t psize) {
  struct wasi_state *st = WASI_STATE(ctx);
  return sizes_get(ctx, st->envc, st->env_len, (uint32_t)pcount, (uint32_t)psize);
}
