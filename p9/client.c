/* p9/client.c — a 9P2000.L client over the virtio transport: one request in flight per
 * device (WASI calls are synchronous), messages built in the transport's request buffer and
 * parsed from its reply buffer. Every reply is checked before use: its size field against
 * what the device wrote, its type against the request, and every field read against the
 * message's end, so a misbehaving host gives WASI_EIO, never a read past the buffer. */
#include "kernel/kernel.h"
#include "p9/p9.h"
#include "wasi/wasi_types.h"

#define FIDS_MAX 4096 /* open files and directories of one volume at a time */

struct p9_client {
  struct virtio_9p *dev;
  uint32_t msize, root;
  uint16_t tag;
  uint64_t fid_used[FIDS_MAX / 64];
};

/* ---- building a T-message ---- */
struct wbuf {
  uint8_t *p;
  uint32_t n, cap;
  int over;
};
static void put(struct wbuf *w, const void *v, uint32_t n) {
  if (w->over || n > w->cap - w->n) {
    w->over = 1;
    return;
  }
  memcpy(w->p + w->n, v, n);
  w->n += n;
}
static void put8(struct wbuf *w, uint8_t v) { put(w, &v, 1); }
static void put16(struct wbuf *w, uint16_t v) { put(w, &v, 2); }
static void put32(struct wbuf *w, uint32_t v) { put(w, &v, 4); }
static void put64(struct wbuf *w, uint64_t v) { put(w, &v, 8); }
static void putstr(struct wbuf *w, const char *s, uint32_t n) {
  if (n > 0xffff) {
    w->over = 1;
    return;
  }
  put16(w, (uint16_t)n);
  put(w, s, n);
}

/* ---- reading an R-message ---- */
struct rbuf {
  const uint8_t *p;
  uint32_t n, pos;
  int bad;
};
static void get(struct rbuf *r, void *v, uint32_t n) {
  if (r->bad || n > r->n - r->pos) {
    r->bad = 1;
    memset(v, 0, n);
    return;
  }
  memcpy(v, r->p + r->pos, n);
  r->pos += n;
}
static uint8_t get8(struct rbuf *r) { uint8_t v; get(r, &v, 1); return v; }
static uint16_t get16(struct rbuf *r) { uint16_t v; get(r, &v, 2); return v; }
static uint32_t get32(struct rbuf *r) { uint32_t v; get(r, &v, 4); return v; }
static uint64_t get64(struct rbuf *r) { uint64_t v; get(r, &v, 8); return v; }
static void getqid(struct rbuf *r, struct p9_qid *q) {
  q->type = get8(r);
  q->version = get32(r);
  q->path = get64(r);
}
/* A string in place: its bytes stay in the reply buffer. */
static const char *getstr(struct rbuf *r, uint16_t *len) {
  *len = get16(r);
  if (r->bad || *len > r->n - r->pos) {
    r->bad = 1;
    *len = 0;
    return "";
  }
  const char *s = (const char *)r->p + r->pos;
  r->pos += *len;
  return s;
}

static struct wbuf begin(struct p9_client *c, uint8_t type) {
  struct wbuf w = {virtio_9p_req(c->dev), 0, c->msize, 0};
  put32(&w, 0); /* size, patched by call() */
  put8(&w, type);
  put16(&w, c->tag);
  return w;
}

