/* wasi/memfs.c — the in-memory file system both modes share: directories (entries in creation
 * order, so readdir cookies are plain indices), regular files, symlinks, hard links. A file
 * loaded from the image points at the image bytes (`ro`) until its first write, so large
 * files cost nothing at boot. Nodes are freed when no directory entry and no fd refers to them. */
#include "wasi/wasi_int.h"

struct wasi_fs *memfs_create(void) {
  struct wasi_fs *fs = wasi_alloc(sizeof *fs);
  if (fs) fs->next_ino = 1;
  return fs;
}

static void node_free(struct wasi_fs *fs, struct wasi_node *n) {
  if (n->prev_all) n->prev_all->next_all = n->next_all;
  else fs->all = n->next_all;
  if (n->next_all) n->next_all->prev_all = n->prev_all;
  for (uint32_t i = 0; i < n->nents; i++) wasi_free(n->ents[i].name);
  wasi_free(n->ents);
  wasi_free(n->data);
  wasi_free(n->target);
  wasi_free(n);
}

void memfs_destroy(struct wasi_fs *fs) {
  while (fs->all) node_free(fs, fs->all);
  wasi_free(fs);
}

uint64_t memfs_now(void) {
  uint64_t t = 0;
  wasi_plat_clock_get(WASI_CLOCK_REALTIME, &t);
  return t;
}

struct wasi_node *memfs_node_new(struct wasi_fs *fs, uint8_t type) {
  struct wasi_node *n = wasi_alloc(sizeof *n);
  if (!n) return NULL;
  n->type = type;
  n->ino = fs->next_ino++;
  n->atim = n->mtim = n->ctim = memfs_now();
  n->next_all = fs->all;
  if (fs->all) fs->all->prev_all = n;
  fs->all = n;
  return n;
}

struct wasi_node *memfs_lookup(struct wasi_node *dir, const char *name, uint32_t len) {
  for (uint32_t i = 0; i < dir->nents; i++)
    if (dir->ents[i].len == len && memcmp(dir->ents[i].name, name, len) == 0) return dir->ents[i].node;
  return NULL;
}

int memfs_link(struct wasi_fs *fs, struct wasi_node *dir, const char *name, uint32_t len, struct wasi_node *n) {
  if (dir->nents == dir->ents_cap) {
    uint32_t cap = dir->ents_cap ? dir->ents_cap * 2 : 8;
    struct wasi_dent *e = wasi_realloc(dir->ents, dir->nents * sizeof *e, cap * sizeof *e);
    if (!e) return WASI_ENOMEM;
    dir->ents = e;
    dir->ents_cap = cap;
  }
  char *nm = wasi_strndup(name, len);
  if (!nm) return WASI_ENOMEM;
  dir->ents[dir->nents++] = (struct wasi_dent){nm, len, n};
  n->nlink++;
  n->ctim = memfs_now();
  if (n->type == WASI_FILETYPE_DIRECTORY) n->parent = dir;
  dir->mtim = dir->ctim = n->ctim;
  return 0;
}

int memfs_unlink(struct wasi_fs *fs, struct wasi_node *dir, const char *name, uint32_t len) {
  for (uint32_t i = 0; i < dir->nents; i++) {
    struct wasi_dent *e = &dir->ents[i];
    if (e->len != len || memcmp(e->name, name, len) != 0) continue;
    struct wasi_node *n = e->node;
    wasi_free(e->name);
    memmove(e, e + 1, (dir->nents - i - 1) * sizeof *e);
    dir->nents--;
    n->nlink--;
    n->ctim = dir->mtim = dir->ctim = memfs_now();
    if (n->type == WASI_FILETYPE_DIRECTORY && n->parent == dir) n->parent = NULL;
    memfs_maybe_free(fs, n);
    return 0;
  }
  return WASI_ENOENT;
}

void memfs_ref(struct wasi_node *n) { n->refs++; }

void memfs_unref(struct wasi_fs *fs, struct wasi_node *n) {
  n->refs--;
  memfs_maybe_free(fs, n);
}

