/* tests/wasi/fs.c — unit tests of the file-system half of wasi/: path_*, fd_* on files and
 * directories, rights, preopens, the kiln-pack image and host directories. */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "host/host.h"
#include "tests/wasi/unit.h"
#include "wasi/vfs.h"

const char *unit_archive, *unit_hostdir;

#define RW (WASI_RIGHT(WASI_R_FD_READ) | WASI_RIGHT(WASI_R_FD_WRITE) | WASI_RIGHT(WASI_R_FD_SEEK) | \
            WASI_RIGHT(WASI_R_FD_TELL) | WASI_RIGHT(WASI_R_FD_FILESTAT_GET) | WASI_RIGHT(WASI_R_FD_FILESTAT_SET_SIZE) | \
            WASI_RIGHT(WASI_R_FD_ADVISE) | WASI_RIGHT(WASI_R_FD_ALLOCATE) | WASI_RIGHT(WASI_R_FD_READDIR) | \
            WASI_RIGHT(WASI_R_FD_FILESTAT_SET_TIMES) | WASI_RIGHT(WASI_R_POLL_FD_READWRITE) | \
            WASI_RIGHT(WASI_R_FD_FDSTAT_SET_FLAGS) | WASI_RIGHT(WASI_R_FD_SYNC) | WASI_RIGHT(WASI_R_FD_DATASYNC))
#define RO (WASI_RIGHT(WASI_R_FD_READ) | WASI_RIGHT(WASI_R_FD_SEEK) | WASI_RIGHT(WASI_R_FD_TELL) | \
            WASI_RIGHT(WASI_R_FD_READDIR) | WASI_RIGHT(WASI_R_FD_FILESTAT_GET))

/* path_* helpers: strings go to guest offsets 1000 and 1500. */
static int mkdir_(int fd, const char *p) { return W(path_create_directory, iii_i)(C, fd, 1000, (int32_t)gstr(1000, p)); }
static int rmdir_(int fd, const char *p) { return W(path_remove_directory, iii_i)(C, fd, 1000, (int32_t)gstr(1000, p)); }
static int unlink_(int fd, const char *p) { return W(path_unlink_file, iii_i)(C, fd, 1000, (int32_t)gstr(1000, p)); }
static int rename_(int fd, const char *a, int fd2, const char *b) {
  return W(path_rename, iiiiii_i)(C, fd, 1000, (int32_t)gstr(1000, a), fd2, 1500, (int32_t)gstr(1500, b));
}
static int link_(int fd, const char *a, const char *b) {
  return W(path_link, iiiiiii_i)(C, fd, 0, 1000, (int32_t)gstr(1000, a), fd, 1500, (int32_t)gstr(1500, b));
}
static int symlink_(const char *target, int fd, const char *p) {
  return W(path_symlink, iiiii_i)(C, 1000, (int32_t)gstr(1000, target), fd, 1500, (int32_t)gstr(1500, p));
}
static int stat_(int fd, int follow, const char *p) {
  return W(path_filestat_get, iiiii_i)(C, fd, follow, 1000, (int32_t)gstr(1000, p), 3100);
}
static uint64_t st_size(void) { return wasi_ld64(M + 3100 + 32); }
static uint8_t st_type(void) { return M[3100 + 16]; }
static uint64_t st_ino(void) { return wasi_ld64(M + 3100 + 8); }
static uint64_t st_nlink(void) { return wasi_ld64(M + 3100 + 24); }
static int creat_(int dir, const char *p, const char *content) {
  uint32_t fd;
  int e = gopen(dir, p, WASI_O_CREAT | WASI_O_TRUNC, RW, 0, &fd);
  if (e) return e;
  if (content && (e = gwrite(fd, content))) return e;
  return W(fd_close, i_i)(C, (int32_t)fd);
}
static char *cat_(int dir, const char *p) {
  static char buf[4096];
  uint32_t fd, n;
  buf[0] = 0;
  if (gopen(dir, p, 0, RO, 0, &fd)) return "<open failed>";
  if (gread(fd, buf, sizeof buf - 1, &n)) strcpy(buf, "<read failed>");
  W(fd_close, i_i)(C, (int32_t)fd);
  return buf;
}

static void t_prestat(void) {
  add_preopen("/sandbox");
  CHECK_EQ(W(fd_prestat_get, ii_i)(C, 3, 3000), 0);
  CHECK_EQ(M[3000], 0);
  CHECK_EQ(wasi_ld32(M + 3004), 8);
  CHECK_EQ(W(fd_prestat_dir_name, iii_i)(C, 3, 3100, 8), 0);
  CHECK(memcmp(M + 3100, "/sandbox", 8) == 0);
  CHECK_EQ(W(fd_prestat_dir_name, iii_i)(C, 3, 3100, 4), WASI_ENAMETOOLONG);
  CHECK_EQ(W(fd_prestat_dir_name, iii_i)(C, 3, MEMSIZE - 4, 8), WASI_EFAULT);
  CHECK_EQ(W(fd_prestat_get, ii_i)(C, 3, MEMSIZE - 4), WASI_EFAULT);
  CHECK_EQ(W(fd_prestat_get, ii_i)(C, 1, 3000), WASI_EBADF);
  CHECK_EQ(W(fd_prestat_get, ii_i)(C, 4, 3000), WASI_EBADF);
  CHECK_EQ(W(fd_prestat_dir_name, iii_i)(C, 4, 3100, 8), WASI_EBADF);
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, 3, 3000), 0);
  CHECK_EQ(M[3000], WASI_FILETYPE_DIRECTORY);
}

