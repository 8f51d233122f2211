/* p9/p9.h — 9P2000.L: message numbers and flags transcribed from the protocol (Linux
 * include/net/9p/9p.h and QEMU's hw/9pfs, which are its reference), the virtio transport
 * (drivers/virtio_9p.c) and the client (p9/client.c). Kernel only. */
#ifndef KILN_P9_H
#define KILN_P9_H

#include <stddef.h>
#include <stdint.h>

/* Every message: size[4] type[1] tag[2], little-endian. */
#define P9_HDR 7
#define P9_NOTAG 0xffff
#define P9_NOFID 0xffffffffu
#define P9_VERSION "9P2000.L"
/* The largest message either side may send; requests are bounded by it (and by the server's
 * answer to Tversion). 512 KiB, as Linux's virtio client: big reads/writes in few trips. */
#define P9_MSIZE (512u * 1024u)
#define P9_IOHDR 24 /* header + fid, offset, count of Tread/Twrite/Rread */
#define P9_TAG_MAX 31 /* QEMU's limit on a mount tag */
#define P9_MAX_DEVS 8

enum {
  P9_RLERROR = 7, P9_TSTATFS = 8, P9_TLOPEN = 12, P9_TLCREATE = 14, P9_TSYMLINK = 16, P9_TREADLINK = 22,
  P9_TGETATTR = 24, P9_TSETATTR = 26, P9_TREADDIR = 40, P9_TFSYNC = 50, P9_TLINK = 70, P9_TMKDIR = 72,
  P9_TRENAMEAT = 74, P9_TUNLINKAT = 76, P9_TVERSION = 100, P9_TATTACH = 104, P9_TWALK = 110, P9_TREAD = 116,
  P9_TWRITE = 118, P9_TCLUNK = 120,
};
/* A reply's type is its request's + 1. */

/* qid.type */
#define P9_QTDIR 0x80
#define P9_QTSYMLINK 0x02
struct p9_qid {
  uint8_t type;
  uint32_t version;
  uint64_t path;
};

/* Tlopen/Tlcreate flags: Linux open(2) values. */
#define P9_O_RDONLY 0
#define P9_O_WRONLY 1
#define P9_O_RDWR 2
#define P9_O_CREAT 0100
#define P9_O_EXCL 0200
#define P9_O_TRUNC 01000
#define P9_O_APPEND 02000
#define P9_O_DIRECTORY 0200000
#define P9_O_NOFOLLOW 0400000
/* Tunlinkat flags */
#define P9_AT_REMOVEDIR 0x200
/* Tgetattr request_mask */
#define P9_GETATTR_BASIC 0x7ffull
/* Tsetattr valid */
#define P9_SETATTR_MODE 0x1
#define P9_SETATTR_SIZE 0x8
#define P9_SETATTR_ATIME 0x10
#define P9_SETATTR_MTIME 0x20
#define P9_SETATTR_CTIME 0x40
#define P9_SETATTR_ATIME_SET 0x80
#define P9_SETATTR_MTIME_SET 0x100
/* mode (st_mode) */
#define P9_S_IFMT 0170000
#define P9_S_IFDIR 0040000
#define P9_S_IFREG 0100000
#define P9_S_IFLNK 0120000
#define P9_S_IFCHR 0020000
#define P9_S_IFBLK 0060000
#define P9_S_IFSOCK 0140000
/* Rreaddir entry type: Linux DT_* */
#define P9_DT_DIR 4
#define P9_DT_REG 8
#define P9_DT_LNK 10

struct p9_attr {
  struct p9_qid qid;
  uint32_t mode;
  uint64_t nlink, size, blocks;
  uint64_t atime_ns, mtime_ns, ctime_ns; /* since the epoch */
};

struct p9_statfs {
  uint32_t bsize, namelen;
  uint64_t blocks, bfree, bavail, files, ffree;
};

/* ---- drivers/virtio_9p.c: the transport ---- */
struct virtio_9p;
int virtio_9p_init(void);           /* probes every virtio-9p device; returns how many work */
struct virtio_9p *virtio_9p_get(int i); /* in PCI order; NULL past the last */
const char *virtio_9p_tag(struct virtio_9p *d);
uint8_t *virtio_9p_req(struct virtio_9p *d);         /* P9_MSIZE bytes for the T-message */
const uint8_t *virtio_9p_resp(struct virtio_9p *d);  /* P9_MSIZE bytes the R-message lands in */
/* Sends req[0..reqlen) and waits for the reply; 0 and *resplen (bytes the device wrote),
 * or -1 when the device failed or did not answer in time. */
int virtio_9p_call(struct virtio_9p *d, uint32_t reqlen, uint32_t *resplen);

/* ---- p9/client.c: the 9P2000.L client. Every call returns 0 or a WASI errno: the server's
 * Rlerror mapped from Linux errnos, WASI_EIO for a transport failure or a malformed reply
 * (every reply is length-checked: the host side is trusted less than we are). ---- */
