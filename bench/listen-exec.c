/* bench/listen-exec.c — `listen-exec PORT FD PROG [ARGS...]`: opens a TCP listening socket on
 * 0.0.0.0:PORT as file descriptor FD and execs PROG. It gives a natively compiled WASI server
 * what `kiln build --listen tcp:PORT` gives it inside Kiln (a preopened listening socket), so
 * the same server source runs natively in the Linux guest. */
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

int main(int argc, char **argv) {
  if (argc < 4) {
    fputs("usage: listen-exec PORT FD PROG [ARGS...]\n", stderr);
    return 2;
  }
  int port = atoi(argv[1]), fd = atoi(argv[2]), one = 1;
  if (port <= 0 || port > 65535 || fd < 3) {
    fputs("listen-exec: PORT must be 1..65535 and FD at least 3\n", stderr);
    return 2;
  }
  int s = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr = {htonl(INADDR_ANY)}};
  if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
      bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 1024) < 0) {
    perror("listen-exec");
    return 1;
  }
  if (s != fd && (dup2(s, fd) < 0 || close(s) < 0)) {
    perror("listen-exec: dup2");
    return 1;
  }
  execvp(argv[3], argv + 3);
  perror("listen-exec: exec");
  return 127;
}