static void t_open_rw(void) {
  add_preopen(".");
  uint32_t fd, fd2;
  CHECK_EQ(gopen(3, "f.txt", 0, RW, 0, &fd), WASI_ENOENT);
  CHECK_EQ(gopen(3, "f.txt", WASI_O_CREAT, RW, 0, &fd), 0);
  CHECK_EQ(fd, 4);
  CHECK_EQ(gwrite(fd, "hello world"), 0);
  CHECK_EQ(W(fd_tell, ii_i)(C, (int32_t)fd, 3000), 0);
  CHECK_EQ(wasi_ld64(M + 3000), 11);
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, 6, WASI_WHENCE_SET, 3000), 0);
  char buf[64];
  uint32_t n;
  CHECK_EQ(gread(fd, buf, 63, &n), 0);
  CHECK(n == 5 && !strcmp(buf, "world"));
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, -3, WASI_WHENCE_END, 3000), 0);
  CHECK_EQ(wasi_ld64(M + 3000), 8);
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, -1, WASI_WHENCE_CUR, 3000), 0);
  CHECK_EQ(wasi_ld64(M + 3000), 7);
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, -100, WASI_WHENCE_CUR, 3000), WASI_EINVAL);
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, 0, 3, 3000), WASI_EINVAL);
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, 0, 0, MEMSIZE), WASI_EFAULT);
  CHECK_EQ(W(fd_tell, ii_i)(C, (int32_t)fd, MEMSIZE - 1), WASI_EFAULT);
  /* seeking past the end and writing leaves a zero-filled hole */
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, 20, WASI_WHENCE_SET, 3000), 0);
  CHECK_EQ(gwrite(fd, "!"), 0);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), 0);
  CHECK_EQ(st_size(), 21);
  CHECK_EQ(st_type(), WASI_FILETYPE_REGULAR_FILE);
  /* pread/pwrite do not move the offset */
  gstr(5000, "HE");
  giov(2100, 5000, 2);
  CHECK_EQ(W(fd_pwrite, iiiIi_i)(C, (int32_t)fd, 2100, 1, 0, 3000), 0);
  giov(2100, 5000, 5);
  CHECK_EQ(W(fd_pread, iiiIi_i)(C, (int32_t)fd, 2100, 1, 0, 3000), 0);
  CHECK(wasi_ld32(M + 3000) == 5 && memcmp(M + 5000, "HEllo", 5) == 0);
  CHECK_EQ(W(fd_pread, iiiIi_i)(C, (int32_t)fd, 2100, 1, 100, 3000), 0);
  CHECK_EQ(wasi_ld32(M + 3000), 0);
  CHECK_EQ(W(fd_pread, iiiIi_i)(C, (int32_t)fd, 2100, 1, -1, 3000), WASI_EINVAL);
  CHECK_EQ(W(fd_tell, ii_i)(C, (int32_t)fd, 3000), 0);
  CHECK_EQ(wasi_ld64(M + 3000), 21);
  /* O_EXCL, O_TRUNC, O_DIRECTORY */
  CHECK_EQ(gopen(3, "f.txt", WASI_O_CREAT | WASI_O_EXCL, RW, 0, &fd2), WASI_EEXIST);
  CHECK_EQ(gopen(3, "f.txt", WASI_O_DIRECTORY, RO, 0, &fd2), WASI_ENOTDIR);
  CHECK_EQ(gopen(3, "f.txt", WASI_O_TRUNC, RW, 0, &fd2), 0);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), 0);
  CHECK_EQ(st_size(), 0); /* the other fd sees the same, truncated file */
  CHECK_EQ(gopen(3, "f.txt/", 0, RO, 0, &fd2), WASI_ENOTDIR);
  CHECK_EQ(gopen(3, "new/", WASI_O_CREAT, RW, 0, &fd2), WASI_EISDIR);
  CHECK_EQ(gopen(3, "", 0, RO, 0, &fd2), WASI_ENOENT);
  CHECK_EQ(gopen(1, "f.txt", 0, RO, 0, &fd2), WASI_ENOTCAPABLE);
  CHECK_EQ(gopen(9, "f.txt", 0, RO, 0, &fd2), WASI_EBADF);
  CHECK_EQ(gopen((int)fd, "x", 0, RO, 0, &fd2), WASI_ENOTCAPABLE); /* a file fd has no path rights */
  CHECK_EQ(W(path_open, iiiiiIIii_i)(C, 3, 0, 1000, 5, 0, (int64_t)RO, 0, 0, MEMSIZE - 2), WASI_EFAULT);
  CHECK_EQ(W(path_open, iiiiiIIii_i)(C, 3, 0, MEMSIZE - 2, 5, 0, (int64_t)RO, 0, 0, 3000), WASI_EFAULT);
  CHECK_EQ(W(path_open, iiiiiIIii_i)(C, 3, 0, 1000, 5, 0x10, (int64_t)RO, 0, 0, 3000), WASI_EINVAL);
}

static void t_append(void) {
  add_preopen(".");
  uint32_t fd;
  CHECK_EQ(gopen(3, "log", WASI_O_CREAT | WASI_O_TRUNC, RW, WASI_FDFLAG_APPEND, &fd), 0);
  CHECK_EQ(gwrite(fd, "ab"), 0);
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, 0, WASI_WHENCE_SET, 3000), 0);
  CHECK_EQ(gwrite(fd, "cd"), 0);
  CHECK_EQ(W(fd_tell, ii_i)(C, (int32_t)fd, 3000), 0);
  CHECK_EQ(wasi_ld64(M + 3000), 4);
  CHECK(!strcmp(cat_(3, "log"), "abcd"));
  CHECK_EQ(W(fd_fdstat_get, ii_i)(C, (int32_t)fd, 3000), 0);
  CHECK_EQ(wasi_ld16(M + 3002), WASI_FDFLAG_APPEND);
  CHECK_EQ(W(fd_fdstat_set_flags, ii_i)(C, (int32_t)fd, 0), 0);
  W(fd_seek, iIii_i)(C, (int32_t)fd, 0, WASI_WHENCE_SET, 3000);
  CHECK_EQ(gwrite(fd, "X"), 0);
  CHECK(!strcmp(cat_(3, "log"), "Xbcd"));
}

