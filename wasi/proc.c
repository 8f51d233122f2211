/* wasi/proc.c — clocks, randomness and the process: clock_res_get, clock_time_get,
 * random_get, sched_yield, proc_exit, proc_raise. */
#include "wasi/wasi_int.h"

int32_t WASI_FN(clock_res_get, ii_i)(kiln_instance *ctx, int32_t id, int32_t pres) {
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)pres, 8);
  if (!out) return WASI_EFAULT;
  uint64_t r;
  int e = wasi_plat_clock_res((uint32_t)id, &r);
  if (e) return e;
  wasi_st64(out, r);
  return 0;
}

/* precision is a hint only: every read is as precise as the source allows. */
int32_t WASI_FN(clock_time_get, iIi_i)(kiln_instance *ctx, int32_t id, int64_t precision, int32_t ptime) {
  uint8_t *out = wasi_guest_ptr(ctx, (uint32_t)ptime, 8);
  if (!out) return WASI_EFAULT;
  uint64_t t;
  int e = wasi_plat_clock_get((uint32_t)id, &t);
  if (e) return e;
  wasi_st64(out, t);
  return 0;
}

int32_t WASI_FN(random_get, ii_i)(kiln_instance *ctx, int32_t buf, int32_t len) {
  uint8_t *p = wasi_guest_ptr(ctx, (uint32_t)buf, (uint32_t)len);
  if (!p) return WASI_EFAULT;
  if (len) wasi_plat_random(p, (uint32_t)len);
  return 0;
}

int32_t WASI_FN(sched_yield, _i)(kiln_instance *ctx) {
  wasi_plat_yield();
  return 0;
}

_Noreturn void WASI_FN(proc_exit, i_)(kiln_instance *ctx, int32_t code) {
  struct wasi_state *st = WASI_STATE(ctx);
  st->exit_code = code;
  st->exited = 1;
  kiln_plat_unwind(ctx, KILN_TRAP_EXIT, 0);
}

/* There are no signal handlers in WASI, so a raised signal takes its POSIX default action: the
 * ignored ones (chld, cont, urg, winch) and the job-control stops (no job control here) return;
 * every other one ends the instance with the status a shell shows for a process killed by it,
 * 128 + its Linux number (preview1 numbers from 16 on are Linux's minus one). */
int32_t WASI_FN(proc_raise, i_i)(kiln_instance *ctx, int32_t sig) {
  enum { CHLD = 16, CONT = 17, STOP = 18, TSTP = 19, TTIN = 20, TTOU = 21, URG = 22, WINCH = 27, SYS = 30 };
  if (sig < 0 || sig > SYS) return WASI_EINVAL;
  switch (sig) {
  case 0: case CHLD: case CONT: case STOP: case TSTP: case TTIN: case TTOU: case URG: case WINCH:
    return 0;
  }
  WASI_FN(proc_exit, i_)(ctx, 128 + (sig >= CHLD ? sig + 1 : sig));
}
