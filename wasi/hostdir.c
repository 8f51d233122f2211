/* wasi/hostdir.c — hosted runtime only: preopen a host directory by loading its tree into
 * memfs, exactly as the kernel loads a kiln-pack archive, so both modes behave the same.
 * File contents are mmap'ed privately and read-only, not copied, until the guest writes. */
#include <stdio.h>
#include <sys/mman.h>
#include <fcntl.h>
#include <unistd.h>

#include "wasi/hostwalk.h"
#include "wasi/wasi_int.h"

struct load {
  struct wasi_state *st;
  struct wasi_node *root;
  char *err;
  size_t errlen;
};

static uint64_t ns(struct timespec t) { return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec; }

static int add(void *ud, const struct hostwalk_item *it) {
  struct load *l = ud;
  const char *last;
  uint32_t lastlen, n = (uint32_t)strlen(it->rel);
  struct wasi_node *dir = memfs_parent(l->root, it->rel, n, &last, &lastlen), *node;
  if (!dir) {
    snprintf(l->err, l->errlen, "%s: parent not loaded", it->host);
    return -1;
  }
  if (it->type == HOSTWALK_HARDLINK) {
    const char *tl;
    uint32_t tll;
    struct wasi_node *td = memfs_parent(l->root, it->target, (uint32_t)strlen(it->target), &tl, &tll);
    node = td ? memfs_lookup(td, tl, tll) : NULL;
    if (!node) {
      snprintf(l->err, l->errlen, "%s: hard link target not loaded", it->host);
      return -1;
    }
    return memfs_link(l->st->fs, dir, last, lastlen, node) ? -1 : 0;
  }
  uint8_t type = it->type == HOSTWALK_DIR ? WASI_FILETYPE_DIRECTORY
                 : it->type == HOSTWALK_FILE ? WASI_FILETYPE_REGULAR_FILE
                                             : WASI_FILETYPE_SYMBOLIC_LINK;
  if (!(node = memfs_node_new(l->st->fs, type))) goto nomem;
  if (type == WASI_FILETYPE_SYMBOLIC_LINK && memfs_symlink_set(node, it->target, (uint32_t)strlen(it->target)))
    goto nomem;
  if (type == WASI_FILETYPE_REGULAR_FILE && it->st->st_size > 0) {
    int fd = open(it->host, O_RDONLY | O_CLOEXEC);
    void *p = fd < 0 ? MAP_FAILED : mmap(NULL, (size_t)it->st->st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (fd >= 0) close(fd);
    if (p == MAP_FAILED) {
      snprintf(l->err, l->errlen, "cannot map %s", it->host);
      memfs_maybe_free(l->st->fs, node);
      return -1;
    }
    /* The mapping lives as long as the process; the hosted runtime runs one instance. */
    node->ro = p;
    node->size = (uint64_t)it->st->st_size;
  }
  if (memfs_link(l->st->fs, dir, last, lastlen, node)) goto nomem;
  node->atim = ns(it->st->st_atim);
  node->mtim = ns(it->st->st_mtim);
  node->ctim = ns(it->st->st_ctim);
  return 0;
nomem:
  if (node) memfs_maybe_free(l->st->fs, node);
  snprintf(l->err, l->errlen, "out of memory loading %s", it->host);
  return -1;
}

int wasi_preopen_host(struct wasi_state *st, const char *host, const char *guest, char *err, size_t errlen) {
  struct wasi_node *root = memfs_node_new(st->fs, WASI_FILETYPE_DIRECTORY);
  if (!root) {
    snprintf(err, errlen, "out of memory");
    return WASI_ENOMEM;
  }
  struct load l = {st, root, err, errlen};
  if (hostwalk(host, add, &l, err, errlen)) {
    root->nlink = 1; /* freed with the fs */
    return WASI_EIO;
  }
  int e = memfs_preopen(st, root, guest, strlen(guest));
  if (e) snprintf(err, errlen, "cannot preopen %s", host);
  return e;
}
