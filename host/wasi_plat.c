/* host/wasi_plat.c — the platform side of wasi/ (wasi/wasi.h) for a Linux process: the console
 * is fds 0/1/2 of the process, clocks are clock_gettime, randomness is getrandom; waiting
 * includes the sockets (host/net_plat.c). */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host/host.h"
#include "wasi/vfs.h"
#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

static int wasi_errno(int e) {
  switch (e) {
  case EAGAIN: return WASI_EAGAIN;
  case EBADF: return WASI_EBADF;
  case EINTR: return WASI_EINTR;
  case EINVAL: return WASI_EINVAL;
  case ENOSPC: return WASI_ENOSPC;
  case EPIPE: return WASI_EPIPE;
  case EFBIG: return WASI_EFBIG;
  case EISDIR: return WASI_EISDIR;
  default: return WASI_EIO;
  }
}

int64_t wasi_plat_console_write(int fd, const void *buf, size_t n) {
  for (;;) {
    ssize_t r = write(fd, buf, n);
    if (r >= 0) return r;
    if (errno != EINTR) return -wasi_errno(errno);
  }
}

int64_t wasi_plat_console_read(void *buf, size_t n) {
  for (;;) {
    int released = host_wasi_release(); /* other threads go on while this one waits for input */
    ssize_t r = read(0, buf, n);
    int e = errno;
    host_wasi_reacquire(released);
    if (r >= 0) return r;
    if (e != EINTR) return -wasi_errno(e);
  }
}

/* What fds 0..2 really are: a terminal is a character device without seek rights (isatty),
 * a file is seekable, a pipe is UNKNOWN as wasmtime says, a socket a stream socket. A character
 * device that is not a terminal (/dev/null) must not look like one: UNKNOWN too. */
uint8_t wasi_plat_stdio_type(int fd) {
  struct stat st;
  if (isatty(fd)) return WASI_FILETYPE_CHARACTER_DEVICE;
  if (fstat(fd, &st) != 0) return WASI_FILETYPE_UNKNOWN;
  if (S_ISREG(st.st_mode)) return WASI_FILETYPE_REGULAR_FILE;
  if (S_ISSOCK(st.st_mode)) return WASI_FILETYPE_SOCKET_STREAM;
  return WASI_FILETYPE_UNKNOWN;
}

int64_t wasi_plat_stdio_seek(int fd, int64_t off, int whence) {
  static const int w[3] = {SEEK_SET, SEEK_CUR, SEEK_END};
  if (fd < 0 || fd > 2 || whence < 0 || whence > 2) return -WASI_EINVAL;
  off_t r = lseek(fd, (off_t)off, w[whence]);
  return r < 0 ? -hostfs_errno(errno) : (int64_t)r;
}

int wasi_plat_stdio_stat(int fd, struct wasi_vfs_stat *out) {
  struct stat st;
  if (fd < 0 || fd > 2 || fstat(fd, &st) != 0) return WASI_EBADF;
  hostfs_stat_fill(&st, out);
  return 0;
}

int wasi_plat_console_ready(void) {
  struct pollfd p = {.fd = 0, .events = POLLIN};
  return poll(&p, 1, 0) > 0;
}

static const clockid_t clocks[4] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};

int wasi_plat_clock_get(uint32_t id, uint64_t *ns) {
  struct timespec t;
  if (id > 3 || clock_gettime(clocks[id], &t) != 0) return WASI_EINVAL;
  *ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
  return 0;
}

int wasi_plat_clock_res(uint32_t id, uint64_t *ns) {
  struct timespec t;
  if (id > 3 || clock_getres(clocks[id], &t) != 0) return WASI_EINVAL;
  *ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
  return 0;
}

void wasi_plat_random(void *buf, size_t n) {
  uint8_t *p = buf;
  while (n) {
    ssize_t r = getrandom(p, n, 0);
    if (r < 0) {
      if (errno == EINTR) continue;
      /* no getrandom (very old kernel): the best we have is the clock, never fail */
      uint64_t t = 0;
      wasi_plat_clock_get(1, &t);
      for (; n; n--, t = t * 6364136223846793005ull + 1442695040888963407ull) *p++ = (uint8_t)(t >> 56);
      return;
    }
    p += r, n -= (size_t)r;
  }
}

/* Sleep towards the deadline, but wake when stdin becomes readable or a socket the guest
 * polls changes (host/net_plat.c). At most 1 s at a time: poll_oneoff re-checks everything
 * after each wait, so a missed wake-up costs at most that. */
void wasi_plat_wait(uint64_t deadline_ns) {
  uint64_t now;
  if (wasi_plat_clock_get(1, &now) != 0 || now >= deadline_ns) return;
  uint64_t slice = now + 1000000000ull;
  /* stdin already readable would make poll return at once: leave it out then */
  net_plat_wait(deadline_ns < slice ? deadline_ns : slice, !wasi_plat_console_ready());
}

/* Called without the WASI lock (wasi/wasi_locked.h's WASI_UNLOCKED_LIST). */
void wasi_plat_yield(void) { sched_yield(); }
