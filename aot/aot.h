/* aot/aot.h — the one internal header of kiln-aot: the decoded module, the lowering
 * context, and every function grouped by the file that defines it. */
#ifndef KILN_AOT_H
#define KILN_AOT_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <llvm-c/Core.h>
#include <llvm-c/TargetMachine.h>

#include "aot/wasm.h"

/* LLVM's `tailcc` (CallingConv::Tail in llvm/IR/CallingConv.h), which llvm-c/Core.h does not name. */
#define KILN_TAILCC 18u

/* ---- the decoded module (reader.c) ---- */

typedef struct Name {
  char *s; /* NUL-terminated copy */
  uint32_t len;
} Name;

typedef struct FuncType {
  uint32_t np, nr;
  uint8_t *t; /* np params then nr results */
  uint32_t canon; /* index of the first structurally equal type (trampolines, hashes) */
} FuncType;

typedef struct Limits {
  uint64_t min, max;
  bool has_max;
  bool shared; /* memories only (threads) */
} Limits;

/* Wasm 2.0 constant expressions are one instruction then `end`; extended-const ones are
 * KILN_CONST_EXPR with their items in postfix order (abi.h). */
typedef struct ConstExpr {
  uint8_t kind; /* KILN_CONST_* of abi.h */
  uint8_t type;
  uint32_t index; /* EXPR: the number of items */
  uint64_t bits; /* value bits (i32/f32 in the low 32; v128: bits 0..63) */
  uint64_t hi;   /* v128: bits 64..127 */
  struct ConstExpr *items; /* EXPR */
} ConstExpr;

typedef struct Import {
  Name module, field;
  uint8_t kind;
  uint32_t index; /* in its own index space */
} Import;

typedef struct Func {
  uint32_t type;
  int32_t import; /* index into imports or -1 */
  Name name;      /* from the name section; s == NULL when absent */
  const uint8_t *body, *body_end;
  bool declared; /* may be named by ref.func in code (spec: C.refs) */
} Func;

typedef struct Table {
  uint8_t elemtype;
  Limits lim;
  int32_t import;
} Table;

typedef struct Memory {
  Limits lim;
  int32_t import;
} Memory;

typedef struct Global {
  uint8_t type, mut;
  ConstExpr init;
  int32_t import;
} Global;

typedef struct Tag {
  uint32_t type; /* a function type with no results */
  int32_t import;
} Tag;

typedef struct Export {
  Name name;
  uint8_t kind;
  uint32_t index;
} Export;

typedef struct Data {
  uint8_t mode;
  uint32_t mem;
  ConstExpr off;
  const uint8_t *bytes;
  uint32_t len;
} Data;

typedef struct Elem {
  uint8_t mode, type;
  uint32_t table;
  ConstExpr off;
  uint32_t count;
  ConstExpr *items;
} Elem;

typedef struct Module {
  const char *path;
  const uint8_t *buf;
  size_t size;
  FuncType *types;
  uint32_t ntypes;
  Import *imports;
  uint32_t nimports;
  Func *funcs;
  uint32_t nfuncs, nimported_funcs;
  Table *tables;
  uint32_t ntables, nimported_tables;
  Memory *mems;
  uint32_t nmems, nimported_mems;
  Global *globals;
  uint32_t nglobals, nimported_globals;
  Tag *tags;
  uint32_t ntags, nimported_tags;
  Export *exports;
  uint32_t nexports;
  Data *data;
  uint32_t ndata;
  bool has_datacount;
  uint32_t datacount;
  Elem *elems;
  uint32_t nelems;
  int32_t start;
  Name name; /* module name from the name section */
  /* The C stack's bound (abi.h §4): the exported mutable i32 globals __stack_pointer
   * and __kiln_stack_limit, or -1 when the module does not export both. */
  int64_t sp_global, sp_limit_global;
} Module;

/* A byte cursor over the module; errors report offsets relative to m->buf. */
typedef struct Reader {
  const Module *m;
  const uint8_t *p, *end;
  void *soft; /* jmp_buf *: errors longjmp here instead of failing (custom sections) */
} Reader;