/* Sends w, waits, checks the reply's frame; r then covers its body. 0 or a WASI errno. */
static int call(struct p9_client *c, struct wbuf *w, struct rbuf *r) {
  if (w->over) return WASI_ENAMETOOLONG; /* only names can make a request outgrow msize */
  uint8_t type = w->p[4];
  memcpy(w->p, &w->n, 4);
  uint32_t got;
  if (virtio_9p_call(c->dev, w->n, &got)) return WASI_EIO;
  const uint8_t *b = virtio_9p_resp(c->dev);
  uint32_t size;
  uint16_t tag;
  memcpy(&size, b, 4);
  memcpy(&tag, b + 5, 2);
  if (got < P9_HDR || size < P9_HDR || size > got || size > c->msize || tag != c->tag) return WASI_EIO;
  *r = (struct rbuf){b + P9_HDR, size - P9_HDR, 0, 0};
  if (b[4] == P9_RLERROR) {
    uint32_t e = get32(r);
    return r->bad ? WASI_EIO : p9_errno_to_wasi(e);
  }
  return b[4] == type + 1 ? 0 : WASI_EIO;
}
/* The reply was read to its end with no field missing (trailing bytes are tolerated, as
 * later protocol revisions may add fields). */
static int done(struct rbuf *r) { return r->bad ? WASI_EIO : 0; }

/* ---- fids ---- */
int p9_fid_alloc(struct p9_client *c, uint32_t *fid) {
  for (uint32_t i = 0; i < FIDS_MAX / 64; i++)
    if (~c->fid_used[i]) {
      int b = __builtin_ctzll(~c->fid_used[i]);
      c->fid_used[i] |= 1ull << b;
      *fid = i * 64 + (uint32_t)b;
      return 0;
    }
  return WASI_ENFILE;
}
void p9_fid_free(struct p9_client *c, uint32_t fid) {
  if (fid < FIDS_MAX) c->fid_used[fid / 64] &= ~(1ull << (fid % 64));
}

uint32_t p9_root(struct p9_client *c) { return c->root; }
uint32_t p9_msize(struct p9_client *c) { return c->msize; }
uint32_t p9_iounit(struct p9_client *c) { return c->msize - P9_IOHDR; }

/* ---- session ---- */
int p9_connect(struct virtio_9p *d, struct p9_client **out) {
  struct p9_client *c = kalloc(sizeof *c);
  if (!c) return WASI_ENOMEM;
  c->dev = d;
  c->msize = P9_MSIZE;
  c->tag = P9_NOTAG; /* Tversion must use NOTAG */
  struct wbuf w = begin(c, P9_TVERSION);
  put32(&w, P9_MSIZE);
  putstr(&w, P9_VERSION, sizeof P9_VERSION - 1);
  struct rbuf r;
  int e = call(c, &w, &r);
  uint16_t vlen = 0;
  uint32_t msize = e ? 0 : get32(&r);
  const char *v = e ? "" : getstr(&r, &vlen);
  if (!e && (e = done(&r)) == 0) {
    /* The server may lower msize, never raise it; it must speak .L exactly. */
    if (msize < 4096 || msize > P9_MSIZE || vlen != sizeof P9_VERSION - 1 || memcmp(v, P9_VERSION, vlen))
      e = WASI_ENOTSUP;
  }
  if (e) {
    kfree(c);
    return e;
  }
  c->msize = msize;
  c->tag = 1;
  p9_fid_alloc(c, &c->root);
  w = begin(c, P9_TATTACH);
  put32(&w, c->root);
  put32(&w, P9_NOFID);
  putstr(&w, "kiln", 4);
  putstr(&w, "", 0);
  put32(&w, 0); /* n_uname; security_model=none ignores who we claim to be */
  if ((e = call(c, &w, &r)) == 0) {
    struct p9_qid q;
    getqid(&r, &q);
    if (!(e = done(&r)) && !(q.type & P9_QTDIR)) e = WASI_ENOTDIR;
  }
  if (e) {
    kfree(c);
    return e;
  }
  *out = c;
  return 0;
}

