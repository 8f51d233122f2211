/* tests/volume/p9unit.c — host unit tests of the 9P2000.L client (p9/client.c) against a
 * scripted fake transport: well-formed replies parse, and every malformed one (short frame,
 * size beyond what the device wrote, wrong tag or type, truncated fields, counts and string
 * lengths past the message) is WASI_EIO. Each reply ends exactly at an inaccessible page, so
 * a read past what the "device" wrote crashes the test instead of passing unnoticed. */
#define _DEFAULT_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "p9/p9.h"
#include "wasi/wasi_types.h"

void *kalloc(size_t n) { return calloc(1, n); }
void kfree(void *p) { free(p); }

struct virtio_9p {
  uint8_t req[P9_MSIZE];
  uint8_t *resp;  /* this reply, placed so that it ends at `guard` */
  uint8_t *guard; /* a PROT_NONE page */
};
static struct virtio_9p dev;
const char *virtio_9p_tag(struct virtio_9p *d) { return "t"; }
uint8_t *virtio_9p_req(struct virtio_9p *d) { return d->req; }
const uint8_t *virtio_9p_resp(struct virtio_9p *d) { return d->resp; }

/* The next reply: body bytes, and how to spoil the frame. */
static uint8_t body[1024];
static uint32_t body_len, extra_size, cut; /* extra_size: size field claims more; cut: device wrote less */
static int type_delta = 1, wrong_tag, transport_fail, rlerror = -1;
static uint32_t last_req_len;

static void reply(const void *b, uint32_t n) {
  memcpy(body, b, n);
  body_len = n;
}

int virtio_9p_call(struct virtio_9p *d, uint32_t reqlen, uint32_t *resplen) {
  last_req_len = reqlen;
  if (transport_fail) return -1;
  uint32_t size = 7 + body_len;
  uint8_t type = (uint8_t)(d->req[4] + type_delta);
  const uint8_t *b = body;
  uint32_t n = body_len;
  uint32_t ecode;
  if (rlerror >= 0) {
    type = 7, ecode = (uint32_t)rlerror, b = (const uint8_t *)&ecode, n = 4, size = 11;
  }
  d->resp = d->guard - (7 + n - cut);
  uint8_t frame[7 + sizeof body];
  size += extra_size;
  memcpy(frame, &size, 4);
  frame[4] = type;
  uint16_t tag;
  memcpy(&tag, d->req + 5, 2);
  tag = (uint16_t)(tag + wrong_tag);
  memcpy(frame + 5, &tag, 2);
  memcpy(frame + 7, b, n);
  memcpy(d->resp, frame, 7 + n - cut);
  *resplen = 7 + n - cut;
  return 0;
}

static int npass, nfail;
static void check(const char *name, int ok) {
  if (ok) printf("PASS %s\n", name), npass++;
  else printf("FAIL %s: unexpected result\n", name), nfail++;
}
static void reset(void) { extra_size = cut = 0, type_delta = 1, wrong_tag = 0, transport_fail = 0, rlerror = -1; }