/* ---- proposals a module uses (features.c) ---- */
enum {
  FEAT_MUTABLE_GLOBALS, FEAT_SIGN_EXT, FEAT_SAT_CONV, FEAT_MULTI_VALUE, FEAT_BULK_MEMORY, FEAT_REF_TYPES,
  FEAT_SIMD, FEAT_RELAXED_SIMD, FEAT_THREADS, FEAT_EH, FEAT_EH_EXNREF, FEAT_TAIL_CALL, FEAT_MULTI_MEMORY,
  FEAT_EXTENDED_CONST, FEAT_MEMORY64, FEAT_FUNC_REFS, FEAT_GC, FEAT_COUNT
};
typedef struct FeatureUse {
  bool used;
  size_t off;       /* first use in the file */
  const char *what; /* what was found there */
} FeatureUse;
typedef struct Features {
  FeatureUse use[FEAT_COUNT];
  uint32_t nmems, ntables; /* seen so far: a second memory is multi-memory, a second table reference types */
} Features;

/* ---- compile options (main.c) ---- */
typedef struct Options {
  const char *in, *out, *ll, *ll_pre, *name, *cpu;
  int opt;
  unsigned jobs; /* -j: threads compiling chunks (emit.c) */
  uint32_t chunk_bytes; /* --chunk-bytes: code per chunk (CHUNK_CODE_BYTES) */
  bool bounds_checks;
  bool tail_calls; /* the module uses return_call*: every function is tailcc (descriptor.c) */
  bool exceptions; /* the module uses legacy exception handling (lower_eh.c) */
} Options;

/* ---- lowering state (lower_*.c) ---- */

typedef struct Val {
  uint8_t type; /* T_UNKNOWN only in unreachable code */
  LLVMValueRef v;
} Val;

typedef struct Frame {
  uint8_t op; /* OP_BLOCK, OP_LOOP, OP_IF, OP_ELSE; OP_TRY in its body, then OP_CATCH or
                 OP_CATCH_ALL in its handlers; the function body is an OP_BLOCK */
  uint32_t np, nr;
  const uint8_t *params, *results;
  uint32_t height;
  bool unreachable;
  bool is_func;
  LLVMBasicBlockRef head; /* loop: branch target */
  LLVMBasicBlockRef els;  /* if: the else arm */
  LLVMBasicBlockRef end;  /* block/if: branch target and continuation */
  LLVMValueRef *slots;    /* loop: one alloca per param; others: one per result */
  Val *saved;             /* if: the params, for the else arm */
  LLVMValueRef handler;   /* try: its kiln_eh_handler (abi.h §5) */
  LLVMValueRef outer;     /* try: the chain head outside it */
  LLVMBasicBlockRef land; /* try/catch: where the next catch clause tests the tag; NULL after catch_all */
  LLVMBasicBlockRef caught; /* catch: its first block, where rethrow's copy goes */
  LLVMValueRef exn;       /* catch: the copy of the caught exception, once a rethrow needs it */
} Frame;

/* Everything shared by all functions of one compilation. */
typedef struct Compiler {
  const Module *m;
  const Options *opt;
  LLVMContextRef llc;
  LLVMModuleRef mod;
  uint32_t lo, hi;            /* the defined functions this module holds (one chunk, emit.c) */
  bool descriptor;            /* it holds the descriptor, trampolines and C wrappers too */
  bool split;                 /* the module is in several chunks: functions are hidden, not internal */
  LLVMTypeRef i1, i8, i16, i32, i64, f32, f64, ptr, v128, voidt;
  LLVMValueRef *fns;          /* LLVM function of each defined function, by fn_ref() (imports: NULL) */
  LLVMTypeRef *fntypes;       /* LLVM type of each module type (ctx first), by fntype(): the C entry points */
  bool tail;                  /* opt->tail_calls: fns[] are tailcc with tailtype() types (abi.h §1) */
  LLVMTypeRef *tailtypes;     /* tailcc type of each module type, by tailtype() */
  LLVMValueRef *tramps;       /* trampoline of each canonical type, by tramp_ref() (descriptor.c) */
  LLVMValueRef trap_fn;       /* kiln_trap */
  LLVMValueRef rt[16];        /* kiln_rt_* declarations, lazily (rt_fn in lower_call.c) */
  unsigned md_invariant;      /* kind id of !invariant.load */
  unsigned md_addr;           /* kind id of !kiln.addr: the GEP of a linear-memory access */
  bool widen;                 /* opt_address.c may assume memory 0 stays below 65536 pages */
  unsigned md_tbaa;           /* kind id of !tbaa */
  LLVMValueRef tbaa_tag[3];   /* TBAA_*: access tags, lazily (set_tbaa in lower_call.c) */
} Compiler;

