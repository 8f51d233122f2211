/* wasi/preview1_sock.c — the four preview1 sock_* calls: pointer and fd checks here, the network in
 * the socket fd's ops (wasi/socket_fd.c, through wasi_fd_ops in wasi.h). Any other fd is not a
 * socket: WASI_ENOTSOCK. */
#include "wasi/wasi_int.h"

static int sock_fd(struct wasi_state *st, int32_t fd, struct wasi_fd **out) {
  struct wasi_fd *f = wasi_fd_get(st, (uint32_t)fd);
  if (!f) return WASI_EBADF;
  if (f->kind != WASI_FD_SOCKET || !f->ops) return WASI_ENOTSOCK;
  *out = f;
  return 0;
}

int32_t WASI_FN(sock_accept, iii_i)(kiln_instance *ctx, int32_t fd, int32_t flags, int32_t pfd) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f;
  int e = sock_fd(st, fd, &f);
  if (e) return e;
  if ((f->rights_base & WASI_RIGHT(WASI_R_SOCK_ACCEPT)) == 0) return WASI_ENOTCAPABLE;
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pfd, 4);
  if (!out) return WASI_EFAULT;
  if ((uint32_t)flags & ~(uint32_t)WASI_FDFLAG_NONBLOCK) return WASI_EINVAL;
  if (!f->ops->sock_accept) return WASI_ENOTSUP;
  uint32_t nfd;
  if ((e = f->ops->sock_accept(st, f, (uint16_t)flags, &nfd))) return e;
  wasi_st32(out, nfd);
  return 0;
}

int32_t WASI_FN(sock_recv, iiiiii_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t riflags,
                                      int32_t pdone, int32_t proflags) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f;
  int e = sock_fd(st, fd, &f);
  if (e) return e;
  if ((f->rights_base & WASI_RIGHT(WASI_R_FD_READ)) == 0) return WASI_ENOTCAPABLE;
  uint8_t *d = wasi_guest_ptr(ctx, (uint32_t)pdone, 4), *fl = wasi_guest_ptr(ctx, (uint32_t)proflags, 2);
  if (!d || !fl) return WASI_EFAULT;
  if (!f->ops->sock_recv) return WASI_ENOTSUP;
  struct wasi_iovs v;
  if ((e = wasi_iovs_get(ctx, (uint32_t)iovs, (uint32_t)n, &v))) return e;
  size_t done = 0;
  uint16_t ro = 0;
  e = f->ops->sock_recv(st, f, v.v, v.n, (uint16_t)riflags, &done, &ro);
  wasi_iovs_free(&v);
  if (e) return e;
  wasi_st32(d, (uint32_t)done);
  wasi_st16(fl, ro);
  return 0;
}

int32_t WASI_FN(sock_send, iiiii_i)(kiln_instance *ctx, int32_t fd, int32_t iovs, int32_t n, int32_t siflags,
                                     int32_t pdone) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f;
  int e = sock_fd(st, fd, &f);
  if (e) return e;
  if ((f->rights_base & WASI_RIGHT(WASI_R_FD_WRITE)) == 0) return WASI_ENOTCAPABLE;
  uint8_t *d = wasi_guest_ptr(ctx, (uint32_t)pdone, 4);
  if (!d) return WASI_EFAULT;
  if (!f->ops->sock_send) return WASI_ENOTSUP;
  struct wasi_iovs v;
  if ((e = wasi_iovs_get(ctx, (uint32_t)iovs, (uint32_t)n, &v))) return e;
  size_t done = 0;
  e = f->ops->sock_send(st, f, v.v, v.n, (uint16_t)siflags, &done);
  wasi_iovs_free(&v);
  if (e) return e;
  wasi_st32(d, (uint32_t)done);
  return 0;
}

int32_t WASI_FN(sock_shutdown, ii_i)(kiln_instance *ctx, int32_t fd, int32_t how) {
  struct wasi_state *st = WASI_STATE(ctx);
  struct wasi_fd *f;
  int e = sock_fd(st, fd, &f);
  if (e) return e;
  if ((f->rights_base & WASI_RIGHT(WASI_R_SOCK_SHUTDOWN)) == 0) return WASI_ENOTCAPABLE;
  if ((uint32_t)how & ~3u || !how) return WASI_EINVAL;
  if (!f->ops->sock_shutdown) return WASI_ENOTSUP;
  return f->ops->sock_shutdown(st, f, (uint8_t)how);
}
