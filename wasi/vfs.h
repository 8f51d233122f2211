/* wasi/vfs.h — "a directory tree served by someone else": the backend interface for preopened
 * directories whose files do not live in memfs. wasi/ does the WASI side (guest pointers,
 * rights, fd table, offsets, append, quotas, readdir packing); a backend only moves bytes and
 * names. Implementations: host/hostfs.c (the hosted runtime's --dir: the host directory itself,
 * through openat2 RESOLVE_BENEATH) and, in the VM, a 9P2000.L client over virtio-9p.
 *
 * The operations follow 9P2000.L, so a 9P client maps them one to one:
 *     open        Twalk (+ Tlopen, or Tlcreate when WASI_O_CREAT and absent)
 *     close       Tclunk               pread/pwrite  Tread/Twrite
 *     stat        Tgetattr             stat_at       Twalk + Tgetattr
 *     set_size    Tsetattr(size)       set_times(_at) Tsetattr(atime/mtime)
 *     readdir     Treaddir (offset = cookie, each entry carries the offset of the next)
 *     mkdir       Tmkdir               unlink/rmdir  Tunlinkat (flags 0 / AT_REMOVEDIR)
 *     rename      Trenameat            symlink       Tsymlink     readlink  Treadlink
 *     link        Tlink                sync          Tfsync       allocate  Tsetattr or Twrite
 *
 * Paths. Every `path` is the guest's bytes, relative, non-empty, NUL-free (wasi/ checks that,
 * and answers WASI_ENOTCAPABLE for a leading '/' before calling). The backend resolves it
 * beneath `dir` and MUST stay beneath the preopen's root: ".." above the root, a symlink with an
 * absolute target, or one whose resolution leaves the root is WASI_ENOTCAPABLE; more than 40
 * links is WASI_ELOOP; a missing component WASI_ENOENT, a non-directory WASI_ENOTDIR. Every
 * component but the last is always followed (confined); the last is followed only where `follow`
 * says so. A trailing '/' requires a directory, as in POSIX. Entry operations (mkdir, rmdir,
 * unlink, rename, symlink, link, readlink) act on the last component in its parent and never
 * follow it.
 *
 * Errors: every operation returns 0 or a WASI errno (wasi/wasi_types.h), as the host would
 * report it (EEXIST, ENOTEMPTY, EISDIR, EXDEV, ...). Buffers are host memory, already checked.
 *
 * Handles: `struct wasi_vfs_file` is the backend's own (an fd, a 9P fid); wasi/ only passes it
 * back and closes it exactly once. A handle is either a directory or a regular file (opening a
 * symlink without `follow` is WASI_ELOOP, as O_NOFOLLOW).
 *
 * What wasi/ does around the backend (so a backend need not): rights and guest pointers;
 * the fd offset (fd_read/fd_write call pread/pwrite at it); append (stat, then pwrite at the
 * size); fd_seek SEEK_END (stat); the quota below; path_symlink's absolute-target refusal;
 * renames/links between different backends or memfs (WASI_EXDEV); packing readdir entries into
 * the guest's buffer. The backend must do the confinement of paths itself (see Paths).
 *
 * Stability: this header is shared with the VM's 9P backend (branch volume). Changes are
 * appended and noted here.
 *   (no changes since it was first committed; comments clarified)
 */
#ifndef KILN_WASI_VFS_H
#define KILN_WASI_VFS_H

#include <stddef.h>
#include <stdint.h>

struct wasi_state;
struct wasi_buf; /* wasi/wasi.h: { uint8_t *p; size_t len; } */
struct wasi_vfs_file;

/* Attributes (Rgetattr). Times in ns since the Unix epoch. */
struct wasi_vfs_stat {
  uint64_t dev, ino;
  uint8_t filetype; /* WASI_FILETYPE_* */
  uint64_t nlink, size;
  uint64_t atim, mtim, ctim;
};

/* One directory entry (an Rreaddir record). `next` is the cookie that resumes after it; cookie
 * 0 is the start. Cookies must survive between calls on the same handle (the guest comes back
 * with a larger buffer, or with the last d_next it saw). "." and ".." are entries like others:
 * the backend lists them when the host does (wasi/ does not add them). */
struct wasi_vfs_dirent {
  uint64_t next, ino;
  uint8_t filetype;
  const char *name;
  uint32_t name_len;
};
/* Called once per entry, in order; return nonzero to stop (the guest's buffer is full). */
typedef int (*wasi_vfs_emit)(void *ud, const struct wasi_vfs_dirent *e);

/* How an open handle may be used: WASI_VFS_READ and/or WASI_VFS_WRITE (from the rights the
 * guest asked for: fd_read/readdir -> READ; fd_write, allocate, set_size -> WRITE). 0 (only
 * stat/seek rights) opens for reading as O_RDONLY would. When opening a directory with WRITE
 * fails with WASI_EISDIR and the guest did not ask for fd_write itself, wasi/ retries with
 * READ (rights like allocate or set_size on a directory are dropped, as memfs does; only
 * fd_write or O_TRUNC make a directory open EISDIR). */
enum { WASI_VFS_READ = 1, WASI_VFS_WRITE = 2 };

