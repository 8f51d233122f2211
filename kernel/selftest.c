/* kernel/selftest.c — faults on purpose, to check from outside (tests/kernel/run.sh) that
 * the protections hold and that a kernel fault ends in the panic status with registers:
 *   selftest=write-text   write to kernel code        -> page fault (protection), panic
 *   selftest=exec-data    jump into a data page        -> page fault (NX), panic
 *   selftest=null         read address 0               -> page fault (not mapped), panic
 *   selftest=write-rodata write to read-only data      -> page fault (protection), panic
 * No effect without the token. */
#include "kernel/kernel.h"

static const char rodata_byte = 1;
static uint8_t data_page[16] = {0xc3}; /* ret */

void selftest_run(const char *name) {
  if (!name) return;
  kprintf("kiln: selftest %s\n", name);
  if (!strcmp(name, "write-text")) *(volatile uint8_t *)(uintptr_t)kmain = 0xcc;
  else if (!strcmp(name, "exec-data")) ((void (*)(void))(uintptr_t)data_page)();
  else if (!strcmp(name, "null")) (void)*(volatile uint64_t *)(uintptr_t)0;
  else if (!strcmp(name, "write-rodata")) *(volatile char *)&rodata_byte = 2;
  else {
    kprintf("kiln: unknown selftest '%s'\n", name);
    return;
  }
  panic("selftest %s did not fault", name);
}
