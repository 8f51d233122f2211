/* tests/volume/volcheck.c — run in the VM with `kiln run --volume HOST:/vol`: builds a tree in
 * the volume with every kind of change a program makes (nested directories, a file over
 * 1 MiB, append, seek and overwrite, a hole, truncation both ways, renames of a file and of a
 * directory, deletions, a symlink read back and followed), lists a directory, tries to escape
 * the volume, and measures a 16 MiB write and read. Prints PASS/FAIL lines; tests/volume/
 * run.sh then checks the exact tree and bytes on the host, after the VM is gone. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int failures;
#define CHECK(name, cond)                                                                    \
  do {                                                                                       \
    if (cond) printf("PASS %s\n", name);                                                     \
    else printf("FAIL %s: %s (errno %d %s)\n", name, #cond, errno, strerror(errno)), failures++; \
  } while (0)

/* The byte pattern run.sh regenerates with the same LCG. */
static void pattern(uint8_t *p, size_t n, uint32_t *x) {
  for (size_t i = 0; i < n; i++) {
    *x = *x * 1103515245u + 12345u;
    p[i] = (uint8_t)(*x >> 16);
  }
}

static int write_all(int fd, const void *p, size_t n) {
  for (size_t k = 0; k < n;) {
    ssize_t w = write(fd, (const char *)p + k, n - k);
    if (w <= 0) return -1;
    k += (size_t)w;
  }
  return 0;
}

static int put(const char *path, const char *s, int flags) {
  int fd = open(path, O_WRONLY | O_CREAT | flags, 0644);
  if (fd < 0) return -1;
  int r = write_all(fd, s, strlen(s));
  return close(fd) || r;
}

