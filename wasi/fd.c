/* wasi/fd.c — I/O and metadata on an open fd: fd_read/write/pread/pwrite/seek/tell,
 * fd_filestat_*, fd_readdir, fd_advise/allocate/sync/datasync. Files and directories are
 * served from memfs or a backend (wasi/vfs.h, through wasi/vfs.c); stdio and sockets through
 * their ops (wasi.h). */
#include "wasi/vfs.h"
#include "wasi/wasi_int.h"

void wasi_filestat_put(uint8_t *p, struct wasi_node *n) {
  memset(p, 0, WASI_FILESTAT_SIZE);
  wasi_st64(p + 0, 1); /* one device: the whole memfs */
  wasi_st64(p + 8, n->ino);
  p[16] = n->type;
  wasi_st64(p + 24, n->nlink);
  wasi_st64(p + 32, n->type == WASI_FILETYPE_DIRECTORY ? 4096 : n->size);
  wasi_st64(p + 40, n->atim);
  wasi_st64(p + 48, n->mtim);
  wasi_st64(p + 56, n->ctim);
}

int wasi_fst_check(uint32_t fst) {
  if (fst & ~0xfu) return WASI_EINVAL;
  if ((fst & WASI_FST_ATIM) && (fst & WASI_FST_ATIM_NOW)) return WASI_EINVAL;
  if ((fst & WASI_FST_MTIM) && (fst & WASI_FST_MTIM_NOW)) return WASI_EINVAL;
  return 0;
}

int wasi_set_times(struct wasi_node *n, uint64_t atim, uint64_t mtim, uint32_t fst) {
  int e = wasi_fst_check(fst);
  if (e) return e;
  uint64_t now = memfs_now();
  if (fst & WASI_FST_ATIM) n->atim = atim;
  if (fst & WASI_FST_ATIM_NOW) n->atim = now;
  if (fst & WASI_FST_MTIM) n->mtim = mtim;
  if (fst & WASI_FST_MTIM_NOW) n->mtim = now;
  n->ctim = now;
  return 0;
}

/* Read from / write to a file at `off`, over all iovecs. */
static int file_read(struct wasi_node *n, uint64_t off, struct wasi_iovs *v, size_t *done) {
  *done = 0;
  for (size_t i = 0; i < v->n; i++) {
    size_t r = memfs_read(n, off, v->v[i].p, v->v[i].len);
    off += r;
    *done += r;
    if (r < v->v[i].len) break;
  }
  return 0;
}

static int file_write(struct wasi_node *n, uint64_t off, struct wasi_iovs *v, size_t *done) {
  *done = 0;
  for (size_t i = 0; i < v->n; i++) {
    int e = memfs_write(n, off, v->v[i].p, v->v[i].len);
    if (e) return *done ? 0 : e;
    off += v->v[i].len;
    *done += v->v[i].len;
  }
  return 0;
}

/* The shared body of fd_read/fd_write/fd_pread/fd_pwrite. */
static int32_t rw(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t niovs, int64_t poff, int32_t pdone, int write,
                  int positioned) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  uint64_t need = WASI_RIGHT(write ? WASI_R_FD_WRITE : WASI_R_FD_READ);
  if (positioned) need |= WASI_RIGHT(WASI_R_FD_SEEK);
  if (f->kind == WASI_FD_DIR) return WASI_EISDIR;
  if (positioned && f->kind != WASI_FD_FILE) return WASI_ESPIPE;
  if ((f->rights_base & need) != need) return WASI_ENOTCAPABLE;
  if (positioned && poff < 0) return WASI_EINVAL;
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pdone, 4);
  if (!out) return WASI_EFAULT;
  struct wasi_iovs v;
  int e = wasi_iovs_get(ctx, (uint32_t)iovs, (uint32_t)niovs, &v);
  if (e) return e;
  size_t done = 0;
  if (f->kind == WASI_FD_FILE && f->vfs) {
    uint64_t off = positioned ? (uint64_t)poff : f->offset;
    e = vfs_rw(f, &v, off, positioned, write, &done);
    /* append wrote at the end: the offset follows, as with O_APPEND */
    if (!e && !positioned && write && (f->fdflags & WASI_FDFLAG_APPEND)) e = vfs_size(f, &f->offset);
    else if (!e && !positioned) f->offset = off + done;
  } else if (f->kind == WASI_FD_FILE) {
    uint64_t off = positioned ? (uint64_t)poff : f->offset;
    if (write && !positioned && (f->fdflags & WASI_FDFLAG_APPEND)) off = f->node->size;
    e = write ? file_write(f->node, off, &v, &done) : file_read(f->node, off, &v, &done);
    if (!positioned) f->offset = off + done;
  } else if (f->ops && (write ? f->ops->write : f->ops->read)) {
    e = (write ? f->ops->write : f->ops->read)(st, f, v.v, v.n, &done);
  } else {
    e = WASI_ENOTSUP;
  }
  wasi_iovs_free(&v);
  if (!e) wasi_st32(out, (uint32_t)done);
  return e;
}

