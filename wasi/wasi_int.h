/* wasi/wasi_int.h — internal interface of wasi/, grouped by defining file. The platform sees
 * only wasi/wasi.h. */
#ifndef KILN_WASI_INT_H
#define KILN_WASI_INT_H

#include <stddef.h>
#include <stdint.h>
#ifdef WASI_KERNEL
/* The freestanding kernel has no <string.h>; it provides these few (as lwIP needs them too). */
void *memcpy(void *d, const void *s, size_t n);
void *memmove(void *d, const void *s, size_t n);
void *memset(void *d, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
#else
#include <string.h>
#endif

#include "kernel/instance.h"
#include "wasi/wasi.h"
#include "wasi/wasi_calls.h"
#include "wasi/wasi_types.h"

#define WASI_STATE(ctx) ((struct wasi_state *)(ctx)->host)

/* Guest memory is little-endian and unaligned access must go through memcpy in C. */
static inline uint32_t wasi_ld32(const void *p) { uint32_t v; __builtin_memcpy(&v, p, 4); return v; }
static inline uint64_t wasi_ld64(const void *p) { uint64_t v; __builtin_memcpy(&v, p, 8); return v; }
static inline uint16_t wasi_ld16(const void *p) { uint16_t v; __builtin_memcpy(&v, p, 2); return v; }
static inline void wasi_st32(void *p, uint32_t v) { __builtin_memcpy(p, &v, 4); }
static inline void wasi_st64(void *p, uint64_t v) { __builtin_memcpy(p, &v, 8); }
static inline void wasi_st16(void *p, uint16_t v) { __builtin_memcpy(p, &v, 2); }

/* guest.c: the shared guest-pointer check (wasi_guest_ptr in wasi.h), iovecs, allocation */
#define WASI_IOV_MAX 1024
struct wasi_iovs {
  struct wasi_buf *v;
  size_t n;
  struct wasi_buf small[8];
};
/* Check and translate an iovec array; 0 or WASI_EFAULT / WASI_EINVAL (more than WASI_IOV_MAX)
 * / WASI_ENOMEM. Always release with wasi_iovs_free. */
int wasi_iovs_get(kiln_instance *ctx, uint32_t iovs, uint32_t n, struct wasi_iovs *out);
void wasi_iovs_free(struct wasi_iovs *v);
size_t wasi_iovs_total(const struct wasi_iovs *v);
void *wasi_alloc(size_t n); /* zeroed */
void wasi_free(void *p);
void *wasi_realloc(void *p, size_t old, size_t n); /* contents kept up to min(old, n), rest zeroed */
char *wasi_strndup(const char *s, size_t n);       /* NUL-terminated copy */

/* fdtable.c: the fd table, stdio */
void wasi_fd_release(struct wasi_state *st, uint32_t fd); /* close and free the slot */
int wasi_fd_check(struct wasi_state *st, uint32_t fd, uint64_t rights, struct wasi_fd **out); /* EBADF/ENOTCAPABLE */
int wasi_stdio_init(struct wasi_state *st);
/* A new directory fd preopened as `guest` (the caller says what it is: memfs node or backend). */
int wasi_preopen_new(struct wasi_state *st, const char *guest, size_t len, struct wasi_fd **out);
uint8_t wasi_fd_filetype(struct wasi_fd *f);
int wasi_stdio_index(struct wasi_fd *f); /* the platform's stream (0..2) behind a stdio fd */

/* memfs.c: the in-memory file system */
struct wasi_dent {
  char *name;
  uint32_t len;
  struct wasi_node *node;
};
struct wasi_node {
  uint8_t type; /* WASI_FILETYPE_DIRECTORY, _REGULAR_FILE or _SYMBOLIC_LINK */
  uint64_t ino, nlink;
  uint32_t refs; /* open fds; a node is freed when both nlink and refs are 0 */
  uint64_t atim, mtim, ctim;
  /* regular file: data is owned; until the first write, `ro` may point at image bytes */
  uint8_t *data;
  const uint8_t *ro;
  uint64_t size, cap;
  /* directory */
  struct wasi_dent *ents;
  uint32_t nents, ents_cap;
  struct wasi_node *parent;
  /* symlink (target NUL-terminated) */
  char *target;
  uint32_t target_len;
  struct wasi_node *prev_all, *next_all; /* every node of the fs, to free them all */
};
struct wasi_fs {
  uint64_t next_ino;
  struct wasi_node *all;
};
struct wasi_fs *memfs_create(void);
void memfs_destroy(struct wasi_fs *fs);
uint64_t memfs_now(void);
struct wasi_node *memfs_node_new(struct wasi_fs *fs, uint8_t type);
struct wasi_node *memfs_lookup(struct wasi_node *dir, const char *name, uint32_t len);
int memfs_link(struct wasi_fs *fs, struct wasi_node *dir, const char *name, uint32_t len, struct wasi_node *n);
int memfs_unlink(struct wasi_fs *fs, struct wasi_node *dir, const char *name, uint32_t len);
void memfs_ref(struct wasi_node *n);
void memfs_unref(struct wasi_fs *fs, struct wasi_node *n);
void memfs_maybe_free(struct wasi_fs *fs, struct wasi_node *n);
size_t memfs_read(struct wasi_node *n, uint64_t off, void *buf, size_t len);
extern uint64_t memfs_read_bytes; /* bytes copied out of files by memfs_read (net/stats.c) */
int memfs_write(struct wasi_node *n, uint64_t off, const void *buf, size_t len);
int memfs_truncate(struct wasi_node *n, uint64_t size);
int memfs_symlink_set(struct wasi_node *n, const char *target, uint32_t len);
/* Parent directory of packed path p (components walked as is, no symlinks), *last its last
 * component; NULL when a parent is missing or not a directory. */
struct wasi_node *memfs_parent(struct wasi_node *root, const char *p, uint32_t n, const char **last, uint32_t *lastlen);
int memfs_is_ancestor(struct wasi_node *a, struct wasi_node *b); /* a == b or a above b */
int memfs_preopen(struct wasi_state *st, struct wasi_node *root, const char *guest, size_t len); /* new dir fd */

/* path.c: resolution inside a directory fd (never escaping it) */
struct wasi_lookup {
  struct wasi_node *dir;  /* directory holding the last component; NULL for "." / ".." / base */
  char *name;             /* last component (owned; free with wasi_lookup_done) */
  uint32_t name_len;
  struct wasi_node *node; /* what it names, NULL when absent */
  uint8_t trailing_slash;
};
int wasi_path_resolve(struct wasi_state *st, struct wasi_node *base, const char *path, uint32_t len, int follow,
                      struct wasi_lookup *out);
void wasi_lookup_done(struct wasi_lookup *l);

/* fd.c */
void wasi_filestat_put(uint8_t *p, struct wasi_node *n);
int wasi_fst_check(uint32_t fst); /* 0 or WASI_EINVAL for contradictory fstflags */
int wasi_set_times(struct wasi_node *n, uint64_t atim, uint64_t mtim, uint32_t fst);

/* vfs.c: the fd and path calls on a backend of wasi/vfs.h (path.c and fd.c dispatch here when
 * the fd has f->vfs). Each returns a WASI errno. */
struct wasi_vfs_stat;
struct wasi_iovs;
void vfs_stat_put(uint8_t *p, const struct wasi_vfs_stat *s);
int vfs_path_check(const char *p, uint32_t len); /* empty, NUL, absolute */
int vfs_rw(struct wasi_fd *f, struct wasi_iovs *v, uint64_t off, int positioned, int write, size_t *done);
int vfs_size(struct wasi_fd *f, uint64_t *size);
int vfs_set_size(struct wasi_fd *f, uint64_t size);
int vfs_allocate(struct wasi_fd *f, uint64_t off, uint64_t len);
int vfs_readdir(struct wasi_fd *f, uint8_t *buf, uint32_t cap, uint64_t cookie, uint32_t *used);
int vfs_open(struct wasi_state *st, struct wasi_fd *dir, const char *p, uint32_t len, int follow, uint16_t oflags,
             uint64_t base, uint64_t inh, uint16_t fdflags, uint32_t *nfd);

#endif