int main(void) {
  uint8_t *pages = mmap(NULL, 2 * 65536, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (pages == MAP_FAILED || mprotect(pages + 65536, 65536, PROT_NONE)) return 2;
  dev.guard = pages + 65536;
  setvbuf(stdout, NULL, _IOLBF, 0); /* a crash keeps the lines before it */
  struct p9_client *c;
  /* version: the server may lower msize, never raise it, and must speak 9P2000.L */
  uint8_t v[14];
  uint32_t m = P9_MSIZE * 2;
  memcpy(v, &m, 4), v[4] = 8, v[5] = 0, memcpy(v + 6, "9P2000.L", 8);
  reply(v, 14);
  check("Rversion raising msize is refused", p9_connect(&dev, &c) == WASI_ENOTSUP);
  m = 65536, memcpy(v, &m, 4), memcpy(v + 6, "9P2000.u", 8);
  reply(v, 14);
  check("Rversion of another dialect is refused", p9_connect(&dev, &c) == WASI_ENOTSUP);
  v[4] = 200;
  memcpy(v + 6, "9P2000.L", 8);
  reply(v, 14);
  check("Rversion string past the message is EIO", p9_connect(&dev, &c) == WASI_EIO);

  /* A good session: the fake answers Tversion and Tattach with the same body, read as
   * msize[4] version[s] and as a qid whose type is msize's low byte. */
  m = 65536, v[4] = 8, memcpy(v, &m, 4);
  reply(v, 14);
  /* Tattach reads a qid: 13 bytes of v; its type byte is v[0] = 0x00 (not a dir) */
  check("Rattach of a non-directory is ENOTDIR", p9_connect(&dev, &c) == WASI_ENOTDIR);
  m = 65536 + 0x80;
  memcpy(v, &m, 4);
  reply(v, 14);
  check("connect", p9_connect(&dev, &c) == 0 && p9_msize(c) == 65536 + 0x80);

  uint32_t fid, got;
  struct p9_attr a;
  struct p9_qid q;
  char buf[64];
  /* frames */
  reset(), reply("", 0), cut = 7;
  check("reply shorter than a header is EIO", p9_clunk(c, 1) == WASI_EIO);
  reset(), reply("", 0), extra_size = 5;
  check("size field beyond what the device wrote is EIO", p9_clunk(c, 1) == WASI_EIO);
  reset(), reply("", 0), wrong_tag = 1;
  check("wrong tag is EIO", p9_clunk(c, 1) == WASI_EIO);
  reset(), reply("", 0), type_delta = 3;
  check("wrong reply type is EIO", p9_clunk(c, 1) == WASI_EIO);
  reset(), transport_fail = 1;
  check("transport failure is EIO", p9_clunk(c, 1) == WASI_EIO);
  reset(), reply("", 0);
  check("Rclunk", p9_clunk(c, 1) == 0);
  /* Rlerror mapping */
  reset(), rlerror = 2;
  check("Rlerror ENOENT", p9_unlinkat(c, 0, "x", 1, 0) == WASI_ENOENT);
  rlerror = 39;
  check("Rlerror ENOTEMPTY", p9_unlinkat(c, 0, "x", 1, P9_AT_REMOVEDIR) == WASI_ENOTEMPTY);
  rlerror = 40;
  check("Rlerror ELOOP", p9_unlinkat(c, 0, "x", 1, 0) == WASI_ELOOP);
  rlerror = 99999;
  check("unknown Rlerror is EIO", p9_unlinkat(c, 0, "x", 1, 0) == WASI_EIO);
  reset(), rlerror = 2, cut = 2;
  check("truncated Rlerror is EIO", p9_unlinkat(c, 0, "x", 1, 0) == WASI_EIO);
  /* Rgetattr: full, then one byte short */
  uint8_t ga[160] = {0};
  ga[8] = 0x80;
  uint32_t mode = P9_S_IFDIR | 0755;
  memcpy(ga + 8 + 13, &mode, 4);
  uint64_t size = 12345;
  memcpy(ga + 8 + 13 + 4 + 8 + 8 + 8, &size, 8);
  uint32_t galen = 8 + 13 + 4 + 4 + 4 + 8 * 15;
  reset(), reply(ga, galen);
  check("Rgetattr", p9_getattr(c, 0, &a) == 0 && a.mode == mode && a.size == 12345 && (a.qid.type & P9_QTDIR));
  reset(), reply(ga, galen - 1);
  check("Rgetattr one byte short is EIO", p9_getattr(c, 0, &a) == WASI_EIO);
  /* Rread */
  uint8_t rd[4 + 16];
  uint32_t cnt = 5;
  memcpy(rd, &cnt, 4), memcpy(rd + 4, "hello", 5);
  reset(), reply(rd, 9);
  check("Rread", p9_read(c, 0, 0, buf, 10, &got) == 0 && got == 5 && !memcmp(buf, "hello", 5));
  check("Rread count above the request is EIO", p9_read(c, 0, 0, buf, 4, &got) == WASI_EIO);
  cnt = 15, memcpy(rd, &cnt, 4), reply(rd, 9);
  check("Rread count past the message is EIO", p9_read(c, 0, 0, buf, 64, &got) == WASI_EIO);
  /* Twrite is bounded by msize */
  static uint8_t big[200000];
  cnt = p9_iounit(c), memcpy(rd, &cnt, 4);
  reset(), reply(rd, 4);
  check("Twrite bounded by msize", p9_write(c, 0, 0, big, sizeof big, &got) == 0 && got == p9_iounit(c) &&
                                       last_req_len <= p9_msize(c) && last_req_len > p9_msize(c) - 8);
  cnt = p9_iounit(c) + 1, memcpy(rd, &cnt, 4), reply(rd, 4);
  check("Rwrite count above the request is EIO", p9_write(c, 0, 0, big, sizeof big, &got) == WASI_EIO);
  /* Rwalk */
  uint8_t wk[2 + 13 * 2] = {1, 0};
  wk[2] = P9_QTSYMLINK;
  const char *nm = "ln";
  uint32_t nl = 2;
  reset(), reply(wk, 15);
  check("Rwalk", p9_walk(c, 0, 1, &nm, &nl, &fid, &q) == 0 && (q.type & P9_QTSYMLINK));
  wk[0] = 2, reply(wk, 28);
  check("Rwalk with more qids than names is EIO", p9_walk(c, 0, 1, &nm, &nl, &fid, &q) == WASI_EIO);
  wk[0] = 2, reply(wk, 15);
  check("Rwalk qids past the message is EIO", p9_walk(c, 0, 1, &nm, &nl, &fid, &q) == WASI_EIO);
  wk[0] = 0, reply(wk, 2);
  check("Rwalk stopping early is ENOENT", p9_walk(c, 0, 1, &nm, &nl, &fid, &q) == WASI_ENOENT);
  /* Rreadlink */
  uint8_t rl[2 + 8] = {6, 0, 'a', '/', 'b', 'c', 'd', 'e'};
  reset(), reply(rl, 8);
  check("Rreadlink", p9_readlink(c, 0, buf, sizeof buf, &got) == 0 && got == 6 && !strcmp(buf, "a/bcde"));
  rl[0] = 9, reply(rl, 8);
  check("Rreadlink string past the message is EIO", p9_readlink(c, 0, buf, sizeof buf, &got) == WASI_EIO);
  /* Rreaddir and its entries */
  uint8_t rdd[4 + 64] = {0}, *e = rdd + 4;
  e[0] = 0x80, e[21] = P9_DT_DIR, e[22] = 1, e[24] = '.';
  uint32_t elen = 13 + 8 + 1 + 2 + 1;
  cnt = elen, memcpy(rdd, &cnt, 4);
  reset(), reply(rdd, 4 + elen);
  uint8_t dbuf[128];
  uint32_t pos = 0;
  uint64_t next;
  uint8_t dt;
  const char *name;
  uint16_t namelen;
  check("Rreaddir", p9_readdir(c, 0, 0, dbuf, sizeof dbuf, &got) == 0 && got == elen &&
                        p9_dirent_next(dbuf, got, &pos, &q, &next, &dt, &name, &namelen) == 1 && namelen == 1 &&
                        name[0] == '.' && dt == P9_DT_DIR && p9_dirent_next(dbuf, got, &pos, &q, &next, &dt, &name, &namelen) == 0);
  dbuf[22] = 50, pos = 0;
  check("dirent name past the data is malformed", p9_dirent_next(dbuf, got, &pos, &q, &next, &dt, &name, &namelen) == -1);
  pos = 0;
  check("dirent cut short is malformed", p9_dirent_next(dbuf, 10, &pos, &q, &next, &dt, &name, &namelen) == -1);
  cnt = 60, memcpy(rdd, &cnt, 4);
  reply(rdd, 4 + elen);
  check("Rreaddir count past the message is EIO", p9_readdir(c, 0, 0, dbuf, sizeof dbuf, &got) == WASI_EIO);
  /* requests: a name that cannot fit in msize */
  static char huge[70000];
  memset(huge, 'x', sizeof huge);
  reset(), reply("", 0);
  check("name longer than a 9P string is ENAMETOOLONG", p9_unlinkat(c, 0, huge, sizeof huge, 0) == WASI_ENAMETOOLONG);
  /* fids are reused once freed */
  uint32_t f1, f2;
  p9_fid_alloc(c, &f1), p9_fid_free(c, f1), p9_fid_alloc(c, &f2);
  check("fids reused", f1 == f2);
  printf("%d passed, %d failed\n", npass, nfail);
  return nfail != 0;
}