static void t_rights(void) {
  add_preopen(".");
  uint32_t fd;
  CHECK_EQ(creat_(3, "r", "data"), 0);
  CHECK_EQ(gopen(3, "r", 0, WASI_RIGHT(WASI_R_FD_READ), 0, &fd), 0);
  CHECK_EQ(gwrite(fd, "x"), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_seek, iIii_i)(C, (int32_t)fd, 1, 0, 3000), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, (int32_t)fd, 0), WASI_ENOTCAPABLE);
  /* the directory's inheriting rights bound what path_open may grant */
  CHECK_EQ(W(fd_fdstat_set_rights, iII_i)(C, 3, (int64_t)WASI_RIGHTS_DIR, (int64_t)WASI_RIGHT(WASI_R_FD_READ)), 0);
  CHECK_EQ(gopen(3, "r", 0, RW, 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(gopen(3, "r", 0, WASI_RIGHT(WASI_R_FD_READ), 0, &fd), 0);
  /* a directory without path_create_file */
  CHECK_EQ(W(fd_fdstat_set_rights, iII_i)(C, 3, (int64_t)(WASI_RIGHTS_DIR & ~WASI_RIGHT(WASI_R_PATH_CREATE_FILE)), 1ll << 1), 0);
  CHECK_EQ(gopen(3, "new", WASI_O_CREAT, WASI_RIGHT(WASI_R_FD_READ), 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_fdstat_set_rights, iII_i)(C, 3, 0, 0), 0);
  CHECK_EQ(mkdir_(3, "d"), WASI_ENOTCAPABLE);
  CHECK_EQ(stat_(3, 0, "r"), WASI_ENOTCAPABLE);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, 4096, 512, 0, 3000), WASI_ENOTCAPABLE);
}

/* A symlink put into preopen fd 3's root by someone other than the guest: the host (hostfs) or
 * an image (memfs), where no path_symlink check applies. */
static void outside_symlink(const char *target, const char *name) {
  if (unit_hostfs) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s", unit_tmp[0], name);
    CHECK_EQ(symlink(target, p), 0);
    return;
  }
  struct wasi_node *n = memfs_node_new(S->fs, WASI_FILETYPE_SYMBOLIC_LINK);
  CHECK(n && memfs_symlink_set(n, target, (uint32_t)strlen(target)) == 0);
  CHECK_EQ(memfs_link(S->fs, S->fds[3].node, name, (uint32_t)strlen(name), n), 0);
}

