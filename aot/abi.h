/* aot/abi.h — the one contract between code compiled by kiln-aot and every runtime
 * (the kernel, the hosted runtime, the spec harness).
 *
 * Freestanding C11: this header needs only <stdint.h> and <stddef.h>.
 *
 * 1. Calling convention
 *    Every compiled function takes the instance context first:
 *        R f(kiln_instance *ctx, P1, P2, ...)
 *    Value types map to C as: i32 -> int32_t, i64 -> int64_t, f32 -> float, f64 -> double,
 *    funcref -> kiln_funcref *, externref -> void *, v128 -> 16-byte vector (<2 x i64>).
 *    A v128 crosses to and from C as any 16-byte vector type does in the SysV x86-64 ABI
 *    (__m128i, or `int32_t __attribute__((vector_size(16)))`): in one XMM register, lane 0 in
 *    the low bytes (Wasm's little-endian lane order). In a kiln_val (trampolines, global
 *    cells) it is the 16 bytes in memory order, 8-aligned only: generated code accesses
 *    those slots with 8-byte alignment.
 *    A function with no result returns void; with one result returns it; with two or more
 *    results returns an LLVM first-class struct {R1, R2, ...} (only compiled code and
 *    trampolines ever see that form; C runtimes call such functions through a trampoline).
 *
 *    Tail calls. In a module that uses return_call or return_call_indirect, every defined
 *    function is compiled with LLVM's `tailcc` convention (callee pops its stack arguments),
 *    and each return_call* is a `musttail` call, so unbounded mutual tail recursion, also
 *    between different signatures, runs in constant stack. Such a function with two or more
 *    results takes, after ctx, a pointer where it stores them as the struct {R1, R2, ...}
 *    (a struct that large cannot be returned in registers by a tail call) and returns void.
 *    That entry is kiln_func.tail_fn. kiln_func.fn (and so kiln_funcref.fn, ctx->funcs[],
 *    tables, trampolines, exports, start, imports from other instances) stays the C entry
 *    above: a small wrapper that calls tail_fn. Host calls therefore see no change. In a
 *    module without tail calls, functions are C functions as before and tail_fn is NULL.
 *    A return_call* whose callee has no tail_fn (a host function, a function of a module
 *    without tail calls) is an ordinary call followed by return: such a callee never tail
 *    calls back, so the stack stays bounded.
 *
 * 2. Imports
 *    Calls to imported functions go through ctx->funcs[i] ({fn, ctx}), filled by the runtime at
 *    instantiation. For a host function, .ctx is the *importing* instance (so WASI sees the
 *    caller's memory); for a function exported by another Wasm instance it is that instance.
 *    The descriptor also names, for each function import, a weak undefined symbol whose name
 *    is the mangling below; a runtime that links host functions statically (the kernel)
 *    finds the implementation there. A NULL symbol means "not linked".
 *
 *    Mangling of function import (module M, field F, type T):
 *        <M>__<F>__<params>_<results>
 *    M and F keep bytes [A-Za-z0-9_]; any other byte becomes _xHH (two lower-case hex
 *    digits). Type letters: i=i32 I=i64 f=f32 F=f64 v=v128 r=funcref x=externref.
 *    Example: wasi_snapshot_preview1.fd_write (i32,i32,i32,i32)->i32
 *        => wasi_snapshot_preview1__fd_write__iiii_i
 *    The type is part of the name, so a host implementation of the wrong type never links,
 *    and preview1 sock_accept (iii_i) and WasmEdge sock_accept (ii_i) coexist.
 *    KILN_IMPORT(wasi_snapshot_preview1, fd_write, iiii_i) spells such a name in C.
 *
 * 3. Memory
 *    Memory 0 is reached through ctx->mem0, the base of a reserved region of
 *    KILN_MEM_RESERVE bytes: any i32 address plus any u32 offset plus the access size stays
 *    inside it, so generated code does no bounds checks; pages past the current size are
 *    unmapped (or PROT_NONE) and a fault there is the trap KILN_TRAP_MEMORY_OOB. The base
 *    never moves. Compiled memory.grow never takes a memory to 65536 pages (it returns -1, as
 *    the spec allows a grow to fail), so a memory ends at most 64 KiB below 4 GiB: the compiler
 *    relies on this to compute `x + C` addresses in 64 bits without wrap-around (aot/opt_address.c).
 *    With `kiln-aot --bounds-checks` the code instead compares against
 *    ctx->memories[0]->bytes (for targets without an MMU).
 *    Multi-memory: every memory k has a reservation of its own, with the same guard; code
 *    reaches memory k > 0 through ctx->memories[k]->base (loaded once per function: it never
 *    moves) and checks against ctx->memories[k]->bytes; kiln_rt_memory_grow/init take the index.
 *    Memory 0 stays ctx->mem0.
 *
 *    Globals. Every global lives in a kiln_val cell; ctx->globals[g] points to the cell of
 *    global g (an imported global's belongs to the instance that defines it). The cells of
 *    the globals a module defines lie right below its context, the k-th defined one (global
 *    nimported_globals + k) at ((kiln_val *)ctx)[-1 - k]: the runtime allocates them in one
 *    block with the instance, and generated code reads and writes a defined global with one
 *    access at a constant offset from ctx.
 *
 * 4. Traps
 *    Generated code calls kiln_trap(ctx, code), which never returns. Hardware faults in the
 *    guard region are turned into the same codes by the runtime. Every function prologue
 *    (but those of small leaf functions, leaves too when the optimizer inlined all their
 *    calls: aot/limits.h) compares the stack pointer with ctx->stack_limit and traps
 *    KILN_TRAP_STACK_EXHAUSTED below it; a body inlined into another is covered by its
 *    caller's check.
 *    The C stack in linear memory (clang's shadow stack) has a bound too when the module
 *    exports two mutable i32 globals, `__stack_pointer` and `__kiln_stack_limit` (the
 *    pthread layer does, pthread/kiln-pthread.rsp: each thread sets the limit to its stack's
 *    lowest address, the main thread to wasm-ld's __stack_low): every global.set of
 *    __stack_pointer below the limit traps KILN_TRAP_STACK_EXHAUSTED. A limit of 0 (the
 *    global's initial value) checks nothing.
 *
 * 5. Exceptions (the legacy exception-handling proposal: try, catch, catch_all, delegate,
 *    throw, rethrow, tags)
 *    A tag is a runtime object, kiln_tag, one per tag an instance defines; an imported tag is
 *    the exporter's object, so identity is pointer equality. ctx->tags[i] (imports first)
 *    holds them. No native unwinding tables are used: a try is a setjmp, as in wasm2c.
 *    Each kiln_plat_call (the runtime calling into Wasm) owns one kiln_eh_state: the chain
 *    of handlers installed by try blocks running below it, and the exception in flight.
 *    A function containing try/throw/rethrow/delegate fetches that state once at entry
 *    (kiln_rt_eh_state). Entering a try body fills a kiln_eh_handler in its frame (frame
 *    and stack pointer at [0] and [2]; llvm.eh.sjlj.setjmp, called returns_twice, stores the
 *    resume address at [1]; such a function is never inlined),
 *    links it (prev = the chain head outside the try) and makes it the head; leaving the
 *    body by any path (end of body, br, return, return_call*) stores that prev back.
 *    kiln_rt_throw copies tag and values into state->exn, unlinks the head handler and
 *    __builtin_longjmp()s to it; the landing code compares exn.tag with each catch clause's
 *    tag, and when none matches throws the same exception to the next handler
 *    (kiln_rt_rethrow). delegate L sets the head to the handler of label L, or to the one
 *    outside the function, and rethrows. rethrow copies the exception a catch clause
 *    caught to a buffer in its frame at the catch, and throws that copy.
 *    - Locals of such functions are accessed with volatile loads and stores: a value written
 *      in a try body must be seen by the landing code, which LLVM reaches only from the
 *      setjmp. Functions without exception instructions compile exactly as before.
 *    - The chain is per kiln_plat_call, so a throw never crosses a host frame: with no
 *      handler left below the innermost kiln_plat_call, the throw is the trap
 *      KILN_TRAP_UNCAUGHT_EXCEPTION ("uncaught exception"), as for an exception escaping
 *      _start or any export the host calls. A Wasm->host->Wasm call thus turns an
 *      exception of the inner call into a trap of the inner call, which the host function
 *      sees as a failed call (as it sees any trap).
 *    - Traps are not exceptions: they unwind to kiln_plat_call directly (kiln_plat_unwind),
 *      skipping every handler, and the chain dies with that call.
 *    - Wasm->Wasm calls between instances are plain calls: exceptions cross them.
 *    - return_call* discards the caller's frame, handlers included (the proposals' tests
 *      say an exception from the callee is not caught there): the chain head is restored to
 *      the one outside the function before the call, also when it is compiled as call+return.
 *    - A tag has at most KILN_EXN_MAX_VALUES parameters (kiln-aot refuses more).
 *
 * 6. Runtime services called by generated code: the kiln_rt_* functions declared below. Each
 *    checks its bounds and traps exactly as the spec says before touching anything.
 *
 * 7. The module descriptor
 *    The object defines `const kiln_module kiln_module` (or kiln_module_<name> with
 *    `kiln-aot --name <name>`), from which a runtime instantiates the module any number of
 *    times. All other symbols the object defines are local. The symbol shares its name with the
 *    typedef, so C refers to it with an asm label:
 *        extern const kiln_module app_module __asm__("kiln_module");
 *
 * 8. Threads (the threads proposal and wasi-threads)
 *    Shared memory. A memory type with the `shared` flag (binary limits flag bit 1; a shared
 *    memory always has a maximum) is described by kiln_limits.shared = 1, for a defined memory
 *    and for an import alike. An imported memory matches an export only when both are shared or
 *    both are not (and the limits match as before). A shared memory is one kiln_memory that
 *    several kiln_instance point to (ctx->memories[i], and ctx->mem0 for memory 0): its
 *    reservation never moves, so `base` (and so every instance's mem0) is fixed for its life.
 *    Its size changes under the runtime's lock (kiln_memory.lock; kiln_rt_memory_grow takes it
 *    for a shared memory): the new pages are committed first, then `bytes` and `pages` are
 *    stored with release ordering; code that reads them (memory.size, --bounds-checks) loads
 *    them atomically (acquire). A memory never shrinks, so a stale size is only ever too small.
 *
 *    Atomic instructions (0xfe prefix) are compiled to LLVM atomics, all sequentially
 *    consistent, at their natural alignment: loads, stores, read-modify-write and cmpxchg at
 *    8, 16, 32 and 64 bits (narrow results zero-extended), and atomic.fence (an LLVM fence
 *    seq_cst). They work on shared and unshared memories alike. An effective address that is
 *    not a multiple of the access size is the trap KILN_TRAP_UNALIGNED_ATOMIC ("unaligned
 *    atomic"), checked in generated code before the access; out of bounds is the usual
 *    guard-page fault ("out of bounds memory access").
 *
 *    memory.atomic.wait32/wait64 and memory.atomic.notify are calls into the runtime
 *    (kiln_rt_atomic_wait, kiln_rt_atomic_notify below) with the effective address as a u64
 *    (i32 address + offset, no wrap-around). The runtime checks, in the order of the compiled
 *    atomics: alignment (KILN_TRAP_UNALIGNED_ATOMIC), bounds (KILN_TRAP_MEMORY_OOB), then for wait a memory
 *    that is not shared is the trap KILN_TRAP_EXPECTED_SHARED ("expected shared memory");
 *    notify on an unshared memory wakes nobody and returns 0. wait returns 0 "ok" (woken by
 *    notify), 1 "not-equal" (the value was not `expected`), 2 "timed-out"; a negative timeout
 *    waits forever. notify returns the number of waiters it woke.
 *    The wait queues belong to kernel/instance.c (one table of queues keyed by memory and
 *    address for the whole runtime: the check of the value and the enqueueing happen under the
 *    queue's lock, so no notify is lost). A blocked waiter sleeps on a 32-bit word of its own
 *    through two platform hooks (kernel/instance.h): kiln_plat_wait(word, expected,
 *    deadline_ns) blocks while *word == expected (futex semantics: it may return early, the
 *    caller checks again) and kiln_plat_wake(word, n). A wake may come after its waiter has
 *    returned (notify wakes after letting the queue's lock go): it then names a word nobody, or
 *    a later wait, sleeps on, and a platform's wake only compares addresses, never reads the
 *    word. The hosted runtime implements them with Linux futexes, the kernel with its scheduler. The same two hooks make the runtime's own
 *    locks (kiln_lock: the queues, memory.grow).
 *
 *    wasi-threads. The import `wasi.thread-spawn (i32) -> i32` (mangled
 *    wasi__thread_x2dspawn__i_i) takes the app's start_arg and returns a thread id in
 *    [1, 0x1fffffff], or a negative WASI errno (as wasmtime: -EAGAIN (-6) when no thread or
 *    instance can be made, -ENOTSUP (-58) when the module cannot run threads). The runtime
 *    function kiln_thread_spawn (kernel/instance.c, shared by kernel and host) makes a new
 *    kiln_instance of the same module: every import is bound to what the parent's is (host
 *    functions see the new instance as their ctx, with the parent's `host` state: one WASI
 *    state for all threads), memories are the parent's (each must be shared: imported
 *    shared, or the defined shared memory of the first instance), while tables, globals, tags
 *    and segments are fresh, from the module's initializers; active data segments are not
 *    written again into the inherited shared memory, and the start function does not run
 *    again (the first instance did both). The export `wasi_thread_start (i32 tid, i32
 *    start_arg) -> ()` is then called on a new thread of execution that the platform makes
 *    (kiln_plat_thread_create: a pthread hosted, a kernel thread under the scheduler), with
 *    its own Wasm stack and guard. A module without that export, or whose memories are not
 *    all shared, gets -ENOTSUP. A module that imports its memory as `env.memory` (wasm-ld
 *    --import-memory, the convention of wasi-threads in wasmtime) gets one the runtime makes
 *    with the import's limits and `shared` flag (host/main.c; the kernel should do the same).
 *
 *    Ending. The instance is all its threads. A trap in any thread, or proc_exit in any
 *    thread, ends all of them: the thread's call unwinds to its kiln_plat_call as today, and
 *    the runtime then calls kiln_plat_instance_end(ctx, code), which the first caller wins
 *    (the others block forever in it): it reports the trap once ("trap: MESSAGE in FUNCTION",
 *    exit status 134) or exits with proc_exit's status, and stops every other thread. When
 *    wasi_thread_start returns, only that thread ends (its instance is freed unless the module
 *    imports a table or a global, where its functions may have been stored). When _start
 *    returns, the whole instance ends with status 0, as in wasmtime, whatever threads still
 *    run: the runtimes end _start through the same kiln_plat_instance_end.
 */
