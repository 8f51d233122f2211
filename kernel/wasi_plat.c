/* kernel/wasi_plat.c — the kernel side of the WASI platform interface (wasi/wasi.h):
 * console (kernel/console.c), clocks from the TSC and RTC, random bytes from RDSEED/RDRAND or the
 * ChaCha20 generator, waiting by hlt. Network code hooks into waiting and yielding through
 * kernel_poll_register(). */
#include "kernel/kernel.h"
#include "kernel/lifecycle.h"
#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

static struct {
  int (*fn)(void *);
  void *arg;
} polls[4];

int kernel_poll_register(int (*fn)(void *), void *arg) {
  for (size_t i = 0; i < ARRAY_LEN(polls); i++) {
    if (polls[i].fn) continue;
    polls[i].arg = arg;
    polls[i].fn = fn;
    return 0;
  }
  return -1;
}

/* Returns how much work the hooks did (e.g. frames received): 0 means nothing changed. */
static int run_polls(void) {
  int n = 0;
  for (size_t i = 0; i < ARRAY_LEN(polls) && polls[i].fn; i++) n += polls[i].fn(polls[i].arg);
  return n;
}

int64_t wasi_plat_console_write(int fd, const void *buf, size_t n) {
  console_write(fd, buf, n);
  return (int64_t)n;
}

/* Blocks until at least one byte or the end of input (0), as read(2) on a pipe or terminal
 * does: hlt until the UART's interrupt (or another event: the network keeps being served). */
int64_t wasi_plat_console_read(void *buf, size_t n) {
  if (!n) return 0;
  for (;;) {
    life_restart_point();
    uint64_t seen = kernel_events();
    int64_t r = console_read(buf, n);
    if (r != 0) return r < 0 ? 0 : r;
    if (run_polls()) continue;
    kernel_idle_until(UINT64_MAX, seen);
  }
}

int wasi_plat_console_ready(void) { return console_read_ready(); }

/* What the app's fd 0..2 are: a terminal where the host's own fd is one (programs decide on
 * isatty() whether to prompt or colour), else a stream of unknown type (as wasmtime reports
 * a pipe); neither can seek. */
uint8_t wasi_plat_stdio_type(int fd) {
  return console_isatty(fd) ? WASI_FILETYPE_CHARACTER_DEVICE : WASI_FILETYPE_UNKNOWN;
}

int wasi_plat_clock_get(uint32_t id, uint64_t *ns) {
  switch (id) {
  case WASI_CLOCK_REALTIME:
    *ns = time_realtime_ns();
    return 0;
  case WASI_CLOCK_MONOTONIC:
  case WASI_CLOCK_PROCESS_CPUTIME: /* one core, one instance: CPU time ~ time since boot */
  case WASI_CLOCK_THREAD_CPUTIME:
    *ns = time_ns();
    return 0;
  }
  return WASI_EINVAL;
}

int wasi_plat_clock_res(uint32_t id, uint64_t *ns) {
  if (id > WASI_CLOCK_THREAD_CPUTIME) return WASI_EINVAL;
  *ns = time_tsc_hz() ? 1 : 1000000000ull / TIMER_HZ;
  return 0;
}

void wasi_plat_random(void *buf, size_t n) { random_bytes(buf, n); }

/* The caller (poll_oneoff) found nothing ready. If the hooks find work, it looks again at
 * once; otherwise it halts until an interrupt or its deadline (a one-shot timer interrupt,
 * however near the deadline is: no spinning). */
/* The interrupt count when the last wait returned. poll_oneoff checks its subscriptions, then
 * waits; an interrupt during the checks may make one it already passed ready (the network
 * runs from interrupts between two sockets' checks), and must end the wait at once rather
 * than be slept through until the next interrupt or deadline. */
/* Kept per thread (struct thread's wait_seen). */
void wasi_plat_wait(uint64_t deadline_ns) {
  life_restart_point(); /* a policy restart stops a waiting instance here */
  if (life_next_ns() < deadline_ns) deadline_ns = life_next_ns();
  struct thread *t = sched_current();
  uint64_t seen = t->wait_seen;
  if (!run_polls()) kernel_idle_until(deadline_ns, seen);
  run_polls();
  t->wait_seen = kernel_events();
}

/* sched_yield: the network's work, then the other ready threads. */
void wasi_plat_yield(void) {
  run_polls();
  sched_yield_cpu();
}