int32_t WASI_FN(fd_read, iiii_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t pnread) {
  return rw(ctx, fd, iovs, n, 0, pnread, 0, 0);
}
int32_t WASI_FN(fd_write, iiii_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t pnwritten) {
  return rw(ctx, fd, iovs, n, 0, pnwritten, 1, 0);
}
int32_t WASI_FN(fd_pread, iiiIi_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int64_t off, int32_t pnread) {
  return rw(ctx, fd, iovs, n, off, pnread, 0, 1);
}
/* POSIX pwrite: at the given offset even with O_APPEND (Linux would append). */
int32_t WASI_FN(fd_pwrite, iiiIi_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int64_t off,
                                     int32_t pnwritten) {
  return rw(ctx, fd, iovs, n, off, pnwritten, 1, 1);
}

/* A file fd, after the checks every offset-related call shares. */
static int file_fd(struct wasi_state *st, int32_t fd, uint64_t rights, struct wasi_fd **out) {
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  if (f->kind == WASI_FD_DIR) return WASI_EISDIR;
  if (f->kind != WASI_FD_FILE) return WASI_ESPIPE;
  if ((f->rights_base & rights) != rights) return WASI_ENOTCAPABLE;
  *out = f;
  return 0;
}

int32_t WASI_FN(fd_seek, iIii_i)(kiln_instance *ctx, int32_t fd, int64_t off, int32_t whence, int32_t pnew) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  /* preview1: seeking by 0 from the current position is a tell, which fd_tell's right allows */
  uint64_t need = WASI_RIGHT(WASI_R_FD_SEEK);
  if (off == 0 && whence == WASI_WHENCE_CUR && (f->rights_base & WASI_RIGHT(WASI_R_FD_TELL)))
    need = WASI_RIGHT(WASI_R_FD_TELL);
  if (f->kind == WASI_FD_STDIO && f->type == WASI_FILETYPE_REGULAR_FILE) {
    /* stdio redirected to a file: the platform's own offset (host lseek) */
    if ((f->rights_base & need) != need) return WASI_ENOTCAPABLE;
    uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pnew, 8);
    if (!out) return WASI_EFAULT;
    if ((uint32_t)whence > WASI_WHENCE_END) return WASI_EINVAL;
    int64_t r = wasi_plat_stdio_seek(wasi_stdio_index(f), off, whence);
    if (r < 0) return (int)-r;
    wasi_st64(out, (uint64_t)r);
    return 0;
  }
  int e = file_fd(st, fd, need, &f);
  if (e) return e;
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pnew, 8);
  if (!out) return WASI_EFAULT;
  int64_t base;
  uint64_t size = 0;
  switch (whence) {
  case WASI_WHENCE_SET: base = 0; break;
  case WASI_WHENCE_CUR: base = (int64_t)f->offset; break;
  case WASI_WHENCE_END:
    if (!f->vfs) size = f->node->size;
    else if ((e = vfs_size(f, &size))) return e;
    base = (int64_t)size;
    break;
  default: return WASI_EINVAL;
  }
  if ((off > 0 && base > INT64_MAX - off) || base + off < 0) return WASI_EINVAL;
  f->offset = (uint64_t)(base + off);
  wasi_st64(out, f->offset);
  return 0;
}

