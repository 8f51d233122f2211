/* wasi/path.c — resolving a guest path inside a directory fd, and the path_* calls.
 * A path never leaves the directory it is resolved in: an absolute path, a ".." above it, or
 * a symlink leading out (absolute target or too many "..") is WASI_ENOTCAPABLE. A directory fd
 * of a backend (f->vfs, wasi/vfs.h) passes the path to it, which must confine it the same way. */
#include "wasi/vfs.h"
#include "wasi/wasi_int.h"

#define SYMLOOP_MAX 40

static int is_dot(const char *s, uint32_t n) { return n == 1 && s[0] == '.'; }
static int is_dotdot(const char *s, uint32_t n) { return n == 2 && s[0] == '.' && s[1] == '.'; }

/* Replace work[0..*wlen) by target + work[from..*wlen): a symlink's expansion. */
static int splice(char **work, uint32_t *wlen, uint32_t from, const char *t, uint32_t tlen) {
  uint32_t rest = *wlen - from;
  uint64_t n = (uint64_t)tlen + 1 + rest;
  if (n > (1u << 20)) return WASI_ENAMETOOLONG;
  char *w = wasi_alloc((size_t)n + 1);
  if (!w) return WASI_ENOMEM;
  memcpy(w, t, tlen);
  uint32_t len = tlen;
  if (rest) {
    w[len++] = '/';
    memcpy(w + len, *work + from, rest);
    len += rest;
  }
  wasi_free(*work);
  *work = w;
  *wlen = len;
  return 0;
}

int wasi_path_resolve(struct wasi_state *st, struct wasi_node *base, const char *path, uint32_t len, int follow,
                      struct wasi_lookup *out) {
  memset(out, 0, sizeof *out);
  if (len == 0) return WASI_ENOENT;
  for (uint32_t i = 0; i < len; i++)
    if (path[i] == 0) return WASI_EINVAL;
  if (path[0] == '/') return WASI_ENOTCAPABLE;
  uint32_t wlen = len, pos = 0, depth = 1, cap = 16, links = 0;
  char *work = wasi_strndup(path, len);
  struct wasi_node **stack = wasi_alloc(cap * sizeof *stack);
  int e = 0;
  if (!work || !stack) {
    e = WASI_ENOMEM;
    goto done;
  }
  stack[0] = base;
  for (;;) {
    while (pos < wlen && work[pos] == '/') pos++;
    uint32_t s = pos;
    while (pos < wlen && work[pos] != '/') pos++;
    uint32_t n = pos - s, after = pos;
    while (after < wlen && work[after] == '/') after++;
    int last = after == wlen, trailing = last && after > pos;
    struct wasi_node *cur = stack[depth - 1];
    if (n == 0) { /* only slashes left: the path named the current directory */
      out->node = cur;
      break;
    }
    if (is_dot(work + s, n) || is_dotdot(work + s, n)) {
      if (is_dotdot(work + s, n)) {
        if (depth == 1) {
          e = WASI_ENOTCAPABLE;
          goto done;
        }
        depth--;
      }
      if (last) {
        out->node = stack[depth - 1];
        break;
      }
      continue;
    }
    struct wasi_node *child = memfs_lookup(cur, work + s, n);
    if (child && child->type == WASI_FILETYPE_SYMBOLIC_LINK && (!last || follow || trailing)) {
      if (++links > SYMLOOP_MAX) {
        e = WASI_ELOOP;
        goto done;
      }
      if (child->target_len == 0) {
        e = WASI_ENOENT;
        goto done;
      }
      if (child->target[0] == '/') {
        e = WASI_ENOTCAPABLE;
        goto done;
      }
      /* keep the trailing slashes: "link/" must name a directory */
      if ((e = splice(&work, &wlen, pos, child->target, child->target_len))) goto done;
      pos = 0;
      continue;
    }
    if (last) {
      if (trailing && child && child->type != WASI_FILETYPE_DIRECTORY) {
        e = WASI_ENOTDIR;
        goto done;
      }
      out->dir = cur;
      out->node = child;
      out->trailing_slash = (uint8_t)trailing;
      out->name = wasi_strndup(work + s, n);
      out->name_len = n;
      if (!out->name) e = WASI_ENOMEM;
      break;
    }
    if (!child) {
      e = WASI_ENOENT;
      goto done;
    }
    if (child->type != WASI_FILETYPE_DIRECTORY) {
      e = WASI_ENOTDIR;
      goto done;
    }
    if (depth == cap) {
      struct wasi_node **ns = wasi_realloc(stack, cap * sizeof *stack, 2 * cap * sizeof *stack);
      if (!ns) {
        e = WASI_ENOMEM;
        goto done;
      }
      stack = ns;
      cap *= 2;
    }
    stack[depth++] = child;
  }
done:
  wasi_free(work);
  wasi_free(stack);
  if (e) wasi_lookup_done(out);
  return e;
}

