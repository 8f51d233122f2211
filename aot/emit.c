/* aot/emit.c — one compilation: the target machine (pinned CPU, PIC, small code model),
 * the split of the functions into chunks, and per chunk in its own thread and LLVMContext:
 * lowering, verification, the optimisation pipeline (opt_pipeline.c) and an
 * object in memory; then the chunk objects become the one output object (ld.lld -r). */
#include <pthread.h>
#include <spawn.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm-c/Analysis.h>
#include <llvm-c/Support.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>

#include "aot/abi.h"

#include "aot/aot.h"
#include "aot/limits.h"

static _Noreturn void internal(const Module *m, const char *what, char *msg) {
  fprintf(stderr, "%s: internal error: %s: %s\n", m->path, what, msg ? msg : "");
  if (msg) LLVMDisposeMessage(msg);
  exit(1);
}

/* LLVM's global state, once, before any compile thread starts (compile_module). */
static void llvm_init(void) {
  static bool done;
  if (done) return;
  done = true;
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
}

LLVMTargetMachineRef aot_target_machine(const Module *m, const Options *o) {
  llvm_init();
  const char *triple = "x86_64-unknown-linux-gnu"; /* ELF, SysV ABI: both the kernel and hosted links */
  LLVMTargetRef t;
  char *err = NULL;
  if (LLVMGetTargetFromTriple(triple, &t, &err)) internal(m, "target", err);
  LLVMCodeGenOptLevel lv = o->opt == 0 ? LLVMCodeGenLevelNone
                           : o->opt == 1 ? LLVMCodeGenLevelLess
                           : o->opt == 2 ? LLVMCodeGenLevelDefault
                                         : LLVMCodeGenLevelAggressive;
  LLVMTargetMachineRef tm = LLVMCreateTargetMachine(t, triple, o->cpu, "", lv, LLVMRelocPIC, LLVMCodeModelSmall);
  if (!tm) internal(m, "target machine", NULL);
  return tm;
}

/* LLVM's -O2 passes and instruction selection are superlinear in the size of a function or of
 * its largest block (the SLP vectorizer's scheduling, SelectionDAG on one huge block): a chain of
 * 20,000 `if`s took 54 s and 8,000 live loads 4 minutes. Functions past OPT_MAX_* of
 * aot/limits.h are marked optnone (the pipeline skips them, code generation uses the fast,
 * linear paths), so each function's cost is bounded and the module's is linear in its size.
 * Returns how many were marked; each gets a note on stderr. */
static unsigned bound_big_functions(Compiler *c, unsigned scale) {
  const Module *m = c->m;
  unsigned optnone = LLVMGetEnumAttributeKindForName("optnone", 7);
  unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
  unsigned n = 0;
  for (uint32_t f = c->lo; f < c->hi; f++) {
    if (LLVMGetEnumAttributeAtIndex(c->fns[f], LLVMAttributeFunctionIndex, optnone)) continue;
    uint64_t insts = 0, blocks = 0, biggest = 0;
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(c->fns[f]); bb; bb = LLVMGetNextBasicBlock(bb)) {
      uint64_t k = 0;
      for (LLVMValueRef i = LLVMGetFirstInstruction(bb); i; i = LLVMGetNextInstruction(i)) k++;
      insts += k, blocks++;
      if (k > biggest) biggest = k;
    }
    if (insts <= scale * OPT_MAX_INSTRUCTIONS && blocks <= OPT_MAX_BLOCKS && biggest <= scale * OPT_MAX_BLOCK_INSTRUCTIONS)
      continue;
    LLVMAddAttributeAtIndex(c->fns[f], LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->llc, optnone, 0));
    LLVMAddAttributeAtIndex(c->fns[f], LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->llc, noinline, 0));
    const Name *nm = &m->funcs[f].name;
    fprintf(stderr, "%s: note: function %u%s%.*s%s (%llu instructions, %llu blocks, the largest %llu) is too big for "
                    "the -O%d pipeline: compiled without optimisation\n",
            m->path, f, nm->s ? " (" : "", nm->s ? (int)(nm->len > 60 ? 60 : nm->len) : 0, nm->s ? nm->s : "",
            nm->s ? ")" : "", (unsigned long long)insts, (unsigned long long)blocks, (unsigned long long)biggest,
            c->opt->opt);
    n++;
  }
  return n;
}