/* The state of lowering one function body. */
typedef struct Lower {
  Compiler *c;
  const Module *m;
  uint32_t fidx;
  const FuncType *ft;
  Reader r;
  LLVMBuilderRef b;
  LLVMValueRef fn, ctx;
  LLVMValueRef out; /* tailcc with 2+ results: where `return` stores them (NULL otherwise) */
  LLVMBasicBlockRef entry; /* allocas and invariant ctx loads go here */
  LLVMValueRef mem0, funcs, globals, tables, table0, memories, tags; /* cached invariant ctx loads */
  LLVMValueRef *mem_bases; /* base of memory k > 0, loaded in the entry block on first use (lower_memory.c) */
  uint32_t memarg_mem;     /* memory of the last memarg read (read_memarg), for mem_address */
  LLVMValueRef eh;       /* kiln_eh_state * when the body uses exceptions (lower_eh.c), else NULL */
  LLVMValueRef eh_entry; /* the chain head when the function was entered */
  LLVMValueRef *locals;
  uint8_t *local_types;
  uint32_t nlocals;
  Val *vals;
  uint32_t nvals, capvals;
  Frame *ctrl;
  uint32_t nctrl, capctrl;
  LLVMBasicBlockRef trap_bb[16];
  size_t op_off; /* offset of the instruction being lowered (errors) */
} Lower;

/* ---- main.c ---- */
/* fail_at prints `FILE:0xOFF: message` and exits, except in a compile thread, which catches
 * the message (emit.c) so that the first error in the module is the one reported. */
_Noreturn void fail_at(const Module *m, size_t off, const char *fmt, ...);
typedef struct FailCatch {
  jmp_buf jmp;
  char msg[1024];
} FailCatch;
extern _Thread_local FailCatch *fail_catch; /* emit.c */
void *xmalloc(size_t n); /* zeroed, never NULL */
void *xrealloc(void *p, size_t n);

/* ---- reader.c ---- */
void read_module(Module *m); /* decodes and validates everything but function bodies */
uint8_t rd_u8(Reader *r);
uint32_t rd_u32(Reader *r);
uint64_t rd_u64(Reader *r);
int32_t rd_s32(Reader *r);
int64_t rd_s64(Reader *r);
int64_t rd_s33(Reader *r);
uint32_t rd_fixed32(Reader *r);
uint64_t rd_fixed64(Reader *r);
uint8_t rd_valtype(Reader *r);
size_t rd_off(const Reader *r);
_Noreturn void rd_fail(const Reader *r, const char *fmt, ...);
bool is_numtype(uint8_t t);
bool is_reftype(uint8_t t);
const char *type_name(uint8_t t);

/* ---- features.c: a tolerant scan of the whole binary, before read_module ---- */
void scan_features(const Module *m, Features *out); /* needs m->path, buf, size only */
int first_unsupported(const Features *f);            /* FEAT_* or -1 */
void refuse_unsupported(const Module *m, const Features *f); /* fail_at the first one used */
void print_features(const Features *f);              /* --inspect: `feature ID 0xOFF: WHAT [mark]` */
bool disable_feature(const char *id);                /* --disable ID; false for an unknown ID */
bool feature_enabled(int f);                         /* FEAT_*: supported and not disabled */
bool body_uses_eh(const Module *m, const uint8_t *body, const uint8_t *end); /* try, throw, ... */

