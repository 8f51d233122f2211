/* host/hostfs.c — the hosted runtime's --dir: a backend of wasi/vfs.h serving a host directory
 * itself, read-write, as wasmtime does. Confinement is the kernel's: every path is resolved with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS) from a directory fd we hold, so "..", absolute
 * symlinks and symlinks leading out fail (EXDEV, reported as ENOTCAPABLE) whatever the guest or
 * another host process puts in the tree. Entry operations (mkdir, unlink, rename, ...) resolve
 * the parent that way and then act on one name in it, which the kernel never follows. Holes in
 * files stay holes: the data lives in real files, not in this process. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "host/host.h"
#include "wasi/vfs.h"
#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

/* beneath()'s "the path leaves the root" (openat2 says EXDEV, which renameat/linkat also say for
 * a real cross-device move: that one must stay EXDEV, so programs fall back to copying). */
#define ELEAVES 100000

struct wasi_vfs_file {
  int fd;      /* O_RDONLY|O_DIRECTORY for a directory, the open file otherwise */
  uint8_t type;
  DIR *dir;    /* readdir's stream, made on first use from a dup of fd */
};

_Static_assert(sizeof(struct wasi_buf) == sizeof(struct iovec), "wasi_buf is an iovec");
_Static_assert(offsetof(struct wasi_buf, len) == offsetof(struct iovec, iov_len), "wasi_buf is an iovec");

int hostfs_errno(int e) {
  switch (e) {
  case 0: return 0;
  case EACCES: return WASI_EACCES;
  case EAGAIN: return WASI_EAGAIN;
  case EBADF: return WASI_EBADF;
  case EBUSY: return WASI_EBUSY;
  case EDQUOT: return WASI_EDQUOT;
  case EEXIST: return WASI_EEXIST;
  case EFBIG: return WASI_EFBIG;
  case EINTR: return WASI_EINTR;
  case EINVAL: return WASI_EINVAL;
  case EIO: return WASI_EIO;
  case EISDIR: return WASI_EISDIR;
  case ELOOP: return WASI_ELOOP;
  case EMFILE: return WASI_EMFILE;
  case EMLINK: return WASI_EMLINK;
  case ENAMETOOLONG: return WASI_ENAMETOOLONG;
  case ENFILE: return WASI_ENFILE;
  case ENODEV: return WASI_ENODEV;
  case ENOENT: return WASI_ENOENT;
  case ENOMEM: return WASI_ENOMEM;
  case ENOSPC: return WASI_ENOSPC;
  case ENOSYS: return WASI_ENOSYS;
  case ENOTDIR: return WASI_ENOTDIR;
  case ENOTEMPTY: return WASI_ENOTEMPTY;
  case EOPNOTSUPP: return WASI_ENOTSUP;
  case ENXIO: return WASI_ENXIO;
  case EOVERFLOW: return WASI_EOVERFLOW;
  case EPERM: return WASI_EPERM;
  case EROFS: return WASI_EROFS;
  case ESPIPE: return WASI_ESPIPE;
  case ETXTBSY: return WASI_ETXTBSY;
  case EXDEV: return WASI_EXDEV;
  case ELEAVES: return WASI_ENOTCAPABLE;
  default: return WASI_EIO;
  }
}

static uint8_t filetype(mode_t m) {
  if (S_ISREG(m)) return WASI_FILETYPE_REGULAR_FILE;
  if (S_ISDIR(m)) return WASI_FILETYPE_DIRECTORY;
  if (S_ISLNK(m)) return WASI_FILETYPE_SYMBOLIC_LINK;
  if (S_ISCHR(m)) return WASI_FILETYPE_CHARACTER_DEVICE;
  if (S_ISBLK(m)) return WASI_FILETYPE_BLOCK_DEVICE;
  if (S_ISSOCK(m)) return WASI_FILETYPE_SOCKET_STREAM;
  return WASI_FILETYPE_UNKNOWN;
}

static uint64_t ns(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec; }

void hostfs_stat_fill(const struct stat *s, struct wasi_vfs_stat *o) {
  o->dev = (uint64_t)s->st_dev;
  o->ino = (uint64_t)s->st_ino;
  o->filetype = filetype(s->st_mode);
  o->nlink = (uint64_t)s->st_nlink;
  o->size = (uint64_t)s->st_size;
  o->atim = ns(s->st_atim);
  o->mtim = ns(s->st_mtim);
  o->ctim = ns(s->st_ctim);
}