#ifndef KILN_ABI_H
#define KILN_ABI_H

#include <stddef.h>
#include <stdint.h>

#define KILN_ABI_VERSION 7 /* 2: kiln_func.tail_fn, KILN_CONST_EXPR (tail calls, extended-const);
                             3: tags and exceptions (§5: kiln_module.tags, kiln_instance.tags);
                             4: threads (§8: kiln_limits.shared, kiln_memory.shared/lock, atomics);
                             5: defined globals' cells below the context (§3, Globals);
                             6: kiln_funcref.tail_fn, kiln_instance.table0;
                             7: memory.copy/fill inline (code calls memmove/memset, no
                                kiln_rt_memory_copy/fill) */
#define KILN_PAGE_SIZE 65536ull
#define KILN_MAX_PAGES 65536ull
/* 4 GiB of addressable memory + 4 GiB of guard for any u32 offset + one page for the access size. */
#define KILN_MEM_RESERVE ((8ull << 30) + KILN_PAGE_SIZE)

#define KILN_IMPORT(module, field, sig) module##__##field##__##sig

/* Value types: the bytes of the binary format. */
enum {
  KILN_I32 = 0x7f,
  KILN_I64 = 0x7e,
  KILN_F32 = 0x7d,
  KILN_F64 = 0x7c,
  KILN_V128 = 0x7b,
  KILN_FUNCREF = 0x70,
  KILN_EXTERNREF = 0x6f,
};