static void t_escape(void) {
  add_preopen("/sb");
  uint32_t fd;
  CHECK_EQ(mkdir_(3, "a"), 0);
  CHECK_EQ(creat_(3, "a/f", "in a"), 0);
  CHECK_EQ(gopen(3, "../x", 0, RO, 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(gopen(3, "a/../../x", 0, RO, 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(gopen(3, "/etc/passwd", 0, RO, 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(gopen(3, "..", 0, RO, 0, &fd), WASI_ENOTCAPABLE);
  CHECK(!strcmp(cat_(3, "a/../a/./f"), "in a"));
  CHECK(!strcmp(cat_(3, "a//f"), "in a"));
  /* symlinks: relative inside ok; absolute or leading out refused; loops stop */
  CHECK_EQ(symlink_("a/f", 3, "ok"), 0);
  CHECK(!strcmp(cat_(3, "ok"), "in a"));
  CHECK_EQ(symlink_("../f", 3, "a/up"), 0);
  CHECK_EQ(creat_(3, "f", "top"), 0);
  CHECK(!strcmp(cat_(3, "a/up"), "top"));
  /* an absolute target could never resolve inside: refused at creation (as wasmtime) ... */
  CHECK_EQ(symlink_("/etc/passwd", 3, "abs"), WASI_ENOTCAPABLE);
  CHECK_EQ(symlink_("/", 3, "abs"), WASI_ENOTCAPABLE);
  CHECK_EQ(stat_(3, 0, "abs"), WASI_ENOENT);
  /* ... and one made by someone else (the host, an image) is refused when followed */
  outside_symlink("/etc/passwd", "abs");
  CHECK_EQ(stat_(3, 0, "abs"), 0);
  CHECK_EQ(gopen(3, "abs", 0, RO, 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(stat_(3, WASI_LOOKUP_SYMLINK_FOLLOW, "abs"), WASI_ENOTCAPABLE);
  CHECK_EQ(symlink_("../../etc", 3, "a/out"), 0);
  CHECK_EQ(gopen(3, "a/out/passwd", 0, RO, 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(symlink_("loop2", 3, "loop1"), 0);
  CHECK_EQ(symlink_("loop1", 3, "loop2"), 0);
  CHECK_EQ(gopen(3, "loop1", 0, RO, 0, &fd), WASI_ELOOP);
  CHECK_EQ(symlink_("a", 3, "dirlink"), 0);
  CHECK(!strcmp(cat_(3, "dirlink/f"), "in a"));
  /* without SYMLINK_FOLLOW the last component is the link itself */
  CHECK_EQ(W(path_open, iiiiiIIii_i)(C, 3, 0, 1000, (int32_t)gstr(1000, "ok"), 0, (int64_t)RO, 0, 0, 3000), WASI_ELOOP);
  /* a directory fd opened inside cannot climb out of itself either */
  uint32_t dfd;
  CHECK_EQ(gopen(3, "a", WASI_O_DIRECTORY, WASI_RIGHTS_DIR, 0, &dfd), 0);
  CHECK_EQ(gopen((int)dfd, "../f", 0, RO, 0, &fd), WASI_ENOTCAPABLE);
  CHECK_EQ(gopen((int)dfd, "f", 0, RO, 0, &fd), 0);
  CHECK_EQ(gopen(3, "a/f\0x", 0, RO, 0, &fd), 0); /* gstr stops at NUL: plain "a/f" */
  memcpy(M + 1000, "a/f\0x", 5);
  CHECK_EQ(W(path_open, iiiiiIIii_i)(C, 3, 0, 1000, 5, 0, (int64_t)RO, 0, 0, 3000), WASI_EINVAL);
}

static void t_dirs(void) {
  add_preopen(".");
  uint32_t fd;
  CHECK_EQ(mkdir_(3, "d"), 0);
  CHECK_EQ(mkdir_(3, "d"), WASI_EEXIST);
  CHECK_EQ(mkdir_(3, "d/e/"), 0);
  CHECK_EQ(mkdir_(3, "x/y"), WASI_ENOENT);
  CHECK_EQ(mkdir_(3, "."), WASI_EEXIST);
  CHECK_EQ(creat_(3, "d/e/f", "z"), 0);
  CHECK_EQ(mkdir_(3, "d/e/f/g"), WASI_ENOTDIR);
  CHECK_EQ(rmdir_(3, "d"), WASI_ENOTEMPTY);
  CHECK_EQ(rmdir_(3, "d/e/f"), WASI_ENOTDIR);
  CHECK_EQ(rmdir_(3, "nope"), WASI_ENOENT);
  CHECK_EQ(rmdir_(3, "."), WASI_EINVAL);
  CHECK_EQ(unlink_(3, "d"), WASI_EISDIR);
  CHECK_EQ(unlink_(3, "d/e/f"), 0);
  CHECK_EQ(unlink_(3, "d/e/f"), WASI_ENOENT);
  CHECK_EQ(rmdir_(3, "d/e"), 0);
  CHECK_EQ(stat_(3, 0, "d"), 0);
  CHECK_EQ(st_type(), WASI_FILETYPE_DIRECTORY);
  /* a directory opens read-only; O_TRUNC or write rights on it are EISDIR */
  CHECK_EQ(gopen(3, "d", 0, RO, 0, &fd), 0);
  CHECK_EQ(gread(fd, (char[8]){0}, 4, &(uint32_t){0}), WASI_EISDIR);
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, (int32_t)fd, 0), WASI_ENOTCAPABLE);
  CHECK_EQ(gopen(3, "d", WASI_O_TRUNC, RO, 0, &fd), WASI_EISDIR);
  CHECK_EQ(gopen(3, "d", 0, RW, 0, &fd), WASI_EISDIR);
  /* write-ish rights other than fd_write are dropped: the directory opens for reading */
  CHECK_EQ(gopen(3, "d", 0, RO | WASI_RIGHT(WASI_R_FD_FILESTAT_SET_SIZE) | WASI_RIGHT(WASI_R_FD_ALLOCATE), 0, &fd), 0);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, (int32_t)fd, 4096, 512, 0, 3000), 0);
  CHECK(wasi_ld32(M + 3000) > 0);
  CHECK_EQ(W(path_create_directory, iii_i)(C, 3, MEMSIZE - 1, 4), WASI_EFAULT);
  CHECK_EQ(W(path_remove_directory, iii_i)(C, 1, 1000, 1), WASI_ENOTCAPABLE);
  CHECK_EQ(W(path_unlink_file, iii_i)(C, 3, -1, 4), WASI_EFAULT);
  /* a removed directory still open: reading it gives no entries but works */
  uint32_t dfd;
  CHECK_EQ(mkdir_(3, "gone"), 0);
  CHECK_EQ(gopen(3, "gone", WASI_O_DIRECTORY, WASI_RIGHTS_DIR, 0, &dfd), 0);
  CHECK_EQ(rmdir_(3, "gone"), 0);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, (int32_t)dfd, 4096, 512, 0, 3000), 0);
  /* Linux says ENOENT; memfs allows it */
  CHECK_EQ(creat_((int)dfd, "f", "x"), unit_hostfs ? WASI_ENOENT : 0);
  CHECK_EQ(W(fd_close, i_i)(C, (int32_t)dfd), 0);
}

static void t_rename(void) {
  add_preopen(".");
  CHECK_EQ(creat_(3, "a", "A"), 0);
  CHECK_EQ(creat_(3, "b", "B"), 0);
  CHECK_EQ(rename_(3, "a", 3, "c"), 0);
  CHECK(!strcmp(cat_(3, "c"), "A"));
  CHECK_EQ(stat_(3, 0, "a"), WASI_ENOENT);
  CHECK_EQ(rename_(3, "c", 3, "b"), 0); /* replaces */
  CHECK(!strcmp(cat_(3, "b"), "A"));
  CHECK_EQ(rename_(3, "nope", 3, "x"), WASI_ENOENT);
  CHECK_EQ(mkdir_(3, "d"), 0);
  CHECK_EQ(mkdir_(3, "d/sub"), 0);
  CHECK_EQ(rename_(3, "b", 3, "d"), WASI_EISDIR);
  CHECK_EQ(rename_(3, "d", 3, "b"), WASI_ENOTDIR);
  CHECK_EQ(rename_(3, "d", 3, "d/sub/x"), WASI_EINVAL);
  CHECK_EQ(mkdir_(3, "e"), 0);
  CHECK_EQ(rename_(3, "e", 3, "d"), WASI_ENOTEMPTY);
  CHECK_EQ(rename_(3, "d", 3, "e"), 0); /* over an empty directory */
  CHECK_EQ(creat_(3, "e/sub/f", "deep"), 0);
  CHECK_EQ(rename_(3, "e/sub", 3, "top"), 0);
  CHECK(!strcmp(cat_(3, "top/f"), "deep"));
  CHECK(!strcmp(cat_(3, "top/../b"), "A"));
  CHECK_EQ(rename_(3, "b", 3, "b"), 0);
  CHECK_EQ(rename_(3, "b", 3, "x/"), WASI_ENOTDIR);
  CHECK_EQ(rename_(3, ".", 3, "x"), WASI_EBUSY);
  CHECK_EQ(W(path_rename, iiiiii_i)(C, 3, 1000, 1, 3, MEMSIZE, 1), WASI_EFAULT);
  /* an open fd follows the file through a rename */
  uint32_t fd;
  CHECK_EQ(gopen(3, "b", 0, RW, 0, &fd), 0);
  CHECK_EQ(rename_(3, "b", 3, "top/b2"), 0);
  CHECK_EQ(gwrite(fd, "Z"), 0);
  CHECK(!strcmp(cat_(3, "top/b2"), "Z"));
}

static void t_links(void) {
  add_preopen(".");
  CHECK_EQ(creat_(3, "f", "one"), 0);
  CHECK_EQ(link_(3, "f", "g"), 0);
  CHECK_EQ(stat_(3, 0, "f"), 0);
  CHECK_EQ(st_nlink(), 2);
  uint64_t ino = st_ino();
  CHECK_EQ(stat_(3, 0, "g"), 0);
  CHECK_EQ(st_ino(), ino);
  CHECK_EQ(link_(3, "f", "g"), WASI_EEXIST);
  CHECK_EQ(link_(3, "nope", "h"), WASI_ENOENT);
  CHECK_EQ(mkdir_(3, "d"), 0);
  CHECK_EQ(link_(3, "d", "d2"), WASI_EPERM);
  CHECK_EQ(unlink_(3, "f"), 0);
  CHECK(!strcmp(cat_(3, "g"), "one"));
  /* an unlinked file stays readable through an open fd */
  uint32_t fd;
  char buf[16];
  uint32_t n;
  CHECK_EQ(gopen(3, "g", 0, RO, 0, &fd), 0);
  CHECK_EQ(unlink_(3, "g"), 0);
  CHECK_EQ(gread(fd, buf, 15, &n), 0);
  CHECK(!strcmp(buf, "one"));
  /* symlinks and readlink */
  CHECK_EQ(symlink_("target/x", 3, "s"), 0);
  CHECK_EQ(symlink_("t", 3, "s"), WASI_EEXIST);
  CHECK_EQ(W(path_readlink, iiiiii_i)(C, 3, 1000, (int32_t)gstr(1000, "s"), 4096, 64, 3000), 0);
  CHECK(wasi_ld32(M + 3000) == 8 && !memcmp(M + 4096, "target/x", 8));
  CHECK_EQ(W(path_readlink, iiiiii_i)(C, 3, 1000, 1, 4096, 3, 3000), 0); /* truncated */
  CHECK_EQ(wasi_ld32(M + 3000), 3);
  CHECK_EQ(W(path_readlink, iiiiii_i)(C, 3, 1000, (int32_t)gstr(1000, "d"), 4096, 64, 3000), WASI_EINVAL);
  CHECK_EQ(W(path_readlink, iiiiii_i)(C, 3, 1000, (int32_t)gstr(1000, "zz"), 4096, 64, 3000), WASI_ENOENT);
  CHECK_EQ(W(path_readlink, iiiiii_i)(C, 3, 1000, (int32_t)gstr(1000, "s"), MEMSIZE - 2, 64, 3000), WASI_EFAULT);
  CHECK_EQ(stat_(3, 0, "s"), 0);
  CHECK_EQ(st_type(), WASI_FILETYPE_SYMBOLIC_LINK);
  CHECK_EQ(stat_(3, WASI_LOOKUP_SYMLINK_FOLLOW, "s"), WASI_ENOENT); /* dangling */
  CHECK_EQ(unlink_(3, "s"), 0);
  CHECK_EQ(W(path_symlink, iiiii_i)(C, MEMSIZE - 1, 5, 3, 1500, 1), WASI_EFAULT);
  CHECK_EQ(W(path_link, iiiiiii_i)(C, 3, 0, 1000, 1, 9, 1500, 1), WASI_EBADF);
}

static void t_filestat(void) {
  add_preopen(".");
  uint32_t fd;
  CHECK_EQ(gopen(3, "f", WASI_O_CREAT, RW, 0, &fd), 0);
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, (int32_t)fd, 100), 0);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), 0);
  CHECK_EQ(st_size(), 100);
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, (int32_t)fd, 3), 0);
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, (int32_t)fd, -1), WASI_EINVAL);
  CHECK_EQ(W(fd_filestat_set_times, iIIi_i)(C, (int32_t)fd, 1000, 2000, WASI_FST_ATIM | WASI_FST_MTIM), 0);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), 0);
  CHECK(wasi_ld64(M + 3140) == 1000 && wasi_ld64(M + 3148) == 2000);
  CHECK_EQ(W(fd_filestat_set_times, iIIi_i)(C, (int32_t)fd, 0, 0, WASI_FST_ATIM | WASI_FST_ATIM_NOW), WASI_EINVAL);
  CHECK_EQ(W(fd_filestat_set_times, iIIi_i)(C, (int32_t)fd, 0, 0, 0x10), WASI_EINVAL);
  CHECK_EQ(W(fd_filestat_set_times, iIIi_i)(C, 1, 0, 0, 0), WASI_ENOTCAPABLE);
  CHECK_EQ(W(path_filestat_set_times, iiiiIIi_i)(C, 3, 0, 1000, (int32_t)gstr(1000, "f"), 5, 6, WASI_FST_MTIM), 0);
  CHECK_EQ(stat_(3, 0, "f"), 0);
  CHECK_EQ(wasi_ld64(M + 3148), 6);
  CHECK_EQ(st_size(), 3);
  CHECK_EQ(W(path_filestat_set_times, iiiiIIi_i)(C, 3, 0, 1000, (int32_t)gstr(1000, "zz"), 5, 6, 4), WASI_ENOENT);
  CHECK_EQ(W(path_filestat_set_times, iiiiIIi_i)(C, 3, 0, 1000, (int32_t)gstr(1000, "f"), 5, 6, WASI_FST_MTIM_NOW), 0);
  CHECK(wasi_ld64(M + 3148) == 6); /* the stat buffer is not re-read yet */
  CHECK_EQ(stat_(3, 0, "f"), 0);
  CHECK(wasi_ld64(M + 3148) > 1000000000ull);
  CHECK_EQ(W(path_filestat_get, iiiii_i)(C, 3, 0, 1000, 1, MEMSIZE - 63), WASI_EFAULT);
  CHECK_EQ(stat_(3, 0, "missing"), WASI_ENOENT);
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, 3, 0), WASI_ENOTCAPABLE); /* dirs have no set_size right */
  /* advise, allocate, sync */
  CHECK_EQ(W(fd_advise, iIIi_i)(C, (int32_t)fd, 0, 10, 3), 0);
  CHECK_EQ(W(fd_advise, iIIi_i)(C, (int32_t)fd, 0, 10, 6), WASI_EINVAL);
  CHECK_EQ(W(fd_advise, iIIi_i)(C, 3, 0, 10, 0), WASI_EISDIR);
  CHECK_EQ(W(fd_allocate, iII_i)(C, (int32_t)fd, 10, 90), 0);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), 0);
  CHECK_EQ(st_size(), 100);
  CHECK_EQ(W(fd_allocate, iII_i)(C, (int32_t)fd, 0, 5), 0); /* never shrinks */
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), 0);
  CHECK_EQ(st_size(), 100);
  CHECK_EQ(W(fd_allocate, iII_i)(C, (int32_t)fd, 0, 0), WASI_EINVAL);
  CHECK_EQ(W(fd_sync, i_i)(C, (int32_t)fd), 0);
  CHECK_EQ(W(fd_datasync, i_i)(C, 3), 0);
  CHECK_EQ(W(fd_sync, i_i)(C, 42), WASI_EBADF);
}