/* A NUL-terminated copy of the guest's path (which has none). */
static char *cpath(const char *p, uint32_t len) {
  if (len >= 4096) return NULL;
  char *s = malloc(len + 1);
  if (s) memcpy(s, p, len), s[len] = 0;
  return s;
}

/* openat2 beneath dirfd: the fd, or -errno (-ELEAVES when the path would leave dirfd). */
static int beneath(int dirfd, const char *path, uint64_t flags, uint64_t mode) {
  struct open_how how = {.flags = flags | O_CLOEXEC, .mode = mode,
                         .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
  /* EAGAIN: a rename raced with a ".." walk; the kernel asks to retry (bounded, the racer may
   * be anyone on the host) */
  for (int tries = 0;; tries++) {
    long r = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
    if (r >= 0) return (int)r;
    if (errno == EXDEV) return -ELEAVES;
    if (errno != EINTR && !(errno == EAGAIN && tries < 100)) return -errno;
  }
}

/* The parent of path's last component, opened (O_PATH) beneath dirfd, and that component with
 * any trailing slashes (the kernel acts on it without following it). *dot is 1 when the last
 * component is "." or ".." (after the whole path was checked to stay beneath). */
struct entry {
  int pfd;
  char *buf;
  const char *last;
  int dot;
  int trailing;
};

static int entry_get(int dirfd, const char *p, uint32_t len, struct entry *e) {
  memset(e, 0, sizeof *e);
  e->pfd = -1;
  if (!(e->buf = cpath(p, len))) return len >= 4096 ? WASI_ENAMETOOLONG : WASI_ENOMEM;
  size_t n = len;
  while (n > 1 && e->buf[n - 1] == '/') n--;
  e->trailing = n < len;
  size_t s = n;
  while (s > 0 && e->buf[s - 1] != '/') s--;
  const char *last = e->buf + s;
  size_t ll = n - s;
  e->dot = (ll == 1 && last[0] == '.') || (ll == 2 && last[0] == '.' && last[1] == '.');
  int fd;
  if (e->dot) {
    fd = beneath(dirfd, e->buf, O_PATH, 0); /* confinement of the whole path */
    if (fd >= 0) close(fd);
    else return hostfs_errno(-fd);
    return 0;
  }
  if (s == 0) {
    fd = beneath(dirfd, ".", O_PATH | O_DIRECTORY, 0);
  } else {
    char save = e->buf[s];
    e->buf[s] = 0;
    fd = beneath(dirfd, e->buf, O_PATH | O_DIRECTORY, 0);
    e->buf[s] = save;
  }
  if (fd < 0) return hostfs_errno(-fd);
  e->pfd = fd;
  e->last = last;
  return 0;
}

static void entry_done(struct entry *e) {
  if (e->pfd >= 0) close(e->pfd);
  free(e->buf);
}

/* ---- the operations ---- */

static int hf_open(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                   uint16_t oflags, int access, struct wasi_vfs_file **out, uint8_t *type) {
  char *p = cpath(path, len);
  if (!p) return len >= 4096 ? WASI_ENAMETOOLONG : WASI_ENOMEM;
  if (oflags & WASI_O_TRUNC) access |= WASI_VFS_WRITE;
  uint64_t fl = access == (WASI_VFS_READ | WASI_VFS_WRITE) ? O_RDWR : access & WASI_VFS_WRITE ? O_WRONLY : O_RDONLY;
  if (oflags & WASI_O_CREAT) fl |= O_CREAT;
  if (oflags & WASI_O_EXCL) fl |= O_EXCL;
  if (oflags & WASI_O_TRUNC) fl |= O_TRUNC;
  if (oflags & WASI_O_DIRECTORY) fl |= O_DIRECTORY;
  if (!follow) fl |= O_NOFOLLOW;
  /* O_NONBLOCK: a FIFO in the tree must not hang the open (it is refused below anyway). */
  int fd = beneath(dir->fd, p, fl | O_NOCTTY | O_NONBLOCK, (fl & O_CREAT) ? 0666 : 0); /* openat2: mode only with O_CREAT */
  free(p);
  if (fd < 0) return hostfs_errno(-fd);
  struct stat st;
  if (fstat(fd, &st) != 0 || !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))) {
    close(fd);
    return WASI_ENOTSUP; /* devices, FIFOs, sockets are not served */
  }
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
  struct wasi_vfs_file *f = calloc(1, sizeof *f);
  if (!f) {
    close(fd);
    return WASI_ENOMEM;
  }
  f->fd = fd;
  f->type = *type = filetype(st.st_mode);
  *out = f;
  return 0;
}

