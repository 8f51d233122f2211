/* aot/limits.h — the implementation limits kiln-aot enforces: the ones browsers (V8's
 * wasm-limits.h, SpiderMonkey) and wasmtime apply, so a module any of them accepts is
 * accepted here too. A module past one is refused with
 *     FILE:0xOFFSET: WHAT: N exceeds the limit of LIMIT
 * before anything is allocated by that count. Below them compile time and memory grow
 * roughly linearly with the module's size (tests/aot/hostile.py, README "Limits"), and the
 * peak memory of kiln-aot and its linker stays within 1 GiB with 2 threads (measured: a million
 * functions at -O0 0.86 GiB, 1M globals 0.97 GiB; each more thread adds at most one chunk,
 * about 0.25 GiB), except for a single function body of more than about 2.5 MB: one body is
 * never split, and costs about 0.4 KB per byte of branches at any -O level (README "Limits"). */
#ifndef KILN_AOT_LIMITS_H
#define KILN_AOT_LIMITS_H

#define LIMIT_TYPES 1000000u         /* entries of the type section */
#define LIMIT_FUNCS 1000000u         /* functions, imported ones included */
#define LIMIT_GLOBALS 1000000u       /* globals, imported ones included */
#define LIMIT_IMPORTS 100000u
#define LIMIT_EXPORTS 100000u
#define LIMIT_DATA_SEGMENTS 100000u
#define LIMIT_ELEM_SEGMENTS 10000000u /* V8's limit on table initializers */
#define LIMIT_TABLES 100000u         /* tables, imported ones included */
#define LIMIT_MEMORIES 100u          /* memories, imported ones included (wasmtime's; each reserves 8 GiB) */
#define LIMIT_TABLE_ENTRIES 10000000u /* a table's initial size; a larger maximum is only a hint */
#define LIMIT_PARAMS 1000u           /* per function type */
#define LIMIT_RESULTS 1000u          /* per function type */
#define LIMIT_TAGS 1000000u          /* tags, imported ones included */
#define LIMIT_LOCALS 50000u          /* per function, params included */
#define LIMIT_BODY_SIZE 7654321u     /* bytes of one function body */

/* Leaf functions (no call) skip the stack-limit check in their prologue; that is sound
 * only while their frame is small against the margin the runtimes keep below
 * stack_limit (64 KiB in the kernel). Frames are probed page by page in any case. */
#define LEAF_LOCAL_BYTES 1024u       /* a leaf with more bytes of locals is checked */
#define LEAF_BODY_SIZE 4096u         /* a leaf with a longer body is checked (-O0 spills) */
/* A function whose calls the -O pipeline inlined away is a leaf too when it is this small
 * (LLVM instructions; each at most one 16-byte spill slot) with no more LEAF_LOCAL_BYTES of
 * allocas: insert_stack_checks skips it. */
#define LEAF_OPT_INSTRUCTIONS 1024u

/* At -O1 and above, a function past one of these (counted after SROA) is compiled without
 * optimisation, since LLVM's passes are superlinear in them (aot/emit.c); kiln-aot prints a
 * note naming it. */
#define OPT_MAX_INSTRUCTIONS 100000u      /* LLVM instructions of one function */
#define OPT_MAX_BLOCKS 20000u             /* basic blocks of one function */
#define OPT_MAX_BLOCK_INSTRUCTIONS 8000u  /* instructions of its largest basic block */

/* Functions are compiled in chunks of contiguous indices, each in its own LLVM context and
 * thread, freed before the next (aot/emit.c): compiler memory is bounded by the chunk, not
 * the module. A module within one chunk stays one LLVM module (cross-function inlining). */
/* 32 KiB: enough chunks for the threads to end together (jq's 464 KiB make 15; 128 KiB chunks
 * left one thread idle for a quarter of the compile), and still above the compute benchmarks'
 * ~26 KiB; smaller chunks inline less across functions, which cost no measurable run time on
 * the real programs (bench/real) and saves compile time. */
#define CHUNK_CODE_BYTES (32u * 1024) /* bytes of function bodies per chunk */
#define CHUNK_FUNCS 10000u             /* functions per chunk (each costs LLVM memory) */
/* A body this large is a chunk of its own: past the OPT_MAX_* bounds it is then emitted by the
 * -O0 code generator, which needs half the memory of -O2's on the same unoptimised code. */
#define CHUNK_ALONE_BYTES (256u * 1024)

#endif