void wasi_lookup_done(struct wasi_lookup *l) {
  wasi_free(l->name);
  memset(l, 0, sizeof *l);
}

/* The directory fd `fd` (with `rights`) and the guest path: the common start of path_*. */
static int dir_path(kiln_instance *ctx, int32_t fd, uint64_t rights, int32_t path, int32_t len,
                    struct wasi_node **dir, const char **p) {
  struct wasi_fd *f;
  int e = wasi_fd_check(WASI_STATE(ctx), (uint32_t)fd, rights, &f);
  if (e) return e;
  if (f->kind != WASI_FD_DIR) return WASI_ENOTDIR;
  *p = wasi_guest_ptr(ctx, (uint32_t)path, (uint32_t)len);
  if (!*p) return WASI_EFAULT;
  *dir = f->node;
  return 0;
}

/* The directory fd when it belongs to a backend: returns 1 with *f and the checked path (or
 * with *e set when the checks fail), 0 for a memfs directory (or a bad fd: memfs's path
 * reports it). */
static int vfs_at(kiln_instance *ctx, int32_t fd, uint64_t rights, int32_t path, int32_t len, struct wasi_fd **f,
                  const char **p, int *e) {
  struct wasi_fd *d = wasi_fd_get(WASI_STATE(ctx), (uint32_t)fd);
  if (!d || !d->vfs) return 0;
  struct wasi_node *unused;
  *f = d;
  if (!(*e = dir_path(ctx, fd, rights, path, len, &unused, p))) *e = vfs_path_check(*p, (uint32_t)len);
  return 1;
}
/* Across a backend and memfs (or two backends): the other fd's own error first, else EXDEV. */
static int cross(kiln_instance *ctx, int ov, int32_t ofd, uint64_t orights, int32_t opath, int32_t olen, int32_t nfd,
                 uint64_t nrights, int32_t npath, int32_t nlen) {
  struct wasi_node *d;
  const char *p;
  int e = ov ? dir_path(ctx, nfd, nrights, npath, nlen, &d, &p) : dir_path(ctx, ofd, orights, opath, olen, &d, &p);
  return e ? e : WASI_EXDEV;
}
#define VFS(f) ((f)->vfs)
#define VOPS(f) ((f)->vfs->ops)

static int resolve_at(kiln_instance *ctx, int32_t fd, uint64_t rights, int32_t path, int32_t len, int follow,
                      struct wasi_lookup *l) {
  struct wasi_node *dir;
  const char *p;
  int e = dir_path(ctx, fd, rights, path, len, &dir, &p);
  if (e) {
    memset(l, 0, sizeof *l);
    return e;
  }
  return wasi_path_resolve(WASI_STATE(ctx), dir, p, (uint32_t)len, follow, l);
}

int32_t WASI_FN(path_create_directory, iii_i)(kiln_instance *ctx, int32_t fd, int32_t path, int32_t len) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *vf;
  const char *vp;
  int e;
  if (vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_CREATE_DIRECTORY), path, len, &vf, &vp, &e))
    return e ? e : VOPS(vf)->mkdir(VFS(vf), vf->vf, vp, (uint32_t)len);
  struct wasi_lookup l;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_CREATE_DIRECTORY), path, len, 0, &l);
  if (e) return e;
  if (l.node || !l.dir) e = WASI_EEXIST;
  else {
    struct wasi_node *n = memfs_node_new(st->fs, WASI_FILETYPE_DIRECTORY);
    if (!n) e = WASI_ENOMEM;
    else if ((e = memfs_link(st->fs, l.dir, l.name, l.name_len, n))) memfs_maybe_free(st->fs, n);
  }
  wasi_lookup_done(&l);
  return e;
}