int32_t WASI_FN(fd_tell, ii_i)(kiln_instance *ctx, int32_t fd, int32_t pout) {
  struct wasi_fd *f = wasi_fd_get(WASI_STATE(ctx), (uint32_t)fd);
  if (f && f->kind == WASI_FD_STDIO && f->type == WASI_FILETYPE_REGULAR_FILE)
    return WASI_FN(fd_seek, iIii_i)(ctx, fd, 0, WASI_WHENCE_CUR, pout);
  int e = file_fd(WASI_STATE(ctx), fd, WASI_RIGHT(WASI_R_FD_TELL), &f);
  if (e) return e;
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pout, 8);
  if (!out) return WASI_EFAULT;
  wasi_st64(out, f->offset);
  return 0;
}

int32_t WASI_FN(fd_filestat_get, ii_i)(kiln_instance *ctx, int32_t fd, int32_t buf) {
  struct wasi_fd *f;
  int e = wasi_fd_check(WASI_STATE(ctx), (uint32_t)fd, WASI_RIGHT(WASI_R_FD_FILESTAT_GET), &f);
  if (e) return e;
  uint8_t *p = wasi_guest_ptr(ctx, (uint32_t)buf, WASI_FILESTAT_SIZE);
  if (!p) return WASI_EFAULT;
  struct wasi_vfs_stat s;
  if (f->node) wasi_filestat_put(p, f->node);
  else if (f->vfs) {
    if ((e = f->vfs->ops->stat(f->vfs, f->vf, &s))) return e;
    vfs_stat_put(p, &s);
  } else if (f->kind == WASI_FD_STDIO && (e = wasi_plat_stdio_stat(wasi_stdio_index(f), &s)) == 0) {
    s.filetype = wasi_fd_filetype(f); /* the type stdio was given, whatever the host says */
    vfs_stat_put(p, &s);
  } else {
    memset(p, 0, WASI_FILESTAT_SIZE);
    p[16] = wasi_fd_filetype(f);
    wasi_st64(p + 24, 1);
  }
  return 0;
}

int32_t WASI_FN(fd_filestat_set_size, iI_i)(kiln_instance *ctx, int32_t fd, int64_t size) {
  struct wasi_fd *f = wasi_fd_get(WASI_STATE(ctx), (uint32_t)fd);
  if (!f) return WASI_EBADF;
  if ((f->rights_base & WASI_RIGHT(WASI_R_FD_FILESTAT_SET_SIZE)) == 0) return WASI_ENOTCAPABLE;
  if (f->kind == WASI_FD_DIR) return WASI_EISDIR;
  if (f->kind != WASI_FD_FILE) return WASI_EINVAL;
  if (size < 0) return WASI_EINVAL;
  if (f->vfs) return vfs_set_size(f, (uint64_t)size);
  return memfs_truncate(f->node, (uint64_t)size);
}

int32_t WASI_FN(fd_filestat_set_times, iIIi_i)(kiln_instance *ctx, int32_t fd, int64_t atim, int64_t mtim,
                                                int32_t fst) {
  struct wasi_fd *f;
  int e = wasi_fd_check(WASI_STATE(ctx), (uint32_t)fd, WASI_RIGHT(WASI_R_FD_FILESTAT_SET_TIMES), &f);
  if (e) return e;
  if (f->vfs) {
    if ((e = wasi_fst_check((uint32_t)fst))) return e;
    return f->vfs->ops->set_times(f->vfs, f->vf, (uint64_t)atim, (uint64_t)mtim, (uint32_t)fst);
  }
  if (!f->node) return WASI_ENOTSUP; /* stdio and sockets keep no times */
  return wasi_set_times(f->node, (uint64_t)atim, (uint64_t)mtim, (uint32_t)fst);
}

int32_t WASI_FN(fd_advise, iIIi_i)(kiln_instance *ctx, int32_t fd, int64_t off, int64_t len, int32_t advice) {
  struct wasi_fd *f;
  int e = file_fd(WASI_STATE(ctx), fd, WASI_RIGHT(WASI_R_FD_ADVISE), &f);
  if (e) return e;
  if ((uint32_t)advice > WASI_ADVICE_NOREUSE || off < 0 || len < 0) return WASI_EINVAL;
  return 0; /* memory has no access pattern to tune */
}

