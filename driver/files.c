/* driver/files.c — the file operations the commands share: work directories that are removed
 * when kiln exits (however it exits through exit()), copies, whole files, first lines. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"

static char *temp_dirs[4];
static int n_temp_dirs;
static pid_t temp_owner;

/* Removes the temporary directories (at exit, or before kiln ends by a signal). */
void exit_cleanup(void) {
  if (getpid() != temp_owner) return; /* a child that failed to exec */
  for (int i = 0; i < n_temp_dirs; i++) rm_rf(temp_dirs[i]);
  n_temp_dirs = 0;
}

/* A new directory under $TMPDIR (as mktemp -d), removed at exit. */
char *temp_dir(void) {
  const char *tmp = getenv("TMPDIR");
  char *t = xasprintf("%s/tmp.XXXXXXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(t)) die("cannot make a temporary directory %s: %s", t, strerror(errno));
  if (n_temp_dirs == 0) {
    temp_owner = getpid();
    atexit(exit_cleanup);
  }
  if (n_temp_dirs < (int)(sizeof temp_dirs / sizeof *temp_dirs)) temp_dirs[n_temp_dirs++] = t;
  return t;
}

static int rm_one(const char *path, const struct stat *st, int type, struct FTW *ftw) {
  if (type == FTW_DP) rmdir(path);
  else unlink(path);
  return 0;
}

/* rm -rf PATH: symlinks are removed, never followed. */
void rm_rf(const char *path) {
  struct stat st;
  if (lstat(path, &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) unlink(path);
  else nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdir -p PATH; true when it is a directory now. */
bool make_dirs(const char *path) {
  char *p = xasprintf("%s", path);
  for (char *s = p + 1; *s; s++)
    if (*s == '/') {
      *s = 0;
      mkdir(p, 0777);
      *s = '/';
    }
  bool ok = mkdir(p, 0777) == 0 || errno == EEXIST;
  free(p);
  return ok && is_dir(path);
}

/* True when DIR is an empty directory (a file, or a directory with entries: false). */
bool dir_is_empty(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return false;
  struct dirent *e;
  bool empty = true;
  while (empty && (e = readdir(d)))
    if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = false;
  closedir(d);
  return empty;
}

/* cp FROM TO (TO replaced, mode 0644 or 0755 as FROM is executable); 0 or -1 with errno. */
int copy_file(const char *from, const char *to) {
  struct stat st;
  int in = open(from, O_RDONLY | O_CLOEXEC);
  if (in < 0 || fstat(in, &st) < 0) return -1;
  int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, (st.st_mode & 0111) ? 0755 : 0644);
  if (out < 0) {
    close(in);
    return -1;
  }
  char buf[65536];
  ssize_t r;
  int rc = 0;
  while ((r = read(in, buf, sizeof buf)) != 0) {
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      rc = -1;
      break;
    }
    for (ssize_t done = 0; done < r;) {
      ssize_t w = write(out, buf + done, (size_t)(r - done));
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) {
        rc = -1;
        break;
      }
      done += w;
    }
    if (rc) break;
  }
  close(in);
  if (close(out) < 0) rc = -1;
  return rc;
}

/* The whole file, NUL-terminated (LEN: its length), or NULL. */
char *read_file(const char *path, size_t *len) {
  FILE *f = fopen(path, "rbe");
  if (!f) return NULL;
  size_t n = 0, cap = 4096;
  char *buf = malloc(cap);
  size_t r;
  while (buf && (r = fread(buf + n, 1, cap - n - 1, f)) > 0) {
    n += r;
    if (n + 1 == cap) buf = realloc(buf, cap *= 2);
  }
  fclose(f);
  if (!buf) die("out of memory");
  buf[n] = 0;
  if (len) *len = n;
  return buf;
}

bool write_file(const char *path, const char *data, size_t len) {
  FILE *f = fopen(path, "wbe");
  if (!f) return false;
  bool ok = fwrite(data, 1, len, f) == len;
  return fclose(f) == 0 && ok;
}

/* The file's first line without its newline, or NULL (no file). */
char *first_line(const char *path) {
  char *s = read_file(path, NULL);
  if (s) s[strcspn(s, "\n")] = 0;
  return s;
}

bool is_file(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool is_dir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whether S ends with SUFFIX (the shell's [[ $s == *SUFFIX ]]). */
bool ends_with(const char *s, const char *suffix) {
  size_t n = strlen(s), k = strlen(suffix);
  return n >= k && !strcmp(s + n - k, suffix);
}

/* S without SUFFIX at its end (the shell's ${s%SUFFIX}). */
char *strip_suffix(const char *s, const char *suffix) {
  size_t n = strlen(s);
  if (ends_with(s, suffix)) n -= strlen(suffix);
  return xasprintf("%.*s", (int)n, s);
}

/* basename PATH SUFFIX: the last component, SUFFIX stripped unless that is all of it. */
char *base_name(const char *path, const char *suffix) {
  size_t n = strlen(path);
  while (n > 1 && path[n - 1] == '/') n--;
  size_t start = n;
  while (start > 0 && path[start - 1] != '/') start--;
  char *b = xasprintf("%.*s", (int)(n - start), path + start);
  size_t bl = strlen(b), k = strlen(suffix);
  if (bl > k && ends_with(b, suffix)) b[bl - k] = 0;
  return b;
}