_Thread_local FailCatch *fail_catch;

/* Lowers the functions [c->lo, c->hi) (and the descriptor when c->descriptor) into c->mod,
 * created in c->llc (which the caller owns, so a fuzzer can dispose of it after an error),
 * and verifies it. */
void build_ir(Compiler *c, LLVMTargetDataRef dl) {
  const Module *m = c->m;
  const Options *o = c->opt;
  c->tail = o->tail_calls;
  c->mod = LLVMModuleCreateWithNameInContext(m->path, c->llc);
  LLVMSetTarget(c->mod, "x86_64-unknown-linux-gnu");
  LLVMSetModuleDataLayout(c->mod, dl);
  c->i1 = LLVMInt1TypeInContext(c->llc);
  c->i8 = LLVMInt8TypeInContext(c->llc);
  c->i16 = LLVMInt16TypeInContext(c->llc);
  c->i32 = LLVMInt32TypeInContext(c->llc);
  c->i64 = LLVMInt64TypeInContext(c->llc);
  c->f32 = LLVMFloatTypeInContext(c->llc);
  c->f64 = LLVMDoubleTypeInContext(c->llc);
  c->ptr = LLVMPointerTypeInContext(c->llc, 0);
  c->v128 = LLVMVectorType(c->i64, 2);
  c->voidt = LLVMVoidTypeInContext(c->llc);
  c->md_invariant = LLVMGetMDKindIDInContext(c->llc, "invariant.load", 14);
  c->md_addr = LLVMGetMDKindIDInContext(c->llc, "kiln.addr", 9);
  c->md_tbaa = LLVMGetMDKindIDInContext(c->llc, "tbaa", 4);
  /* An imported memory may have been grown to 65536 pages elsewhere: see opt_address.c. An
   * access to any memory proves its address, so every memory must be bounded. */
  c->widen = o->opt >= 1 && m->nmems > 0;
  for (uint32_t i = 0; i < m->nmems; i++)
    if (m->mems[i].import >= 0 || m->mems[i].lim.min >= KILN_MAX_PAGES) c->widen = false;

  declare_functions(c);
  for (uint32_t f = c->lo; f < c->hi; f++) lower_function(c, f);
  if (c->descriptor) emit_descriptor(c);
  else emit_func_entries(c);

  char *msg = NULL;
  if (LLVMVerifyModule(c->mod, LLVMReturnStatusAction, &msg)) {
    if (o->ll) LLVMPrintModuleToFile(c->mod, o->ll, NULL);
    internal(m, "generated IR does not verify", msg);
  }
  LLVMDisposeMessage(msg);
}

/* The passes of our own before the -O pipeline (-O1 and above), and the size bound: checked
 * before SROA too (which is itself quadratic on a 40,000-way br_table), where each local access
 * is still a load or store, so with twice the instruction bounds. */
void pre_optimize(Compiler *c, LLVMTargetMachineRef tm) {
  bound_big_functions(c, 2);
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMErrorRef e;
  if ((e = LLVMRunPasses(c->mod, "function(sroa)", tm, po))) internal(c->m, "optimizer", LLVMGetErrorMessage(e));
  keep_dead_loads(c);
  optimize_addresses(c);
  bound_big_functions(c, 1);
  /* Loads that die once values are propagated (opt_exact.c): InstCombine with every load held
   * (it skips the functions bound_big_functions marked). */
  hold_loads(c, true);
  if ((e = LLVMRunPasses(c->mod, "function(instcombine<no-verify-fixpoint>)", tm, po))) internal(c->m, "optimizer", LLVMGetErrorMessage(e));
  hold_loads(c, false);
  keep_dead_loads(c);
  LLVMDisposePassBuilderOptions(po);
}

/* ---- chunks ---- */

