/* examples/broker — a multi-threaded message broker over TCP: one thread per connection, named
 * queues shared between the threads under a lock each.
 *
 * usage: broker [-p PORT] [-q QUEUE_LIMIT]
 *   Serves the first preopened listening socket (fd 3 on; `kiln build --listen tcp:PORT`,
 *   `kiln run --hosted --listen`), or listens on 0.0.0.0:PORT itself with -p (native builds).
 *   -q bounds the messages one queue holds (default 4096): a sender waits while its queue is
 *   full, so a fast sender cannot eat the broker's memory.
 *
 * The protocol (every integer is 4 bytes, little-endian):
 *   a client opens with one line naming its role and queue:
 *     "S <queue>\n"          sender: then frames <len><bytes> with 1 <= len <= 1 MiB; a frame of
 *                            len 0 asks for an acknowledgement: the broker answers <count>, the
 *                            number of messages it took from this connection so far, once they
 *                            are all queued. A sender that closes is done.
 *     "R <queue> <count>\n"  receiver: gets exactly <count> frames from the queue, in queue
 *                            order, then the broker closes the connection. A message leaves the
 *                            queue only for a receiver that is there to take it, so none is lost.
 *     "STATS\n"              one line back: "conns=N queued=N received=N delivered=N queues=N\n"
 *                            (conns counts the open client connections, this one excluded).
 *   Queue names are 1..63 bytes without spaces. A bad line or frame closes that connection only.
 *
 * Build it for Wasm with threads (see README, "Threads"), or natively with -pthread. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#ifndef __wasi__
#include <netinet/in.h>
#endif

#define MAX_FRAME (1u << 20)
#define MAX_NAME 63

struct msg {
  struct msg *next;
  uint32_t len;
  unsigned char data[];
};

struct queue {
  struct queue *next;
  char name[MAX_NAME + 1];
  pthread_mutex_t lock;
  pthread_cond_t nonempty, nonfull;
  struct msg *head, *tail;
  unsigned long count;
};

static pthread_mutex_t queues_lock = PTHREAD_MUTEX_INITIALIZER;
static struct queue *queues;
static unsigned long queue_limit = 4096;

/* The STATS counters: atomic adds, not a lock of their own, which every connection thread
 * took four times per message and queued behind (on two CPUs, and in Wasm most: a contended
 * lock is a runtime call to sleep and one to wake). STATS reads them one by one, which is
 * exact once the broker is idle (when the benchmarks read them). */
static atomic_ullong n_conns, n_queued, n_received, n_delivered, n_queues;

static void stat_add(atomic_ullong *c, long long d) {
  atomic_fetch_add_explicit(c, (unsigned long long)d, memory_order_relaxed);
}

static struct queue *queue_get(const char *name) {
  pthread_mutex_lock(&queues_lock);
  struct queue *q = queues;
  while (q && strcmp(q->name, name)) q = q->next;
  if (!q && (q = calloc(1, sizeof *q))) {
    strcpy(q->name, name);
    pthread_mutex_init(&q->lock, NULL);
    pthread_cond_init(&q->nonempty, NULL);
    pthread_cond_init(&q->nonfull, NULL);
    q->next = queues;
    queues = q;
    stat_add(&n_queues, 1);
  }
  pthread_mutex_unlock(&queues_lock);
  return q;
}

static void queue_put(struct queue *q, struct msg *m) {
  pthread_mutex_lock(&q->lock);
  while (q->count >= queue_limit) pthread_cond_wait(&q->nonfull, &q->lock);
  m->next = NULL;
  if (q->tail) q->tail->next = m;
  else q->head = m;
  q->tail = m;
  q->count++;
  pthread_cond_signal(&q->nonempty);
  pthread_mutex_unlock(&q->lock);
}

static struct msg *queue_take(struct queue *q) {
  pthread_mutex_lock(&q->lock);
  while (!q->head) pthread_cond_wait(&q->nonempty, &q->lock);
  struct msg *m = q->head;
  q->head = m->next;
  if (!q->head) q->tail = NULL;
  q->count--;
  pthread_cond_signal(&q->nonfull);
  pthread_mutex_unlock(&q->lock);
  return m;
}

/* A message taken for a receiver that went away goes back to the front of its queue. */
static void queue_unget(struct queue *q, struct msg *m) {
  pthread_mutex_lock(&q->lock);
  m->next = q->head;
  q->head = m;
  if (!q->tail) q->tail = m;
  q->count++;
  pthread_cond_signal(&q->nonempty);
  pthread_mutex_unlock(&q->lock);
}