static void t_readdir(void) {
  add_preopen(".");
  CHECK_EQ(mkdir_(3, "dir"), 0);
  CHECK_EQ(creat_(3, "file-0", NULL), 0);
  CHECK_EQ(creat_(3, "file-1", NULL), 0);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, 4096, 4096, 0, 3000), 0);
  uint32_t used = wasi_ld32(M + 3000), off = 0, count = 0;
  /* memfs lists in creation order with cookies 1, 2, ...; a host directory in its own order
   * with its own offsets: there, check the set of names and that every cookie resumes right */
  const char *want[] = {".", "..", "dir", "file-0", "file-1"};
  uint64_t cookies[6] = {0};
  char names[5][8] = {{0}};
  int seen = 0;
  while (off + WASI_DIRENT_SIZE <= used && count < 5) {
    uint32_t nl = wasi_ld32(M + 4096 + off + 16);
    const char *nm = (const char *)M + 4096 + off + 24;
    int k = 0;
    while (k < 5 && !(nl == strlen(want[k]) && !memcmp(nm, want[k], nl))) k++;
    CHECK(k < 5 && !(seen & (1 << k)));
    if (k >= 5) break;
    seen |= 1 << k;
    if (!unit_hostfs) CHECK_EQ(k, (int)count);
    memcpy(names[count], nm, nl);
    cookies[count + 1] = wasi_ld64(M + 4096 + off);
    if (!unit_hostfs) CHECK_EQ(cookies[count + 1], count + 1);
    if (k == 2) CHECK_EQ(M[4096 + off + 20], WASI_FILETYPE_DIRECTORY);
    if (k == 3) {
      CHECK_EQ(M[4096 + off + 20], WASI_FILETYPE_REGULAR_FILE);
      uint64_t ino = wasi_ld64(M + 4096 + off + 8);
      stat_(3, 0, "file-0");
      CHECK_EQ(st_ino(), ino);
    }
    off += WASI_DIRENT_SIZE + nl;
    count++;
  }
  CHECK_EQ(count, 5);
  CHECK_EQ(off, used);
  /* resume from each cookie: the next entry is the one that followed */
  for (int i = 1; i < 5; i++) {
    CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, 4096, 4096, (int64_t)cookies[i], 3000), 0);
    CHECK(wasi_ld32(M + 4096 + 16) == strlen(names[i]) && !memcmp(M + 4096 + 24, names[i], strlen(names[i])));
  }
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, 4096, 4096, (int64_t)cookies[5], 3000), 0);
  CHECK_EQ(wasi_ld32(M + 3000), 0);
  if (!unit_hostfs) {
    CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, 4096, 4096, 1000, 3000), 0);
    CHECK_EQ(wasi_ld32(M + 3000), 0);
  }
  /* a small buffer is filled completely (the caller then retries larger) */
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, 4096, 30, 0, 3000), 0);
  CHECK_EQ(wasi_ld32(M + 3000), 30);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, MEMSIZE - 10, 30, 0, 3000), WASI_EFAULT);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 3, 4096, 30, 0, MEMSIZE), WASI_EFAULT);
  uint32_t fd;
  CHECK_EQ(gopen(3, "file-0", 0, RO, 0, &fd), 0);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, (int32_t)fd, 4096, 30, 0, 3000), WASI_ENOTDIR);
  CHECK_EQ(W(fd_readdir, iiiIi_i)(C, 99, 4096, 30, 0, 3000), WASI_EBADF);
}