/* ---- validate.c: the operand and control stacks of the spec's validation algorithm ---- */
void push_val(Lower *L, uint8_t type, LLVMValueRef v);
Val pop_val(Lower *L);                 /* any type */
LLVMValueRef pop_typed(Lower *L, uint8_t type); /* checks the type; undef for Unknown */
void pop_vals(Lower *L, uint32_t n, const uint8_t *types, LLVMValueRef *out);
Frame *push_ctrl(Lower *L, uint8_t op, uint32_t np, const uint8_t *params, uint32_t nr, const uint8_t *results);
void check_frame_end(Lower *L, Frame *f, LLVMValueRef *out); /* pop_ctrl: results into out */
void mark_unreachable(Lower *L);
Frame *label(Lower *L, uint32_t depth);
void label_types(const Frame *f, uint32_t *n, const uint8_t **types);
void read_blocktype(Lower *L, uint32_t *np, const uint8_t **params, uint32_t *nr, const uint8_t **results);
uint32_t check_func(Lower *L, uint32_t idx);
uint32_t check_table(Lower *L, uint32_t idx);
void check_memory(Lower *L, uint32_t idx);
uint32_t check_type(Lower *L, uint32_t idx);
void check_data(Lower *L, uint32_t idx);
void check_elem(Lower *L, uint32_t idx);
uint32_t check_local(Lower *L, uint32_t idx);
uint32_t check_global(Lower *L, uint32_t idx);

/* ---- lower_control.c: function bodies, the dispatch loop, blocks and branches ---- */
void lower_function(Compiler *c, uint32_t fidx);
LLVMBasicBlockRef new_block(Lower *L, const char *name);
LLVMValueRef entry_alloca(Lower *L, LLVMTypeRef t);
LLVMValueRef *make_slots(Lower *L, uint32_t n, const uint8_t *types);
void finish_arm(Lower *L, Frame *f); /* store f's results, jump to its end */
bool is_dead(Lower *L);
void go_dead(Lower *L); /* after a terminator: continue in a fresh unreachable block */
void trap_if(Lower *L, LLVMValueRef cond, uint32_t code);
void trap_now(Lower *L, uint32_t code);
void mark_stack_check(Compiler *c, LLVMValueRef fn); /* fn gets the stack-limit check (insert_stack_checks) */
void insert_stack_checks(Compiler *c); /* after the pipeline: the prologue check of the functions marked for it */

/* ---- lower_eh.c: legacy exception handling (abi.h §5) ---- */
void eh_begin_function(Lower *L); /* after the locals: fetch the state if the body needs it */
bool lower_eh(Lower *L, uint8_t op); /* try, catch, catch_all, throw, rethrow */
void eh_end(Lower *L, Frame *f);      /* `end` of a try frame: instead of finish_arm */
void eh_delegate(Lower *L);           /* `delegate`: the landing code; lower_end follows */
bool eh_exits(Lower *L, uint32_t depth);  /* a branch to label depth leaves a try body */
void eh_leave(Lower *L, uint32_t depth); /* before a branch to label depth: unlink the handlers it exits */
void eh_leave_function(Lower *L);     /* before return_call*: unlink all of this function's handlers */

/* ---- lower_numeric.c ---- */
bool lower_numeric(Lower *L, uint8_t op);
LLVMValueRef opaque(Lower *L, LLVMValueRef v); /* a copy of v that the optimizer cannot see through */
bool lower_const(Lower *L, uint8_t op);
bool lower_parametric(Lower *L, uint8_t op);

/* ---- lower_convert.c ---- */
bool lower_convert(Lower *L, uint8_t op);
bool lower_trunc_sat(Lower *L, uint32_t sub);

/* ---- lower_memory.c ---- */
bool lower_memory(Lower *L, uint8_t op);
bool lower_memory_fc(Lower *L, uint32_t sub);
void read_memarg(Lower *L, unsigned size, uint32_t *offset); /* alignment <= size; sets L->memarg_mem */
LLVMValueRef mem_address(Lower *L, LLVMValueRef addr, uint32_t offset, unsigned size); /* in L->memarg_mem; checked with --bounds-checks */
LLVMValueRef mem_offset(Lower *L, LLVMValueRef addr, uint32_t offset); /* zext(addr) + offset, as i64 */
LLVMValueRef mem_at(Lower *L, LLVMValueRef ea, unsigned size); /* base of L->memarg_mem + ea, checked with --bounds-checks */