/* External kinds: the bytes of the binary format. */
enum { KILN_EXTERN_FUNC = 0, KILN_EXTERN_TABLE = 1, KILN_EXTERN_MEMORY = 2, KILN_EXTERN_GLOBAL = 3, KILN_EXTERN_TAG = 4 };

/* Trap codes. kiln_trap_message() gives the spec's text for each. */
enum {
  KILN_TRAP_NONE = 0,
  KILN_TRAP_UNREACHABLE,        /* "unreachable" */
  KILN_TRAP_MEMORY_OOB,         /* "out of bounds memory access" */
  KILN_TRAP_DIV_ZERO,           /* "integer divide by zero" */
  KILN_TRAP_INT_OVERFLOW,       /* "integer overflow" */
  KILN_TRAP_INVALID_CONVERSION, /* "invalid conversion to integer" */
  KILN_TRAP_UNDEFINED_ELEMENT,  /* "undefined element" (call_indirect index >= table size) */
  KILN_TRAP_UNINITIALIZED,      /* "uninitialized element" (call_indirect of null) */
  KILN_TRAP_INDIRECT_MISMATCH,  /* "indirect call type mismatch" */
  KILN_TRAP_TABLE_OOB,          /* "out of bounds table access" */
  KILN_TRAP_STACK_EXHAUSTED,    /* "call stack exhausted" */
  KILN_TRAP_NULL_REFERENCE,     /* "null reference" (reserved for typed function references) */
  KILN_TRAP_EXIT,               /* not a trap: proc_exit unwinding the instance */
  KILN_TRAP_UNCAUGHT_EXCEPTION, /* "uncaught exception" (§5) */
  KILN_TRAP_UNALIGNED_ATOMIC,   /* "unaligned atomic" (§8) */
  KILN_TRAP_EXPECTED_SHARED,    /* "expected shared memory" (§8: wait on an unshared memory) */
  KILN_TRAP_COUNT
};