static void t_renumber(void) {
  add_preopen(".");
  uint32_t a, b;
  CHECK_EQ(creat_(3, "a", "AAA"), 0);
  CHECK_EQ(creat_(3, "b", "BBB"), 0);
  CHECK_EQ(gopen(3, "a", 0, RO, 0, &a), 0);
  CHECK_EQ(gopen(3, "b", 0, RO, 0, &b), 0);
  CHECK_EQ(W(fd_renumber, ii_i)(C, (int32_t)a, (int32_t)b), 0);
  char buf[8];
  uint32_t n;
  CHECK_EQ(gread(b, buf, 7, &n), 0);
  CHECK(!strcmp(buf, "AAA"));
  CHECK_EQ(gread(a, buf, 7, &n), WASI_EBADF);
  CHECK_EQ(W(fd_renumber, ii_i)(C, (int32_t)b, 77), WASI_EBADF);
  CHECK_EQ(W(fd_renumber, ii_i)(C, 77, (int32_t)b), WASI_EBADF);
  CHECK_EQ(W(fd_renumber, ii_i)(C, (int32_t)b, (int32_t)b), 0);
}

static void t_poll_files(void) {
  add_preopen(".");
  uint32_t fd;
  CHECK_EQ(creat_(3, "f", "12345"), 0);
  CHECK_EQ(gopen(3, "f", 0, RW | WASI_RIGHT(WASI_R_POLL_FD_READWRITE), 0, &fd), 0);
  memset(M + 10000, 0, 96);
  M[10008] = WASI_EVENTTYPE_FD_READ;
  wasi_st32(M + 10016, fd);
  M[10056] = WASI_EVENTTYPE_FD_WRITE;
  wasi_st32(M + 10064, fd);
  CHECK_EQ(W(poll_oneoff, iiii_i)(C, 10000, 20000, 2, 3000), 0);
  CHECK_EQ(wasi_ld32(M + 3000), 2);
  CHECK_EQ(wasi_ld64(M + 20016), 5); /* bytes readable */
  CHECK_EQ(M[20042], WASI_EVENTTYPE_FD_WRITE);
}

