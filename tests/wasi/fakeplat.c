/* tests/wasi/fakeplat.c — the platform for wasi/'s unit tests: the allocator, an unwind that
 * longjmps back into the test, a console captured into buffers, real clocks. */
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tests/wasi/unit.h"

char fake_out[2][65536];
size_t fake_out_len[2];
const char *fake_in;
size_t fake_in_len;
jmp_buf fake_unwind;
uint32_t fake_unwind_code;
int fake_waits;

void *kiln_plat_alloc(size_t n) { return calloc(1, n ? n : 1); }
void kiln_plat_free(void *p) { free(p); }
_Noreturn void kiln_plat_unwind(kiln_instance *ctx, uint32_t code, void *pc) {
  fake_unwind_code = code;
  longjmp(fake_unwind, 1);
}

int64_t wasi_plat_console_write(int fd, const void *buf, size_t n) {
  int i = fd == 2;
  if (n > sizeof fake_out[i] - fake_out_len[i]) n = sizeof fake_out[i] - fake_out_len[i];
  memcpy(fake_out[i] + fake_out_len[i], buf, n);
  fake_out_len[i] += n;
  return (int64_t)n;
}

int64_t wasi_plat_console_read(void *buf, size_t n) {
  if (n > fake_in_len) n = fake_in_len;
  memcpy(buf, fake_in, n);
  fake_in += n;
  fake_in_len -= n;
  return (int64_t)n;
}

int wasi_plat_console_ready(void) { return fake_in_len > 0; }

/* What wasi_create gives fds 0..2 (the stdio tests change it before creating a state). */
uint8_t fake_stdio_type[3] = {WASI_FILETYPE_CHARACTER_DEVICE, WASI_FILETYPE_CHARACTER_DEVICE,
                              WASI_FILETYPE_CHARACTER_DEVICE};
uint8_t wasi_plat_stdio_type(int fd) { return fake_stdio_type[fd]; }

/* fake_time_warp (the fuzzer): waits do not sleep, the clocks jump to the deadline instead. */
int fake_time_warp;
static uint64_t warp;
static const clockid_t ids[4] = {CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID, CLOCK_THREAD_CPUTIME_ID};
int wasi_plat_clock_get(uint32_t id, uint64_t *ns) {
  struct timespec t;
  if (id > 3) return WASI_EINVAL;
  clock_gettime(ids[id], &t);
  uint64_t real = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec, w = id < 2 ? warp : 0;
  *ns = real + w < real ? UINT64_MAX : real + w; /* a deadline centuries away is reached, not wrapped */
  return 0;
}
int wasi_plat_clock_res(uint32_t id, uint64_t *ns) {
  struct timespec t;
  if (id > 3) return WASI_EINVAL;
  clock_getres(ids[id], &t);
  *ns = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
  return 0;
}
void wasi_plat_random(void *buf, size_t n) {
  for (size_t i = 0; i < n; i++) ((uint8_t *)buf)[i] = (uint8_t)rand();
}
void wasi_plat_wait(uint64_t deadline) {
  uint64_t now;
  fake_waits++;
  wasi_plat_clock_get(1, &now);
  if (now >= deadline) return;
  uint64_t d = deadline - now;
  if (fake_time_warp) {
    warp = warp + d < warp ? UINT64_MAX : warp + d;
    return;
  }
  if (d > 10000000) d = 10000000; /* wake early sometimes, as an interrupt would */
  struct timespec t = {0, (long)d};
  nanosleep(&t, NULL);
}
void wasi_plat_yield(void) {}
