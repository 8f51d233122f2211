/* close() of a socket while another thread is blocked in recv() on it: the receiver wakes
 * with an error (or end of stream) instead of sleeping on, or touching a freed socket. Accepts
 * one connection on the preopened listener (fd 3); the client sends nothing. Exits 0 when the
 * receiver came back after the close. */
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd;
static volatile int closed;

static void *receiver(void *arg) {
  (void)arg;
  char c;
  ssize_t n = recv(fd, &c, 1, 0);
  printf("recv returned %zd %s the close\n", n, closed ? "after" : "before");
  return (void *)(long)(closed ? 0 : 1);
}

int main(void) {
  fd = accept(3, NULL, NULL);
  if (fd < 0) return 2;
  pthread_t t;
  if (pthread_create(&t, NULL, receiver, NULL)) return 3;
  struct timespec ts = {0, 200 * 1000 * 1000};
  nanosleep(&ts, NULL); /* the receiver is blocked by now */
  closed = 1;
  close(fd);
  void *r;
  pthread_join(t, &r);
  puts(r ? "receiver came back before the close" : "receiver woke after the close");
  return r != NULL;
}