void memfs_maybe_free(struct wasi_fs *fs, struct wasi_node *n) {
  if (n->nlink == 0 && n->refs == 0) node_free(fs, n);
}

uint64_t memfs_read_bytes;

size_t memfs_read(struct wasi_node *n, uint64_t off, void *buf, size_t len) {
  if (off >= n->size) return 0;
  if (len > n->size - off) len = (size_t)(n->size - off);
  memcpy(buf, (n->data ? n->data : n->ro) + off, len);
  memfs_read_bytes += len;
  return len;
}

/* Make the data owned and at least `need` bytes of capacity (zero beyond size). */
static int reserve(struct wasi_node *n, uint64_t need) {
  if (n->data && need <= n->cap) return 0;
  if (need > ((uint64_t)1 << 40)) return WASI_EFBIG; /* an in-memory file of a TiB: no RAM for it (and ASan, under the fuzzer, aborts on such a calloc) */
  uint64_t cap = n->cap > need ? n->cap : need;
  if (cap < 64) cap = 64;
  if (n->data && cap < n->cap * 2) cap = n->cap * 2; /* amortise appends */
  uint8_t *d = wasi_alloc((size_t)cap);
  if (!d) return WASI_ENOSPC;
  if (n->size) memcpy(d, n->data ? n->data : n->ro, (size_t)n->size);
  wasi_free(n->data);
  n->data = d;
  n->ro = NULL;
  n->cap = cap;
  return 0;
}

int memfs_write(struct wasi_node *n, uint64_t off, const void *buf, size_t len) {
  if (off + len < off) return WASI_EFBIG;
  int e = reserve(n, off + len > n->size ? off + len : n->size);
  if (e) return e;
  if (off > n->size) memset(n->data + n->size, 0, (size_t)(off - n->size));
  memcpy(n->data + off, buf, len);
  if (off + len > n->size) n->size = off + len;
  n->mtim = n->ctim = memfs_now();
  return 0;
}

int memfs_truncate(struct wasi_node *n, uint64_t size) {
  if (size > n->size) {
    int e = reserve(n, size);
    if (e) return e;
    memset(n->data + n->size, 0, (size_t)(size - n->size));
  } else if (size < n->size && !n->data) {
    /* still image-backed: shrinking is just a shorter view */
  } else if (size < n->size) {
    memset(n->data + size, 0, (size_t)(n->size - size)); /* keep "zero beyond size" */
  }
  n->size = size;
  n->mtim = n->ctim = memfs_now();
  return 0;
}

int memfs_symlink_set(struct wasi_node *n, const char *target, uint32_t len) {
  n->target = wasi_strndup(target, len);
  if (!n->target) return WASI_ENOMEM;
  n->target_len = len;
  n->size = len;
  return 0;
}

/* Walk all but the last component (no symlinks followed); returns the parent directory and
 * points *last at the last component. */
struct wasi_node *memfs_parent(struct wasi_node *root, const char *p, uint32_t n, const char **last,
                                   uint32_t *lastlen) {
  struct wasi_node *d = root;
  uint32_t s = 0;
  for (uint32_t i = 0; i < n; i++) {
    if (p[i] != '/') continue;
    d = memfs_lookup(d, p + s, i - s);
    if (!d || d->type != WASI_FILETYPE_DIRECTORY) return NULL;
    s = i + 1;
  }
  *last = p + s;
  *lastlen = n - s;
  return d;
}

int memfs_is_ancestor(struct wasi_node *a, struct wasi_node *b) {
  for (; b; b = b->parent)
    if (a == b) return 1;
  return 0;
}

int memfs_preopen(struct wasi_state *st, struct wasi_node *root, const char *guest, size_t len) {
  struct wasi_fd *f;
  int e = wasi_preopen_new(st, guest, len, &f);
  if (e) return e;
  f->node = root;
  memfs_ref(root);
  if (root->nlink == 0) root->nlink = 1; /* a root is in no directory; it lives as long as the fs */
  return 0;
}
