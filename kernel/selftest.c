/* kernel/selftest.c — faults on purpose, to check from outside (tests/kernel/run.sh) that
 * the protections hold and that a kernel fault ends in the panic status with registers:
 *   selftest=write-text   write to kernel code        -> page fault (protection), panic
 *   selftest=exec-data    jump into a data page        -> page fault (NX), panic
 *   selftest=null         read address 0               -> page fault (not mapped), panic
 *   selftest=write-rodata write to read-only data      -> page fault (protection), panic
 *   selftest=stack-guard  recurse on the Wasm stack, ignoring stack_limit, down into the
 *                         guard: demand paging of the 8 MiB, then the trap "call stack
 *                         exhausted" (status line "trap call stack exhausted in selftest")
 * No effect without the token. */
#include "kernel/instance.h"
#include "kernel/kernel.h"

static const char rodata_byte = 1;
static uint8_t data_page[16] = {0xc3}; /* ret */

static __attribute__((noinline)) uint64_t recurse(volatile uint64_t depth) {
  volatile uint8_t frame[1024];
  frame[depth % sizeof frame] = (uint8_t)depth;
  if (depth == ~0ull) return 0; /* never: the guard page stops us long before */
  return recurse(depth + 1) + frame[0];
}

static void recurse_tramp(void *fn, kiln_instance *ctx, kiln_val *vals) { vals[0].i64 = (int64_t)recurse(0); }

void selftest_run(const char *name) {
  if (!name) return;
  klog("kiln: selftest %s\n", name);
  if (!strcmp(name, "write-text")) *(volatile uint8_t *)(uintptr_t)kmain = 0xcc;
  else if (!strcmp(name, "exec-data")) ((void (*)(void))(uintptr_t)data_page)();
  else if (!strcmp(name, "null")) (void)*(volatile uint64_t *)(uintptr_t)0;
  else if (!strcmp(name, "write-rodata")) *(volatile char *)&rodata_byte = 2;
  else if (!strcmp(name, "stack-guard")) {
    static kiln_instance ctx;
    kiln_val vals[1];
    uint32_t code = kiln_plat_call(&ctx, recurse_tramp, NULL, vals);
    if (code != KILN_TRAP_NONE) kernel_exit_trap(kiln_trap_message(code), "selftest");
  } else {
    klog("kiln: unknown selftest '%s'\n", name);
    return;
  }
  panic("selftest %s did not fault", name);
}
