/* kernel/call.c — kiln_plat_call/kiln_plat_unwind of kernel/instance.h. Wasm code runs on
 * the thread's Wasm stack (kernel/vm.c: 8 MiB, mapped on demand, unmapped guard below); a nested call
 * (Wasm -> kernel -> Wasm) stays on it. ctx->stack_limit sits STACK_MARGIN above the guard so
 * the prologue check of generated code fires first, leaving WASI calls made near the limit
 * room to run. Unwinding (a trap, a fault turned into a trap, proc_exit) longjmps to the
 * innermost call. */
#include "kernel/instance.h"
#include "kernel/kernel.h"

#define STACK_MARGIN (64u << 10)

struct call_frame {
  struct kjmp jb;
  kiln_instance *ctx;
  struct call_frame *prev;
  kiln_eh_state eh; /* exceptions thrown below this call (aot/abi.h §5) */
};

/* Each thread has its own chain and Wasm stack (kernel/sched.c). */
kiln_instance *call_current(void) {
  struct thread *t = this_cpu()->current;
  return t && t->call ? t->call->ctx : NULL;
}

void *call_last_trap_pc(void) { return sched_current()->trap_pc; }

uint32_t kiln_plat_call(kiln_instance *ctx, kiln_tramp_fn tramp, void *fn, kiln_val *vals) {
  struct call_frame f;
  struct thread *t = sched_current();
  uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
  int nested = sp >= t->wasm_lo && sp < t->wasm_hi;
  uintptr_t saved_limit = ctx->stack_limit;
  f.ctx = ctx;
  f.prev = t->call;
  f.eh.head = NULL; /* no handler: a throw below finds none past this call */
  ctx->stack_limit = t->wasm_lo + STACK_MARGIN;
  t->call = &f;
  uint32_t code = (uint32_t)kjmp_set(&f.jb);
  if (code == 0) {
    call_on_stack((void *)tramp, fn, ctx, vals, nested ? 0 : t->wasm_hi);
    code = KILN_TRAP_NONE;
  }
  t = sched_current(); /* the same thread, perhaps on another CPU now */
  t->call = f.prev;
  ctx->stack_limit = saved_limit;
  return code;
}

static _Noreturn void unwind(uint32_t code, void *pc) {
  struct thread *t = sched_current();
  if (!t->call) panic("trap '%s' outside any Wasm call (pc %p)", kiln_trap_message(code), pc);
  t->trap_pc = pc;
  kjmp_long(&t->call->jb, code ? (int)code : KILN_TRAP_UNREACHABLE);
}

kiln_eh_state *kiln_plat_eh_state(void) {
  struct thread *t = sched_current();
  if (!t->call) panic("exception state asked for outside any Wasm call");
  return &t->call->eh;
}

/* pc is a return address here (after a call to kiln_trap, which may be the last instruction
 * of its function): one byte back is inside the call, so the report names the right function. */
_Noreturn void kiln_plat_unwind(kiln_instance *ctx, uint32_t code, void *pc) { unwind(code, (char *)pc - 1); }

/* A fault's pc is the faulting instruction itself. */
_Noreturn void call_unwind_fault(uint32_t code, void *pc) { unwind(code, pc); }
