/* wasi/fsimage.c — loading a kiln-pack archive (format in wasi/fsimage.h) into memfs. The
 * archive comes from outside the kernel, so every length and offset is checked. File
 * contents stay in the archive (node->ro) until first written. */
#include "wasi/fsimage.h"
#include "wasi/wasi_int.h"

/* A packed path must be plain: non-empty components, none "." or "..", no NUL. */
static int path_ok(const char *p, uint32_t n) {
  if (n == 0 || p[0] == '/' || p[n - 1] == '/') return 0;
  uint32_t s = 0;
  for (uint32_t i = 0; i <= n; i++) {
    if (i < n && p[i] == 0) return 0;
    if (i == n || p[i] == '/') {
      uint32_t l = i - s;
      if (l == 0 || (l == 1 && p[s] == '.') || (l == 2 && p[s] == '.' && p[s + 1] == '.')) return 0;
      s = i + 1;
    }
  }
  return 1;
}

int wasi_load_image(struct wasi_state *st, const void *img, size_t len) {
  const uint8_t *b = img;
  if (len < KILNFS_HEADER_SIZE || memcmp(b, KILNFS_MAGIC, 8) != 0) return WASI_EINVAL;
  if (wasi_ld32(b + 8) != KILNFS_VERSION || wasi_ld64(b + 16) > len) return WASI_EINVAL;
  len = (size_t)wasi_ld64(b + 16);
  uint32_t count = wasi_ld32(b + 12);
  size_t pos = KILNFS_HEADER_SIZE;
  struct wasi_node *root = NULL;
  for (uint32_t k = 0; k < count; k++) {
    if (len - pos < KILNFS_ENTRY_SIZE) return WASI_EINVAL;
    const uint8_t *e = b + pos;
    uint8_t type = e[0];
    uint32_t nlen = wasi_ld32(e + 4), xlen = wasi_ld32(e + 8);
    uint64_t off = wasi_ld64(e + 16), dlen = wasi_ld64(e + 24), mtime = wasi_ld64(e + 32);
    uint64_t rec = KILNFS_ENTRY_SIZE + (uint64_t)nlen + xlen;
    rec = (rec + 7) & ~7ull;
    if (rec > len - pos) return WASI_EINVAL;
    const char *name = (const char *)e + KILNFS_ENTRY_SIZE, *extra = name + nlen;
    pos += (size_t)rec;
    int err = 0;
    if (type == KILNFS_ARG) {
      err = wasi_add_arg(st, name, nlen);
    } else if (type == KILNFS_ENV) {
      err = wasi_add_env(st, name, nlen);
    } else if (type == KILNFS_PREOPEN) {
      if (nlen == 0) return WASI_EINVAL;
      if (!(root = memfs_node_new(st->fs, WASI_FILETYPE_DIRECTORY))) return WASI_ENOMEM;
      root->mtim = root->atim = root->ctim = mtime;
      err = memfs_preopen(st, root, name, nlen);
    } else if (type >= KILNFS_DIR && type <= KILNFS_HARDLINK) {
      const char *last;
      uint32_t lastlen;
      struct wasi_node *dir, *n;
      if (!root || !path_ok(name, nlen) || !(dir = memfs_parent(root, name, nlen, &last, &lastlen))) return WASI_EINVAL;
      if (memfs_lookup(dir, last, lastlen)) return WASI_EINVAL; /* listed twice */
      if (type == KILNFS_HARDLINK) {
        const char *tl;
        uint32_t tll;
        struct wasi_node *td;
        if (!path_ok(extra, xlen) || !(td = memfs_parent(root, extra, xlen, &tl, &tll)) ||
            !(n = memfs_lookup(td, tl, tll)) || n->type != WASI_FILETYPE_REGULAR_FILE)
          return WASI_EINVAL;
        if ((err = memfs_link(st->fs, dir, last, lastlen, n))) return err;
        continue;
      }
      if (type == KILNFS_FILE && (off > len || dlen > len - off)) return WASI_EINVAL;
      static const uint8_t types[] = {[KILNFS_DIR] = WASI_FILETYPE_DIRECTORY,
                                      [KILNFS_FILE] = WASI_FILETYPE_REGULAR_FILE,
                                      [KILNFS_SYMLINK] = WASI_FILETYPE_SYMBOLIC_LINK};
      if (!(n = memfs_node_new(st->fs, types[type]))) return WASI_ENOMEM;
      if (type == KILNFS_FILE) {
        n->ro = b + off;
        n->size = dlen;
      } else if (type == KILNFS_SYMLINK && (err = memfs_symlink_set(n, extra, xlen))) {
        memfs_maybe_free(st->fs, n);
        return err;
      }
      if ((err = memfs_link(st->fs, dir, last, lastlen, n))) {
        memfs_maybe_free(st->fs, n);
        return err;
      }
      n->atim = n->mtim = n->ctim = mtime;
    } else {
      return WASI_EINVAL;
    }
    if (err) return err;
  }
  return 0;
}