/* Build a small archive by hand: the kernel path, wasi_load_image. */
static size_t put_ent(uint8_t *b, size_t at, uint8_t type, const char *name, const char *extra, uint64_t off,
                      uint64_t len) {
  size_t nl = strlen(name), xl = extra ? strlen(extra) : 0;
  memset(b + at, 0, 40);
  b[at] = type;
  wasi_st32(b + at + 4, (uint32_t)nl);
  wasi_st32(b + at + 8, (uint32_t)xl);
  wasi_st64(b + at + 16, off);
  wasi_st64(b + at + 24, len);
  memcpy(b + at + 40, name, nl);
  if (xl) memcpy(b + at + 40 + nl, extra, xl);
  return at + ((40 + nl + xl + 7) & ~(size_t)7);
}

static void t_image(void) {
  static uint8_t img[1024];
  memset(img, 0, sizeof img);
  memcpy(img, "KILNFS1\n", 8);
  wasi_st32(img + 8, 1);
  size_t at = 32;
  at = put_ent(img, at, 6, "prog", NULL, 0, 0);
  at = put_ent(img, at, 7, "K=V", NULL, 0, 0);
  at = put_ent(img, at, 1, "/", NULL, 0, 0);
  at = put_ent(img, at, 2, "d", NULL, 0, 0);
  at = put_ent(img, at, 3, "d/f", NULL, 512, 5);
  at = put_ent(img, at, 4, "s", "d/f", 0, 0);
  at = put_ent(img, at, 5, "h", "d/f", 0, 0);
  wasi_st32(img + 12, 7);
  wasi_st64(img + 16, 517);
  memcpy(img + 512, "image", 5);
  CHECK_EQ(wasi_load_image(S, img, sizeof img), 0);
  CHECK(S->argc == 1 && S->envc == 1);
  CHECK_EQ(W(fd_prestat_dir_name, iii_i)(C, 3, 3100, 1), 0);
  CHECK_EQ(M[3100], '/');
  CHECK(!strcmp(cat_(3, "d/f"), "image"));
  CHECK(!strcmp(cat_(3, "s"), "image"));
  struct wasi_lookup l;
  CHECK_EQ(wasi_path_resolve(S, S->fds[3].node, "d/f", 3, 0, &l), 0);
  CHECK(l.node && l.node->ro == img + 512 && !l.node->data); /* not copied at load */
  wasi_lookup_done(&l);
  CHECK_EQ(stat_(3, 0, "h"), 0);
  CHECK_EQ(st_nlink(), 2);
  /* writing copies: the image bytes stay as they were */
  uint32_t fd;
  CHECK_EQ(gopen(3, "h", 0, RW, 0, &fd), 0);
  CHECK_EQ(gwrite(fd, "IM"), 0);
  CHECK(!strcmp(cat_(3, "d/f"), "IMage"));
  CHECK(!memcmp(img + 512, "image", 5));
  CHECK_EQ(W(fd_filestat_set_size, iI_i)(C, (int32_t)fd, 2), 0);
  CHECK(!strcmp(cat_(3, "d/f"), "IM"));
  /* malformed archives are refused */
  struct wasi_state *t = wasi_create();
  CHECK_EQ(wasi_load_image(t, img, 20), WASI_EINVAL);
  uint8_t bad[1024];
  memcpy(bad, img, sizeof bad);
  wasi_st64(bad + 16, 2000); /* longer than the bytes given */
  CHECK_EQ(wasi_load_image(t, bad, sizeof bad), WASI_EINVAL);
  wasi_destroy(t);
  struct { size_t pos; uint64_t v; int w; } muts[] = {
      {12, 100, 4},                 /* more entries than there are */
      {32 + 40 + 8 + 40 + 8 + 40 + 8 + 40 + 16, 1000, 8}, /* d/f data offset past the end */
      {0, 'X', 1},                  /* magic */
  };
  for (size_t i = 0; i < sizeof muts / sizeof muts[0]; i++) {
    memcpy(bad, img, sizeof bad);
    if (muts[i].w == 1) bad[muts[i].pos] = (uint8_t)muts[i].v;
    else if (muts[i].w == 4) wasi_st32(bad + muts[i].pos, (uint32_t)muts[i].v);
    else wasi_st64(bad + muts[i].pos, muts[i].v);
    t = wasi_create();
    CHECK_EQ(wasi_load_image(t, bad, sizeof bad), WASI_EINVAL);
    wasi_destroy(t);
  }
  /* a path escaping its preopen is malformed */
  at = put_ent(bad, 32, 1, "/", NULL, 0, 0);
  put_ent(bad, at, 2, "../x", NULL, 0, 0);
  wasi_st32(bad + 12, 2);
  wasi_st64(bad + 16, 1024);
  memcpy(bad, "KILNFS1\n", 8);
  t = wasi_create();
  CHECK_EQ(wasi_load_image(t, bad, sizeof bad), WASI_EINVAL);
  wasi_destroy(t);
}

/* An archive written by build/kiln-pack from a host directory, and the same directory
 * preopened the hosted way: both must show the same tree. */
static void check_tree(int dir) {
  CHECK(!strcmp(cat_(dir, "hello.txt"), "hello from the host\n"));
  CHECK(!strcmp(cat_(dir, "sub/deep/x"), "x"));
  CHECK(!strcmp(cat_(dir, "link"), "x"));
  CHECK_EQ(stat_(dir, 0, "hard"), 0);
  CHECK_EQ(st_nlink(), 2);
  CHECK_EQ(stat_(dir, 0, "empty"), 0);
  CHECK_EQ(st_size(), 0);
  CHECK_EQ(creat_(dir, "sub/new", "written"), 0);
  CHECK(!strcmp(cat_(dir, "sub/new"), "written"));
  CHECK_EQ(creat_(dir, "hello.txt", "changed"), 0);
  CHECK(!strcmp(cat_(dir, "hello.txt"), "changed"));
}

static void t_packed(void) {
  if (!unit_archive) {
    printf("SKIP packed_archive: no archive given (run through tests/wasi/run.sh)\n");
    return;
  }
  FILE *f = fopen(unit_archive, "rb");
  CHECK(f != NULL);
  if (!f) return;
  static uint8_t buf[1 << 20];
  size_t n = fread(buf, 1, sizeof buf, f);
  fclose(f);
  CHECK_EQ(wasi_load_image(S, buf, n), 0);
  CHECK_EQ(S->argc, 2);
  CHECK_EQ(W(fd_prestat_dir_name, iii_i)(C, 3, 3100, 4), 0);
  CHECK(!memcmp(M + 3100, "data", 4));
  check_tree(3);
}