static int read_full(int fd, void *p, size_t n) {
  unsigned char *b = p;
  while (n) {
    ssize_t k = read(fd, b, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

/* A connection's input, read in blocks: a sender's frames then come many to a read instead of
 * two reads each, and every read is a system call natively, a WASI call into the runtime in
 * Wasm (under its lock, and lwIP's in the VM). */
struct input {
  int fd;
  size_t at, end;
  unsigned char buf[16384];
};

static int in_read(struct input *in, void *p, size_t n) {
  unsigned char *b = p;
  while (n) {
    if (in->at == in->end) {
      if (n >= sizeof in->buf) return read_full(in->fd, b, n); /* a large frame: straight into place */
      ssize_t k = read(in->fd, in->buf, sizeof in->buf);
      if (k < 0 && errno == EINTR) continue;
      if (k <= 0) return -1;
      in->at = 0;
      in->end = (size_t)k;
    }
    size_t k = in->end - in->at < n ? in->end - in->at : n;
    memcpy(b, in->buf + in->at, k);
    in->at += k;
    b += k;
    n -= k;
  }
  return 0;
}

static int write_full(int fd, const void *p, size_t n) {
  const unsigned char *b = p;
  while (n) {
    ssize_t k = write(fd, b, n);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

/* A frame's header and bytes in one write (one call instead of two per message). */
static int write_frame(int fd, const unsigned char hdr[4], const unsigned char *data, size_t len) {
  struct iovec v[2] = {{(void *)hdr, 4}, {(void *)data, len}};
  int i = 0;
  while (i < 2) {
    ssize_t k = writev(fd, v + i, 2 - i);
    if (k < 0 && errno == EINTR) continue;
    if (k <= 0) return -1;
    for (; i < 2 && (size_t)k >= v[i].iov_len; i++) k -= (ssize_t)v[i].iov_len;
    if (i < 2) {
      v[i].iov_base = (unsigned char *)v[i].iov_base + k;
      v[i].iov_len -= (size_t)k;
    }
  }
  return 0;
}

static uint32_t get_le32(const unsigned char *b) {
  return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void put_le32(unsigned char *b, uint32_t v) {
  for (int i = 0; i < 4; i++) b[i] = (unsigned char)(v >> (8 * i));
}

/* The opening line (the frames behind it stay in the input). */
static int read_line(struct input *in, char *line, size_t cap) {
  for (size_t i = 0; i + 1 < cap; i++) {
    if (in_read(in, &line[i], 1)) return -1;
    if (line[i] == '\n') {
      line[i] = 0;
      return 0;
    }
  }
  return -1;
}

static void serve_sender(struct input *in, struct queue *q) {
  int fd = in->fd;
  unsigned long long taken = 0;
  unsigned char hdr[4];
  while (!in_read(in, hdr, 4)) {
    uint32_t len = get_le32(hdr);
    if (len == 0) {
      put_le32(hdr, (uint32_t)taken);
      if (write_full(fd, hdr, 4)) return;
      continue;
    }
    if (len > MAX_FRAME) return;
    struct msg *m = malloc(sizeof *m + len);
    if (!m) return;
    m->len = len;
    if (in_read(in, m->data, len)) {
      free(m);
      return;
    }
    stat_add(&n_received, 1);
    queue_put(q, m);
    stat_add(&n_queued, 1);
    taken++;
  }
}

static void serve_receiver(int fd, struct queue *q, unsigned long long count) {
  for (; count; count--) {
    struct msg *m = queue_take(q);
    stat_add(&n_queued, -1);
    unsigned char hdr[4];
    put_le32(hdr, m->len);
    if (write_frame(fd, hdr, m->data, m->len)) {
      queue_unget(q, m);
      stat_add(&n_queued, 1);
      return;
    }
    stat_add(&n_delivered, 1);
    free(m);
  }
}

static void serve_stats(int fd) {
  char out[200];
  int n = snprintf(out, sizeof out, "conns=%llu queued=%llu received=%llu delivered=%llu queues=%llu\n",
                   atomic_load(&n_conns) - 1, atomic_load(&n_queued), atomic_load(&n_received),
                   atomic_load(&n_delivered), atomic_load(&n_queues));
  write_full(fd, out, (size_t)n);
}

static void *connection(void *arg) {
  int fd = (int)(intptr_t)arg;
  struct input in = {.fd = fd};
  char line[128], name[MAX_NAME + 1];
  unsigned long long count;
  if (read_line(&in, line, sizeof line)) {
    /* a client that went away or sent a line that is too long */
  } else if (!strcmp(line, "STATS")) {
    serve_stats(fd);
  } else if (sscanf(line, "S %63s", name) == 1) {
    struct queue *q = queue_get(name);
    if (q) serve_sender(&in, q);
  } else if (sscanf(line, "R %63s %llu", name, &count) == 2) {
    struct queue *q = queue_get(name);
    if (q) serve_receiver(fd, q, count);
  }
  close(fd);
  stat_add(&n_conns, -1);
  return NULL;
}

static int listener(int argc, char **argv) {
  int port = -1;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "-p")) port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "-q")) queue_limit = strtoul(argv[i + 1], NULL, 10);
  }
  if (port < 0) {
    for (int fd = 3; fd < 64; fd++) {
      struct stat s;
      if (fstat(fd, &s) == 0 && S_ISSOCK(s.st_mode)) return fd;
    }
    fprintf(stderr, "broker: no preopened listening socket (kiln: --listen tcp:PORT; native: -p PORT)\n");
    return -1;
  }
#ifdef __wasi__
  fprintf(stderr, "broker: -p needs a native build; give the app a listening socket instead\n");
  return -1;
#else
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1024)) {
    perror("broker: listen");
    return -1;
  }
  return fd;
#endif
}

int main(int argc, char **argv) {
  int lfd = listener(argc, argv);
  if (lfd < 0) return 1;
  if (!queue_limit) queue_limit = 1;
  printf("broker: serving fd %d, at most %lu messages per queue\n", lfd, queue_limit);
  fflush(stdout);
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  for (;;) {
    int c = accept(lfd, NULL, NULL);
    if (c < 0) {
      if (errno == EINTR || errno == ECONNABORTED || errno == EAGAIN) continue;
      perror("broker: accept");
      return 1;
    }
    stat_add(&n_conns, 1);
    pthread_t t;
    if (pthread_create(&t, &attr, connection, (void *)(intptr_t)c)) {
      close(c);
      stat_add(&n_conns, -1);
    }
  }
}