static void hf_close(struct wasi_vfs *v, struct wasi_vfs_file *f) {
  if (f->dir) closedir(f->dir);
  close(f->fd);
  free(f);
}

static int hf_pread(struct wasi_vfs *v, struct wasi_vfs_file *f, const struct wasi_buf *iov, size_t n, uint64_t off,
                    size_t *done) {
  if (off > INT64_MAX) return WASI_EINVAL;
  ssize_t r;
  while ((r = preadv(f->fd, (const struct iovec *)iov, (int)n, (off_t)off)) < 0 && errno == EINTR) {}
  if (r < 0) return hostfs_errno(errno);
  *done = (size_t)r;
  return 0;
}

static int hf_pwrite(struct wasi_vfs *v, struct wasi_vfs_file *f, const struct wasi_buf *iov, size_t n, uint64_t off,
                     size_t *done) {
  if (off > INT64_MAX) return WASI_EINVAL;
  ssize_t r;
  while ((r = pwritev(f->fd, (const struct iovec *)iov, (int)n, (off_t)off)) < 0 && errno == EINTR) {}
  if (r < 0) return hostfs_errno(errno);
  *done = (size_t)r;
  return 0;
}

static int hf_stat(struct wasi_vfs *v, struct wasi_vfs_file *f, struct wasi_vfs_stat *out) {
  struct stat st;
  if (fstat(f->fd, &st) != 0) return hostfs_errno(errno);
  hostfs_stat_fill(&st, out);
  return 0;
}

