/* wasi/vfs.c — the WASI side of directories served by a backend (wasi/vfs.h): preopening,
 * offsets and append, the write quota, and packing readdir entries. path.c and fd.c call here
 * when an fd has f->vfs; they have done the rights and guest-pointer checks already. */
#include "wasi/vfs.h"
#include "wasi/wasi_int.h"

int wasi_preopen_vfs(struct wasi_state *st, struct wasi_vfs *v, struct wasi_vfs_file *root, const char *guest,
                     size_t len) {
  struct wasi_fd *f;
  int e = wasi_preopen_new(st, guest, len, &f);
  if (e) return e;
  f->vfs = v;
  f->vf = root;
  f->type = WASI_FILETYPE_DIRECTORY;
  return 0;
}

void vfs_stat_put(uint8_t *p, const struct wasi_vfs_stat *s) {
  memset(p, 0, WASI_FILESTAT_SIZE);
  wasi_st64(p + 0, s->dev);
  wasi_st64(p + 8, s->ino);
  p[16] = s->filetype;
  wasi_st64(p + 24, s->nlink);
  wasi_st64(p + 32, s->size);
  wasi_st64(p + 40, s->atim);
  wasi_st64(p + 48, s->mtim);
  wasi_st64(p + 56, s->ctim);
}

/* The same answers as memfs resolution gives before touching anything. */
int vfs_path_check(const char *p, uint32_t len) {
  if (len == 0) return WASI_ENOENT;
  for (uint32_t i = 0; i < len; i++)
    if (p[i] == 0) return WASI_EINVAL;
  return p[0] == '/' ? WASI_ENOTCAPABLE : 0;
}

int vfs_size(struct wasi_fd *f, uint64_t *size) {
  struct wasi_vfs_stat s;
  int e = f->vfs->ops->stat(f->vfs, f->vf, &s);
  if (!e) *size = s.size;
  return e;
}

/* Cut the iovecs to at most `max` bytes in all (a short write, as POSIX does at a limit). */
static size_t clip(struct wasi_buf *iov, size_t n, uint64_t max) {
  for (size_t i = 0; i < n; i++) {
    if (iov[i].len > max) iov[i].len = (size_t)max;
    max -= iov[i].len;
  }
  return n;
}

int vfs_rw(struct wasi_fd *f, struct wasi_iovs *v, uint64_t off, int positioned, int write, size_t *done) {
  struct wasi_vfs *fs = f->vfs;
  int e;
  *done = 0;
  if (!write) return fs->ops->pread(fs, f->vf, v->v, v->n, off, done);
  if (!positioned && (f->fdflags & WASI_FDFLAG_APPEND) && (e = vfs_size(f, &off))) return e;
  uint64_t total = wasi_iovs_total(v);
  if (total == 0) return fs->ops->pwrite(fs, f->vf, v->v, v->n, off, done);
  /* The quota: nothing past the size limit, nothing beyond the budget; what fits is written. */
  if (off >= fs->max_file_size) return WASI_EFBIG;
  if (fs->write_budget == 0) return WASI_ENOSPC;
  uint64_t room = fs->max_file_size - off;
  if (room > fs->write_budget) room = fs->write_budget;
  if (total > room) clip(v->v, v->n, room);
  e = fs->ops->pwrite(fs, f->vf, v->v, v->n, off, done);
  fs->write_budget -= *done < fs->write_budget ? *done : fs->write_budget;
  if (!e && (f->fdflags & (WASI_FDFLAG_SYNC | WASI_FDFLAG_DSYNC)))
    e = fs->ops->sync(fs, f->vf, !(f->fdflags & WASI_FDFLAG_SYNC));
  return *done ? 0 : e;
}

int vfs_set_size(struct wasi_fd *f, uint64_t size) {
  /* A larger size is a hole, which costs no disk: only the size limit applies. */
  if (size > f->vfs->max_file_size) return WASI_EFBIG;
  return f->vfs->ops->set_size(f->vfs, f->vf, size);
}