/* One unit of work: the functions [lo, hi), or the descriptor (lo == hi), compiled into an
 * object file; or the error that stopped it. */
typedef struct Chunk {
  uint32_t lo, hi;
  bool descriptor;
  char *path;  /* the object: o->out for a module of one chunk */
  char *error; /* FILE:0xOFF: message of the first invalid body */
} Chunk;

/* Contiguous index ranges of about o->chunk_bytes of bodies (and at most CHUNK_FUNCS
 * functions; a body of CHUNK_ALONE_BYTES or more alone), then the descriptor as a chunk of
 * its own; a module that fits one chunk keeps
 * everything in one LLVM module, so small programs lose no inlining. The split depends on
 * the module only, never on -j: the object is the same whatever the number of threads. */
static Chunk *plan_chunks(const Module *m, const Options *o, unsigned *n) {
  uint64_t code = 0;
  for (uint32_t f = m->nimported_funcs; f < m->nfuncs; f++) code += (uint64_t)(m->funcs[f].body_end - m->funcs[f].body);
  uint32_t ndef = m->nfuncs - m->nimported_funcs;
  Chunk *ch;
  if (o->ll || o->ll_pre || (code <= o->chunk_bytes && ndef <= CHUNK_FUNCS)) { /* IR dumps show one module */
    ch = xmalloc(sizeof *ch);
    ch[0] = (Chunk){.lo = m->nimported_funcs, .hi = m->nfuncs, .descriptor = true};
    *n = 1;
    return ch;
  }
  unsigned cap = 16, k = 0;
  ch = xmalloc(sizeof *ch * cap);
  uint32_t lo = m->nimported_funcs;
  uint64_t bytes = 0;
  for (uint32_t f = m->nimported_funcs; f < m->nfuncs; f++) {
    uint64_t size = (uint64_t)(m->funcs[f].body_end - m->funcs[f].body);
    if (size >= CHUNK_ALONE_BYTES && f > lo) { /* the run before it ends here */
      if (k + 1 == cap) ch = xrealloc(ch, sizeof *ch * (cap *= 2));
      ch[k++] = (Chunk){.lo = lo, .hi = f};
      lo = f, bytes = 0;
    }
    bytes += size;
    if (bytes >= o->chunk_bytes || size >= CHUNK_ALONE_BYTES || f + 1 - lo >= CHUNK_FUNCS || f + 1 == m->nfuncs) {
      if (k + 1 == cap) ch = xrealloc(ch, sizeof *ch * (cap *= 2));
      ch[k++] = (Chunk){.lo = lo, .hi = f + 1};
      lo = f + 1, bytes = 0;
    }
  }
  ch[k] = (Chunk){.lo = m->nfuncs, .hi = m->nfuncs, .descriptor = true};
  *n = k + 1;
  return ch;
}

typedef struct Work {
  const Module *m;
  const Options *o;
  Chunk *chunks;
  unsigned nchunks;
  unsigned *order; /* chunk indices, the most code first */
  bool split;
  atomic_uint next;   /* the next entry of order to take */
  atomic_uint failed; /* the lowest chunk with an error (nchunks: none) */
} Work;

static uint64_t chunk_code(const Module *m, const Chunk *ch) {
  uint64_t code = 0;
  for (uint32_t f = ch->lo; f < ch->hi; f++) code += (uint64_t)(m->funcs[f].body_end - m->funcs[f].body);
  return code;
}

typedef struct ChunkSize {
  uint64_t code;
  unsigned i;
} ChunkSize;

static int by_size_down(const void *a, const void *b) {
  const ChunkSize *x = a, *y = b;
  if (x->code != y->code) return x->code < y->code ? 1 : -1;
  return x->i < y->i ? -1 : x->i > y->i;
}

/* The order threads take chunks in: the biggest first, so no thread starts a big chunk when
 * the others are about to finish (longest processing time first); ties in index order. It
 * decides only which thread compiles a chunk: the objects are joined in index order. */