/* The object path names (its last component followed or not), as an O_PATH fd, or -WASI errno. */
static int path_fd(struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow) {
  char *p = cpath(path, len);
  if (!p) return -(len >= 4096 ? WASI_ENAMETOOLONG : WASI_ENOMEM);
  int fd = beneath(dir->fd, p, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
  free(p);
  return fd < 0 ? -hostfs_errno(-fd) : fd;
}

static int hf_stat_at(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                      struct wasi_vfs_stat *out) {
  int fd = path_fd(dir, path, len, follow);
  if (fd < 0) return -fd;
  struct stat st;
  int e = fstatat(fd, "", &st, AT_EMPTY_PATH) != 0 ? hostfs_errno(errno) : 0;
  close(fd);
  if (!e) hostfs_stat_fill(&st, out);
  return e;
}

static int hf_set_size(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t size) {
  if (size > INT64_MAX) return WASI_EFBIG;
  return ftruncate(f->fd, (off_t)size) != 0 ? hostfs_errno(errno) : 0;
}

static void times(struct timespec ts[2], uint64_t atim, uint64_t mtim, uint32_t fst) {
  ts[0].tv_nsec = ts[1].tv_nsec = UTIME_OMIT;
  ts[0].tv_sec = ts[1].tv_sec = 0;
  if (fst & WASI_FST_ATIM) ts[0] = (struct timespec){(time_t)(atim / 1000000000u), (long)(atim % 1000000000u)};
  if (fst & WASI_FST_ATIM_NOW) ts[0].tv_nsec = UTIME_NOW;
  if (fst & WASI_FST_MTIM) ts[1] = (struct timespec){(time_t)(mtim / 1000000000u), (long)(mtim % 1000000000u)};
  if (fst & WASI_FST_MTIM_NOW) ts[1].tv_nsec = UTIME_NOW;
}

static int hf_set_times(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t atim, uint64_t mtim, uint32_t fst) {
  struct timespec ts[2];
  times(ts, atim, mtim, fst);
  return futimens(f->fd, ts) != 0 ? hostfs_errno(errno) : 0;
}

static int hf_set_times_at(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                           uint64_t atim, uint64_t mtim, uint32_t fst) {
  struct timespec ts[2];
  times(ts, atim, mtim, fst);
  if (!follow) { /* the entry itself, in its (confined) parent */
    struct entry en;
    int e = entry_get(dir->fd, path, len, &en);
    if (!e && !en.dot && utimensat(en.pfd, en.last, ts, AT_SYMLINK_NOFOLLOW) != 0) e = hostfs_errno(errno);
    if (!e && en.dot) follow = 1; /* "." / "..": a directory, nothing to not follow */
    entry_done(&en);
    if (e || !follow) return e;
  }
  /* Resolved (confined) by openat2, then changed through our own fd's /proc name. */
  int fd = path_fd(dir, path, len, 1);
  if (fd < 0) return -fd;
  char proc[64];
  snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  int e = utimensat(AT_FDCWD, proc, ts, 0) != 0 ? hostfs_errno(errno) : 0;
  close(fd);
  return e;
}

/* Cookies are the host's own directory offsets (d_off: where the next entry starts), which
 * seekdir accepts back; 0 is the start. */
static int hf_readdir(struct wasi_vfs *v, struct wasi_vfs_file *d, uint64_t cookie, wasi_vfs_emit emit, void *ud) {
  if (d->type != WASI_FILETYPE_DIRECTORY) return WASI_ENOTDIR;
  if (!d->dir) {
    int fd = dup(d->fd);
    if (fd < 0 || !(d->dir = fdopendir(fd))) {
      if (fd >= 0) close(fd);
      return hostfs_errno(errno);
    }
  }
  if (cookie == 0) rewinddir(d->dir);
  else if (cookie > INT64_MAX) return 0; /* past any real offset: the end */
  else seekdir(d->dir, (long)cookie);
  for (;;) {
    errno = 0;
    struct dirent *de = readdir(d->dir);
    if (!de) return errno ? hostfs_errno(errno) : 0;
    struct wasi_vfs_dirent e = {.next = (uint64_t)de->d_off, .ino = de->d_ino, .name = de->d_name,
                                .name_len = (uint32_t)strlen(de->d_name)};
    switch (de->d_type) {
    case DT_REG: e.filetype = WASI_FILETYPE_REGULAR_FILE; break;
    case DT_DIR: e.filetype = WASI_FILETYPE_DIRECTORY; break;
    case DT_LNK: e.filetype = WASI_FILETYPE_SYMBOLIC_LINK; break;
    case DT_CHR: e.filetype = WASI_FILETYPE_CHARACTER_DEVICE; break;
    case DT_BLK: e.filetype = WASI_FILETYPE_BLOCK_DEVICE; break;
    case DT_SOCK: e.filetype = WASI_FILETYPE_SOCKET_STREAM; break;
    case DT_UNKNOWN: { /* some file systems do not say: ask */
      struct stat st;
      e.filetype = fstatat(dirfd(d->dir), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 ? filetype(st.st_mode) : 0;
      break;
    }
    default: e.filetype = WASI_FILETYPE_UNKNOWN;
    }
    if (emit(ud, &e)) return 0;
  }
}

static int hf_mkdir(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len) {
  struct entry en;
  int e = entry_get(dir->fd, path, len, &en);
  if (!e) e = en.dot ? WASI_EEXIST : mkdirat(en.pfd, en.last, 0777) != 0 ? hostfs_errno(errno) : 0;
  entry_done(&en);
  return e;
}

static int hf_rmdir(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len) {
  struct entry en;
  int e = entry_get(dir->fd, path, len, &en);
  if (!e) e = en.dot ? WASI_EINVAL : unlinkat(en.pfd, en.last, AT_REMOVEDIR) != 0 ? hostfs_errno(errno) : 0;
  entry_done(&en);
  return e;
}

static int hf_unlink(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len) {
  struct entry en;
  int e = entry_get(dir->fd, path, len, &en);
  if (!e && en.dot) e = WASI_EISDIR;
  else if (!e && unlinkat(en.pfd, en.last, 0) != 0) {
    e = hostfs_errno(errno);
    /* Linux says EISDIR for a directory, and for "file/" ENOTDIR: as POSIX and wasmtime */
  }
  entry_done(&en);
  return e;
}

static int hf_rename(struct wasi_vfs *v, struct wasi_vfs_file *odir, const char *opath, uint32_t olen,
                     struct wasi_vfs_file *ndir, const char *npath, uint32_t nlen) {
  struct entry o, n;
  int e = entry_get(odir->fd, opath, olen, &o);
  if (!e && !(e = entry_get(ndir->fd, npath, nlen, &n))) {
    e = o.dot || n.dot ? WASI_EBUSY : renameat(o.pfd, o.last, n.pfd, n.last) != 0 ? hostfs_errno(errno) : 0;
    entry_done(&n);
  }
  entry_done(&o);
  return e;
}

static int hf_symlink(struct wasi_vfs *v, const char *target, uint32_t tlen, struct wasi_vfs_file *dir,
                      const char *path, uint32_t len) {
  char *t = cpath(target, tlen);
  if (!t) return tlen >= 4096 ? WASI_ENAMETOOLONG : WASI_ENOMEM;
  struct entry en;
  int e = entry_get(dir->fd, path, len, &en);
  if (!e) e = en.dot ? WASI_EEXIST : symlinkat(t, en.pfd, en.last) != 0 ? hostfs_errno(errno) : 0;
  entry_done(&en);
  free(t);
  return e;
}

static int hf_readlink(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, char *buf,
                       size_t cap, size_t *n) {
  struct entry en;
  int e = entry_get(dir->fd, path, len, &en);
  if (!e && (en.dot || en.trailing)) {
    /* "link/" would make the kernel follow the link: it names a directory, not a link */
    int fd = path_fd(dir, path, len, 1);
    e = fd < 0 ? -fd : WASI_EINVAL;
    if (fd >= 0) close(fd);
  } else if (!e) {
    char tmp[4096];
    ssize_t r = readlinkat(en.pfd, en.last, tmp, sizeof tmp);
    if (r < 0) e = hostfs_errno(errno);
    else {
      *n = (size_t)r < cap ? (size_t)r : cap; /* truncated to the buffer, as readlink(2) */
      memcpy(buf, tmp, *n);
    }
  }
  entry_done(&en);
  return e;
}

static int hf_link(struct wasi_vfs *v, struct wasi_vfs_file *odir, const char *opath, uint32_t olen, int follow,
                   struct wasi_vfs_file *ndir, const char *npath, uint32_t nlen) {
  struct entry o, n;
  int e = entry_get(odir->fd, opath, olen, &o);
  if (e) {
    entry_done(&o);
    return e;
  }
  if ((e = entry_get(ndir->fd, npath, nlen, &n))) {
    entry_done(&o);
    entry_done(&n);
    return e;
  }
  if (o.dot) e = WASI_EPERM; /* a directory */
  else if (n.dot) e = WASI_EEXIST;
  else if (!follow) e = linkat(o.pfd, o.last, n.pfd, n.last, 0) != 0 ? hostfs_errno(errno) : 0;
  else { /* follow the old path's last link, confined, then link what it names */
    int fd = path_fd(odir, opath, olen, 1);
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (fd < 0) e = -fd;
    else if (linkat(AT_FDCWD, proc, n.pfd, n.last, AT_SYMLINK_FOLLOW) != 0) e = hostfs_errno(errno);
    if (fd >= 0) close(fd);
  }
  entry_done(&o);
  entry_done(&n);
  return e;
}

static int hf_allocate(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t off, uint64_t len) {
  if (off > INT64_MAX || len > INT64_MAX - off) return WASI_EFBIG;
  return hostfs_errno(posix_fallocate(f->fd, (off_t)off, (off_t)len));
}

static int hf_sync(struct wasi_vfs *v, struct wasi_vfs_file *f, int data_only) {
  return (data_only ? fdatasync(f->fd) : fsync(f->fd)) != 0 ? hostfs_errno(errno) : 0;
}

static const struct wasi_vfs_ops hostfs_ops = {
    .open = hf_open, .close = hf_close, .pread = hf_pread, .pwrite = hf_pwrite, .stat = hf_stat,
    .stat_at = hf_stat_at, .set_size = hf_set_size, .set_times = hf_set_times, .set_times_at = hf_set_times_at,
    .readdir = hf_readdir, .mkdir = hf_mkdir, .rmdir = hf_rmdir, .unlink = hf_unlink, .rename = hf_rename,
    .symlink = hf_symlink, .readlink = hf_readlink, .link = hf_link, .allocate = hf_allocate, .sync = hf_sync,
};

struct wasi_vfs *hostfs_create(uint64_t max_file_size, uint64_t write_budget) {
  struct wasi_vfs *v = calloc(1, sizeof *v);
  if (!v) return NULL;
  v->ops = &hostfs_ops;
  v->max_file_size = max_file_size;
  v->write_budget = write_budget;
  return v;
}

int hostfs_root(struct wasi_vfs *v, const char *path, struct wasi_vfs_file **root, char *err, size_t errlen) {
  int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    snprintf(err, errlen, "%s: %s", path, strerror(errno));
    return hostfs_errno(errno);
  }
  int t = beneath(fd, ".", O_PATH, 0);
  if (t < 0) {
    snprintf(err, errlen, "%s: openat2 failed (%s); hosted --dir needs Linux 5.6 or later", path, strerror(-t));
    close(fd);
    return WASI_ENOSYS;
  }
  close(t);
  struct wasi_vfs_file *f = calloc(1, sizeof *f);
  if (!f) {
    close(fd);
    snprintf(err, errlen, "out of memory");
    return WASI_ENOMEM;
  }
  f->fd = fd;
  f->type = WASI_FILETYPE_DIRECTORY;
  *root = f;
  return 0;
}