static ssize_t get(const char *path, char *buf, size_t cap) {
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  ssize_t n = 0, r;
  while ((size_t)n < cap && (r = read(fd, buf + n, cap - (size_t)n)) > 0) n += r;
  close(fd);
  return n;
}

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + t.tv_nsec / 1e9;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(void) {
  char buf[256];
  /* nested directories */
  CHECK("mkdir nested", mkdir("/vol/a", 0755) == 0 && mkdir("/vol/a/b", 0755) == 0 && mkdir("/vol/a/b/c", 0755) == 0);
  CHECK("mkdir existing is EEXIST", mkdir("/vol/a", 0755) == -1 && errno == EEXIST);

  /* a file over 1 MiB in uneven writes, read back in the guest too */
  enum { BIG = 3 * 1024 * 1024 + 123 };
  uint8_t *big = malloc(BIG), *back = malloc(BIG);
  uint32_t x = 1;
  pattern(big, BIG, &x);
  int fd = open("/vol/a/b/c/big.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  int ok = fd >= 0;
  for (size_t k = 0, step = 100000; ok && k < BIG; k += step) ok = write_all(fd, big + k, k + step > BIG ? BIG - k : step) == 0;
  CHECK("write 3 MiB", ok && close(fd) == 0);
  fd = open("/vol/a/b/c/big.bin", O_RDONLY);
  ssize_t got = 0, r;
  while (fd >= 0 && got < BIG && (r = read(fd, back + got, BIG - got)) > 0) got += r;
  CHECK("read 3 MiB back", fd >= 0 && got == BIG && memcmp(big, back, BIG) == 0);
  if (fd >= 0) close(fd);

  /* append: two opens, each appending */
  CHECK("append", put("/vol/a/log.txt", "line1\n", O_APPEND) == 0 && put("/vol/a/log.txt", "line2\n", O_APPEND) == 0);
  /* seek and overwrite, then a write past the end (a hole) */
  fd = open("/vol/a/seek.txt", O_RDWR | O_CREAT, 0644);
  ok = fd >= 0 && write_all(fd, "0123456789", 10) == 0 && lseek(fd, 3, SEEK_SET) == 3 && write_all(fd, "XYZ", 3) == 0 &&
       lseek(fd, 0, SEEK_CUR) == 6 && pwrite(fd, "!!", 2, 12) == 2 && lseek(fd, 0, SEEK_END) == 14;
  CHECK("seek, overwrite, hole", ok && close(fd) == 0);
  /* truncate down, then up (zeros) */
  fd = open("/vol/a/trunc.txt", O_RDWR | O_CREAT, 0644);
  ok = fd >= 0 && write_all(fd, "abcdefghij", 10) == 0 && ftruncate(fd, 4) == 0 && ftruncate(fd, 6) == 0;
  struct stat st;
  CHECK("truncate", ok && fstat(fd, &st) == 0 && st.st_size == 6 && close(fd) == 0);
  CHECK("O_TRUNC", put("/vol/a/b/t.txt", "long old content", 0) == 0 && put("/vol/a/b/t.txt", "new", O_TRUNC) == 0);

  /* renames: a file across directories, a directory with its contents, over an existing file */
  CHECK("rename file", put("/vol/a/tmp.txt", "moved\n", 0) == 0 && rename("/vol/a/tmp.txt", "/vol/moved.txt") == 0);
  CHECK("rename dir", mkdir("/vol/d1", 0755) == 0 && put("/vol/d1/in.txt", "inside\n", 0) == 0 &&
                          rename("/vol/d1", "/vol/d2") == 0 && access("/vol/d1", F_OK) == -1);
  CHECK("rename over", put("/vol/old.txt", "old\n", 0) == 0 && put("/vol/new.txt", "new\n", 0) == 0 &&
                           rename("/vol/new.txt", "/vol/old.txt") == 0);
  /* deletions */
  CHECK("unlink", put("/vol/gone.txt", "x", 0) == 0 && unlink("/vol/gone.txt") == 0 && access("/vol/gone.txt", F_OK) == -1);
  CHECK("rmdir", mkdir("/vol/gonedir", 0755) == 0 && rmdir("/vol/gonedir") == 0);
  CHECK("rmdir non-empty is ENOTEMPTY", rmdir("/vol/a") == -1 && errno == ENOTEMPTY);
  CHECK("unlink missing is ENOENT", unlink("/vol/nothing") == -1 && errno == ENOENT);

  /* symlink: read it back, follow it, and its lstat */
  ssize_t n = -1;
  CHECK("symlink", symlink("a/log.txt", "/vol/link") == 0);
  CHECK("readlink", (n = readlink("/vol/link", buf, sizeof buf)) == 9 && memcmp(buf, "a/log.txt", 9) == 0);
  CHECK("read through symlink", (n = get("/vol/link", buf, sizeof buf)) == 12 && memcmp(buf, "line1\nline2\n", 12) == 0);
  CHECK("lstat symlink", lstat("/vol/link", &st) == 0 && S_ISLNK(st.st_mode) && stat("/vol/link", &st) == 0 &&
                             S_ISREG(st.st_mode) && st.st_size == 12);
  CHECK("hard link", link("/vol/moved.txt", "/vol/a/hard.txt") == 0 && stat("/vol/moved.txt", &st) == 0 && st.st_nlink == 2);

  /* list a directory */
  DIR *d = opendir("/vol/a");
  char *names[32];
  int k = 0;
  struct dirent *e;
  while (d && k < 32 && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) names[k++] = strdup(e->d_name);
  if (d) closedir(d);
  qsort(names, (size_t)k, sizeof *names, cmp_str);
  buf[0] = 0;
  for (int i = 0; i < k; i++) strcat(strcat(buf, names[i]), " ");
  CHECK("readdir", strcmp(buf, "b hard.txt log.txt seek.txt trunc.txt ") == 0);
  if (strcmp(buf, "b hard.txt log.txt seek.txt trunc.txt ")) printf("  listed: %s\n", buf);

  /* escapes: each must fail and create nothing outside (run.sh checks the host) */
  errno = 0;
  CHECK("escape ../ open", open("/vol/../outside.txt", O_WRONLY | O_CREAT, 0644) == -1);
  CHECK("escape a/../../ mkdir", mkdir("/vol/a/../../outdir", 0755) == -1);
  CHECK("escape rename", rename("/vol/old.txt", "/vol/../stolen.txt") == -1);
  CHECK("symlink out (relative) is made", symlink("../..", "/vol/esc") == 0);
  CHECK("escape through symlink open", open("/vol/esc/outside2.txt", O_WRONLY | O_CREAT, 0644) == -1 && errno == ENOTCAPABLE);
  CHECK("escape through symlink stat", stat("/vol/esc", &st) == -1);
  CHECK("absolute symlink refused", symlink("/etc", "/vol/abs") == -1);
  CHECK("symlink loop is ELOOP", symlink("loop", "/vol/loop") == 0 && open("/vol/loop", O_RDONLY) == -1 && errno == ELOOP);
  unlink("/vol/loop");
  unlink("/vol/esc");
  /* symlinks the host put there, leading out: readable as links, never followed, removable */
  CHECK("host's absolute symlink not followed", open("/vol/hostabs", O_RDONLY) == -1 && errno == ENOTCAPABLE);
  CHECK("host's ../ symlink not followed",
        open("/vol/hostrel", O_WRONLY | O_TRUNC) == -1 && errno == ENOTCAPABLE && stat("/vol/hostrel", &st) == -1);
  CHECK("host's symlinks read as links", (n = readlink("/vol/hostrel", buf, sizeof buf)) == 11 &&
                                             memcmp(buf, "../sentinel", 11) == 0 && lstat("/vol/hostabs", &st) == 0);
  CHECK("host's symlinks removed", unlink("/vol/hostabs") == 0 && unlink("/vol/hostrel") == 0);

  /* throughput: 16 MiB in 1 MiB writes, read back, removed */
  enum { CHUNK = 1 << 20, TOTAL = 16 };
  double t0 = now();
  fd = open("/vol/perf.bin", O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ok = fd >= 0;
  for (int i = 0; ok && i < TOTAL; i++) ok = write_all(fd, big, CHUNK) == 0;
  ok = ok && fsync(fd) == 0 && close(fd) == 0;
  double t1 = now();
  fd = open("/vol/perf.bin", O_RDONLY);
  got = 0;
  while (fd >= 0 && (r = read(fd, back, CHUNK)) > 0) got += r;
  double t2 = now();
  CHECK("16 MiB write+read", ok && got == (ssize_t)TOTAL * CHUNK && close(fd) == 0 && unlink("/vol/perf.bin") == 0);
  printf("throughput: write %.1f MiB/s, read %.1f MiB/s\n", TOTAL / (t1 - t0), TOTAL / (t2 - t1));
  return failures;
}
