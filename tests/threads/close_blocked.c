/* close() of a socket while another thread is blocked in recv() on it: the receiver wakes
 * with an error (or end of stream) instead of sleeping on, or touching a freed socket. Then
 * the fd number may be reused at once: a second connection accepted right after the close
 * gets its own byte, and the receiver, still leaving its call, never sees it. Accepts two
 * connections on the preopened listener (fd 3): the first sends nothing, the second sends
 * "X" (tests/threads/run.sh's client). Exits 0 when the receiver came back after the close
 * with nothing and the second connection read its "X". */
#include <pthread.h>
#include <stdio.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int fd;
static volatile int closed;

static void *receiver(void *arg) {
  (void)arg;
  char c = 0;
  ssize_t n = recv(fd, &c, 1, 0);
  printf("recv returned %zd %s the close\n", n, closed ? "after" : "before");
  return (void *)(long)(!closed ? 1 : n > 0 ? 2 : 0);
}

int main(void) {
  fd = accept(3, NULL, NULL);
  if (fd < 0) return 3;
  pthread_t t;
  if (pthread_create(&t, NULL, receiver, NULL)) return 3;
  struct timespec ts = {0, 200 * 1000 * 1000};
  nanosleep(&ts, NULL); /* the receiver is blocked by now */
  closed = 1;
  close(fd);
  int fd2 = accept(3, NULL, NULL);
  char c = 0;
  ssize_t n2 = fd2 < 0 ? -1 : recv(fd2, &c, 1, 0);
  void *r;
  pthread_join(t, &r);
  if (r == (void *)1) puts("receiver came back before the close");
  else if (r == (void *)2) puts("receiver read a byte after the close");
  else puts("receiver woke after the close");
  if (n2 != 1 || c != 'X') {
    printf("the second connection (fd %d) read %zd bytes, not its X\n", fd2, n2);
    return 4;
  }
  puts("the second connection read its X");
  return r != NULL;
}
