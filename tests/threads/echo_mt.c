/* A TCP echo server with a thread per connection, for concurrent socket calls in the VM:
 * accepts N connections (argv[1]) on the preopened listener (fd 3), echoes each in its own
 * thread until the client closes, joins them all and exits 0 (1 when a thread saw an error). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static void *serve(void *arg) {
  int fd = (int)(long)arg;
  char buf[4096];
  long bad = 0;
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n == 0) break;
    if (n < 0) {
      bad = 1;
      break;
    }
    for (ssize_t off = 0; off < n;) {
      ssize_t k = send(fd, buf + off, n - off, 0);
      if (k <= 0) {
        bad = 1;
        goto out;
      }
      off += k;
    }
  }
out:
  close(fd);
  return (void *)bad;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 8, errors = 0;
  pthread_t *t = calloc(n, sizeof *t);
  for (int i = 0; i < n; i++) {
    int fd = accept(3, NULL, NULL);
    if (fd < 0 || pthread_create(&t[i], NULL, serve, (void *)(long)fd)) {
      fprintf(stderr, "accept or pthread_create failed\n");
      return 2;
    }
  }
  for (int i = 0; i < n; i++) {
    void *r;
    pthread_join(t[i], &r);
    errors += r != NULL;
  }
  printf("served %d connections, %d with errors\n", n, errors);
  return errors != 0;
}
