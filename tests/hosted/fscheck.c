/* tests/hosted/fscheck.c — a Wasm app run hosted by tests/hosted/run.sh to check that --dir is
 * the host directory itself (the script then compares the host tree), that it stays confined,
 * that holes are sparse, that the write quota answers, and what stdio looks like.
 *
 *   fscheck tree DIR      build a known tree in preopen DIR (the script checks it on the host)
 *   fscheck escape DIR    try every way out of DIR; prints PASS/FAIL per attempt
 *   fscheck sparse DIR    1 byte at offset 2 GiB
 *   fscheck quota DIR     writes until the quota answers; prints the errno seen
 *   fscheck stdio         isatty of 0..2 on stderr; on a file stdout, overwrites its start
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failures;
static char path_buf[512];

static const char *at(const char *dir, const char *p) {
  snprintf(path_buf, sizeof path_buf, "%s/%s", dir, p);
  return path_buf;
}

/* expect NAME RESULT WANT_ERRNO: RESULT < 0 with errno == WANT_ERRNO (0: success wanted). */
static void expect(const char *name, int r, int want) {
  int got = r < 0 ? errno : 0;
  if (got == want) printf("PASS %s\n", name);
  else {
    printf("FAIL %s: errno %d (%s), expected %d (%s)\n", name, got, strerror(got), want, strerror(want));
    failures++;
  }
}

static void put(const char *dir, const char *p, int flags, const char *data) {
  int fd = open(at(dir, p), O_WRONLY | flags, 0644);
  if (fd < 0 || write(fd, data, strlen(data)) != (ssize_t)strlen(data) || close(fd) != 0) {
    printf("FAIL write %s: %s\n", p, strerror(errno));
    failures++;
  }
}

static int tree(const char *d) {
  expect("mkdir d", mkdir(at(d, "d"), 0755), 0);
  expect("mkdir d/sub", mkdir(at(d, "d/sub"), 0755), 0);
  put(d, "d/a.txt", O_CREAT | O_TRUNC, "hello");
  put(d, "d/a.txt", O_APPEND, " world\n");
  char from[512];
  snprintf(from, sizeof from, "%s/d/a.txt", d);
  expect("rename into a subdirectory", rename(from, at(d, "d/sub/b.txt")), 0);
  /* pwrite, seek, truncate on one file: "0123456789" then "ab" at 4, cut to 8 */
  int fd = open(at(d, "c.bin"), O_RDWR | O_CREAT | O_TRUNC, 0644);
  expect("open c.bin", fd, 0);
  expect("write c.bin", write(fd, "0123456789", 10) == 10 ? 0 : -1, 0);
  expect("pwrite c.bin", pwrite(fd, "ab", 2, 4) == 2 ? 0 : -1, 0);
  expect("lseek end", lseek(fd, 0, SEEK_END) == 10 ? 0 : -1, 0);
  expect("ftruncate", ftruncate(fd, 8), 0);
  char buf[16] = {0};
  expect("pread back", pread(fd, buf, sizeof buf, 0) == 8 && !memcmp(buf, "0123ab67", 8) ? 0 : -1, 0);
  expect("fsync", fsync(fd), 0);
  struct timespec ts[2] = {{1000000000, 0}, {1234567890, 0}};
  expect("futimens", futimens(fd, ts), 0);
  close(fd);
  /* create then delete; a directory made and removed */
  put(d, "gone.txt", O_CREAT, "bye");
  expect("unlink", unlink(at(d, "gone.txt")), 0);
  expect("mkdir tmpdir", mkdir(at(d, "tmpdir"), 0755), 0);
  expect("rmdir tmpdir", rmdir(at(d, "tmpdir")), 0);
  expect("rmdir non-empty d", rmdir(at(d, "d")), ENOTEMPTY);
  /* links */
  expect("symlink lnk", symlink("d/sub/b.txt", at(d, "lnk")), 0);
  char from2[512];
  snprintf(from2, sizeof from2, "%s/c.bin", d);
  expect("link hl", link(from2, at(d, "hl")), 0);
  char t[64] = {0};
  expect("readlink lnk", readlink(at(d, "lnk"), t, sizeof t) == 11 && !memcmp(t, "d/sub/b.txt", 11) ? 0 : -1, 0);
  struct stat st;
  expect("stat through lnk", stat(at(d, "lnk"), &st) == 0 && st.st_size == 12 ? 0 : -1, 0);
  expect("lstat lnk", lstat(at(d, "lnk"), &st) == 0 && S_ISLNK(st.st_mode) ? 0 : -1, 0);
  expect("hl has 2 links", stat(at(d, "hl"), &st) == 0 && st.st_nlink == 2 ? 0 : -1, 0);
  /* files the host made are there: in.txt from the script */
  fd = open(at(d, "in.txt"), O_RDONLY);
  memset(buf, 0, sizeof buf);
  expect("read the host's in.txt", fd >= 0 && read(fd, buf, sizeof buf) == 9 && !memcmp(buf, "from host", 9) ? 0 : -1, 0);
  if (fd >= 0) close(fd);
  /* readdir sees what is there, in one pass and again after rewind (cookies survive) */
  DIR *dp = opendir(d);
  int n = 0, again = 0;
  struct dirent *e;
  while (dp && (e = readdir(dp))) n++;
  if (dp) rewinddir(dp);
  while (dp && (e = readdir(dp))) again++;
  if (dp) closedir(dp);
  /* . .. d c.bin lnk hl in.txt */
  expect("readdir 7 entries, twice", n == 7 && again == 7 ? 0 : -1, 0);
  /* a large directory read in several calls */
  expect("mkdir many", mkdir(at(d, "many"), 0755), 0);
  for (int i = 0; i < 300; i++) {
    char nm[32];
    snprintf(nm, sizeof nm, "many/file-%03d", i);
    put(d, nm, O_CREAT, "m");
  }
  dp = opendir(at(d, "many"));
  n = 0;
  while (dp && (e = readdir(dp))) n++;
  if (dp) closedir(dp);
  expect("readdir 300 files + . ..", n == 302 ? 0 : -1, 0);
  return failures != 0;
}

