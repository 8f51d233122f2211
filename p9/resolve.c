/* p9/resolve.c — resolving a guest path beneath a directory fid, in the guest: one Twalk of a
 * single name per component, so the server never interprets "..", and never follows a symlink
 * for us (Twalk does not). ".." never goes above the directory the path is resolved in; a
 * symlink with an absolute target is WASI_ENOTCAPABLE (as wasmtime); a relative target is
 * spliced into the rest of the path and resolved by the same rules, at most 40 times (then
 * WASI_ELOOP). */
#include "kernel/kernel.h"
#include "p9/p9.h"
#include "wasi/wasi_types.h"

#define SYMLOOP_MAX 40
#define DEPTH_MAX 256 /* directories deep below the base */

void p9_res_done(struct p9_client *c, struct p9_res *r) {
  if (r->parent != P9_NOFID) p9_clunk(c, r->parent);
  if (r->fid != P9_NOFID) p9_clunk(c, r->fid);
  r->parent = r->fid = P9_NOFID;
}

static int is_dot(const char *s, uint32_t n) { return n == 1 && s[0] == '.'; }
static int is_dotdot(const char *s, uint32_t n) { return n == 2 && s[0] == '.' && s[1] == '.'; }

int p9_resolve(struct p9_client *c, uint32_t base, const char *path, uint32_t len, int follow, struct p9_res *r) {
  r->parent = r->fid = P9_NOFID;
  r->name_len = 0;
  r->trailing = 0;
  if (len == 0) return WASI_ENOENT;
  if (path[0] == '/') return WASI_ENOTCAPABLE;
  if (len > P9_PATH_MAX) return WASI_ENAMETOOLONG;
  /* work: the path still to resolve (a symlink's target replaces what it consumed). */
  char *work = kalloc(2 * P9_PATH_MAX + 2), *tmp = work + P9_PATH_MAX + 1;
  uint32_t *stack = kalloc(DEPTH_MAX * sizeof *stack); /* stack[0] = base (not ours), then ours */
  if (!work || !stack) {
    kfree(work), kfree(stack);
    return WASI_ENOMEM;
  }
  memcpy(work, path, len);
  uint32_t wlen = len, pos = 0, depth = 1, links = 0;
  stack[0] = base;
  int e = 0;
  for (;;) {
    while (pos < wlen && work[pos] == '/') pos++;
    uint32_t s = pos;
    while (pos < wlen && work[pos] != '/') pos++;
    uint32_t n = pos - s, after = pos;
    while (after < wlen && work[after] == '/') after++;
    int last = after == wlen, trailing = last && after > pos;
    if (n == 0 || is_dot(work + s, n) || is_dotdot(work + s, n)) {
      if (n && is_dotdot(work + s, n)) {
        if (depth == 1) {
          e = WASI_ENOTCAPABLE;
          break;
        }
        p9_clunk(c, stack[--depth]);
      }
      if (n == 0 || last) { /* the path names a directory we hold: clone it */
        const char *none[1];
        uint32_t nl[1];
        if (!(e = p9_walk(c, stack[depth - 1], 0, none, nl, &r->fid, &r->qid))) r->qid.type = P9_QTDIR;
        r->trailing = 1;
        break;
      }
      continue;
    }
    if (n > 255) {
      e = WASI_ENAMETOOLONG;
      break;
    }
    const char *nm = work + s;
    uint32_t child;
    struct p9_qid q;
    e = p9_walk(c, stack[depth - 1], 1, &nm, &n, &child, &q);
    if (e == WASI_ENOENT && last) { /* absent last component: the caller may create it */
      e = 0;
      child = P9_NOFID;
    } else if (e) {
      break;
    }
    if (child != P9_NOFID && (q.type & P9_QTSYMLINK) && (!last || follow || trailing)) {
      char *t = tmp;
      uint32_t tlen;
      e = p9_readlink(c, child, t, P9_PATH_MAX + 1, &tlen);
      p9_clunk(c, child);
      if (e) break;
      if (++links > SYMLOOP_MAX) { e = WASI_ELOOP; break; }
      if (tlen == 0) { e = WASI_ENOENT; break; }
      if (t[0] == '/') { e = WASI_ENOTCAPABLE; break; }
      uint32_t rest = wlen - pos;
      if ((uint64_t)tlen + 1 + rest > P9_PATH_MAX) { e = WASI_ENAMETOOLONG; break; }
      /* target + "/" + rest (the rest keeps its slashes: "link/" must name a directory) */
      memmove(work + tlen + (rest ? 1 : 0), work + pos, rest);
      memcpy(work, t, tlen);
      if (rest) work[tlen] = '/';
      wlen = tlen + (rest ? 1 : 0) + rest;
      pos = 0;
      continue;
    }
    if (last) {
      if (trailing && child != P9_NOFID && !(q.type & P9_QTDIR)) {
        p9_clunk(c, child);
        e = WASI_ENOTDIR;
        break;
      }
      /* the parent: a clone of the directory we are in, for entry operations */
      const char *none[1];
      uint32_t nl[1];
      if ((e = p9_walk(c, stack[depth - 1], 0, none, nl, &r->parent, NULL))) {
        if (child != P9_NOFID) p9_clunk(c, child);
        break;
      }
      r->fid = child;
      r->qid = q;
      memcpy(r->name, nm, n);
      r->name_len = n;
      r->trailing = trailing;
      break;
    }
    if (!(q.type & P9_QTDIR)) {
      p9_clunk(c, child);
      e = WASI_ENOTDIR;
      break;
    }
    if (depth == DEPTH_MAX) {
      p9_clunk(c, child);
      e = WASI_ENAMETOOLONG;
      break;
    }
    stack[depth++] = child;
  }
  while (depth > 1) p9_clunk(c, stack[--depth]);
  kfree(work);
  kfree(stack);
  if (e) p9_res_done(c, r);
  return e;
}
