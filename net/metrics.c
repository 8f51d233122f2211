/* net/metrics.c — the metrics endpoint: with `metrics=PORT` on the kernel command line
 * (`kiln build/run --metrics PORT`), a small HTTP/1.0 responder on its own lwIP listener
 * answers every request with the kernel's figures in the Prometheus text format
 * (kernel/lifecycle_core.c formats them) and closes. It runs on lwIP's callbacks, outside the
 * app and its sockets, so it keeps answering while the app computes, waits or restarts. */
#include "kernel/kernel.h"
#include "kernel/lifecycle.h"
#include "lwip/tcp.h"
#include "net/net.h"

#define REQ_MAX 2048 /* a request head longer than this is answered anyway */
#define BODY_MAX 4096

struct conn {
  uint32_t seen; /* bytes of the request head so far */
  uint8_t tail[4];
};

static void finish(struct tcp_pcb *pcb, struct conn *c) {
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_err(pcb, NULL);
  kfree(c);
  if (tcp_close(pcb) != ERR_OK) tcp_abort(pcb);
}

static err_t respond(struct tcp_pcb *pcb, struct conn *c) {
  static char body[BODY_MAX];
  char head[160];
  int n = life_metrics_format(body, sizeof body);
  int h = ksnprintf(head, sizeof head,
                    "HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: %d\r\n"
                    "Connection: close\r\n\r\n", n);
  if (tcp_write(pcb, head, (u16_t)h, TCP_WRITE_FLAG_COPY | TCP_WRITE_FLAG_MORE) != ERR_OK ||
      tcp_write(pcb, body, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
    tcp_arg(pcb, NULL);
    kfree(c);
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  tcp_output(pcb);
  finish(pcb, c);
  return ERR_OK;
}

/* Reads the request head up to its blank line (the request itself does not matter). */
static err_t on_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
  struct conn *c = arg;
  if (!p) { /* the client closed before asking */
    finish(pcb, c);
    return ERR_OK;
  }
  int done = 0;
  for (struct pbuf *q = p; q && !done; q = q->next)
    for (u16_t i = 0; i < q->len && !done; i++) {
      c->tail[0] = c->tail[1], c->tail[1] = c->tail[2], c->tail[2] = c->tail[3];
      c->tail[3] = ((uint8_t *)q->payload)[i];
      done = !memcmp(c->tail, "\r\n\r\n", 4) || ++c->seen >= REQ_MAX;
    }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return done ? respond(pcb, c) : ERR_OK;
}

static void on_err(void *arg, err_t err) { kfree(arg); /* lwIP freed the pcb */ }

static err_t on_accept(void *arg, struct tcp_pcb *pcb, err_t err) {
  if (err != ERR_OK || !pcb) return ERR_VAL;
  struct conn *c = kalloc(sizeof *c);
  if (!c) {
    tcp_abort(pcb);
    return ERR_ABRT;
  }
  tcp_arg(pcb, c);
  tcp_recv(pcb, on_recv);
  tcp_err(pcb, on_err);
  return ERR_OK;
}

void net_metrics_init(void) {
  const char *p = kernel_cmdline_get("metrics");
  if (!p) return;
  int port = atoi(p);
  if (port <= 0 || port > 65535) {
    klog("net: bad metrics=%s (ignored)\n", p);
    return;
  }
  net_enter();
  struct tcp_pcb *pcb = tcp_new();
  struct tcp_pcb *l = pcb && tcp_bind(pcb, IP_ADDR_ANY, (u16_t)port) == ERR_OK ? tcp_listen(pcb) : NULL;
  if (l) {
    tcp_accept(l, on_accept);
    klog("net: metrics on tcp port %d\n", port);
  } else {
    klog("net: cannot listen on metrics port %d\n", port);
    if (pcb) tcp_abort(pcb);
  }
  net_leave();
}
