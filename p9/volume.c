/* p9/volume.c — `kiln run --volume HOST:GUEST` in the VM: each virtio-9p device is a host
 * directory served by QEMU, preopened at GUEST (its mount tag, see `kiln`) through the WASI
 * backend interface (wasi/vfs.h) implemented here over the 9P2000.L client.
 *
 * Confinement is ours, not the server's: every path goes through p9/resolve.c, in the guest,
 * and a symlink is never opened (O_NOFOLLOW too), so the server never follows one for us. */
#include "kernel/kernel.h"
#include "p9/p9.h"
#include "wasi/vfs.h"
#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

/* QEMU (security_model=none) sets the mode we give after creating, ignoring its umask: give
 * what 0666/0777 less the usual umask 022 would, as a native program would get. */
#define NEW_FILE_MODE 0644
#define NEW_DIR_MODE 0755

struct volume {
  struct wasi_vfs vfs; /* first: wasi/ hands it back to us */
  struct p9_client *c;
  uint64_t dev;
};

struct wasi_vfs_file {
  uint32_t fid;     /* walked to the file; for a regular file also opened */
  uint32_t dirfid;  /* a directory: a second fid opened for Treaddir, P9_NOFID until needed */
  uint8_t type;     /* WASI_FILETYPE_DIRECTORY or _REGULAR_FILE */
};

static struct volume vols[P9_MAX_DEVS];
static int nvols;

static struct p9_client *C(struct wasi_vfs *v) { return ((struct volume *)v)->c; }

static uint8_t mode_type(uint32_t mode) {
  switch (mode & P9_S_IFMT) {
  case P9_S_IFDIR: return WASI_FILETYPE_DIRECTORY;
  case P9_S_IFREG: return WASI_FILETYPE_REGULAR_FILE;
  case P9_S_IFLNK: return WASI_FILETYPE_SYMBOLIC_LINK;
  case P9_S_IFCHR: return WASI_FILETYPE_CHARACTER_DEVICE;
  case P9_S_IFBLK: return WASI_FILETYPE_BLOCK_DEVICE;
  case P9_S_IFSOCK: return WASI_FILETYPE_SOCKET_STREAM;
  }
  return WASI_FILETYPE_UNKNOWN;
}

static int getstat(struct wasi_vfs *v, uint32_t fid, struct wasi_vfs_stat *out) {
  struct p9_attr a;
  int e = p9_getattr(C(v), fid, &a);
  if (e) return e;
  out->dev = ((struct volume *)v)->dev;
  out->ino = a.qid.path;
  out->filetype = mode_type(a.mode);
  out->nlink = a.nlink;
  out->size = a.size;
  out->atim = a.atime_ns, out->mtim = a.mtime_ns, out->ctim = a.ctime_ns;
  return 0;
}

/* ---- the backend operations (wasi/vfs.h) ---- */

static struct wasi_vfs_file *handle_new(uint32_t fid, uint8_t type) {
  struct wasi_vfs_file *f = kalloc(sizeof *f);
  if (f) f->fid = fid, f->dirfid = P9_NOFID, f->type = type;
  return f;
}