/* ---- files ---- */
int p9_walk(struct p9_client *c, uint32_t fid, int n, const char *const *names, const uint32_t *lens,
            uint32_t *newfid, struct p9_qid *qid) {
  if (n < 0 || n > 16) return WASI_EINVAL; /* MAXWELEM */
  uint32_t nf;
  int e = p9_fid_alloc(c, &nf);
  if (e) return e;
  struct wbuf w = begin(c, P9_TWALK);
  put32(&w, fid);
  put32(&w, nf);
  put16(&w, (uint16_t)n);
  for (int i = 0; i < n; i++) putstr(&w, names[i], lens[i]);
  struct rbuf r;
  if ((e = call(c, &w, &r)) == 0) {
    uint16_t nq = get16(&r);
    struct p9_qid q = {0};
    for (uint16_t i = 0; i < nq && !r.bad; i++) getqid(&r, &q);
    if (!(e = done(&r)) && nq != n) {
      /* A partial walk: the server created no fid (9P), the name at nq does not exist. */
      e = nq > n ? WASI_EIO : WASI_ENOENT;
      if (nq > n) p9_clunk(c, nf), nf = P9_NOFID;
    }
    if (!e && qid) *qid = n ? q : (struct p9_qid){0};
  }
  if (e) {
    if (nf != P9_NOFID) p9_fid_free(c, nf);
    return e;
  }
  *newfid = nf;
  return 0;
}

static int qid_iounit(struct p9_client *c, struct wbuf *w, struct p9_qid *qid) {
  struct rbuf r;
  int e = call(c, w, &r);
  if (e) return e;
  struct p9_qid q;
  getqid(&r, &q);
  get32(&r); /* iounit: we bound our own requests by msize */
  if (qid) *qid = q;
  return done(&r);
}

int p9_lopen(struct p9_client *c, uint32_t fid, uint32_t flags, struct p9_qid *qid) {
  struct wbuf w = begin(c, P9_TLOPEN);
  put32(&w, fid);
  put32(&w, flags);
  return qid_iounit(c, &w, qid);
}

int p9_lcreate(struct p9_client *c, uint32_t fid, const char *name, uint32_t len, uint32_t flags, uint32_t mode,
               struct p9_qid *qid) {
  struct wbuf w = begin(c, P9_TLCREATE);
  put32(&w, fid);
  putstr(&w, name, len);
  put32(&w, flags);
  put32(&w, mode);
  put32(&w, 0); /* gid */
  return qid_iounit(c, &w, qid);
}

/* Tread and Treaddir: the same request (fid, offset, count) and reply (count, then the data). */
static int read_like(struct p9_client *c, uint8_t type, uint32_t fid, uint64_t off, void *buf, uint32_t count,
                     uint32_t *got) {
  if (count > p9_iounit(c)) count = p9_iounit(c);
  struct wbuf w = begin(c, type);
  put32(&w, fid);
  put64(&w, off);
  put32(&w, count);
  struct rbuf r;
  int e = call(c, &w, &r);
  if (e) return e;
  uint32_t n = get32(&r);
  if (r.bad || n > count || n > r.n - r.pos) return WASI_EIO;
  memcpy(buf, r.p + r.pos, n);
  *got = n;
  return 0;
}

int p9_read(struct p9_client *c, uint32_t fid, uint64_t off, void *buf, uint32_t count, uint32_t *got) {
  return read_like(c, P9_TREAD, fid, off, buf, count, got);
}

int p9_write(struct p9_client *c, uint32_t fid, uint64_t off, const void *buf, uint32_t count, uint32_t *done_) {
  if (count > p9_iounit(c)) count = p9_iounit(c);
  struct wbuf w = begin(c, P9_TWRITE);
  put32(&w, fid);
  put64(&w, off);
  put32(&w, count);
  put(&w, buf, count);
  struct rbuf r;
  int e = call(c, &w, &r);
  if (e) return e;
  uint32_t n = get32(&r);
  if ((e = done(&r))) return e;
  if (n > count) return WASI_EIO;
  *done_ = n;
  return 0;
}