int32_t WASI_FN(path_filestat_get, iiiii_i)(kiln_instance *ctx, int32_t fd, int32_t flags, int32_t path, int32_t len,
                                             int32_t buf) {
  uint8_t *b = wasi_guest_ptr(ctx, (uint32_t)buf, WASI_FILESTAT_SIZE);
  struct wasi_fd *vf;
  const char *vp;
  int e;
  if (vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_FILESTAT_GET), path, len, &vf, &vp, &e)) {
    struct wasi_vfs_stat s;
    if (!e && !b) e = WASI_EFAULT;
    if (!e && !(e = VOPS(vf)->stat_at(VFS(vf), vf->vf, vp, (uint32_t)len, flags & WASI_LOOKUP_SYMLINK_FOLLOW, &s)))
      vfs_stat_put(b, &s);
    return e;
  }
  struct wasi_lookup l;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_FILESTAT_GET), path, len, flags & WASI_LOOKUP_SYMLINK_FOLLOW, &l);
  if (e) return e;
  if (!b) e = WASI_EFAULT;
  else if (!l.node) e = WASI_ENOENT;
  else wasi_filestat_put(b, l.node);
  wasi_lookup_done(&l);
  return e;
}

int32_t WASI_FN(path_filestat_set_times, iiiiIIi_i)(kiln_instance *ctx, int32_t fd, int32_t flags, int32_t path,
                                                     int32_t len, int64_t atim, int64_t mtim, int32_t fst) {
  struct wasi_fd *vf;
  const char *vp;
  int e;
  if (vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_FILESTAT_SET_TIMES), path, len, &vf, &vp, &e)) {
    if (e || (e = wasi_fst_check((uint32_t)fst))) return e;
    return VOPS(vf)->set_times_at(VFS(vf), vf->vf, vp, (uint32_t)len, flags & WASI_LOOKUP_SYMLINK_FOLLOW,
                                  (uint64_t)atim, (uint64_t)mtim, (uint32_t)fst);
  }
  struct wasi_lookup l;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_FILESTAT_SET_TIMES), path, len, flags & WASI_LOOKUP_SYMLINK_FOLLOW,
                 &l);
  if (e) return e;
  if (!l.node) e = WASI_ENOENT;
  else e = wasi_set_times(l.node, (uint64_t)atim, (uint64_t)mtim, (uint32_t)fst);
  wasi_lookup_done(&l);
  return e;
}

int32_t WASI_FN(path_link, iiiiiii_i)(kiln_instance *ctx, int32_t ofd, int32_t oflags, int32_t opath, int32_t olen,
                                       int32_t nfd, int32_t npath, int32_t nlen) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *vo = NULL, *vn = NULL;
  const char *po, *pn;
  int e, eo = 0, en = 0;
  int ov = vfs_at(ctx, ofd, WASI_RIGHT(WASI_R_PATH_LINK_SOURCE), opath, olen, &vo, &po, &eo);
  int nv = vfs_at(ctx, nfd, WASI_RIGHT(WASI_R_PATH_LINK_TARGET), npath, nlen, &vn, &pn, &en);
  if (ov || nv) {
    if (eo || en) return eo ? eo : en;
    if (!ov || !nv) /* a link cannot cross file systems */
      return cross(ctx, ov, ofd, WASI_RIGHT(WASI_R_PATH_LINK_SOURCE), opath, olen, nfd,
                   WASI_RIGHT(WASI_R_PATH_LINK_TARGET), npath, nlen);
    if (VFS(vo) != VFS(vn)) return WASI_EXDEV;
    return VOPS(vo)->link(VFS(vo), vo->vf, po, (uint32_t)olen, oflags & WASI_LOOKUP_SYMLINK_FOLLOW, vn->vf, pn,
                          (uint32_t)nlen);
  }
  struct wasi_lookup o, n;
  e = resolve_at(ctx, ofd, WASI_RIGHT(WASI_R_PATH_LINK_SOURCE), opath, olen, oflags & WASI_LOOKUP_SYMLINK_FOLLOW, &o);
  if (e) return e;
  if ((e = resolve_at(ctx, nfd, WASI_RIGHT(WASI_R_PATH_LINK_TARGET), npath, nlen, 0, &n))) {
    wasi_lookup_done(&o);
    return e;
  }
  if (!o.node) e = WASI_ENOENT;
  else if (o.node->type == WASI_FILETYPE_DIRECTORY) e = WASI_EPERM; /* no hard links to directories */
  else if (n.node || !n.dir) e = WASI_EEXIST;
  else if (n.trailing_slash) e = WASI_ENOENT;
  else e = memfs_link(st->fs, n.dir, n.name, n.name_len, o.node);
  wasi_lookup_done(&o);
  wasi_lookup_done(&n);
  return e;
}

