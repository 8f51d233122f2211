/* tests/threads/open_mt.c — open() of relative paths in several threads at once: after
 * chdir(DIR), each thread opens its own file (names of different lengths) many times and reads
 * it back. Once an app calls chdir(), libc joins a relative path to the working directory in a
 * buffer of its own, thread-local in its source; one for all threads (Debian's wasi-libc, built
 * without atomics), a thread opens another's file, or a half-written name.
 *   open_mt DIR [ITER]   DIR holds the files t0 t11 t222 t3333 (each holding its own name);
 *                        ITER: opens per thread (default 5000) */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define THREADS 4
static const char *const names[THREADS] = {"t0", "t11", "t222", "t3333"};
static int iter = 5000;

static void *opener(void *arg) {
  const char *name = names[(long)arg];
  char path[256], got[64];
  snprintf(path, sizeof path, "./%s", name);
  for (int i = 0; i < iter; i++) {
    int fd = open(path, O_RDONLY);
    if (fd < 0) {
      printf("%s: open %d failed: %s\n", name, i, strerror(errno));
      return (void *)1;
    }
    ssize_t n = read(fd, got, sizeof got - 1);
    close(fd);
    got[n > 0 ? n : 0] = 0;
    if (strcmp(got, name) != 0) {
      printf("%s: open %d gave the file holding '%s'\n", name, i, got);
      return (void *)1;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: open_mt DIR [ITER]\n");
    return 2;
  }
  const char *dir = argv[1];
  if (argc > 2) iter = atoi(argv[2]);
  if (chdir(dir) != 0) {
    perror(dir);
    return 2;
  }
  pthread_t t[THREADS];
  for (long k = 0; k < THREADS; k++)
    if (pthread_create(&t[k], NULL, opener, (void *)k) != 0) return 2;
  int bad = 0;
  for (int k = 0; k < THREADS; k++) {
    void *r;
    pthread_join(t[k], &r);
    bad |= r != NULL;
  }
  if (bad) return 1;
  printf("%d threads x %d opens: each read its own file\n", THREADS, iter);
  return 0;
}