static inline const char *kiln_trap_message(unsigned code) {
  static const char *const msg[KILN_TRAP_COUNT] = {
      "no trap",
      "unreachable",
      "out of bounds memory access",
      "integer divide by zero",
      "integer overflow",
      "invalid conversion to integer",
      "undefined element",
      "uninitialized element",
      "indirect call type mismatch",
      "out of bounds table access",
      "call stack exhausted",
      "null reference",
      "exit",
      "uncaught exception",
      "unaligned atomic",
      "expected shared memory",
  };
  return code < KILN_TRAP_COUNT ? msg[code] : "unknown trap";
}

typedef struct kiln_instance kiln_instance;

/* A value as runtimes and trampolines see it. */
typedef union kiln_val {
  int32_t i32;
  int64_t i64;
  float f32;
  double f64;
  void *ref; /* funcref (kiln_funcref *) or externref; NULL is ref.null */
  uint8_t v128[16];
} kiln_val;

/* A name from the binary: UTF-8 bytes, also NUL-terminated for convenience (len excludes it). */
typedef struct kiln_name {
  const char *s;
  uint32_t len;
} kiln_name;

typedef struct kiln_functype {
  uint32_t nparams, nresults;
  const uint8_t *types; /* nparams param types then nresults result types */
  uint64_t hash;        /* FNV-1a 64 of the types as encoded below; equal types <=> equal hash */
} kiln_functype;
/* The hash is FNV-1a 64 over [nparams as u32 LE][param type bytes][nresults as u32 LE][result type bytes]. */
static inline uint64_t kiln_functype_hash(uint32_t np, const uint8_t *p, uint32_t nr, const uint8_t *r) {
  uint64_t h = 0xcbf29ce484222325ull;
#define KILN_FNV_(b) (h = (h ^ (uint8_t)(b)) * 0x100000001b3ull)
  for (int k = 0; k < 4; k++) KILN_FNV_(np >> (8 * k));
  for (uint32_t k = 0; k < np; k++) KILN_FNV_(p[k]);
  for (int k = 0; k < 4; k++) KILN_FNV_(nr >> (8 * k));
  for (uint32_t k = 0; k < nr; k++) KILN_FNV_(r[k]);
#undef KILN_FNV_
  return h;
}