int32_t WASI_FN(path_open, iiiiiIIii_i)(kiln_instance *ctx, int32_t fd, int32_t dirflags, int32_t path, int32_t len,
                                         int32_t oflags, int64_t base, int64_t inh, int32_t fdflags, int32_t pfd) {
  struct wasi_state *st = WASI_STATE(ctx);
  uint64_t need = WASI_RIGHT(WASI_R_PATH_OPEN);
  if (oflags & WASI_O_CREAT) need |= WASI_RIGHT(WASI_R_PATH_CREATE_FILE);
  if (oflags & WASI_O_TRUNC) need |= WASI_RIGHT(WASI_R_PATH_FILESTAT_SET_SIZE);
  struct wasi_fd *df;
  int e = wasi_fd_check(st, (uint32_t)fd, need, &df);
  if (e) return e;
  uint64_t dir_inh = df->rights_inheriting;
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pfd, 4);
  if (!out) return WASI_EFAULT;
  if ((uint32_t)oflags & ~0xfu || (uint32_t)fdflags & ~0x1fu) return WASI_EINVAL;
  /* A new fd can hold only rights the directory passes on. */
  if (((uint64_t)base | (uint64_t)inh) & ~dir_inh) return WASI_ENOTCAPABLE;
  if (df->vfs) {
    const char *p = df->kind == WASI_FD_DIR ? wasi_guest_ptr(ctx, (uint32_t)path, (uint32_t)len) : NULL;
    uint32_t nfd;
    if (df->kind != WASI_FD_DIR) return WASI_ENOTDIR;
    if (!p) return WASI_EFAULT;
    if ((e = vfs_open(st, df, p, (uint32_t)len, dirflags & WASI_LOOKUP_SYMLINK_FOLLOW, (uint16_t)oflags, (uint64_t)base,
                      (uint64_t)inh, (uint16_t)fdflags, &nfd)))
      return e;
    wasi_st32(out, nfd);
    return 0;
  }
  struct wasi_lookup l;
  if ((e = resolve_at(ctx, fd, need, path, len, dirflags & WASI_LOOKUP_SYMLINK_FOLLOW, &l))) return e;
  struct wasi_node *node = l.node;
  int created = 0;
  if (!node) {
    if (!(oflags & WASI_O_CREAT)) e = WASI_ENOENT;
    else if ((oflags & WASI_O_DIRECTORY) || l.trailing_slash) e = WASI_EISDIR;
    else if (!(node = memfs_node_new(st->fs, WASI_FILETYPE_REGULAR_FILE))) e = WASI_ENOMEM;
    else if ((e = memfs_link(st->fs, l.dir, l.name, l.name_len, node))) memfs_maybe_free(st->fs, node);
    else created = 1;
  } else if ((oflags & WASI_O_CREAT) && (oflags & WASI_O_EXCL)) e = WASI_EEXIST;
  else if (node->type == WASI_FILETYPE_SYMBOLIC_LINK) e = WASI_ELOOP; /* O_NOFOLLOW on a symlink */
  else if ((oflags & WASI_O_DIRECTORY) && node->type != WASI_FILETYPE_DIRECTORY) e = WASI_ENOTDIR;
  else if (node->type == WASI_FILETYPE_DIRECTORY &&
           ((oflags & WASI_O_TRUNC) || ((uint64_t)base & WASI_RIGHT(WASI_R_FD_WRITE))))
    e = WASI_EISDIR;
  wasi_lookup_done(&l);
  if (e) return e;
  int isdir = node->type == WASI_FILETYPE_DIRECTORY;
  if (!created && !isdir && (oflags & WASI_O_TRUNC) && (e = memfs_truncate(node, 0))) return e;
  uint32_t nfd;
  /* Rights that make no sense for this kind of file are dropped, as preview1 allows. */
  uint64_t rb = (uint64_t)base & (isdir ? WASI_RIGHTS_DIR : WASI_RIGHTS_FILE);
  if ((e = wasi_fd_new(st, isdir ? WASI_FD_DIR : WASI_FD_FILE, NULL, NULL, rb, (uint64_t)inh, &nfd))) return e;
  struct wasi_fd *f = &st->fds[nfd];
  f->node = node;
  f->fdflags = (uint16_t)fdflags;
  memfs_ref(node);
  wasi_st32(out, nfd);
  return 0;
}