struct p9_client;
/* Tversion + Tattach of the export's root; *out is the client, its root fid p9_root(c). */
int p9_connect(struct virtio_9p *d, struct p9_client **out);
uint32_t p9_root(struct p9_client *c);
uint32_t p9_msize(struct p9_client *c);
uint32_t p9_iounit(struct p9_client *c); /* largest read/write payload in one message */
/* fids: allocated by the client; a fid the server knows must be clunked (p9_clunk frees it). */
int p9_fid_alloc(struct p9_client *c, uint32_t *fid);
void p9_fid_free(struct p9_client *c, uint32_t fid);
/* Twalk from fid to a new fid by n names (0: a clone). All-or-nothing: ENOENT when a name is
 * missing; *newfid is then not allocated. Names must not be "." or "..": the caller resolves. */
int p9_walk(struct p9_client *c, uint32_t fid, int n, const char *const *names, const uint32_t *lens,
            uint32_t *newfid, struct p9_qid *qid);
int p9_lopen(struct p9_client *c, uint32_t fid, uint32_t flags, struct p9_qid *qid);
/* Creates name in directory fid and opens it: fid then refers to the new file. */
int p9_lcreate(struct p9_client *c, uint32_t fid, const char *name, uint32_t len, uint32_t flags, uint32_t mode,
               struct p9_qid *qid);
int p9_read(struct p9_client *c, uint32_t fid, uint64_t off, void *buf, uint32_t count, uint32_t *got);
int p9_write(struct p9_client *c, uint32_t fid, uint64_t off, const void *buf, uint32_t count, uint32_t *done);
int p9_getattr(struct p9_client *c, uint32_t fid, struct p9_attr *a);
/* valid: P9_SETATTR_*; times in ns since the epoch. */
int p9_setattr(struct p9_client *c, uint32_t fid, uint32_t valid, uint32_t mode, uint64_t size, uint64_t atime_ns,
               uint64_t mtime_ns);
/* Raw Rreaddir data of an opened directory from offset (server cookie); *got bytes. Parse
 * with p9_dirent_next. */
int p9_readdir(struct p9_client *c, uint32_t fid, uint64_t off, void *buf, uint32_t count, uint32_t *got);
/* Next entry of buf[*pos..len): 1 (name points into buf), 0 at the end, -1 malformed. */
int p9_dirent_next(const uint8_t *buf, uint32_t len, uint32_t *pos, struct p9_qid *qid, uint64_t *next_off,
                   uint8_t *type, const char **name, uint16_t *namelen);
int p9_mkdir(struct p9_client *c, uint32_t dfid, const char *name, uint32_t len, uint32_t mode);
int p9_unlinkat(struct p9_client *c, uint32_t dfid, const char *name, uint32_t len, uint32_t flags);
int p9_renameat(struct p9_client *c, uint32_t odfid, const char *oname, uint32_t olen, uint32_t ndfid,
                const char *nname, uint32_t nlen);
int p9_symlink(struct p9_client *c, uint32_t dfid, const char *name, uint32_t len, const char *target, uint32_t tlen);
/* The target, NUL-terminated, truncated to cap-1 bytes; *len its full length. */
int p9_readlink(struct p9_client *c, uint32_t fid, char *buf, uint32_t cap, uint32_t *len);
int p9_link(struct p9_client *c, uint32_t dfid, uint32_t fid, const char *name, uint32_t len);
int p9_fsync(struct p9_client *c, uint32_t fid, int datasync);
int p9_clunk(struct p9_client *c, uint32_t fid); /* also frees the fid */
int p9_statfs(struct p9_client *c, uint32_t fid, struct p9_statfs *s);
/* Pure: a Linux errno (from Rlerror) as a WASI errno. */
int p9_errno_to_wasi(uint32_t linux_errno);

/* ---- p9/resolve.c: guest paths beneath a directory fid, confined (see there) ---- */
#define P9_PATH_MAX 4096 /* bytes of a path, and of one after symlink expansion */
struct p9_res {
  uint32_t parent;  /* fid of the directory holding the last component (owned), or P9_NOFID */
  uint32_t fid;     /* fid of what the path names (owned), P9_NOFID when absent */
  struct p9_qid qid;
  char name[256];   /* the last component (in parent) */
  uint32_t name_len;
  int trailing;     /* the path ended in '/' */
};
/* Resolves path beneath the fid base, following the last component's symlink if `follow`. On
 * success r->fid names the target (P9_NOFID when only the last component is missing) and
 * r->parent its directory (P9_NOFID when the path named base itself or an ancestor of it by
 * "." / ".."); both are owned: release with p9_res_done. 0 or a WASI errno. */
int p9_resolve(struct p9_client *c, uint32_t base, const char *path, uint32_t len, int follow, struct p9_res *r);
void p9_res_done(struct p9_client *c, struct p9_res *r);

/* ---- p9/volume.c: --volume preopens, a WASI backend (wasi/vfs.h) over the client ---- */
struct wasi_state;
/* Probes the virtio-9p devices and attaches each (panics, with the tag, when one fails). */
void volume_init(void);
/* Preopens every volume at its mount tag, in PCI (= command-line) order. */
void volume_preopen(struct wasi_state *st);

#endif