int p9_getattr(struct p9_client *c, uint32_t fid, struct p9_attr *a) {
  struct wbuf w = begin(c, P9_TGETATTR);
  put32(&w, fid);
  put64(&w, P9_GETATTR_BASIC);
  struct rbuf r;
  int e = call(c, &w, &r);
  if (e) return e;
  get64(&r); /* valid */
  getqid(&r, &a->qid);
  a->mode = get32(&r);
  get32(&r), get32(&r); /* uid, gid */
  a->nlink = get64(&r);
  get64(&r); /* rdev */
  a->size = get64(&r);
  get64(&r); /* blksize */
  a->blocks = get64(&r);
  uint64_t t[6];
  for (int i = 0; i < 6; i++) t[i] = get64(&r);
  a->atime_ns = t[0] * 1000000000ull + t[1];
  a->mtime_ns = t[2] * 1000000000ull + t[3];
  a->ctime_ns = t[4] * 1000000000ull + t[5];
  for (int i = 0; i < 4; i++) get64(&r); /* btime, gen, data_version */
  return done(&r);
}

int p9_setattr(struct p9_client *c, uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size, uint64_t atime_ns,
               uint64_t mtime_ns) {
  struct wbuf w = begin(c, P9_TSETATTR);
  put32(&w, fid);
  put32(&w, valid);
  put32(&w, mode);
  put32(&w, 0), put32(&w, 0); /* uid, gid */
  put64(&w, size);
  put64(&w, atime_ns / 1000000000ull), put64(&w, atime_ns % 1000000000ull);
  put64(&w, mtime_ns / 1000000000ull), put64(&w, mtime_ns % 1000000000ull);
  struct rbuf r;
  int e = call(c, &w, &r);
  return e ? e : done(&r);
}

int p9_readdir(struct p9_client *c, uint32_t fid, uint64_t off, void *buf, uint32_t count, uint32_t *got) {
  return read_like(c, P9_TREADDIR, fid, off, buf, count, got);
}

int p9_dirent_next(const uint8_t *buf, uint32_t len, uint32_t *pos, struct p9_qid *qid, uint64_t *next_off,
                   uint8_t *type, const char **name, uint16_t *namelen) {
  if (*pos >= len) return 0;
  struct rbuf r = {buf, len, *pos, 0};
  getqid(&r, qid);
  *next_off = get64(&r);
  *type = get8(&r);
  *name = getstr(&r, namelen);
  if (r.bad) return -1;
  *pos = r.pos;
  return 1;
}

/* The calls whose reply is a qid or nothing. */
static int simple(struct p9_client *c, struct wbuf *w, int has_qid) {
  struct rbuf r;
  int e = call(c, w, &r);
  if (e) return e;
  if (has_qid) {
    struct p9_qid q;
    getqid(&r, &q);
  }
  return done(&r);
}

int p9_mkdir(struct p9_client *c, uint32_t dfid, const char *name, uint32_t len, uint32_t mode) {
  struct wbuf w = begin(c, P9_TMKDIR);
  put32(&w, dfid);
  putstr(&w, name, len);
  put32(&w, mode);
  put32(&w, 0);
  return simple(c, &w, 1);
}

int p9_unlinkat(struct p9_client *c, uint32_t dfid, const char *name, uint32_t len, uint32_t flags) {
  struct wbuf w = begin(c, P9_TUNLINKAT);
  put32(&w, dfid);
  putstr(&w, name, len);
  put32(&w, flags);
  return simple(c, &w, 0);
}

int p9_renameat(struct p9_client *c, uint32_t odfid, const char *oname, uint32_t olen, uint32_t ndfid,
                const char *nname, uint32_t nlen) {
  struct wbuf w = begin(c, P9_TRENAMEAT);
  put32(&w, odfid);
  putstr(&w, oname, olen);
  put32(&w, ndfid);
  putstr(&w, nname, nlen);
  return simple(c, &w, 0);
}

int p9_symlink(struct p9_client *c, uint32_t dfid, const char *name, uint32_t len, const char *target, uint32_t tlen) {
  struct wbuf w = begin(c, P9_TSYMLINK);
  put32(&w, dfid);
  putstr(&w, name, len);
  putstr(&w, target, tlen);
  put32(&w, 0);
  return simple(c, &w, 1);
}