/* A trampoline calls native function fn (of one function type) with ctx and the parameters
 * read from vals[0..nparams), and writes its results to vals[0..nresults). kiln-aot emits one
 * per function type used by any function, import or export of the module. */
typedef void (*kiln_tramp_fn)(void *fn, kiln_instance *ctx, kiln_val *vals);

typedef struct kiln_func {
  void *fn;            /* native code; NULL for an import */
  kiln_tramp_fn tramp; /* trampoline for this function's type */
  const kiln_functype *type;
  kiln_name name; /* from the name section; s == NULL when absent */
  void *tail_fn;  /* the tailcc entry (§1 Tail calls), or NULL */
} kiln_func;

/* A function reference: what ref.func yields, tables hold and call_indirect calls. */
typedef struct kiln_funcref {
  void *fn;
  kiln_instance *ctx;
  uint64_t type_hash;
  const kiln_func *func; /* descriptor of the function (for its type, trampoline and name) */
  void *tail_fn;         /* func->tail_fn for a Wasm function, NULL for a host function: the
                            return_call_indirect path (§1) loads it from here, one load nearer */
} kiln_funcref;

typedef struct kiln_limits {
  uint64_t min, max;
  uint8_t has_max;
  uint8_t shared; /* memories only (§8) */
} kiln_limits;