int32_t WASI_FN(fd_allocate, iII_i)(kiln_instance *ctx, int32_t fd, int64_t off, int64_t len) {
  struct wasi_fd *f;
  int e = file_fd(WASI_STATE(ctx), fd, WASI_RIGHT(WASI_R_FD_ALLOCATE), &f);
  if (e) return e;
  if (off < 0 || len <= 0) return WASI_EINVAL;
  if (off > INT64_MAX - len) return WASI_EFBIG;
  if (f->vfs) return vfs_allocate(f, (uint64_t)off, (uint64_t)len);
  if ((uint64_t)(off + len) > f->node->size) return memfs_truncate(f->node, (uint64_t)(off + len));
  return 0;
}

static int32_t sync(kiln_instance *ctx, int32_t fd, int right) {
  struct wasi_fd *f;
  int e = wasi_fd_check(WASI_STATE(ctx), (uint32_t)fd, WASI_RIGHT(right), &f);
  if (e) return e;
  if (f->kind == WASI_FD_SOCKET) return WASI_EINVAL; /* as fsync(2) on a socket */
  if (f->vfs) return f->vfs->ops->sync(f->vfs, f->vf, right == WASI_R_FD_DATASYNC);
  return 0; /* memfs is always "on disk" */
}
int32_t WASI_FN(fd_sync, i_i)(kiln_instance *ctx, int32_t fd) { return sync(ctx, fd, WASI_R_FD_SYNC); }
int32_t WASI_FN(fd_datasync, i_i)(kiln_instance *ctx, int32_t fd) { return sync(ctx, fd, WASI_R_FD_DATASYNC); }

/* fd_readdir: entries are ".", "..", then the directory's in creation order; the cookie of
 * entry i is i and d_next is i + 1. The last entry is cut at the buffer's end; a full
 * buffer tells the caller to come back with a larger one (preview1). */
int32_t WASI_FN(fd_readdir, iiiIi_i)(kiln_instance *ctx, int32_t fd, int32_t buf, int32_t buflen, int64_t cookie,
                                      int32_t pused) {
  /* Not a directory is the better answer than a right no file could have. */
  struct wasi_fd *f = wasi_fd_get(WASI_STATE(ctx), (uint32_t)fd);
  if (!f) return WASI_EBADF;
  if (f->kind != WASI_FD_DIR) return WASI_ENOTDIR;
  if (!(f->rights_base & WASI_RIGHT(WASI_R_FD_READDIR))) return WASI_ENOTCAPABLE;
  uint8_t *b = wasi_guest_ptr(ctx, (uint32_t)buf, (uint32_t)buflen), *u = wasi_guest_ptr(ctx, (uint32_t)pused, 4);
  if (!b || !u) return WASI_EFAULT;
  if (f->vfs) {
    uint32_t used;
    int e = vfs_readdir(f, b, (uint32_t)buflen, (uint64_t)cookie, &used);
    if (!e) wasi_st32(u, used);
    return e;
  }
  struct wasi_node *d = f->node;
  uint32_t used = 0, cap = (uint32_t)buflen;
  for (uint64_t i = (uint64_t)cookie; i < 2ull + d->nents && used < cap; i++) {
    const char *name;
    uint32_t nlen;
    struct wasi_node *n;
    if (i == 0) name = ".", nlen = 1, n = d;
    else if (i == 1) name = "..", nlen = 2, n = d->parent ? d->parent : d;
    else name = d->ents[i - 2].name, nlen = d->ents[i - 2].len, n = d->ents[i - 2].node;
    uint8_t ent[WASI_DIRENT_SIZE] = {0};
    wasi_st64(ent, i + 1);
    wasi_st64(ent + 8, n->ino);
    wasi_st32(ent + 16, nlen);
    ent[20] = n->type;
    uint32_t k = cap - used < WASI_DIRENT_SIZE ? cap - used : WASI_DIRENT_SIZE;
    memcpy(b + used, ent, k);
    used += k;
    k = cap - used < nlen ? cap - used : nlen;
    memcpy(b + used, name, k);
    used += k;
  }
  wasi_st32(u, used);
  return 0;
}