int32_t WASI_FN(path_readlink, iiiiii_i)(kiln_instance *ctx, int32_t fd, int32_t path, int32_t len, int32_t buf,
                                          int32_t buflen, int32_t pused) {
  uint8_t *b = wasi_guest_ptr(ctx, (uint32_t)buf, (uint32_t)buflen), *u = wasi_guest_ptr(ctx, (uint32_t)pused, 4);
  struct wasi_fd *vf;
  const char *vp;
  int e;
  if (vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_READLINK), path, len, &vf, &vp, &e)) {
    size_t n = 0;
    if (!e && (!b || !u)) e = WASI_EFAULT;
    if (!e && !(e = VOPS(vf)->readlink(VFS(vf), vf->vf, vp, (uint32_t)len, (char *)b, (uint32_t)buflen, &n)))
      wasi_st32(u, (uint32_t)n);
    return e;
  }
  struct wasi_lookup l;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_READLINK), path, len, 0, &l);
  if (e) return e;
  if (!b || !u) e = WASI_EFAULT;
  else if (!l.node) e = WASI_ENOENT;
  else if (l.node->type != WASI_FILETYPE_SYMBOLIC_LINK) e = WASI_EINVAL;
  else {
    /* Like readlink(2): truncated to the buffer, no NUL. */
    uint32_t n = l.node->target_len < (uint32_t)buflen ? l.node->target_len : (uint32_t)buflen;
    memcpy(b, l.node->target, n);
    wasi_st32(u, n);
  }
  wasi_lookup_done(&l);
  return e;
}

int32_t WASI_FN(path_remove_directory, iii_i)(kiln_instance *ctx, int32_t fd, int32_t path, int32_t len) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *vf;
  const char *vp;
  int e;
  if (vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_REMOVE_DIRECTORY), path, len, &vf, &vp, &e))
    return e ? e : VOPS(vf)->rmdir(VFS(vf), vf->vf, vp, (uint32_t)len);
  struct wasi_lookup l;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_REMOVE_DIRECTORY), path, len, 0, &l);
  if (e) return e;
  if (!l.dir) e = WASI_EINVAL; /* "." or ".." */
  else if (!l.node) e = WASI_ENOENT;
  else if (l.node->type != WASI_FILETYPE_DIRECTORY) e = WASI_ENOTDIR;
  else if (l.node->nents) e = WASI_ENOTEMPTY;
  else e = memfs_unlink(st->fs, l.dir, l.name, l.name_len);
  wasi_lookup_done(&l);
  return e;
}