struct wasi_vfs;
struct wasi_vfs_ops {
  /* Open (and with WASI_O_CREAT create, mode 0666 less the host's umask) `path` beneath dir.
   * oflags are WASI_O_* (CREAT, DIRECTORY, EXCL, TRUNC), access WASI_VFS_READ|WRITE; a directory
   * is opened for reading whatever access says (WASI_EISDIR if WRITE or TRUNC is asked).
   * *type gets WASI_FILETYPE_DIRECTORY or _REGULAR_FILE (other file types: WASI_ENOTSUP). */
  int (*open)(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
              uint16_t oflags, int access, struct wasi_vfs_file **out, uint8_t *type);
  void (*close)(struct wasi_vfs *v, struct wasi_vfs_file *f);
  /* Positioned I/O over an iovec. A short count is fine (EOF, or the host's own short write);
   * wasi/ keeps the offset of fd_read/fd_write and handles append (stat, then pwrite at size). */
  int (*pread)(struct wasi_vfs *v, struct wasi_vfs_file *f, const struct wasi_buf *iov, size_t n, uint64_t off,
               size_t *done);
  int (*pwrite)(struct wasi_vfs *v, struct wasi_vfs_file *f, const struct wasi_buf *iov, size_t n, uint64_t off,
                size_t *done);
  int (*stat)(struct wasi_vfs *v, struct wasi_vfs_file *f, struct wasi_vfs_stat *out);
  int (*stat_at)(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                 struct wasi_vfs_stat *out);
  int (*set_size)(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t size); /* holes stay sparse */
  /* fst is WASI_FST_* (wasi/ has checked that ATIM/ATIM_NOW and MTIM/MTIM_NOW exclude each other). */
  int (*set_times)(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t atim, uint64_t mtim, uint32_t fst);
  int (*set_times_at)(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, int follow,
                      uint64_t atim, uint64_t mtim, uint32_t fst);
  /* Entries from `cookie` on, each through emit, until the end or emit returns nonzero. */
  int (*readdir)(struct wasi_vfs *v, struct wasi_vfs_file *dir, uint64_t cookie, wasi_vfs_emit emit, void *ud);
  int (*mkdir)(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len);
  int (*rmdir)(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len);
  int (*unlink)(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len);
  /* Both ends in the same backend instance (wasi/ answers WASI_EXDEV otherwise). */
  int (*rename)(struct wasi_vfs *v, struct wasi_vfs_file *odir, const char *opath, uint32_t olen,
                struct wasi_vfs_file *ndir, const char *npath, uint32_t nlen);
  /* target is stored as given (wasi/ refuses absolute targets before calling, WASI_ENOTCAPABLE). */
  int (*symlink)(struct wasi_vfs *v, const char *target, uint32_t tlen, struct wasi_vfs_file *dir, const char *path,
                 uint32_t len);
  /* Like readlink(2): at most cap bytes, no NUL; WASI_EINVAL when not a symlink. */
  int (*readlink)(struct wasi_vfs *v, struct wasi_vfs_file *dir, const char *path, uint32_t len, char *buf,
                  size_t cap, size_t *n);
  /* A hard link: the old path (its last component followed only if `follow`) gets the new name. */
  int (*link)(struct wasi_vfs *v, struct wasi_vfs_file *odir, const char *opath, uint32_t olen, int follow,
              struct wasi_vfs_file *ndir, const char *npath, uint32_t nlen);
  /* Make [off, off+len) allocated (posix_fallocate: the size grows if needed). */
  int (*allocate)(struct wasi_vfs *v, struct wasi_vfs_file *f, uint64_t off, uint64_t len);
  int (*sync)(struct wasi_vfs *v, struct wasi_vfs_file *f, int data_only);
};

/* One backend instance; it may serve several preopens (one root handle each), and then renames
 * and links between them work and the quota is shared. The backend embeds this first in its own struct (container_of style) or
 * points `priv` at its state. The quota fields are enforced by wasi/ for every backend:
 *   max_file_size: a write, set_size or allocate that would make a file larger is WASI_EFBIG;
 *   write_budget:  bytes the guest may still write (pwrite bytes + allocate bytes) before
 *                  writes answer WASI_ENOSPC; shrinks as data is written, never grows back.
 * UINT64_MAX means no limit. */
struct wasi_vfs {
  const struct wasi_vfs_ops *ops;
  void *priv;
  uint64_t max_file_size;
  uint64_t write_budget;
};

/* Defaults the platforms use for the quota (documented in README and `kiln help`). */
#define WASI_VFS_DEFAULT_MAX_FILE_SIZE (4ull << 30) /* 4 GiB per file */
#define WASI_VFS_DEFAULT_WRITE_BUDGET (8ull << 30)  /* 8 GiB written per run */

/* Preopen `root` (a directory handle of v) as the next fd, under guest name guest[0..len).
 * On success the fd owns root (closed with it). 0 or a WASI errno. */
int wasi_preopen_vfs(struct wasi_state *st, struct wasi_vfs *v, struct wasi_vfs_file *root, const char *guest,
                     size_t len);

#endif
