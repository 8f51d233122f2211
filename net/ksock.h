/* net/ksock.h — sockets over lwIP's raw API, for wasi/socket_fd.c. IPv4, TCP and UDP.
 * Every function returns 0 or a WASI errno (wasi/wasi_types.h). Blocking calls poll the NIC
 * and lwIP timers and halt until an interrupt while they wait (net_wait), never spin.
 * Addresses are IPv4 in network byte order as 4 bytes (a[0] is the first octet), ports in
 * host order. */
#ifndef KILN_NET_KSOCK_H
#define KILN_NET_KSOCK_H

#include <stddef.h>
#include <stdint.h>

struct ksock;
struct wasi_buf;

enum { KSOCK_UDP = 0, KSOCK_TCP = 1 }; /* WasmEdge's sock_type: 0 datagram, 1 stream */
enum { KSOCK_PEEK = 1, KSOCK_WAITALL = 2 }; /* preview1 riflags */
enum { KSOCK_OPT_REUSEADDR = 1, KSOCK_OPT_KEEPALIVE, KSOCK_OPT_NODELAY, KSOCK_OPT_RCVBUF, KSOCK_OPT_SNDBUF,
       KSOCK_OPT_TYPE, KSOCK_OPT_ERROR, KSOCK_OPT_ACCEPTCONN, KSOCK_OPT_LINGER,
       KSOCK_OPT_RCVTIMEO, KSOCK_OPT_SNDTIMEO }; /* timeouts: value in ms, 0 = none */

int ksock_open(int type, struct ksock **out);
/* Convenience for the preopened listener (listen=tcp:PORT): open, bind 0.0.0.0:port, listen. */
int ksock_listen_tcp(uint16_t port, struct ksock **out);
int ksock_bind(struct ksock *s, const uint8_t ip[4], uint16_t port);
int ksock_listen(struct ksock *s, int backlog);
int ksock_accept(struct ksock *s, int nonblock, struct ksock **out);
int ksock_connect(struct ksock *s, const uint8_t ip[4], uint16_t port, int nonblock);
/* Stream or datagram receive into iov; from_ip/from_port (may be NULL) get the sender.
 * *done 0 with return 0 on a stream means the peer closed (end of stream). *truncated is
 * set when a datagram did not fit. */
int ksock_recv(struct ksock *s, const struct wasi_buf *iov, size_t n, int flags, int nonblock, size_t *done,
               int *truncated, uint8_t from_ip[4], uint16_t *from_port);
/* Stream send, or datagram send to the connected peer (to_ip NULL) or to to_ip:to_port. */
int ksock_send(struct ksock *s, const struct wasi_buf *iov, size_t n, int nonblock, size_t *done,
               const uint8_t *to_ip, uint16_t to_port);
/* Stream send of bytes that stay valid and unchanged as long as the kernel runs (files packed
 * into the image): the network stack references them instead of copying them. Otherwise as
 * ksock_send; ENOTSUP on a datagram socket. */
int ksock_send_stable(struct ksock *s, const uint8_t *p, size_t len, int nonblock, size_t *done);
int ksock_shutdown(struct ksock *s, int how); /* how: 1 read, 2 write, 3 both */
void ksock_close(struct ksock *s);
/* Readiness: events 1 read, 2 write; 1 ready / 0 not yet; *nbytes bytes available to read
 * (or send space), *hangup 1 when the peer closed or the connection failed. */
int ksock_poll(struct ksock *s, int events, uint64_t *nbytes, int *hangup);
int ksock_addr(struct ksock *s, int peer, uint8_t ip[4], uint16_t *port);
int ksock_type(const struct ksock *s);
/* Hosted only: whether s's recv and send may run while other threads run theirs on other
 * sockets (wasi_sock_io_shared). */
int ksock_io_concurrent(const struct ksock *s);
int ksock_setopt(struct ksock *s, int opt, int value);
int ksock_getopt(struct ksock *s, int opt, int *value);

/* At the app's exit: stops listening, sends FIN on every connection after its queued data,
 * and waits (polling, halting between) while the peers make progress: until all data and FINs
 * are acknowledged, stall_ns pass without an acknowledged byte, or max_ns in all. Returns how
 * many connections still had data pending. */
int ksock_drain_all(uint64_t stall_ns, uint64_t max_ns);

/* Counters for net/stats.c. */
struct ksock_counts {
  uint32_t open, tcp_open, udp_open, listening, pending_accept;
  uint64_t accepted, rx_queued_bytes;
  uint64_t sends, polls; /* stream send calls and readiness checks (cost per request) */
  uint64_t connects;     /* TCP connections the app started (outgoing requests, for metrics) */
  uint64_t sent_copied_bytes, sent_ref_bytes; /* stream bytes copied into lwIP / referenced in place */
  /* Segments refused (lwIP then drops the peer's further data until the app reads): by the
   * socket's own limit, by its share when all sockets hold much, for want of heap. */
  uint64_t refused_sock, refused_share, refused_heap;
};
void ksock_counts(struct ksock_counts *c);

#endif