/* ---- lower_atomic.c: the 0xfe prefix (threads: atomics, wait, notify, fence) ---- */
bool lower_atomic(Lower *L, uint32_t sub);
/* ---- lower_simd.c: the 0xfd prefix (fixed-width SIMD) ---- */
bool lower_simd(Lower *L, uint32_t sub);

/* ---- lower_call.c: calls, variables, runtime services ---- */
bool lower_call(Lower *L, uint8_t op);
bool lower_variable(Lower *L, uint8_t op);
LLVMValueRef call_rt(Lower *L, const char *name, LLVMTypeRef ret, unsigned n, LLVMValueRef *args);
LLVMValueRef ctx_field(Lower *L, unsigned offset, LLVMTypeRef t, bool invariant);
LLVMValueRef table_ptr(Lower *L, uint32_t t); /* the kiln_table * of table t (invariant) */
LLVMValueRef funcref_ptr(Lower *L, uint32_t f); /* &ctx->funcs[f], what ref.func yields */
LLVMValueRef load_invariant(Lower *L, LLVMTypeRef t, LLVMValueRef p);
enum { TBAA_MEMORY, TBAA_GLOBAL, TBAA_RUNTIME }; /* disjoint storage: linear memory, global cells, runtime objects */
LLVMValueRef set_tbaa(Compiler *c, LLVMValueRef access, int kind);
LLVMValueRef emit_call(Lower *L, LLVMTypeRef fty, LLVMValueRef callee, LLVMValueRef cctx, const FuncType *ft);

/* ---- lower_table.c: reference and table instructions ---- */
bool lower_table(Lower *L, uint8_t op);
bool lower_table_fc(Lower *L, uint32_t sub);

/* ---- descriptor.c ---- */
void declare_functions(Compiler *c); /* the definitions of [lo, hi), kiln_trap */
LLVMValueRef trap_decl(Compiler *c);  /* kiln_trap, declared again if the optimizer dropped it */
LLVMValueRef fn_ref(Compiler *c, uint32_t f); /* defined function f: declared on first use */
void emit_descriptor(Compiler *c);
void emit_func_entries(Compiler *c); /* a split module: a chunk's part of the descriptor */
LLVMTypeRef llvm_type(Compiler *c, uint8_t t);
LLVMTypeRef llvm_functype(Compiler *c, const FuncType *ft);
LLVMTypeRef fntype(Compiler *c, uint32_t t); /* llvm_functype of module type t, cached */
bool results_via_ptr(const Compiler *c, const FuncType *ft); /* tailcc and 2+ results */
LLVMTypeRef results_struct(Compiler *c, const FuncType *ft);  /* {R1, R2, ...} */
LLVMTypeRef tailtype(Compiler *c, uint32_t t); /* the tailcc type of module type t, cached */
char *mangle_import(const Module *m, const Import *imp);

/* ---- opt_address.c ---- */
void optimize_addresses(Compiler *c); /* after SROA, before the -O pipeline */

/* ---- opt_remat.c ---- */
void remat_address_sums(Compiler *c); /* after the -O pipeline: hoisted i32 address sums copied to their uses */

/* ---- opt_pipeline.c ---- */
void run_pipeline(Compiler *c, LLVMTargetMachineRef tm); /* LLVM's -O pipeline, SLP without its uitofp bug */

/* ---- opt_exact.c ---- */
void keep_dead_loads(Compiler *c); /* after SROA */
void hold_loads(Compiler *c, bool hold); /* linear-memory loads volatile for a while, or back */
void keep_load_widths(Compiler *c, bool after_pipeline); /* loads LLVM would narrow: volatile */

/* ---- emit.c ---- */
LLVMTargetMachineRef aot_target_machine(const Module *m, const Options *o);
void build_ir(Compiler *c, LLVMTargetDataRef dl);        /* lowering and verification into c->llc */
void pre_optimize(Compiler *c, LLVMTargetMachineRef tm); /* SROA, our passes, the size bound */
void compile_module(const Module *m, const Options *o);

#endif
