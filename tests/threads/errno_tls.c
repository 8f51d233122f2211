/* tests/threads/errno_tls.c — errno is per thread: six threads fail calls with six different
 * errnos at once, in a loop, each checking its own errno right after the call and again after
 * a sched_yield() that lets the others run; the main thread's errno, set by a failure of its
 * own, must not change meanwhile. With one errno for all threads (Debian's wasi-libc, built
 * without atomics) the threads see each other's errnos within a few iterations.
 *   errno_tls DIR [ITER]   DIR: a preopened directory holding a regular file "f"
 *                          ITER: calls per thread (default 20000) */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;
static int iter = 20000, dirfd_ = -1;
static sem_t empty; /* never posted: sem_trywait fails with EAGAIN */
static atomic_int started, finished;

/* Each failing call returns -1 (0 for strtol) and sets the errno named beside it: from the
 * runtime's WASI calls, from libc itself, and from the pthread layer. */
enum { BADF, ISDIR, SPIPE, NOENT, RANGE, AGAIN, KINDS };
static const char *const kind_name[KINDS] = {"EBADF", "EISDIR", "ESPIPE", "ENOENT", "ERANGE", "EAGAIN"};
static const int kind_errno[KINDS] = {EBADF, EISDIR, ESPIPE, ENOENT, ERANGE, EAGAIN};

static int fail_once(int kind, const char *missing) {
  char c;
  switch (kind) {
  case BADF: return read(1000, &c, 1) == -1;            /* fd_read of an fd never opened */
  case ISDIR: return read(dirfd_, &c, 1) == -1;         /* fd_read of a directory */
  case SPIPE: return pread(1, &c, 1, 0) == -1;          /* a positioned read of stdout */
  case NOENT: return open(missing, O_RDONLY) == -1;     /* path_open of a missing file */
  case RANGE: return strtol("99999999999999999999999", NULL, 10) == LONG_MAX; /* libc alone */
  case AGAIN: return sem_trywait(&empty) == -1;         /* the pthread layer */
  }
  return 0;
}

static void *fails(int kind) {
  int want = kind_errno[kind];
  char missing[256];
  snprintf(missing, sizeof missing, "%s/missing-%d", dir, kind);
  for (int i = 0; i < iter; i++) {
    errno = 0;
    if (!fail_once(kind, missing)) {
      printf("%s thread: call %d did not fail\n", kind_name[kind], i);
      return (void *)1;
    }
    int now = errno;
    sched_yield();
    int later = errno;
    if (now != want || later != want) {
      printf("%s thread: call %d: errno %d (%s) right after, %d (%s) after a yield\n", kind_name[kind], i, now,
             strerror(now), later, strerror(later));
      return (void *)1;
    }
  }
  return NULL;
}

static void *worker(void *arg) {
  atomic_fetch_add(&started, 1);
  while (atomic_load(&started) < KINDS) sched_yield(); /* all fail at once */
  void *r = fails((int)(long)arg);
  atomic_fetch_add(&finished, 1);
  return r;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: errno_tls DIR [ITER]\n");
    return 2;
  }
  dir = argv[1];
  if (argc > 2) iter = atoi(argv[2]);
  char path[256];
  snprintf(path, sizeof path, "%s/f", dir);
  if ((dirfd_ = open(dir, O_RDONLY | O_DIRECTORY)) < 0 || sem_init(&empty, 0, 0) != 0) {
    perror(dir);
    return 2;
  }
  /* The main thread's own failure: a file opened as a directory. */
  if (open(path, O_RDONLY | O_DIRECTORY) != -1 || errno != ENOTDIR) {
    printf("main: open(%s, O_DIRECTORY): errno %d, not ENOTDIR\n", path, errno);
    return 2;
  }
  pthread_t t[KINDS];
  for (long k = 0; k < KINDS; k++) {
    int e = pthread_create(&t[k], NULL, worker, (void *)k);
    if (e) {
      printf("pthread_create: %s\n", strerror(e));
      return 2;
    }
  }
  /* While the workers fail, main's errno stays ENOTDIR. */
  int bad = 0;
  while (atomic_load(&finished) < KINDS) {
    if (errno != ENOTDIR && !bad) {
      printf("main: errno became %d (%s) while the workers ran\n", errno, strerror(errno));
      bad = 1;
    }
    sched_yield();
  }
  for (int k = 0; k < KINDS; k++) {
    void *r;
    pthread_join(t[k], &r);
    bad |= r != NULL;
  }
  if (bad) return 1;
  printf("%d threads x %d failing calls: each saw its own errno; main kept ENOTDIR\n", KINDS, iter);
  return 0;
}
