/* bench/broker-client.c — load and checks for examples/broker (its protocol is described there).
 *
 * usage: broker-client HOST PORT transfer PAIRS COUNT SIZE
 *          PAIRS senders and PAIRS receivers at once, sender i and receiver i on queue "t<i>";
 *          COUNT messages of SIZE bytes in all. Every receiver checks that it got its sender's
 *          messages whole and in order.
 *        broker-client HOST PORT receive SENDERS QUEUES COUNT SIZE
 *          SENDERS senders spread over QUEUES queues "r<j>" (sender i on queue i % QUEUES, so
 *          with fewer senders than queues only SENDERS queues are used), COUNT messages in all; timed until
 *          every sender's acknowledgement says all its messages are queued. Then receivers drain
 *          the queues (untimed) and check every message.
 *        broker-client HOST PORT stats
 * Prints "<mode> msgs=N secs=T rate=R" (rate in messages per second) and exits 0, or names the
 * first failure and exits 1. Every socket has a 30 s timeout, so a stuck broker fails the run. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static struct sockaddr_in broker;
static unsigned size;
static atomic_int failed;

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void fail(const char *what, unsigned who) {
  if (!atomic_exchange(&failed, 1)) fprintf(stderr, "broker-client: %s (client %u)\n", what, who);
}

/* Why the last full() of this thread stopped short: "end of stream" or the error. */
static _Thread_local const char *short_why = "";

static int full(int fd, void *p, size_t n, int writing) {
  unsigned char *b = p;
  while (n) {
    ssize_t k = writing ? send(fd, b, n, MSG_NOSIGNAL) : recv(fd, b, n, 0);
    if (k <= 0) {
      short_why = k == 0 ? "end of stream" : strerror(errno);
      return -1;
    }
    b += k;
    n -= (size_t)k;
  }
  return 0;
}

static int dial(const char *hello) {
  int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
  struct timeval tv = {30, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (connect(fd, (struct sockaddr *)&broker, sizeof broker) || full(fd, (void *)hello, strlen(hello), 1)) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Message k of sender s: its 8-byte header (s, k), then bytes derived from both. */
static void fill(unsigned char *m, uint32_t s, uint32_t k) {
  memcpy(m, &s, 4);
  memcpy(m + 4, &k, 4);
  for (unsigned i = 8; i < size; i++) m[i] = (unsigned char)(s * 31 + k * 7 + i);
}

struct job {
  pthread_t t;
  unsigned id, queue, count; /* count: messages to send or to receive */
  int check_order;           /* one sender per queue: messages arrive numbered 0, 1, 2... */
};

static void *sender(void *arg) {
  struct job *j = arg;
  char hello[80];
  snprintf(hello, sizeof hello, "S %c%u\n", j->check_order ? 't' : 'r', j->queue);
  int fd = dial(hello);
  if (fd < 0) return fail("sender cannot connect", j->id), NULL;
  unsigned char *m = malloc(size + 4);
  uint32_t len = size, ack = 0, zero = 0;
  for (uint32_t k = 0; k < j->count && !failed; k++) {
    memcpy(m, &len, 4);
    fill(m + 4, j->id, k);
    if (full(fd, m, size + 4, 1)) fail("sender: send failed", j->id);
  }
  if (!failed && (full(fd, &zero, 4, 1) || full(fd, &ack, 4, 0) || ack != j->count))
    fail("sender: acknowledgement missing or short", j->id);
  free(m);
  close(fd);
  return NULL;
}

static void *receiver(void *arg) {
  struct job *j = arg;
  char hello[80];
  snprintf(hello, sizeof hello, "R %c%u %u\n", j->check_order ? 't' : 'r', j->queue, j->count);
  int fd = dial(hello);
  if (fd < 0) return fail("receiver cannot connect", j->id), NULL;
  unsigned char *m = malloc(size), *want = malloc(size);
  for (uint32_t k = 0; k < j->count && !failed; k++) {
    uint32_t len = 0;
    if (full(fd, &len, 4, 0) || len != size || full(fd, m, size, 0)) {
      char why[160];
      snprintf(why, sizeof why, "receiver: message %u of %u missing (%s) or of the wrong size (%u)", k, j->count,
               short_why, len);
      fail(why, j->id);
      break;
    }
    uint32_t s, n;
    memcpy(&s, m, 4);
    memcpy(&n, m + 4, 4);
    fill(want, s, n);
    if (memcmp(m, want, size) || (j->check_order && (s != j->queue || n != k)))
      fail("receiver: a message is corrupt or out of order", j->id);
  }
  free(m);
  free(want);
  close(fd);
  return NULL;
}

static void run(struct job *jobs, unsigned n, void *(*fn)(void *)) {
  for (unsigned i = 0; i < n; i++) pthread_create(&jobs[i].t, NULL, fn, &jobs[i]);
}

static void join(struct job *jobs, unsigned n) {
  for (unsigned i = 0; i < n; i++) pthread_join(jobs[i].t, NULL);
}

/* Splits count over n: the first count % n get one more. */
static unsigned share(unsigned count, unsigned n, unsigned i) { return count / n + (i < count % n); }

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr, "usage: broker-client HOST PORT transfer PAIRS COUNT SIZE | receive SENDERS QUEUES COUNT SIZE | stats\n");
    return 2;
  }
  broker.sin_family = AF_INET;
  broker.sin_port = htons((uint16_t)atoi(argv[2]));
  inet_pton(AF_INET, argv[1], &broker.sin_addr);
  const char *mode = argv[3];
  if (!strcmp(mode, "stats")) {
    int fd = dial("STATS\n");
    char line[256] = {0};
    if (fd < 0 || recv(fd, line, sizeof line - 1, MSG_WAITALL) <= 0) return fprintf(stderr, "broker-client: no stats\n"), 1;
    fputs(line, stdout);
    return 0;
  }
  int transfer = !strcmp(mode, "transfer");
  if ((transfer && argc != 7) || (!transfer && (strcmp(mode, "receive") || argc != 8)))
    return fprintf(stderr, "broker-client: bad arguments\n"), 2;
  unsigned senders = (unsigned)atoi(argv[4]), queues = transfer ? senders : (unsigned)atoi(argv[5]);
  unsigned count = (unsigned)atoi(argv[transfer ? 5 : 6]);
  size = (unsigned)atoi(argv[transfer ? 6 : 7]);
  if (!senders || !queues || size < 8 || size > (1u << 20))
    return fprintf(stderr, "broker-client: need SENDERS, QUEUES >= 1 and 8 <= SIZE <= 1 MiB\n"), 2;
  if (queues > senders) queues = senders; /* a sender feeds one queue: fewer senders use fewer queues */
  struct job *s = calloc(senders, sizeof *s), *r = calloc(queues, sizeof *r);
  for (unsigned i = 0; i < senders; i++) s[i] = (struct job){.id = i, .queue = i % queues, .count = share(count, senders, i), .check_order = transfer};
  for (unsigned q = 0; q < queues; q++) {
    r[q] = (struct job){.id = q, .queue = q, .check_order = transfer};
    for (unsigned i = q; i < senders; i += queues) r[q].count += s[i].count;
  }
  double t0 = now();
  if (transfer) run(r, queues, receiver);
  run(s, senders, sender);
  join(s, senders);
  if (transfer) join(r, queues);
  double dt = now() - t0;
  if (!transfer && !failed) { /* drain, and check every message */
    run(r, queues, receiver);
    join(r, queues);
  }
  if (failed) return 1;
  printf("%s msgs=%u queues=%u secs=%.3f rate=%.0f\n", mode, count, queues, dt, count / dt);
  return 0;
}