int p9_readlink(struct p9_client *c, uint32_t fid, char *buf, uint32_t cap, uint32_t *len) {
  struct wbuf w = begin(c, P9_TREADLINK);
  put32(&w, fid);
  struct rbuf r;
  int e = call(c, &w, &r);
  if (e) return e;
  uint16_t n;
  const char *s = getstr(&r, &n);
  if ((e = done(&r))) return e;
  uint32_t k = cap ? (n < cap - 1 ? n : cap - 1) : 0;
  memcpy(buf, s, k);
  if (cap) buf[k] = 0;
  *len = n;
  return 0;
}

int p9_link(struct p9_client *c, uint32_t dfid, uint32_t fid, const char *name, uint32_t len) {
  struct wbuf w = begin(c, P9_TLINK);
  put32(&w, dfid);
  put32(&w, fid);
  putstr(&w, name, len);
  return simple(c, &w, 0);
}

int p9_fsync(struct p9_client *c, uint32_t fid, int datasync) {
  struct wbuf w = begin(c, P9_TFSYNC);
  put32(&w, fid);
  put32(&w, datasync ? 1 : 0);
  return simple(c, &w, 0);
}

int p9_clunk(struct p9_client *c, uint32_t fid) {
  struct wbuf w = begin(c, P9_TCLUNK);
  put32(&w, fid);
  int e = simple(c, &w, 0);
  p9_fid_free(c, fid); /* the fid is gone even when clunk reports an error (9P) */
  return e;
}

int p9_statfs(struct p9_client *c, uint32_t fid, struct p9_statfs *s) {
  struct wbuf w = begin(c, P9_TSTATFS);
  put32(&w, fid);
  struct rbuf r;
  int e = call(c, &w, &r);
  if (e) return e;
  get32(&r); /* type */
  s->bsize = get32(&r);
  s->blocks = get64(&r);
  s->bfree = get64(&r);
  s->bavail = get64(&r);
  s->files = get64(&r);
  s->ffree = get64(&r);
  get64(&r); /* fsid */
  s->namelen = get32(&r);
  return done(&r);
}

/* Linux errno numbers (asm-generic/errno-base.h, errno.h) to WASI's; anything else is EIO. */
int p9_errno_to_wasi(uint32_t e) {
  static const uint8_t map[][2] = {
      {1, WASI_EPERM},      {2, WASI_ENOENT},    {5, WASI_EIO},       {6, WASI_ENXIO},      {7, WASI_E2BIG},
      {9, WASI_EBADF},      {11, WASI_EAGAIN},   {12, WASI_ENOMEM},   {13, WASI_EACCES},    {14, WASI_EFAULT},
      {16, WASI_EBUSY},     {17, WASI_EEXIST},   {18, WASI_EXDEV},    {19, WASI_ENODEV},    {20, WASI_ENOTDIR},
      {21, WASI_EISDIR},    {22, WASI_EINVAL},   {23, WASI_ENFILE},   {24, WASI_EMFILE},    {25, WASI_ENOTTY},
      {26, WASI_ETXTBSY},   {27, WASI_EFBIG},    {28, WASI_ENOSPC},   {29, WASI_ESPIPE},    {30, WASI_EROFS},
      {31, WASI_EMLINK},    {32, WASI_EPIPE},    {34, WASI_ERANGE},   {36, WASI_ENAMETOOLONG}, {38, WASI_ENOSYS},
      {39, WASI_ENOTEMPTY}, {40, WASI_ELOOP},    {75, WASI_EOVERFLOW}, {95, WASI_ENOTSUP},
      {116, WASI_ESTALE},   {122, WASI_EDQUOT},
  };
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (map[i][0] == e) return map[i][1];
  return WASI_EIO;
}
