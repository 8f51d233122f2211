/* aot/emit.c — one compilation: the LLVM context and target machine (pinned CPU, PIC,
 * small code model), lowering of every function, the descriptor, verification, the
 * optimisation pipeline (LLVMRunPasses "default<On>") and object emission. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

LLVMTargetMachineRef aot_target_machine(const Module *m, const Options *o) {
  LLVMInitializeX86TargetInfo();
  LLVMInitializeX86Target();
  LLVMInitializeX86TargetMC();
  LLVMInitializeX86AsmPrinter();
  /* No SLP vectorizer: LLVM 19's narrows an int-to-float conversion of a sign-extended value to
   * the narrow type, uitofp(sext i1 c to i64) became uitofp <2 x i1> (1.0 where Wasm gives
   * 2^64 - 1; tests/aot/exact.wast "uitofp-pair"). The pass builder's own switch is
   * not honoured by "default<O2>", LLVM's option is; the loop vectorizer stays on. */
  static bool options_set;
  if (!options_set) {
    options_set = true;
    LLVMParseCommandLineOptions(2, (const char *[]){"kiln-aot", "-vectorize-slp=false"}, "");
  }
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
  for (uint32_t f = m->nimported_funcs; f < m->nfuncs; f++) {
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

/* Lowers the whole module into c->mod, created in c->llc (which the caller owns, so a fuzzer
 * can dispose of it after an error), and verifies it. */
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
  /* An imported memory may have been grown to 65536 pages elsewhere: see opt_address.c. */
  c->widen = o->opt >= 1 && m->nmems > 0 && m->mems[0].import < 0 && m->mems[0].lim.min < KILN_MAX_PAGES;

  declare_functions(c);
  for (uint32_t f = m->nimported_funcs; f < m->nfuncs; f++) lower_function(c, f);
  emit_descriptor(c);

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
  LLVMDisposePassBuilderOptions(po);
  keep_dead_loads(c);
  optimize_addresses(c);
  bound_big_functions(c, 1);
}

void compile_module(const Module *m, const Options *o) {
  LLVMTargetMachineRef tm = aot_target_machine(m, o);
  Compiler c = {.m = m, .opt = o};
  c.llc = LLVMContextCreate();
  if (!o->ll && !o->ll_pre) LLVMContextSetDiscardValueNames(c.llc, 1); /* names of locals cost memory, per value */
  LLVMTargetDataRef dl = LLVMCreateTargetDataLayout(tm);
  build_ir(&c, dl);
  char *msg = NULL;
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMErrorRef e;
  if (o->opt >= 1) pre_optimize(&c, tm); /* on SSA values: locals promoted first */
  else keep_dead_loads(&c);              /* -O0's instruction selection skips unused loads too */
  if (o->ll_pre && LLVMPrintModuleToFile(c.mod, o->ll_pre, &msg)) internal(m, "writing IR", msg);
  char pipeline[32];
  snprintf(pipeline, sizeof pipeline, "default<O%d>", o->opt);
  if ((e = LLVMRunPasses(c.mod, pipeline, tm, po))) internal(m, "optimizer", LLVMGetErrorMessage(e));
  LLVMDisposePassBuilderOptions(po);

  if (o->ll && LLVMPrintModuleToFile(c.mod, o->ll, &msg)) internal(m, "writing IR", msg);
  if (LLVMTargetMachineEmitToFile(tm, c.mod, o->out, LLVMObjectFile, &msg)) {
    unlink(o->out);
    internal(m, "emitting object", msg);
  }
  LLVMDisposeTargetData(dl);
  LLVMDisposeModule(c.mod);
  LLVMDisposeTargetMachine(tm);
  LLVMContextDispose(c.llc);
}
