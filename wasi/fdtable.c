/* wasi/fdtable.c — the fd table, stdio, and the calls about fds as table entries: fd_close,
 * fd_renumber, fd_fdstat_*, fd_prestat_*. */
#include "wasi/vfs.h"
#include "wasi/wasi_int.h"

int wasi_fd_new(struct wasi_state *st, uint8_t kind, const struct wasi_fd_ops *ops, void *priv, uint64_t rights_base,
                uint64_t rights_inheriting, uint32_t *fd) {
  uint32_t i = 0;
  while (i < st->nfds && st->fds[i].kind != WASI_FD_FREE) i++;
  if (i == st->nfds) {
    if (st->nfds >= (1u << 20)) return WASI_EMFILE; /* far beyond any real program; bounds the table */
    uint32_t n = st->nfds ? st->nfds * 2 : 16;
    struct wasi_fd *t = wasi_realloc(st->fds, st->nfds * sizeof *t, n * sizeof *t);
    if (!t) return WASI_ENOMEM;
    st->fds = t;
    st->nfds = n;
  }
  struct wasi_fd *f = &st->fds[i];
  memset(f, 0, sizeof *f);
  f->kind = kind;
  f->ops = ops;
  f->priv = priv;
  f->rights_base = rights_base;
  f->rights_inheriting = rights_inheriting;
  *fd = i;
  return 0;
}

struct wasi_fd *wasi_fd_get(struct wasi_state *st, uint32_t fd) {
  if (fd >= st->nfds || st->fds[fd].kind == WASI_FD_FREE) return NULL;
  return &st->fds[fd];
}

int wasi_fd_check(struct wasi_state *st, uint32_t fd, uint64_t rights, struct wasi_fd **out) {
  struct wasi_fd *f = wasi_fd_get(st, fd);
  if (!f) return WASI_EBADF;
  if ((f->rights_base & rights) != rights) return WASI_ENOTCAPABLE;
  *out = f;
  return 0;
}

void wasi_fd_release(struct wasi_state *st, uint32_t fd) {
  struct wasi_fd *f = &st->fds[fd];
  if (f->ops && f->ops->close) f->ops->close(st, f);
  if (f->node) memfs_unref(st->fs, f->node);
  if (f->vfs && f->vf) f->vfs->ops->close(f->vfs, f->vf);
  wasi_free(f->preopen);
  memset(f, 0, sizeof *f);
}

int wasi_preopen_new(struct wasi_state *st, const char *guest, size_t len, struct wasi_fd **out) {
  char *name = wasi_strndup(guest, len);
  if (!name) return WASI_ENOMEM;
  uint32_t fd;
  int e = wasi_fd_new(st, WASI_FD_DIR, NULL, NULL, WASI_RIGHTS_DIR, WASI_RIGHTS_ALL, &fd);
  if (e) {
    wasi_free(name);
    return e;
  }
  *out = &st->fds[fd];
  (*out)->preopen = name;
  (*out)->preopen_len = (uint32_t)len;
  return 0;
}

/* ---- stdio: fd 0 reads the console, fds 1 and 2 write it ---- */

static int stdio_read(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, size_t *done) {
  *done = 0;
  for (size_t i = 0; i < n; i++) {
    if (!iov[i].len) continue;
    int64_t r = wasi_plat_console_read(iov[i].p, iov[i].len);
    if (r < 0) return *done ? 0 : (int)-r;
    *done += (size_t)r;
    if ((size_t)r < iov[i].len) break; /* short read: do not block for more */
  }
  return 0;
}

static int stdio_write(struct wasi_state *st, struct wasi_fd *f, const struct wasi_buf *iov, size_t n, size_t *done) {
  int fd = wasi_stdio_index(f);
  *done = 0;
  for (size_t i = 0; i < n; i++) {
    size_t off = 0;
    while (off < iov[i].len) {
      int64_t r = wasi_plat_console_write(fd == 2 ? 2 : 1, iov[i].p + off, iov[i].len - off);
      if (r <= 0) return *done ? 0 : (r < 0 ? (int)-r : WASI_EIO);
      off += (size_t)r;
      *done += (size_t)r;
    }
  }
  return 0;
}

static int stdio_poll(struct wasi_state *st, struct wasi_fd *f, int events, uint64_t *nbytes, int *hangup) {
  *nbytes = 0;
  *hangup = 0;
  if (events == 1) return wasi_plat_console_ready() != 0;
  return 1;
}

static const struct wasi_fd_ops stdio_ops = {
    .filetype = WASI_FILETYPE_CHARACTER_DEVICE,
    .read = stdio_read,
    .write = stdio_write,
    .poll = stdio_poll,
};

/* The platform's stdio may be a terminal, a file, a pipe: its type decides the rights, since
 * wasi-libc's isatty() is "CHARACTER_DEVICE without seek/tell" and a file must be seekable
 * (bzip2 writes to stdout only when it is not a terminal; sqlite3 prompts only on one). */