static int escape(const char *d) {
  int fd;
  char buf[8];
  fd = open(at(d, "../outside/secret.txt"), O_RDONLY);
  expect("open ../outside/secret.txt", fd, ENOTCAPABLE);
  fd = open(at(d, "../outside/new.txt"), O_WRONLY | O_CREAT, 0644);
  expect("create ../outside/new.txt", fd, ENOTCAPABLE);
  expect("mkdir ../outside/x", mkdir(at(d, "../outside/x"), 0755), ENOTCAPABLE);
  expect("unlink ../outside/secret.txt", unlink(at(d, "../outside/secret.txt")), ENOTCAPABLE);
  /* an absolute path is outside every preopen: wasi-libc finds none */
  fd = open("/etc/passwd", O_RDONLY);
  expect("open /etc/passwd", fd, ENOTCAPABLE);
  /* symlinks the host made: absolute, and relative leading out */
  fd = open(at(d, "abslink"), O_RDONLY);
  expect("open host symlink to an absolute path", fd, ENOTCAPABLE);
  fd = open(at(d, "uplink/secret.txt"), O_RDONLY);
  expect("open through host symlink to ../outside", fd, ENOTCAPABLE);
  fd = open(at(d, "uplink/new.txt"), O_WRONLY | O_CREAT, 0644);
  expect("create through host symlink to ../outside", fd, ENOTCAPABLE);
  struct stat st;
  expect("stat through host symlink", stat(at(d, "uplink/secret.txt"), &st), ENOTCAPABLE);
  /* symlinks the guest makes */
  expect("guest symlink to an absolute path", symlink("/etc/passwd", at(d, "g-abs")), ENOTCAPABLE);
  expect("guest symlink to /", symlink("/", at(d, "g-root")), ENOTCAPABLE);
  expect("guest symlink to ../outside (made)", symlink("../outside/secret.txt", at(d, "g-up")), 0);
  fd = open(at(d, "g-up"), O_RDONLY);
  expect("open guest symlink to ../outside", fd, ENOTCAPABLE);
  fd = open(at(d, "g-up"), O_WRONLY | O_TRUNC);
  expect("truncate through guest symlink to ../outside", fd, ENOTCAPABLE);
  expect("guest symlink to ../outside/new.txt (made, dangling)", symlink("../outside/new.txt", at(d, "g-new")), 0);
  fd = open(at(d, "g-new"), O_WRONLY | O_CREAT, 0644);
  expect("create through a dangling symlink to ../outside", fd, ENOTCAPABLE);
  expect("host symlink: mkdir through it", mkdir(at(d, "uplink/x"), 0755), ENOTCAPABLE);
  char gnew[512];
  snprintf(gnew, sizeof gnew, "%s/g-new", d);
  expect("host symlink: rename into it", rename(gnew, at(d, "uplink/moved")), ENOTCAPABLE);
  expect("host symlink: utimes through it", utimensat(AT_FDCWD, at(d, "uplink/secret.txt"), NULL, 0), ENOTCAPABLE);
  expect("host symlink: rmdir through it", rmdir(at(d, "uplink/..")), ENOTCAPABLE);
  expect("mkdir sub", mkdir(at(d, "sub"), 0755), 0);
  expect("guest symlink sub/../.. (made)", symlink("sub/../..", at(d, "g-dotdot")), 0);
  fd = open(at(d, "g-dotdot/outside/secret.txt"), O_RDONLY);
  expect("open through sub/../.. symlink", fd, ENOTCAPABLE);
  /* loops */
  expect("loop a", symlink("loop-b", at(d, "loop-a")), 0);
  expect("loop b", symlink("loop-a", at(d, "loop-b")), 0);
  fd = open(at(d, "loop-a"), O_RDONLY);
  expect("open a symlink loop", fd, ELOOP);
  expect("self loop", symlink("self/x", at(d, "self")), 0);
  fd = open(at(d, "self/x"), O_RDONLY);
  expect("open through a self loop", fd, ELOOP);
  /* renames and links out */
  put(d, "mine.txt", O_CREAT, "mine");
  char from[512];
  snprintf(from, sizeof from, "%s/mine.txt", d);
  expect("rename to ../outside", rename(from, at(d, "../outside/mine.txt")), ENOTCAPABLE);
  expect("link to ../outside", link(from, at(d, "../outside/mine.txt")), ENOTCAPABLE);
  expect("rename ../outside/secret.txt in", rename(at(d, "../outside/secret.txt"), from), ENOTCAPABLE);
  (void)buf;
  return failures != 0;
}