static unsigned *order_chunks(const Module *m, const Chunk *ch, unsigned n) {
  ChunkSize *s = xmalloc(sizeof *s * n);
  for (unsigned i = 0; i < n; i++) s[i] = (ChunkSize){chunk_code(m, &ch[i]), i};
  qsort(s, n, sizeof *s, by_size_down);
  unsigned *order = xmalloc(sizeof *order * n);
  for (unsigned i = 0; i < n; i++) order[i] = s[i].i;
  free(s);
  return order;
}

/* Whether the chunk is only functions bound_big_functions took out of the pipeline. */
static bool all_optnone(const Compiler *c) {
  unsigned optnone = LLVMGetEnumAttributeKindForName("optnone", 7);
  if (c->descriptor || c->lo == c->hi) return false;
  for (uint32_t f = c->lo; f < c->hi; f++)
    if (!LLVMGetEnumAttributeAtIndex(c->fns[f], LLVMAttributeFunctionIndex, optnone)) return false;
  return true;
}

/* Compiles one chunk in a context of its own, freed before the next: the compiler's memory is
 * bounded by the chunk, not the module. An invalid body stops the chunk with its message. */
static void compile_chunk(Work *w, Chunk *ch) {
  const Module *m = w->m;
  const Options *o = w->o;
  LLVMTargetMachineRef tm = aot_target_machine(m, o); /* one per thread: LLVM shares none */
  Compiler c = {.m = m, .opt = o, .lo = ch->lo, .hi = ch->hi, .descriptor = ch->descriptor, .split = w->split};
  c.llc = LLVMContextCreate();
  if (!o->ll && !o->ll_pre) LLVMContextSetDiscardValueNames(c.llc, 1); /* names of locals cost memory, per value */
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  FailCatch fc;
  fail_catch = &fc;
  if (setjmp(fc.jmp)) {
    ch->error = strdup(fc.msg);
    fail_catch = NULL;
    LLVMContextDispose(c.llc); /* owns the half-built module */
    LLVMDisposeTargetData(dl);
    LLVMDisposeTargetMachine(tm);
    return;
  }
  build_ir(&c, dl);
  fail_catch = NULL;
  char *msg = NULL;
  if (o->opt >= 1) pre_optimize(&c, tm); /* on SSA values: locals promoted first */
  else keep_dead_loads(&c);              /* -O0's instruction selection skips unused loads too */
  if (o->opt >= 1 && all_optnone(&c)) { /* the -O0 code generator: half the memory, a quarter of the time */
    Options o0 = *o;
    o0.opt = 0;
    LLVMDisposeTargetMachine(tm);
    tm = aot_target_machine(m, &o0);
  }
  keep_load_widths(&c, false);
  if (o->ll_pre && LLVMPrintModuleToFile(c.mod, o->ll_pre, &msg)) internal(m, "writing IR", msg);
  run_pipeline(&c, tm);
  keep_load_widths(&c, true); /* before instruction selection */
  if (o->opt >= 1) remat_address_sums(&c);
  insert_stack_checks(&c);

  if (o->ll && LLVMPrintModuleToFile(c.mod, o->ll, &msg)) internal(m, "writing IR", msg);
  if (LLVMTargetMachineEmitToFile(tm, c.mod, ch->path, LLVMObjectFile, &msg)) {
    unlink(ch->path);
    internal(m, "emitting object", msg);
  }
  LLVMDisposeTargetData(dl);
  LLVMDisposeModule(c.mod);
  LLVMDisposeTargetMachine(tm);
  LLVMContextDispose(c.llc);
  free(c.fns), free(c.fntypes), free(c.tailtypes), free(c.tramps);
}

/* Chunks are taken in w->order; after an error no chunk past it in the module is started, and
 * those before it are all compiled, so the error reported is the first in the module, as with
 * one thread. */
static void *compile_worker(void *arg) {
  Work *w = arg;
  for (;;) {
    unsigned k = atomic_fetch_add(&w->next, 1);
    if (k >= w->nchunks) return NULL;
    unsigned i = w->order[k];
    if (i > atomic_load(&w->failed)) continue;
    compile_chunk(w, &w->chunks[i]);
    if (w->chunks[i].error) {
      unsigned f = atomic_load(&w->failed);
      while (i < f && !atomic_compare_exchange_weak(&w->failed, &f, i)) {}
    }
  }
}

