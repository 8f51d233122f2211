/* kernel/instance.h — instantiating a compiled module from its descriptor (aot/abi.h), and the
 * runtime services generated code calls (kiln_rt_*, kiln_trap). Written once in portable C
 * (kernel/instance.c) and used by both the kernel and the hosted runtime; each of them
 * provides the few kiln_plat_* functions below.
 */
#ifndef KILN_INSTANCE_H
#define KILN_INSTANCE_H

#include "aot/abi.h"

/* ---- provided by the platform (kernel/ or host/) ---- */

void *kiln_plat_alloc(size_t n); /* zeroed; NULL when out of memory */
void kiln_plat_free(void *p);
/* Reserve KILN_MEM_RESERVE bytes of address space, inaccessible; set m->base. 0 or -1. */
int kiln_plat_mem_reserve(kiln_memory *m);
/* Make bytes [from, to) of m readable, writable and zero. 0 or -1 (out of memory). */
int kiln_plat_mem_commit(kiln_memory *m, uint64_t from, uint64_t to);
void kiln_plat_mem_release(kiln_memory *m);
/* Run tramp(fn, ctx, vals) so that kiln_plat_unwind() called during it (from a trap, a fault
 * in a guard region or proc_exit) returns here. Returns KILN_TRAP_NONE or the code passed
 * to kiln_plat_unwind. Also sets ctx->stack_limit for the stack the call runs on. */
uint32_t kiln_plat_call(kiln_instance *ctx, kiln_tramp_fn tramp, void *fn, kiln_val *vals);
/* Unwind to the innermost kiln_plat_call; pc is where the trap happened (for reporting). */
_Noreturn void kiln_plat_unwind(kiln_instance *ctx, uint32_t code, void *pc);
/* The exception state (aot/abi.h §5) of the innermost kiln_plat_call: each call starts with
 * no handler, so an exception never unwinds past a host frame. */
kiln_eh_state *kiln_plat_eh_state(void);

/* Threads (aot/abi.h §8). */
/* Block while *word == expected, until kiln_plat_wake(word) or the monotonic deadline
 * (kiln_plat_now_ns; UINT64_MAX: none). May return early for any reason: callers check
 * again. */
void kiln_plat_wait(uint32_t *word, uint32_t expected, uint64_t deadline_ns);
/* Wake at most n threads blocked in kiln_plat_wait on word. */
void kiln_plat_wake(uint32_t *word, uint32_t n);
uint64_t kiln_plat_now_ns(void); /* monotonic clock */
/* Start a thread of execution running fn(arg), with its own stack for Wasm (and its guard);
 * kiln_plat_call works in it. 0, or -1 when no thread can be made. */
int kiln_plat_thread_create(void (*fn)(void *), void *arg);
/* A thread's Wasm call (wasi_thread_start) ended with a trap, or with proc_exit
 * (KILN_TRAP_EXIT): end the whole instance, all threads. The first call reports (the trap
 * and its function, from where this thread's last unwind happened, status 134; or the status
 * proc_exit gave); any later call, from another thread, blocks forever. */
_Noreturn void kiln_plat_instance_end(kiln_instance *ctx, uint32_t code);

/* ---- provided by kernel/instance.c ---- */

/* A value an import resolves to. */
typedef struct kiln_extern {
  uint8_t kind; /* KILN_EXTERN_* */
  union {
    kiln_funcref func;  /* fn, ctx (NULL: the importing instance, for host functions), type_hash, func */
    kiln_table *table;
    kiln_memory *memory;
    kiln_tag *tag;
    struct {
      kiln_val *cell;
      uint8_t type, mut;
    } global;
  } u;
} kiln_extern;

/* Resolves import `imp` of module `m`; returns 0, or -1 with a message in err ("unknown import"). */
typedef int (*kiln_resolve_fn)(void *ud, const kiln_module *m, const kiln_import *imp, kiln_extern *out, char *err,
                               size_t errlen);

/* Instantiate: resolve and type-check imports (a function import whose resolver returns
 * nothing falls back to the descriptor's linked symbol), allocate memories, tables and
 * globals, apply active segments, run the start function. On failure returns NULL with the
 * spec's wording in err: "unknown import", "incompatible import type", "out of bounds memory
 * access", "out of bounds table access", or a trap message (from start). `resolve` may be NULL. */
kiln_instance *kiln_instantiate(const kiln_module *m, kiln_resolve_fn resolve, void *ud, void *host, char *err,
                                size_t errlen);
void kiln_instance_free(kiln_instance *inst); /* frees what the instance owns */

/* wasi.thread-spawn (aot/abi.h §8): a new instance of parent's module sharing its memories,
 * running wasi_thread_start(tid, start_arg) on a new platform thread. Returns the tid
 * (1..0x1fffffff) or a negative WASI errno (-6 EAGAIN, -58 ENOTSUP). */
int32_t kiln_thread_spawn(kiln_instance *parent, uint32_t start_arg);
/* Whether the app ever asked for a thread: restart policies (kernel/lifecycle.h) then no
 * longer restart it in place, since its other threads would run on in the old instance. */
int kiln_threads_spawned(void);

/* A lock over kiln_plat_wait/wake (three states: free, held, held with waiters), for the
 * runtime's and the platforms' own shared state (queues, memory.grow, WASI). */
void kiln_lock(uint32_t *lock);
void kiln_unlock(uint32_t *lock);

/* Look up an export by name; returns 0 and fills out, or -1. */
int kiln_export_get(kiln_instance *inst, const char *name, kiln_extern *out);
/* Call a function reference with args in vals[0..nparams); results come back in vals.
 * Returns KILN_TRAP_NONE or the trap code. */
uint32_t kiln_invoke(kiln_funcref *f, kiln_val *vals);

/* The function (by name-section name when present, else "func[N]") containing code address
 * pc in instance inst; writes at most n bytes to buf. Used to report traps. */
void kiln_describe_pc(const kiln_instance *inst, const void *pc, char *buf, size_t n);
/* The trap's message; for "uncaught exception" with the tag as inst names it (export name,
 * import module.field or index): "uncaught exception (tag NAME)". */
void kiln_describe_trap(const kiln_instance *inst, uint32_t code, char *buf, size_t n);

#endif