int wasi_stdio_init(struct wasi_state *st) {
  for (uint32_t i = 0; i < 3; i++) {
    uint32_t fd;
    uint8_t type = wasi_plat_stdio_type((int)i);
    uint64_t r = WASI_RIGHTS_STDIO & ~WASI_RIGHT(i == 0 ? WASI_R_FD_WRITE : WASI_R_FD_READ);
    if (type == WASI_FILETYPE_REGULAR_FILE) r |= WASI_RIGHT(WASI_R_FD_SEEK) | WASI_RIGHT(WASI_R_FD_TELL);
    /* priv: which platform stream (1 + 0..2), which fd_renumber does not change */
    int e = wasi_fd_new(st, WASI_FD_STDIO, &stdio_ops, (void *)(uintptr_t)(i + 1), r, 0, &fd);
    if (e) return e;
    st->fds[fd].type = type;
  }
  return 0;
}

int wasi_stdio_index(struct wasi_fd *f) { return (int)(uintptr_t)f->priv - 1; }

/* Defaults for the optional stdio hooks of wasi.h; a platform whose stdio can be a file
 * defines its own. */
__attribute__((weak)) int64_t wasi_plat_stdio_seek(int fd, int64_t off, int whence) { return -WASI_ESPIPE; }
__attribute__((weak)) int wasi_plat_stdio_stat(int fd, struct wasi_vfs_stat *out) { return WASI_ENOTSUP; }

/* ---- calls ---- */

int32_t WASI_FN(fd_close, i_i)(kiln_instance *ctx, int32_t fd) {
  struct wasi_state *st = WASI_STATE(ctx);
  if (!wasi_fd_get(st, (uint32_t)fd)) return WASI_EBADF;
  wasi_fd_release(st, (uint32_t)fd);
  return 0;
}

int32_t WASI_FN(fd_renumber, ii_i)(kiln_instance *ctx, int32_t from, int32_t to) {
  struct wasi_state *st = WASI_STATE(ctx);
  if (!wasi_fd_get(st, (uint32_t)from) || !wasi_fd_get(st, (uint32_t)to)) return WASI_EBADF;
  if (from == to) return 0;
  wasi_fd_release(st, (uint32_t)to);
  st->fds[to] = st->fds[from];
  memset(&st->fds[from], 0, sizeof st->fds[from]);
  return 0;
}

uint8_t wasi_fd_filetype(struct wasi_fd *f) {
  if (f->type || f->kind == WASI_FD_STDIO) return f->type; /* stdio: UNKNOWN (0) is a real answer */
  if (f->ops) return f->ops->filetype;
  return f->node ? f->node->type : WASI_FILETYPE_UNKNOWN;
}

int32_t WASI_FN(fd_fdstat_get, ii_i)(kiln_instance *ctx, int32_t fd, int32_t buf) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  uint8_t *p = wasi_guest_ptr(ctx, (uint32_t)buf, WASI_FDSTAT_SIZE);
  if (!p) return WASI_EFAULT;
  memset(p, 0, WASI_FDSTAT_SIZE);
  p[0] = wasi_fd_filetype(f);
  wasi_st16(p + 2, f->fdflags);
  wasi_st64(p + 8, f->rights_base);
  wasi_st64(p + 16, f->rights_inheriting);
  return 0;
}

int32_t WASI_FN(fd_fdstat_set_flags, ii_i)(kiln_instance *ctx, int32_t fd, int32_t flags) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f;
  int e = wasi_fd_check(st, (uint32_t)fd, WASI_RIGHT(WASI_R_FD_FDSTAT_SET_FLAGS), &f);
  if (e) return e;
  if ((uint32_t)flags & ~0x1fu) return WASI_EINVAL;
  /* Everything is synchronous in memory, so the sync flags are accepted and mean nothing more. */
  f->fdflags = (uint16_t)flags;
  return 0;
}

int32_t WASI_FN(fd_fdstat_set_rights, iII_i)(kiln_instance *ctx, int32_t fd, int64_t base, int64_t inh) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  /* Rights can only be dropped, never gained. */
  if (((uint64_t)base & ~f->rights_base) || ((uint64_t)inh & ~f->rights_inheriting)) return WASI_ENOTCAPABLE;
  f->rights_base = (uint64_t)base;
  f->rights_inheriting = (uint64_t)inh;
  return 0;
}

int32_t WASI_FN(fd_prestat_get, ii_i)(kiln_instance *ctx, int32_t fd, int32_t buf) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  if (!f->preopen) return WASI_EBADF; /* preview1: not a preopen -> badf, which ends libc's scan */
  uint8_t *p = wasi_guest_ptr(ctx, (uint32_t)buf, WASI_PRESTAT_SIZE);
  if (!p) return WASI_EFAULT;
  memset(p, 0, WASI_PRESTAT_SIZE);
  wasi_st32(p + 4, f->preopen_len);
  return 0;
}

int32_t WASI_FN(fd_prestat_dir_name, iii_i)(kiln_instance *ctx, int32_t fd, int32_t path, int32_t len) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f || !f->preopen) return WASI_EBADF;
  uint8_t *p = wasi_guest_ptr(ctx, (uint32_t)path, (uint32_t)len);
  if (!p) return WASI_EFAULT;
  if ((uint32_t)len < f->preopen_len) return WASI_ENAMETOOLONG;
  memcpy(p, f->preopen, f->preopen_len);
  return 0;
}
