/* wasi/hostwalk.c — walking a host directory tree for --dir (hosted runtime and kiln-pack).
 * Host only: wasi.mk leaves it out of the kernel. */
#include "wasi/hostwalk.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct seen {
  dev_t dev;
  ino_t ino;
  char *rel;
};
struct walk {
  hostwalk_fn fn;
  void *ud;
  char *err;
  size_t errlen;
  struct seen *seen; /* files with more than one link, to pack the others as hard links */
  size_t nseen, capseen;
};

static int fail(struct walk *w, const char *what, const char *path) {
  snprintf(w->err, w->errlen, "%s %s: %s", what, path, strerror(errno));
  return -1;
}

static int walk_dir(struct walk *w, const char *host, const char *rel) {
  struct dirent **names;
  int n = scandir(host, &names, NULL, alphasort);
  if (n < 0) return fail(w, "cannot read directory", host);
  int r = 0;
  for (int i = 0; i < n; i++) {
    const char *nm = names[i]->d_name;
    if (r || !strcmp(nm, ".") || !strcmp(nm, "..")) continue;
    size_t hl = strlen(host) + strlen(nm) + 2, rl = strlen(rel) + strlen(nm) + 2;
    char *h = malloc(hl), *p = malloc(rl), *target = NULL;
    if (!h || !p) {
      errno = ENOMEM;
      r = fail(w, "out of memory at", host);
      free(h), free(p);
      continue;
    }
    snprintf(h, hl, "%s/%s", host, nm);
    snprintf(p, rl, "%s%s%s", rel, *rel ? "/" : "", nm);
    struct stat st;
    struct hostwalk_item it = {0, p, h, &st, NULL};
    if (lstat(h, &st) != 0) r = fail(w, "cannot stat", h);
    else if (S_ISDIR(st.st_mode)) {
      it.type = HOSTWALK_DIR;
      if (!(r = w->fn(w->ud, &it))) r = walk_dir(w, h, p);
    } else if (S_ISLNK(st.st_mode)) {
      target = malloc((size_t)st.st_size + 1);
      ssize_t k = target ? readlink(h, target, (size_t)st.st_size + 1) : -1;
      if (k < 0 || k > st.st_size) r = fail(w, "cannot read link", h);
      else {
        target[k] = 0;
        it.type = HOSTWALK_SYMLINK;
        it.target = target;
        r = w->fn(w->ud, &it);
      }
    } else if (S_ISREG(st.st_mode)) {
      it.type = HOSTWALK_FILE;
      if (st.st_nlink > 1) {
        for (size_t k = 0; k < w->nseen; k++)
          if (w->seen[k].dev == st.st_dev && w->seen[k].ino == st.st_ino) {
            it.type = HOSTWALK_HARDLINK;
            it.target = w->seen[k].rel;
          }
        if (it.type == HOSTWALK_FILE) {
          if (w->nseen == w->capseen) {
            size_t c = w->capseen ? 2 * w->capseen : 16;
            struct seen *s = realloc(w->seen, c * sizeof *s);
            if (s) w->seen = s, w->capseen = c;
          }
          if (w->nseen < w->capseen) w->seen[w->nseen++] = (struct seen){st.st_dev, st.st_ino, strdup(p)};
        }
      }
      r = w->fn(w->ud, &it);
    } /* sockets, fifos, devices: nothing a WASI program could use */
    free(target);
    free(h);
    free(p);
  }
  for (int i = 0; i < n; i++) free(names[i]);
  free(names);
  return r;
}

int hostwalk(const char *root, hostwalk_fn fn, void *ud, char *err, size_t errlen) {
  struct walk w = {fn, ud, err, errlen, NULL, 0, 0};
  struct stat st;
  int r;
  if (stat(root, &st) != 0) r = fail(&w, "cannot stat", root);
  else if (!S_ISDIR(st.st_mode)) {
    errno = ENOTDIR;
    r = fail(&w, "not a directory:", root);
  } else r = walk_dir(&w, root, "");
  for (size_t k = 0; k < w.nseen; k++) free(w.seen[k].rel);
  free(w.seen);
  return r;
}