/* A constant expression (globals, segment offsets, element items). A Wasm 2.0 expression is
 * one instruction, one kiln_const_expr. With extended-const (i32/i64 add, sub, mul) it is
 * KILN_CONST_EXPR: index = the number of items, value.ref = the items (const kiln_const_expr *)
 * in postfix order. VALUE and GLOBAL_GET items push their value; ADD, SUB and MUL pop two
 * values of their `type` (KILN_I32 or KILN_I64) and push the wrapped result. kiln-aot
 * validates the items: the stack never underflows, ends with one value of the expression's
 * type and is never deeper than KILN_CONST_STACK. */
enum {
  KILN_CONST_VALUE = 0,
  KILN_CONST_GLOBAL_GET = 1,
  KILN_CONST_REF_FUNC = 2,
  KILN_CONST_REF_NULL = 3,
  KILN_CONST_EXPR = 4,
  KILN_CONST_ADD = 5,
  KILN_CONST_SUB = 6,
  KILN_CONST_MUL = 7,
};
#define KILN_CONST_STACK 64
typedef struct kiln_const_expr {
  uint8_t kind;   /* KILN_CONST_* */
  uint8_t type;   /* value type of the result */
  uint32_t index; /* global index (GLOBAL_GET), function index (REF_FUNC), item count (EXPR) */
  kiln_val value; /* KILN_CONST_VALUE; items (EXPR) */
} kiln_const_expr;

typedef struct kiln_import {
  kiln_name module, field;
  uint8_t kind;   /* KILN_EXTERN_* */
  uint32_t index; /* index within its own space (funcs, tables, memories, globals) */
  void *symbol;   /* functions: the weak mangled symbol, NULL when not linked; else NULL */
  const char *symbol_name; /* functions: the mangled name; else NULL */
} kiln_import;

