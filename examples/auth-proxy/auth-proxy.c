/* examples/auth-proxy — the authorization proxy filter of the study behind issue 12: an HTTP
 * reverse proxy whose token cache grows with the active users.
 *
 *   GET /login/USER     a token for USER: from the cache (a hit), else asked from auth-server
 *                       (a miss: one outgoing request) and cached for TTL seconds
 *   GET /logout/USER    drops USER's token
 *   GET /api/USER/PATH  forwarded to upstream as GET /PATH when USER holds a token (a miss
 *                       fetches one first, as /login)
 *   GET /stats          hits=N misses=N entries=N pages=N (linear memory)
 *
 * usage: auth-proxy AUTH_IPV4 AUTH_PORT UPSTREAM_IPV4 UPSTREAM_PORT [TTL_SECONDS [SESSION_KIB]]
 * TTL defaults to 600 s. SESSION_KIB (default 0) is per-user session state kept with the
 * token (as a filter that caches the user's claims would): bench/lifecycle uses it to scale
 * the cache up to where the host sees it next to QEMU's own memory.
 * It serves the preopened listener (fd 3); one request per connection. Each token is 1 KiB
 * plus its entry, so memory grows with the users logged in; a logout or an expiry frees the
 * entry, but the Wasm memory never shrinks: what `kiln --restart memory-ratio` reclaims.
 * It counts its requests and its outgoing requests to auth-server through the import
 * kiln.metric_add (README, "Restart policies"), so a host sees the figures the policy reads.
 * Outgoing connections use the WasmEdge socket extension, as examples/msg-send. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define WASMEDGE(name) __attribute__((import_module("wasi_snapshot_preview1"), import_name(#name)))
WASMEDGE(sock_open) int32_t we_sock_open(int32_t af, int32_t type, uint32_t *fd);
WASMEDGE(sock_connect) int32_t we_sock_connect(int32_t fd, const void *addr, int32_t port);
__attribute__((import_module("kiln"), import_name("metric_add"))) void kiln_metric_add(int32_t what, int32_t n);

#define TOKEN 1024
#define BUCKETS 4096

struct entry {
  struct entry *next;
  time_t expires;
  char user[48];
  char *session; /* SESSION_KIB of per-user state, or NULL */
  char token[TOKEN];
};

static struct entry *table[BUCKETS];
static unsigned long hits, misses, entries;
static uint8_t auth_ip[4], up_ip[4];
static int auth_port, up_port;
static long ttl = 600;
static size_t session_bytes;

static unsigned bucket(const char *user) {
  unsigned h = 2166136261u;
  for (; *user; user++) h = (h ^ (unsigned char)*user) * 16777619u;
  return h % BUCKETS;
}

static struct entry **find(const char *user) {
  struct entry **e = &table[bucket(user)];
  while (*e && strcmp((*e)->user, user)) e = &(*e)->next;
  return e;
}

static void drop(struct entry **e) {
  struct entry *x = *e;
  *e = x->next;
  free(x->session);
  free(x);
  entries--;
}

/* GET path from ip:port; the body into out (at most cap - 1 bytes, NUL-terminated); its
 * length, or -1. */
static int http_get(const uint8_t ip[4], int port, const char *path, char *out, size_t cap) {
  struct {
    uint32_t buf, len;
  } addr = {(uint32_t)(uintptr_t)ip, 4};
  uint32_t fd;
  if (we_sock_open(1, 2, &fd) || we_sock_connect((int32_t)fd, &addr, port)) return -1;
  char req[300];
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.0\r\n\r\n", path);
  int ok = send((int)fd, req, (size_t)n, 0) == n;
  static char buf[4096];
  size_t len = 0;
  while (ok && len < sizeof buf - 1) {
    ssize_t k = recv((int)fd, buf + len, sizeof buf - 1 - len, 0);
    if (k <= 0) break;
    len += (size_t)k;
  }
  close((int)fd);
  buf[len] = 0;
  char *body = strstr(buf, "\r\n\r\n");
  if (!ok || !body || strncmp(buf, "HTTP/1.0 200", 12)) return -1;
  body += 4;
  size_t bl = len - (size_t)(body - buf);
  if (bl >= cap) bl = cap - 1;
  memcpy(out, body, bl);
  out[bl] = 0;
  return (int)bl;
}