int32_t WASI_FN(path_rename, iiiiii_i)(kiln_instance *ctx, int32_t fd, int32_t opath, int32_t olen, int32_t nfd,
                                        int32_t npath, int32_t nlen) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *vo = NULL, *vn = NULL;
  const char *po, *pn;
  int e, eo = 0, en = 0;
  int ov = vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_RENAME_SOURCE), opath, olen, &vo, &po, &eo);
  int nv = vfs_at(ctx, nfd, WASI_RIGHT(WASI_R_PATH_RENAME_TARGET), npath, nlen, &vn, &pn, &en);
  if (ov || nv) {
    if (eo || en) return eo ? eo : en;
    if (!ov || !nv)
      return cross(ctx, ov, fd, WASI_RIGHT(WASI_R_PATH_RENAME_SOURCE), opath, olen, nfd,
                   WASI_RIGHT(WASI_R_PATH_RENAME_TARGET), npath, nlen);
    if (VFS(vo) != VFS(vn)) return WASI_EXDEV;
    return VOPS(vo)->rename(VFS(vo), vo->vf, po, (uint32_t)olen, vn->vf, pn, (uint32_t)nlen);
  }
  struct wasi_lookup o, n;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_RENAME_SOURCE), opath, olen, 0, &o);
  if (e) return e;
  if ((e = resolve_at(ctx, nfd, WASI_RIGHT(WASI_R_PATH_RENAME_TARGET), npath, nlen, 0, &n))) {
    wasi_lookup_done(&o);
    return e;
  }
  struct wasi_node *src = o.node, *dst = n.node;
  int srcdir = src && src->type == WASI_FILETYPE_DIRECTORY;
  if (!src) e = WASI_ENOENT;
  else if (!o.dir || !n.dir) e = WASI_EBUSY; /* "." / ".." / the base itself */
  else if (dst == src) e = 0;                /* POSIX: same file, nothing to do */
  else if (n.trailing_slash && !srcdir) e = WASI_ENOTDIR;
  else if (srcdir && memfs_is_ancestor(src, n.dir)) e = WASI_EINVAL; /* into its own subtree */
  else if (dst && srcdir && dst->type != WASI_FILETYPE_DIRECTORY) e = WASI_ENOTDIR;
  else if (dst && !srcdir && dst->type == WASI_FILETYPE_DIRECTORY) e = WASI_EISDIR;
  else if (dst && dst->type == WASI_FILETYPE_DIRECTORY && dst->nents) e = WASI_ENOTEMPTY;
  else {
    /* Hold src while it is in no directory; unlink first so a directory's parent ends right. */
    memfs_ref(src);
    if (dst) memfs_unlink(st->fs, n.dir, n.name, n.name_len);
    memfs_unlink(st->fs, o.dir, o.name, o.name_len);
    if ((e = memfs_link(st->fs, n.dir, n.name, n.name_len, src))) memfs_link(st->fs, o.dir, o.name, o.name_len, src);
    memfs_unref(st->fs, src);
  }
  wasi_lookup_done(&o);
  wasi_lookup_done(&n);
  return e;
}

int32_t WASI_FN(path_symlink, iiiii_i)(kiln_instance *ctx, int32_t opath, int32_t olen, int32_t fd, int32_t npath,
                                        int32_t nlen) {
  struct wasi_state *st = WASI_STATE(ctx);
  const char *target = wasi_guest_ptr(ctx, (uint32_t)opath, (uint32_t)olen);
  if (!target) return WASI_EFAULT;
  /* An absolute target could never resolve inside the preopen (wasmtime refuses it too). */
  int abs = olen > 0 && target[0] == '/';
  for (int32_t i = 0; i < olen; i++)
    if (target[i] == 0) return WASI_EINVAL;
  struct wasi_fd *vf;
  const char *vp;
  int e;
  if (vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_SYMLINK), npath, nlen, &vf, &vp, &e))
    return e ? e : abs ? WASI_ENOTCAPABLE : VOPS(vf)->symlink(VFS(vf), target, (uint32_t)olen, vf->vf, vp, (uint32_t)nlen);
  struct wasi_lookup l;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_SYMLINK), npath, nlen, 0, &l);
  if (e) return e;
  if (abs) {
    wasi_lookup_done(&l);
    return WASI_ENOTCAPABLE;
  }
  struct wasi_node *s;
  if (l.node || !l.dir) e = WASI_EEXIST;
  else if (l.trailing_slash) e = WASI_ENOENT;
  else if (!(s = memfs_node_new(st->fs, WASI_FILETYPE_SYMBOLIC_LINK))) e = WASI_ENOMEM;
  else if ((e = memfs_symlink_set(s, target, (uint32_t)olen)) || (e = memfs_link(st->fs, l.dir, l.name, l.name_len, s)))
    memfs_maybe_free(st->fs, s);
  wasi_lookup_done(&l);
  return e;
}

int32_t WASI_FN(path_unlink_file, iii_i)(kiln_instance *ctx, int32_t fd, int32_t path, int32_t len) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *vf;
  const char *vp;
  int e;
  if (vfs_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_UNLINK_FILE), path, len, &vf, &vp, &e))
    return e ? e : VOPS(vf)->unlink(VFS(vf), vf->vf, vp, (uint32_t)len);
  struct wasi_lookup l;
  e = resolve_at(ctx, fd, WASI_RIGHT(WASI_R_PATH_UNLINK_FILE), path, len, 0, &l);
  if (e) return e;
  if (!l.dir) e = WASI_EISDIR;
  else if (!l.node) e = WASI_ENOENT;
  else if (l.node->type == WASI_FILETYPE_DIRECTORY) e = WASI_EISDIR;
  else e = memfs_unlink(st->fs, l.dir, l.name, l.name_len);
  wasi_lookup_done(&l);
  return e;
}