static int v_open(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                  uint16_t oflags, int access, struct wasi_vfs_file **out, uint8_t *type) {
  struct p9_client *c = C(v);
  struct p9_res r;
  int e = p9_resolve(c, dir->fid, path, len, follow, &r);
  if (e) return e;
  uint32_t rw = (access & WASI_VFS_WRITE) ? ((access & WASI_VFS_READ) ? P9_O_RDWR : P9_O_WRONLY) : P9_O_RDONLY;
  uint32_t fid = P9_NOFID;
  uint8_t t = WASI_FILETYPE_REGULAR_FILE;
  if (r.fid == P9_NOFID) {
    if (!(oflags & WASI_O_CREAT)) e = WASI_ENOENT;
    else if ((oflags & WASI_O_DIRECTORY) || r.trailing) e = WASI_EISDIR;
    else {
      /* Tlcreate turns the parent's fid into the new, open file's. */
      struct p9_qid q;
      e = p9_lcreate(c, r.parent, r.name, r.name_len, rw | P9_O_EXCL | (oflags & WASI_O_TRUNC ? P9_O_TRUNC : 0), NEW_FILE_MODE,
                     &q);
      if (!e) fid = r.parent, r.parent = P9_NOFID;
    }
  } else if ((oflags & WASI_O_CREAT) && (oflags & WASI_O_EXCL)) e = WASI_EEXIST;
  else if (r.qid.type & P9_QTSYMLINK) e = WASI_ELOOP; /* O_NOFOLLOW on a symlink */
  else if (r.qid.type & P9_QTDIR) {
    if ((access & WASI_VFS_WRITE) || (oflags & WASI_O_TRUNC)) e = WASI_EISDIR;
    else fid = r.fid, r.fid = P9_NOFID, t = WASI_FILETYPE_DIRECTORY;
  } else if (oflags & WASI_O_DIRECTORY) e = WASI_ENOTDIR;
  else {
    struct p9_attr a;
    if (!(e = p9_getattr(c, r.fid, &a)) && mode_type(a.mode) != WASI_FILETYPE_REGULAR_FILE) e = WASI_ENOTSUP;
    /* Access 0 (a handle for fstat or seek) opens for reading, as O_RDONLY (wasi/vfs.h). */
    if (!e)
      e = p9_lopen(c, r.fid, rw | P9_O_NOFOLLOW | (oflags & WASI_O_TRUNC ? P9_O_TRUNC : 0), NULL);
    if (!e) fid = r.fid, r.fid = P9_NOFID;
  }
  p9_res_done(c, &r);
  if (e) return e;
  if (!(*out = handle_new(fid, t))) {
    p9_clunk(c, fid);
    return WASI_ENOMEM;
  }
  *type = t;
  return 0;
}

static void v_close(struct wasi_vfs *v, struct wasi_vfs_file *f) {
  p9_clunk(C(v), f->fid);
  if (f->dirfid != P9_NOFID) p9_clunk(C(v), f->dirfid);
  kfree(f);
}

static int v_pread(struct wasi_vfs *v, struct wasi_vfs_file *f, const struct wasi_buf *iov, size_t n, uint64_t off,
                   size_t *done) {
  *done = 0;
  if (f->type != WASI_FILETYPE_REGULAR_FILE) return WASI_EISDIR;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < iov[i].len;) {
      size_t want = iov[i].len - k;
      uint32_t got;
      int e = p9_read(C(v), f->fid, off, iov[i].p + k, want > 0xffffffffu ? 0xffffffffu : (uint32_t)want, &got);
      if (e) return *done ? 0 : e;
      *done += got, off += got, k += got;
      if (got == 0) return 0; /* end of file */
    }
  return 0;
}

static int v_pwrite(struct wasi_vfs *v, struct wasi_vfs_file *f, const struct wasi_buf *iov, size_t n, uint64_t off,
                    size_t *done) {
  *done = 0;
  if (f->type != WASI_FILETYPE_REGULAR_FILE) return WASI_EISDIR;
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < iov[i].len;) {
      size_t want = iov[i].len - k;
      uint32_t put;
      int e = p9_write(C(v), f->fid, off, iov[i].p + k, want > 0xffffffffu ? 0xffffffffu : (uint32_t)want, &put);
      if (e) return *done ? 0 : e;
      *done += put, off += put, k += put;
      if (put == 0) return *done ? 0 : WASI_EIO; /* a server that stalls: no endless loop */
    }
  return 0;
}

static int v_stat(struct wasi_vfs *v, struct wasi_vfs_file *f, struct wasi_vfs_stat *out) {
  return getstat(v, f->fid, out);
}

static int v_stat_at(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                     struct wasi_vfs_stat *out) {
  struct p9_res r;
  int e = p9_resolve(C(v), dir->fid, path, len, follow, &r);
  if (e) return e;
  e = r.fid == P9_NOFID ? WASI_ENOENT : getstat(v, r.fid, out);
  p9_res_done(C(v), &r);
  return e;
}