static int sparse(const char *d) {
  int fd = open(at(d, "sparse.bin"), O_RDWR | O_CREAT | O_TRUNC, 0644);
  expect("open sparse.bin", fd, 0);
  expect("pwrite 1 byte at 2 GiB", pwrite(fd, "x", 1, 2147483648LL) == 1 ? 0 : -1, 0);
  char c = 0;
  expect("pread it back", pread(fd, &c, 1, 2147483648LL) == 1 && c == 'x' ? 0 : -1, 0);
  expect("a hole reads as zero", pread(fd, &c, 1, 1000000) == 1 && c == 0 ? 0 : -1, 0);
  struct stat st;
  expect("size 2 GiB + 1", fstat(fd, &st) == 0 && st.st_size == 2147483649LL ? 0 : -1, 0);
  close(fd);
  return failures != 0;
}

/* With --max-file-size 1M --max-write 3M: a file stops at 1 MiB (EFBIG), then the total
 * stops at 3 MiB (ENOSPC). */
static int quota(const char *d) {
  static char block[65536];
  memset(block, 'q', sizeof block);
  int fd = open(at(d, "q1"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  long total = 0;
  ssize_t r;
  while ((r = write(fd, block, sizeof block)) > 0 && total < (64 << 20)) total += r;
  expect("file size limit: EFBIG", r < 0 ? -1 : 0, EFBIG);
  expect("file stopped at 1 MiB", total == (1 << 20) ? 0 : -1, 0);
  expect("pwrite past the limit: EFBIG", pwrite(fd, "x", 1, 5 << 20) < 0 ? -1 : 0, EFBIG);
  expect("ftruncate past the limit: EFBIG", ftruncate(fd, 2 << 20), EFBIG);
  expect("ftruncate within: fine", ftruncate(fd, 1000), 0);
  close(fd);
  /* the budget: 1 MiB spent; two more files of 1 MiB, then nothing */
  long more = 0;
  r = 0;
  for (int i = 0; i < 4; i++) {
    char nm[16];
    snprintf(nm, sizeof nm, "q%d", i + 2);
    fd = open(at(d, nm), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    while ((r = write(fd, block, sizeof block)) > 0) more += r;
    close(fd);
    if (r < 0 && errno == ENOSPC) break;
    r = 0;
  }
  expect("total written limit: ENOSPC", r < 0 ? -1 : 0, ENOSPC);
  expect("stopped at 3 MiB in all", more == (2 << 20) ? 0 : -1, 0);
  return failures != 0;
}

static int stdio(void) {
  fprintf(stderr, "isatty %d %d %d\n", isatty(0), isatty(1), isatty(2));
  struct stat st;
  if (fstat(1, &st) == 0 && S_ISREG(st.st_mode)) {
    /* a file: write, seek back, overwrite the start */
    fputs("AAAAAAAA\n", stdout);
    fflush(stdout);
    off_t r = lseek(1, 0, SEEK_SET);
    fprintf(stderr, "lseek %ld\n", (long)r);
    fputs("B", stdout);
    fflush(stdout);
    fprintf(stderr, "tell %ld size %ld\n", (long)lseek(1, 0, SEEK_CUR), (long)st.st_size);
  } else {
    fputs("not a file\n", stdout);
    fprintf(stderr, "lseek %ld errno %d\n", (long)lseek(1, 0, SEEK_CUR), errno);
  }
  return 0;
}

int main(int argc, char **argv) {
  if (argc >= 2 && !strcmp(argv[1], "stdio")) return stdio();
  if (argc < 3) {
    fprintf(stderr, "usage: fscheck tree|escape|sparse|quota DIR | fscheck stdio\n");
    return 2;
  }
  const char *d = argv[2];
  if (!strcmp(argv[1], "tree")) return tree(d);
  if (!strcmp(argv[1], "escape")) return escape(d);
  if (!strcmp(argv[1], "sparse")) return sparse(d);
  if (!strcmp(argv[1], "quota")) return quota(d);
  fprintf(stderr, "fscheck: unknown mode %s\n", argv[1]);
  return 2;
}