/* The hosted --dir: the host directory itself, so the guest's writes reach the host. */
static void t_hostdir(void) {
  if (!unit_hostdir) {
    printf("SKIP hostdir: no directory given (run through tests/wasi/run.sh)\n");
    return;
  }
  char err[256] = "";
  struct wasi_vfs *v = hostfs_create(UINT64_MAX, UINT64_MAX);
  struct wasi_vfs_file *root;
  CHECK_EQ(hostfs_root(v, unit_hostdir, &root, err, sizeof err), 0);
  CHECK_EQ(wasi_preopen_vfs(S, v, root, "data", 4), 0);
  check_tree(3);
  char p[512];
  snprintf(p, sizeof p, "%s/hello.txt", unit_hostdir);
  FILE *f = fopen(p, "r");
  char line[64] = "";
  if (f) {
    if (!fgets(line, sizeof line, f)) line[0] = 0;
    fclose(f);
  }
  CHECK(!strcmp(line, "changed"));
  CHECK(hostfs_root(v, "/nonexistent/dir", &root, err, sizeof err) != 0);
  CHECK(strstr(err, "/nonexistent/dir") != NULL);
  W(fd_close, i_i)(C, 3);
  free(v);
}

/* hostfs: renames and links between two preopens of one backend are real host operations:
 * fine on one file system, EXDEV (not ENOTCAPABLE) across two, so programs fall back to copying;
 * between a backend and memfs, EXDEV. */
static void t_cross(void) {
  add_preopen("a");
  add_preopen("b");
  CHECK_EQ(creat_(3, "f", "x"), 0);
  CHECK_EQ(rename_(3, "f", 4, "g"), 0);
  CHECK(!strcmp(cat_(4, "g"), "x"));
  CHECK_EQ(W(path_link, iiiiiii_i)(C, 4, 0, 1000, (int32_t)gstr(1000, "g"), 3, 1500, (int32_t)gstr(1500, "h")), 0);
  struct wasi_node *root = memfs_node_new(S->fs, WASI_FILETYPE_DIRECTORY);
  CHECK_EQ(memfs_preopen(S, root, "m", 1), 0); /* fd 5 */
  CHECK_EQ(rename_(3, "h", 5, "h"), WASI_EXDEV);
  CHECK_EQ(rename_(5, "h", 3, "h2"), WASI_EXDEV);
  CHECK_EQ(rename_(3, "h", 9, "h"), WASI_EBADF);
  char shm[] = "/dev/shm/kiln-unit.XXXXXX", err[256];
  struct stat s1, s2;
  if (!mkdtemp(shm)) {
    printf("SKIP hostfs cross_device: no /dev/shm\n");
    return;
  }
  struct wasi_vfs_file *r;
  if (stat(shm, &s1) == 0 && stat(unit_tmp[0], &s2) == 0 && s1.st_dev != s2.st_dev) {
    CHECK_EQ(hostfs_root(unit_vfs, shm, &r, err, sizeof err), 0);
    CHECK_EQ(wasi_preopen_vfs(S, unit_vfs, r, "shm", 3), 0); /* fd 6 */
    CHECK_EQ(rename_(3, "h", 6, "h"), WASI_EXDEV);
    CHECK(!strcmp(cat_(3, "h"), "x"));
  } else {
    printf("SKIP hostfs cross_device: /dev/shm is on the same file system as /tmp\n");
  }
  W(fd_close, i_i)(C, 6);
  rmdir(shm);
}

/* No fixed limits: many files in one directory, and a file larger than guest memory
 * written in pieces. */
static void t_scale(void) {
  add_preopen(".");
  char name[32];
  for (int i = 0; i < 20000 && !case_failed; i++) {
    snprintf(name, sizeof name, "f%d", i);
    uint32_t fd;
    CHECK_EQ(gopen(3, name, WASI_O_CREAT | WASI_O_EXCL, RW, 0, &fd), 0);
    CHECK_EQ(W(fd_close, i_i)(C, (int32_t)fd), 0);
  }
  CHECK_EQ(stat_(3, 0, "f19999"), 0);
  uint32_t fd;
  CHECK_EQ(gopen(3, "big", WASI_O_CREAT, RW, 0, &fd), 0);
  memset(M + 8192, 'b', 32768);
  giov(2000, 8192, 32768);
  for (int i = 0; i < 512 && !case_failed; i++) CHECK_EQ(W(fd_write, iiii_i)(C, (int32_t)fd, 2000, 1, 3000), 0);
  CHECK_EQ(W(fd_filestat_get, ii_i)(C, (int32_t)fd, 3100), 0);
  CHECK_EQ(st_size(), 512ull * 32768);
  for (int i = 0; i < 20000 && !case_failed; i += 7) {
    snprintf(name, sizeof name, "f%d", i);
    CHECK_EQ(unlink_(3, name), 0);
  }
}

/* Run twice by unit.c: on memfs, then (unit_hostfs) with every add_preopen a host directory
 * served by host/hostfs.c; the image tests are memfs's own. */
void fs_tests(void (*run)(const char *, void (*)(void))) {
#define RUN(name, fn) run(unit_hostfs ? "hostfs " name : name, fn)
  RUN("fd_prestat", t_prestat);
  RUN("path_open_rw", t_open_rw);
  RUN("append", t_append);
  RUN("rights", t_rights);
  RUN("no_escape", t_escape);
  RUN("directories", t_dirs);
  RUN("path_rename", t_rename);
  RUN("links_symlinks", t_links);
  RUN("filestat", t_filestat);
  RUN("fd_readdir", t_readdir);
  RUN("fd_renumber", t_renumber);
  RUN("poll_files", t_poll_files);
  RUN("no_fixed_limits", t_scale);
  if (unit_hostfs) {
    RUN("cross_preopen", t_cross);
    return;
  }
  run("fs_image", t_image);
  if (unit_archive) run("packed_archive", t_packed);
  else t_packed();
  if (unit_hostdir) run("hostdir", t_hostdir);
  else t_hostdir();
}