typedef struct kiln_table_desc {
  uint8_t elemtype; /* KILN_FUNCREF or KILN_EXTERNREF */
  kiln_limits limits;
  int32_t import; /* index into imports, or -1 when defined here */
} kiln_table_desc;

typedef struct kiln_memory_desc {
  kiln_limits limits; /* in pages */
  int32_t import;
} kiln_memory_desc;

typedef struct kiln_global_desc {
  uint8_t type;
  uint8_t mut;
  kiln_const_expr init; /* ignored for imports */
  int32_t import;
} kiln_global_desc;

typedef struct kiln_export {
  kiln_name name;
  uint8_t kind;
  uint32_t index;
} kiln_export;

enum { KILN_SEG_ACTIVE = 0, KILN_SEG_PASSIVE = 1, KILN_SEG_DECLARATIVE = 2 };

typedef struct kiln_data_desc {
  uint8_t mode;
  uint32_t memory;
  kiln_const_expr offset;
  const uint8_t *bytes;
  uint32_t len;
} kiln_data_desc;

typedef struct kiln_elem_desc {
  uint8_t mode;
  uint8_t elemtype;
  uint32_t table;
  kiln_const_expr offset;
  uint32_t count;
  const kiln_const_expr *items; /* REF_FUNC, REF_NULL or GLOBAL_GET each */
} kiln_elem_desc;

/* A tag (§5): the type of its parameters; results are always none. */
typedef struct kiln_tag_desc {
  uint32_t type; /* index into kiln_module.types */
  int32_t import;
} kiln_tag_desc;

typedef struct kiln_module {
  uint32_t abi_version; /* KILN_ABI_VERSION */
  kiln_name name;       /* module name from the name section, if any */
  uint32_t ntypes;
  const kiln_functype *types;
  uint32_t nimports;
  const kiln_import *imports;
  uint32_t nfuncs, nimported_funcs; /* imports come first in every index space */
  const kiln_func *funcs;
  uint32_t ntables, nimported_tables;
  const kiln_table_desc *tables;
  uint32_t nmemories, nimported_memories;
  const kiln_memory_desc *memories;
  uint32_t nglobals, nimported_globals;
  const kiln_global_desc *globals;
  uint32_t nexports;
  const kiln_export *exports;
  uint32_t ndata;
  const kiln_data_desc *data;
  uint32_t nelems;
  const kiln_elem_desc *elems;
  int32_t start; /* function index, or -1 */
  uint32_t ntags, nimported_tags;
  const kiln_tag_desc *tags;
} kiln_module;

/* Runtime objects. Memories, tables and globals may be shared between instances (imports),
 * so an instance points to them. */
typedef struct kiln_memory {
  uint8_t *base;      /* start of the KILN_MEM_RESERVE region; never moves */
  uint64_t pages;     /* current size in pages */
  uint64_t bytes;     /* pages * KILN_PAGE_SIZE */
  uint64_t max_pages; /* limit from the type (KILN_MAX_PAGES when none) and the runtime */
  uint8_t shared;     /* §8: pages and bytes change under lock, read atomically */
  uint32_t lock;      /* §8: the runtime's lock for memory.grow of a shared memory */
} kiln_memory;

typedef struct kiln_table {
  void **elems; /* kiln_funcref * or externref; may move on table.grow */
  uint32_t size;
  uint32_t max;
  uint8_t elemtype;
} kiln_table;

/* A tag at run time (§5): its address is its identity. */
typedef struct kiln_tag {
  const kiln_functype *type;
} kiln_tag;

/* Exceptions (§5). Generated code reads and writes the fields marked [gen] at these offsets. */
#define KILN_EXN_MAX_VALUES 64
typedef struct kiln_exn {
  const kiln_tag *tag; /*  0 [gen] */
  uint32_t n;
  kiln_val vals[KILN_EXN_MAX_VALUES]; /* 16 [gen] the tag's parameters in order */
} kiln_exn;
typedef struct kiln_eh_handler {
  void *jb[5];                  /*  0 [gen] llvm.eh.sjlj.setjmp buffer: fp, resume pc, sp */
  struct kiln_eh_handler *prev; /* 40 [gen] the chain head outside this try */
} kiln_eh_handler;
typedef struct kiln_eh_state {
  kiln_eh_handler *head; /* 0 [gen] innermost installed handler, NULL: none below this call */
  kiln_exn exn;          /* 8 [gen] the exception in flight */
} kiln_eh_state;