/* Runs argv[0] (found in PATH) and waits: whether it ran and succeeded. */
static bool run_tool(char **argv) {
  extern char **environ;
  pid_t pid;
  int st;
  if (posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ)) {
    fprintf(stderr, "kiln-aot: cannot run %s (is lld-19 or llvm-19 installed?)\n", argv[0]);
    return false;
  }
  return waitpid(pid, &st, 0) == pid && WIFEXITED(st) && WEXITSTATUS(st) == 0;
}

/* The chunk objects, in chunk order, become o->out: `ld.lld -r` joins them, then every
 * symbol shared between chunks (hidden, abi.h) is made local again, so the object exports
 * only the descriptor and needs only the imports and kiln_* services, as with one chunk. */
static bool link_chunks(const Options *o, const char *dir, Chunk *ch, unsigned n) {
  char *joined = xmalloc(strlen(dir) + 16);
  sprintf(joined, "%s/joined.o", dir);
  char **argv = xmalloc(sizeof(char *) * (n + 5));
  unsigned k = 0;
  argv[k++] = "ld.lld-19";
  argv[k++] = "-r";
  argv[k++] = "-o";
  argv[k++] = joined;
  for (unsigned i = 0; i < n; i++) argv[k++] = ch[i].path;
  argv[k] = NULL;
  char *objcopy[] = {"llvm-objcopy-19", "--localize-hidden", joined, (char *)o->out, NULL};
  bool ok = run_tool(argv) && run_tool(objcopy);
  unlink(joined);
  free(joined), free(argv);
  return ok;
}

void compile_module(const Module *m, const Options *o) {
  llvm_init();
  Work w = {.m = m, .o = o};
  w.chunks = plan_chunks(m, o, &w.nchunks);
  w.order = order_chunks(m, w.chunks, w.nchunks);
  w.split = w.nchunks > 1;
  /* The chunk objects of a split module, beside the output: on its file system, not in a
   * /tmp that may be memory (a million functions make 250 MB of them). */
  char *dir = xmalloc(strlen(o->out) + 16);
  sprintf(dir, "%s.chunks.XXXXXX", o->out);
  if (w.split && !mkdtemp(dir)) {
    perror(dir);
    exit(1);
  }
  for (unsigned i = 0; i < w.nchunks; i++) {
    w.chunks[i].path = (char *)o->out;
    if (w.split) {
      w.chunks[i].path = xmalloc(strlen(dir) + 16);
      sprintf(w.chunks[i].path, "%s/%u.o", dir, i);
    }
  }
  atomic_init(&w.next, 0);
  atomic_init(&w.failed, w.nchunks);
  unsigned nthreads = o->jobs < w.nchunks ? o->jobs : w.nchunks;
  pthread_t *th = xmalloc(sizeof(pthread_t) * nthreads);
  for (unsigned i = 1; i < nthreads; i++)
    if (pthread_create(&th[i], NULL, compile_worker, &w)) nthreads = i; /* fewer threads, same object */
  compile_worker(&w);
  for (unsigned i = 1; i < nthreads; i++) pthread_join(th[i], NULL);
  free(th);
  unsigned failed = atomic_load(&w.failed);
  bool joined = failed < w.nchunks || !w.split || link_chunks(o, dir, w.chunks, w.nchunks);
  if (w.split) {
    for (unsigned i = 0; i < w.nchunks; i++) unlink(w.chunks[i].path), free(w.chunks[i].path);
    rmdir(dir);
  }
  free(dir);
  if (!joined) {
    fprintf(stderr, "%s: internal error: joining the chunk objects (ld.lld-19 -r, llvm-objcopy-19) failed\n", m->path);
    unlink(o->out);
    exit(1);
  }
  if (failed < w.nchunks) {
    fprintf(stderr, "%s\n", w.chunks[failed].error);
    unlink(o->out);
    exit(1);
  }
  free(w.chunks), free(w.order);
}