static int v_set_size(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t size) {
  if (f->type != WASI_FILETYPE_REGULAR_FILE) return WASI_EISDIR;
  return p9_setattr(C(v), f->fid, P9_SETATTR_SIZE, 0, size, 0, 0);
}

static int times(struct wasi_vfs *v, uint32_t fid, uint64_t atim, uint64_t mtim, uint32_t fst) {
  uint32_t valid = 0;
  if (fst & WASI_FST_ATIM) valid |= P9_SETATTR_ATIME | P9_SETATTR_ATIME_SET;
  if (fst & WASI_FST_ATIM_NOW) valid |= P9_SETATTR_ATIME;
  if (fst & WASI_FST_MTIM) valid |= P9_SETATTR_MTIME | P9_SETATTR_MTIME_SET;
  if (fst & WASI_FST_MTIM_NOW) valid |= P9_SETATTR_MTIME;
  if (!valid) return 0;
  return p9_setattr(C(v), fid, valid, 0, 0, atim, mtim);
}

static int v_set_times(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t atim, uint64_t mtim, uint32_t fst) {
  return times(v, f->fid, atim, mtim, fst);
}

static int v_set_times_at(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                          uint64_t atim, uint64_t mtim, uint32_t fst) {
  struct p9_res r;
  int e = p9_resolve(C(v), dir->fid, path, len, follow, &r);
  if (e) return e;
  /* A symlink itself: QEMU's setattr would follow it (utimensat without NOFOLLOW on its path). */
  if (r.fid == P9_NOFID) e = WASI_ENOENT;
  else if (r.qid.type & P9_QTSYMLINK) e = WASI_ENOTSUP;
  else e = times(v, r.fid, atim, mtim, fst);
  p9_res_done(C(v), &r);
  return e;
}