int vfs_allocate(struct wasi_fd *f, uint64_t off, uint64_t len) {
  struct wasi_vfs *fs = f->vfs;
  if (off + len > fs->max_file_size) return WASI_EFBIG;
  if (len > fs->write_budget) return WASI_ENOSPC;
  int e = fs->ops->allocate(fs, f->vf, off, len);
  if (!e) fs->write_budget -= len;
  return e;
}

struct pack {
  uint8_t *b;
  uint32_t used, cap;
};

/* One dirent record then its name, both cut at the buffer's end (preview1: a full buffer tells
 * the caller to come back with a larger one). */
static int emit(void *ud, const struct wasi_vfs_dirent *d) {
  struct pack *pk = ud;
  uint8_t ent[WASI_DIRENT_SIZE] = {0};
  wasi_st64(ent, d->next);
  wasi_st64(ent + 8, d->ino);
  wasi_st32(ent + 16, d->name_len);
  ent[20] = d->filetype;
  uint32_t k = pk->cap - pk->used < WASI_DIRENT_SIZE ? pk->cap - pk->used : WASI_DIRENT_SIZE;
  memcpy(pk->b + pk->used, ent, k);
  pk->used += k;
  k = pk->cap - pk->used < d->name_len ? pk->cap - pk->used : d->name_len;
  memcpy(pk->b + pk->used, d->name, k);
  pk->used += k;
  return pk->used >= pk->cap;
}

int vfs_readdir(struct wasi_fd *f, uint8_t *buf, uint32_t cap, uint64_t cookie, uint32_t *used) {
  struct pack pk = {buf, 0, cap};
  *used = 0;
  if (cap == 0) return 0;
  int e = f->vfs->ops->readdir(f->vfs, f->vf, cookie, emit, &pk);
  *used = pk.used;
  return e;
}

int vfs_open(struct wasi_state *st, struct wasi_fd *dir, const char *p, uint32_t len, int follow, uint16_t oflags,
             uint64_t base, uint64_t inh, uint16_t fdflags, uint32_t *nfd) {
  struct wasi_vfs *fs = dir->vfs;
  int e = vfs_path_check(p, len);
  if (e) return e;
  int access = 0;
  if (base & (WASI_RIGHT(WASI_R_FD_READ) | WASI_RIGHT(WASI_R_FD_READDIR))) access |= WASI_VFS_READ;
  if (base & (WASI_RIGHT(WASI_R_FD_WRITE) | WASI_RIGHT(WASI_R_FD_ALLOCATE) | WASI_RIGHT(WASI_R_FD_FILESTAT_SET_SIZE)))
    access |= WASI_VFS_WRITE;
  /* A directory is never opened for writing: when the guest asks for write-ish rights other than
   * fd_write (allocate, set_size), they are dropped and it opens for reading, as on memfs; only
   * fd_write or O_TRUNC make it EISDIR. */
  struct wasi_vfs_file *h;
  uint8_t type;
  if ((e = fs->ops->open(fs, dir->vf, p, len, follow, oflags, access, &h, &type))) {
    /* A directory asked for with write rights but no fd_write: open it for reading. */
    if (e != WASI_EISDIR || (base & WASI_RIGHT(WASI_R_FD_WRITE)) || (oflags & WASI_O_TRUNC)) return e;
    if ((e = fs->ops->open(fs, dir->vf, p, len, follow, oflags, WASI_VFS_READ, &h, &type))) return e;
  }
  int isdir = type == WASI_FILETYPE_DIRECTORY;
  uint64_t rb = base & (isdir ? WASI_RIGHTS_DIR : WASI_RIGHTS_FILE);
  if ((e = wasi_fd_new(st, isdir ? WASI_FD_DIR : WASI_FD_FILE, NULL, NULL, rb, inh, nfd))) {
    fs->ops->close(fs, h);
    return e;
  }
  struct wasi_fd *f = &st->fds[*nfd];
  f->vfs = fs;
  f->vf = h;
  f->type = type;
  f->fdflags = fdflags;
  return 0;
}