/* The instance context. Generated code reads only the fields marked [gen], at these offsets. */
struct kiln_instance {
  uint8_t *mem0;               /*  0 [gen] base of memory 0, NULL when the module has none */
  kiln_memory **memories;      /*  8 [gen] */
  kiln_funcref *funcs;         /* 16 [gen] one per function index, imports first */
  kiln_table **tables;         /* 24 [gen] */
  kiln_val **globals;          /* 32 [gen] storage of each global; defined ones also below ctx (§3) */
  uintptr_t stack_limit;       /* 40 [gen] trap "call stack exhausted" when rsp is below */
  const kiln_module *module;   /* 48 */
  void *host;                  /* 56 runtime's own state (WASI, trap recovery, ...) */
  kiln_tag **tags;             /* 64 [gen] one per tag index, imports first */
  kiln_table *table0;          /* 72 [gen] tables[0] (NULL without tables): call_indirect's table
                                  is one load from ctx; the struct never moves, its elems may */
};

/* Services generated code calls. Provided once, portably, by kernel/instance.c. */
_Noreturn void kiln_trap(kiln_instance *ctx, uint32_t code);
int32_t kiln_rt_memory_grow(kiln_instance *ctx, uint32_t mem, uint32_t delta_pages); /* old size or -1 */
void kiln_rt_memory_init(kiln_instance *ctx, uint32_t mem, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n);
void kiln_rt_data_drop(kiln_instance *ctx, uint32_t seg);
void *kiln_rt_table_get(kiln_instance *ctx, uint32_t table, uint32_t i);
void kiln_rt_table_set(kiln_instance *ctx, uint32_t table, uint32_t i, void *ref);
int32_t kiln_rt_table_grow(kiln_instance *ctx, uint32_t table, void *init, uint32_t delta); /* old or -1 */
void kiln_rt_table_fill(kiln_instance *ctx, uint32_t table, uint32_t i, void *ref, uint32_t n);
void kiln_rt_table_copy(kiln_instance *ctx, uint32_t dst_table, uint32_t src_table, uint32_t dst, uint32_t src,
                        uint32_t n);
void kiln_rt_table_init(kiln_instance *ctx, uint32_t table, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n);
void kiln_rt_elem_drop(kiln_instance *ctx, uint32_t seg);
/* §8: wait for the value at effective address addr of memory mem to be notified, when it
 * equals expected (width 4: the low 32 bits, or 8); timeout_ns < 0: forever.
 * 0 ok, 1 not-equal, 2 timed-out; traps on bounds, alignment and an unshared memory. */
int32_t kiln_rt_atomic_wait(kiln_instance *ctx, uint32_t mem, uint64_t addr, int64_t expected, int64_t timeout_ns,
                            uint32_t width);
/* §8: wake at most count waiters on addr; returns how many woke (0 for an unshared memory). */
int32_t kiln_rt_atomic_notify(kiln_instance *ctx, uint32_t mem, uint64_t addr, uint32_t count);
kiln_eh_state *kiln_rt_eh_state(kiln_instance *ctx); /* of the innermost kiln_plat_call */
/* Throw tag with its n values to the head handler (copies them first), or trap
 * KILN_TRAP_UNCAUGHT_EXCEPTION when there is none. */
_Noreturn void kiln_rt_throw(kiln_instance *ctx, const kiln_tag *tag, const kiln_val *vals, uint32_t n);
/* Throw a caught exception again (a copy in the frame, or &state->exn). */
_Noreturn void kiln_rt_rethrow(kiln_instance *ctx, const kiln_exn *exn);

#endif