/* The user's cached token, fetched from auth-server on a miss; NULL when that failed. */
static struct entry *token_for(const char *user) {
  time_t now = time(NULL);
  struct entry **e = find(user);
  if (*e && (*e)->expires > now) {
    hits++;
    return *e;
  }
  if (*e) drop(e); /* expired */
  misses++;
  kiln_metric_add(1, 1);
  char path[80];
  snprintf(path, sizeof path, "/token/%s", user);
  struct entry *x = malloc(sizeof *x);
  if (!x || http_get(auth_ip, auth_port, path, x->token, sizeof x->token) <= 0) {
    free(x);
    return NULL;
  }
  snprintf(x->user, sizeof x->user, "%s", user);
  x->session = session_bytes ? malloc(session_bytes) : NULL;
  if (x->session) memset(x->session, 0x2a, session_bytes);
  x->expires = now + ttl;
  x->next = *e; /* the slot where the user was looked for (or its expired entry was) */
  *e = x;
  entries++;
  return x;
}

static void reply(int fd, int status, const char *body) {
  char head[128];
  int hl = snprintf(head, sizeof head, "HTTP/1.0 %d %s\r\nContent-Length: %zu\r\n\r\n", status,
                    status == 200 ? "OK" : status == 404 ? "Not Found" : "Bad Gateway", strlen(body));
  if (send(fd, head, (size_t)hl, 0) == hl) send(fd, body, strlen(body), 0);
}

static int parse_ip(const char *s, uint8_t ip[4]) {
  unsigned a, b, c, d;
  if (sscanf(s, "%u.%u.%u.%u", &a, &b, &c, &d) != 4 || a > 255 || b > 255 || c > 255 || d > 255) return -1;
  ip[0] = (uint8_t)a, ip[1] = (uint8_t)b, ip[2] = (uint8_t)c, ip[3] = (uint8_t)d;
  return 0;
}

int main(int argc, char **argv) {
  if (argc < 5 || parse_ip(argv[1], auth_ip) || parse_ip(argv[3], up_ip) || (auth_port = atoi(argv[2])) <= 0 ||
      (up_port = atoi(argv[4])) <= 0) {
    fprintf(stderr, "usage: auth-proxy AUTH_IPV4 AUTH_PORT UPSTREAM_IPV4 UPSTREAM_PORT [TTL_SECONDS]\n");
    return 2;
  }
  if (argc > 5) ttl = atol(argv[5]);
  if (argc > 6) session_bytes = (size_t)atol(argv[6]) << 10;
  printf("auth-proxy: serving on fd 3, auth %s:%d, upstream %s:%d, ttl %ld s\n", argv[1], auth_port, argv[3],
         up_port, ttl);
  fflush(stdout);
  for (;;) {
    int fd = accept(3, NULL, NULL);
    if (fd < 0) continue;
    char req[1024];
    size_t len = 0;
    while (len < sizeof req - 1) {
      ssize_t k = recv(fd, req + len, sizeof req - 1 - len, 0);
      if (k <= 0) break;
      len += (size_t)k;
      req[len] = 0;
      if (strstr(req, "\r\n\r\n")) break;
    }
    req[len] = 0;
    kiln_metric_add(0, 1);
    char user[48] = "", body[4096];
    const char *path = !strncmp(req, "GET ", 4) ? req + 4 : "";
    size_t pl = strcspn(path, " \r\n");
    if (!strncmp(path, "/login/", 7) || !strncmp(path, "/logout/", 8) || !strncmp(path, "/api/", 5)) {
      const char *u = strchr(path + 1, '/') + 1;
      size_t ul = strcspn(u, "/ \r\n");
      snprintf(user, sizeof user, "%.*s", (int)(ul < sizeof user ? ul : sizeof user - 1), u);
    }
    if (!strncmp(path, "/login/", 7) && *user) {
      struct entry *e = token_for(user);
      if (e) snprintf(body, sizeof body, "token=%.32s\n", e->token);
      reply(fd, e ? 200 : 502, e ? body : "auth-server unreachable\n");
    } else if (!strncmp(path, "/logout/", 8) && *user) {
      struct entry **e = find(user);
      if (*e) drop(e);
      reply(fd, 200, "bye\n");
    } else if (!strncmp(path, "/api/", 5) && *user) {
      const char *rest = path + 5 + strlen(user);
      char up[300];
      snprintf(up, sizeof up, "%.*s", (int)(pl - (size_t)(rest - path)), *rest == '/' ? rest : "/");
      if (!token_for(user)) reply(fd, 502, "auth-server unreachable\n");
      else if (http_get(up_ip, up_port, up, body, sizeof body) < 0) reply(fd, 502, "upstream unreachable\n");
      else reply(fd, 200, body);
    } else if (!strncmp(path, "/stats", 6)) {
      snprintf(body, sizeof body, "hits=%lu misses=%lu entries=%lu pages=%zu\n", hits, misses, entries,
               __builtin_wasm_memory_size(0));
      reply(fd, 200, body);
    } else {
      reply(fd, 404, "not found\n");
    }
    close(fd);
  }
}