static int v_readdir(struct wasi_vfs *v, struct wasi_vfs_file *dir, uint64_t cookie, wasi_vfs_emit emit, void *ud) {
  struct p9_client *c = C(v);
  if (dir->type != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
  int e;
  if (dir->dirfid == P9_NOFID) {
    const char *none[1];
    uint32_t nl[1], fid;
    if ((e = p9_walk(c, dir->fid, 0, none, nl, &fid, NULL))) return e;
    if ((e = p9_lopen(c, fid, P9_O_RDONLY | P9_O_DIRECTORY, NULL))) {
      p9_clunk(c, fid);
      return e;
    }
    dir->dirfid = fid;
  }
  enum { CHUNK = 16384 };
  uint8_t *buf = kalloc(CHUNK);
  if (!buf) return WASI_ENOMEM;
  uint64_t off = cookie;
  for (int stop = 0; !stop;) {
    uint32_t got, pos = 0;
    if ((e = p9_readdir(c, dir->dirfid, off, buf, CHUNK, &got)) || got == 0) break;
    struct p9_qid q;
    uint64_t next;
    uint8_t dt;
    const char *name;
    uint16_t nlen;
    int k;
    while (!stop && (k = p9_dirent_next(buf, got, &pos, &q, &next, &dt, &name, &nlen)) > 0) {
      struct wasi_vfs_dirent d = {next, q.path,
                                  dt == P9_DT_DIR   ? WASI_FILETYPE_DIRECTORY
                                  : dt == P9_DT_REG ? WASI_FILETYPE_REGULAR_FILE
                                  : dt == P9_DT_LNK ? WASI_FILETYPE_SYMBOLIC_LINK
                                                    : WASI_FILETYPE_UNKNOWN,
                                  name, nlen};
      stop = emit(ud, &d);
      off = next;
    }
    if (k < 0) {
      e = WASI_EIO;
      break;
    }
  }
  kfree(buf);
  return e;
}

/* Entry operations: the last component in its parent, never followed. */
static int entry(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, struct p9_res *r) {
  int e = p9_resolve(C(v), dir->fid, path, len, 0, r);
  if (!e && r->parent == P9_NOFID) { /* ".", ".." or the base itself */
    p9_res_done(C(v), r);
    return WASI_EBUSY;
  }
  return e;
}

static int v_mkdir(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len) {
  struct p9_res r;
  int e = entry(v, dir, path, len, &r);
  if (e) return e == WASI_EBUSY ? WASI_EEXIST : e;
  e = r.fid != P9_NOFID ? WASI_EEXIST : p9_mkdir(C(v), r.parent, r.name, r.name_len, NEW_DIR_MODE);
  p9_res_done(C(v), &r);
  return e;
}

static int unlinkat(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int isdir) {
  struct p9_res r;
  int e = entry(v, dir, path, len, &r);
  if (e) return e == WASI_EBUSY ? (isdir ? WASI_EINVAL : WASI_EISDIR) : e;
  if (r.fid == P9_NOFID) e = WASI_ENOENT;
  else if (isdir && !(r.qid.type & P9_QTDIR)) e = WASI_ENOTDIR;
  else if (!isdir && (r.qid.type & P9_QTDIR)) e = WASI_EISDIR;
  else if (!isdir && r.trailing) e = WASI_ENOTDIR;
  else e = p9_unlinkat(C(v), r.parent, r.name, r.name_len, isdir ? P9_AT_REMOVEDIR : 0);
  p9_res_done(C(v), &r);
  return e;
}
static int v_rmdir(struct wasi_vfs *v, struct wasi_vfs_file *d, const char *p, uint32_t n) { return unlinkat(v, d, p, n, 1); }
static int v_unlink(struct wasi_vfs *v, struct wasi_vfs_file *d, const char *p, uint32_t n) { return unlinkat(v, d, p, n, 0); }

static int v_rename(struct wasi_vfs *v, struct wasi_vfs_file *odir, const char *opath, uint32_t olen,
                    struct wasi_vfs_file *ndir, const char *npath, uint32_t nlen) {
  struct p9_res o, n;
  int e = entry(v, odir, opath, olen, &o);
  if (e) return e;
  if ((e = entry(v, ndir, npath, nlen, &n))) {
    p9_res_done(C(v), &o);
    return e;
  }
  if (o.fid == P9_NOFID) e = WASI_ENOENT;
  else if (n.trailing && !(o.qid.type & P9_QTDIR)) e = WASI_ENOTDIR;
  else e = p9_renameat(C(v), o.parent, o.name, o.name_len, n.parent, n.name, n.name_len);
  p9_res_done(C(v), &o);
  p9_res_done(C(v), &n);
  return e;
}

static int v_symlink(struct wasi_vfs *v, const char *target, uint32_t tlen, struct wasi_vfs_file *dir,
                     const char *path, uint32_t len) {
  struct p9_res r;
  int e = entry(v, dir, path, len, &r);
  if (e) return e == WASI_EBUSY ? WASI_EEXIST : e;
  if (r.fid != P9_NOFID) e = WASI_EEXIST;
  else if (r.trailing) e = WASI_ENOENT;
  else e = p9_symlink(C(v), r.parent, r.name, r.name_len, target, tlen);
  p9_res_done(C(v), &r);
  return e;
}

static int v_readlink(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, char *buf,
                      size_t cap, size_t *n) {
  struct p9_res r;
  int e = p9_resolve(C(v), dir->fid, path, len, 0, &r);
  if (e) return e;
  if (r.fid == P9_NOFID) e = WASI_ENOENT;
  else if (!(r.qid.type & P9_QTSYMLINK)) e = WASI_EINVAL;
  else {
    char *t = kalloc(P9_PATH_MAX + 1);
    uint32_t tl;
    if (!t) e = WASI_ENOMEM;
    else if (!(e = p9_readlink(C(v), r.fid, t, P9_PATH_MAX + 1, &tl))) {
      size_t k = tl < cap ? tl : cap;
      if (k > P9_PATH_MAX) k = P9_PATH_MAX;
      memcpy(buf, t, k);
      *n = k;
    }
    kfree(t);
  }
  p9_res_done(C(v), &r);
  return e;
}

static int v_link(struct wasi_vfs *v, struct wasi_vfs_file *odir, const char *opath, uint32_t olen, int follow,
                  struct wasi_vfs_file *ndir, const char *npath, uint32_t nlen) {
  struct p9_res o, n;
  int e = p9_resolve(C(v), odir->fid, opath, olen, follow, &o);
  if (e) return e;
  if ((e = entry(v, ndir, npath, nlen, &n))) {
    p9_res_done(C(v), &o);
    return e == WASI_EBUSY ? WASI_EEXIST : e;
  }
  if (o.fid == P9_NOFID) e = WASI_ENOENT;
  else if (o.qid.type & P9_QTDIR) e = WASI_EPERM; /* no hard links to directories */
  else if (n.fid != P9_NOFID) e = WASI_EEXIST;
  else if (n.trailing) e = WASI_ENOENT;
  else e = p9_link(C(v), n.parent, o.fid, n.name, n.name_len);
  p9_res_done(C(v), &o);
  p9_res_done(C(v), &n);
  return e;
}

static int v_allocate(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t off, uint64_t len) {
  if (f->type != WASI_FILETYPE_REGULAR_FILE) return WASI_EISDIR;
  if (off + len < off) return WASI_EFBIG;
  struct p9_attr a;
  int e = p9_getattr(C(v), f->fid, &a);
  if (e || off + len <= a.size) return e;
  return p9_setattr(C(v), f->fid, P9_SETATTR_SIZE, 0, off + len, 0, 0);
}

static int v_sync(struct wasi_vfs *v, struct wasi_vfs_file *f, int data_only) {
  if (f->type != WASI_FILETYPE_REGULAR_FILE) return 0; /* directory fids are not opened for I/O */
  return p9_fsync(C(v), f->fid, data_only);
}

static const struct wasi_vfs_ops volume_ops = {
    .open = v_open, .close = v_close, .pread = v_pread, .pwrite = v_pwrite, .stat = v_stat, .stat_at = v_stat_at,
    .set_size = v_set_size, .set_times = v_set_times, .set_times_at = v_set_times_at, .readdir = v_readdir,
    .mkdir = v_mkdir, .rmdir = v_rmdir, .unlink = v_unlink, .rename = v_rename, .symlink = v_symlink,
    .readlink = v_readlink, .link = v_link, .allocate = v_allocate, .sync = v_sync,
};

/* ---- the kernel's side: probe at boot, preopen when the app starts ---- */

void volume_init(void) {
  int n = virtio_9p_init();
  for (int i = 0; i < n; i++) {
    struct virtio_9p *d = virtio_9p_get(i);
    struct volume *vol = &vols[nvols];
    int e = p9_connect(d, &vol->c);
    /* A volume the user asked for and cannot have must stop the run, not be silently absent. */
    if (e) panic("volume '%s': 9P2000.L attach failed (WASI errno %d)", virtio_9p_tag(d), e);
    vol->vfs = (struct wasi_vfs){&volume_ops, vol, WASI_VFS_DEFAULT_MAX_FILE_SIZE, WASI_VFS_DEFAULT_WRITE_BUDGET};
    vol->dev = 16 + (uint64_t)nvols; /* memfs is device 1 */
    nvols++;
  }
}

void volume_preopen(struct wasi_state *st) {
  for (int i = 0; i < nvols; i++) {
    struct p9_client *c = vols[i].c;
    const char *guest = virtio_9p_tag(virtio_9p_get(i)), *none[1];
    uint32_t nl[1], fid;
    struct wasi_vfs_file *root;
    int e = p9_walk(c, p9_root(c), 0, none, nl, &fid, NULL);
    if (!e && !(root = handle_new(fid, WASI_FILETYPE_DIRECTORY))) e = WASI_ENOMEM;
    if (!e) e = wasi_preopen_vfs(st, &vols[i].vfs, root, guest, strlen(guest));
    if (e) panic("volume '%s': cannot preopen (WASI errno %d)", guest, e);
  }
}
