/* wasi/socket_fd.h — what the platform calls to give an app its preopened listening sockets
 * (kernel: for each `listen=tcp:PORT` token, after wasi_load_image; hosted: --listen). */
#ifndef KILN_WASI_SOCKET_FD_H
#define KILN_WASI_SOCKET_FD_H

#include <stdint.h>

struct wasi_state;

/* Opens, binds (0.0.0.0) and listens on each "tcp:PORT" of spec (comma-separated), giving
 * each the next free fd (so after stdio and the preopened directories, as wasmtime's
 * --tcplisten does); *fd gets the last one. 0 or a WASI errno (EINVAL for a bad spec,
 * ENETDOWN without a network, EADDRINUSE). */
int wasi_sock_preopen_listen(struct wasi_state *st, const char *spec, uint32_t *fd);

/* Restart in place: takes the listening sockets wasi_sock_preopen_listen opened out of st, so
 * that wasi_destroy(st) leaves them listening; the next wasi_sock_preopen_listen of the same
 * port gives them to the new state. Returns how many were kept. */
int wasi_sock_keep_listeners(struct wasi_state *st);

struct kiln_instance;

/* Hosted (host/wasi_lock.c): whether fd_read/fd_write/sock_recv/sock_send on fd may run under a
 * shared hold of the WASI lock: fd is a socket whose platform says its bytes move without
 * touching state other threads' calls change (ksock_io_concurrent). Called with the lock held,
 * shared at least; the call itself checks fd again. */
int wasi_sock_io_shared(struct kiln_instance *ctx, int32_t fd);

#endif
