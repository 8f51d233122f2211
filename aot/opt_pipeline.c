/* aot/opt_pipeline.c — the -O pipelines, and the SLP vectorizer run safely.
 *
 * LLVM 19's SLP vectorizer narrows the operand of an int-to-float conversion to as many bits
 * as it has sign bits (its minimum-bitwidth analysis of IToFP operands), which is right for
 * sitofp and wrong for uitofp: uitofp(sext i1 c to i64) became uitofp <2 x i1>, 1.0 where Wasm
 * gives 2^64 - 1 (tests/aot/exact.wast "uitofp-pair"). Such operands only appear during the
 * pipeline (instcombine makes `0 - zext c` a sext), so they are hidden from SLP right before it
 * runs: the -O2 and -O3 pipelines are LLVM's own ("default<O2>" as `opt -passes=default<O2>
 * -print-pipeline-passes` prints it: the same object byte for byte), cut before and after the
 * slp-vectorizer pass. Before it, every uitofp operand goes through an empty asm statement SLP
 * cannot see through; after it the asm statements are removed, so the passes that follow fold
 * as before. SLP gains 4-6% on the compute benchmarks (nbody, fannkuch-redux). The O3 text
 * differs from "default<O3>" in one way: a textual `inline` pass takes the O2 inline
 * parameters (threshold 225, not 250), which no pipeline text can change. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <llvm-c/Transforms/PassBuilder.h>

#include "aot/aot.h"

#define IC "instcombine<max-iterations=1;no-use-loop-info;no-verify-fixpoint>"
#define SCFG_OPTS "speculate-blocks;simplify-cond-branch"
#define SCFG "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;" \
             "keep-loops;no-hoist-common-insts;no-sink-common-insts;" SCFG_OPTS ";no-speculate-unpredictables>"

/* default<O2> and default<O3> up to the SLP vectorizer; the %s are where O3 differs. */
static const char pre_slp[] =
    "annotation2metadata,forceattrs,inferattrs,coro-early,function<eager-inv>(ee-instrument<>,lower-expect,"
    "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;no-switch-range-to-icmp;no-switch-to-lookup;"
    "keep-loops;no-hoist-common-insts;no-sink-common-insts;" SCFG_OPTS ";no-speculate-unpredictables>,"
    "sroa<modify-cfg>,early-cse<>%s),openmp-opt,ipsccp,called-value-propagation,globalopt,"
    "function<eager-inv>(mem2reg," IC "," SCFG "),"
    "always-inline,require<globals-aa>,function(invalidate<aa>),require<profile-summary>,"
    "cgscc(devirt<4>(inline,function-attrs<skip-non-recursive-function-attrs>%s,openmp-opt-cgscc,"
    "function<eager-inv;no-rerun>(sroa<modify-cfg>,early-cse<memssa>,"
    "speculative-execution<only-if-divergent-target>,jump-threading,correlated-propagation," SCFG "," IC ","
    "aggressive-instcombine,libcalls-shrinkwrap,tailcallelim," SCFG ",reassociate,constraint-elimination,"
    "loop-mssa(loop-instsimplify,loop-simplifycfg,licm<no-allowspeculation>,"
    "loop-rotate<header-duplication;no-prepare-for-lto>,licm<allowspeculation>,"
    "simple-loop-unswitch<%s;trivial>)," SCFG "," IC ",loop(loop-idiom,indvars,"
    "simple-loop-unswitch<%s;trivial>,loop-deletion,loop-unroll-full),sroa<modify-cfg>,"
    "vector-combine,mldst-motion<no-split-footer-bb>,gvn<>,sccp,bdce," IC ",jump-threading,"
    "correlated-propagation,adce,memcpyopt,dse,move-auto-init,loop-mssa(licm<allowspeculation>),coro-elide,"
    "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;"
    "keep-loops;hoist-common-insts;sink-common-insts;" SCFG_OPTS ";no-speculate-unpredictables>," IC "),"
    "function-attrs,function(require<should-not-run-function-passes>),coro-split)),deadargelim,coro-cleanup,"
    "globalopt,globaldce,elim-avail-extern,rpo-function-attrs,recompute-globalsaa,"
    "function<eager-inv>(float2int,lower-constant-intrinsics%s,"
    "loop(loop-rotate<header-duplication;no-prepare-for-lto>,loop-deletion),loop-distribute,"
    "inject-tli-mappings,loop-vectorize<no-interleave-forced-only;no-vectorize-forced-only;>,"
    "infer-alignment,loop-load-elim," IC ","
    "simplifycfg<bonus-inst-threshold=1;forward-switch-cond;switch-range-to-icmp;switch-to-lookup;"
    "no-keep-loops;hoist-common-insts;sink-common-insts;" SCFG_OPTS ";no-speculate-unpredictables>)";

/* The rest of it, after the SLP vectorizer. */
static const char post_slp[] =
    "function<eager-inv>(vector-combine," IC ",loop-unroll<O%d>,transform-warning,sroa<preserve-cfg>,"
    "infer-alignment," IC ",loop-mssa(licm<allowspeculation>),alignment-from-assumptions,loop-sink,"
    "instsimplify,div-rem-pairs,tailcallelim,"
    "simplifycfg<bonus-inst-threshold=1;no-forward-switch-cond;switch-range-to-icmp;no-switch-to-lookup;"
    "keep-loops;no-hoist-common-insts;no-sink-common-insts;" SCFG_OPTS ";speculate-unpredictables>),"
    "globaldce,constmerge,cg-profile,rel-lookup-table-converter,function(annotation-remarks)";

#define HIDE_ASM "# kiln: uitofp operand hidden from SLP"

static void run(Compiler *c, LLVMTargetMachineRef tm, const char *passes) {
  LLVMPassBuilderOptionsRef po = LLVMCreatePassBuilderOptions();
  LLVMErrorRef e = LLVMRunPasses(c->mod, passes, tm, po);
  LLVMDisposePassBuilderOptions(po);
  if (e) {
    fprintf(stderr, "%s: internal error: optimizer: %s\n", c->m->path, LLVMGetErrorMessage(e));
    exit(1);
  }
}

/* Every non-constant uitofp operand becomes the result of an empty asm statement (memory(none)). */
static void hide_uitofp_operands(Compiler *c) {
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
  unsigned attr[3];
  static const char *const names[3] = {"memory", "nounwind", "willreturn"};
  for (int i = 0; i < 3; i++) attr[i] = LLVMGetEnumAttributeKindForName(names[i], strlen(names[i]));
  for (LLVMValueRef fn = LLVMGetFirstFunction(c->mod); fn; fn = LLVMGetNextFunction(fn))
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
        if (LLVMGetInstructionOpcode(in) != LLVMUIToFP) continue;
        LLVMValueRef x = LLVMGetOperand(in, 0);
        if (LLVMIsAConstant(x)) continue;
        LLVMTypeRef t = LLVMTypeOf(x);
        bool vec = LLVMGetTypeKind(t) == LLVMVectorTypeKind;
        LLVMTypeRef fty = LLVMFunctionType(t, &t, 1, 0);
        LLVMValueRef asm_ = LLVMGetInlineAsm(fty, HIDE_ASM, strlen(HIDE_ASM), vec ? "=x,0" : "=r,0", 4, 0, 0,
                                             LLVMInlineAsmDialectATT, 0);
        LLVMPositionBuilderBefore(b, in);
        LLVMValueRef h = LLVMBuildCall2(b, fty, asm_, &x, 1, "");
        for (int i = 0; i < 3; i++)
          LLVMAddCallSiteAttribute(h, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->llc, attr[i], 0));
        LLVMSetOperand(in, 0, h);
      }
  LLVMDisposeBuilder(b);
}

/* Removes those asm statements again: each result is replaced by its operand. */
static void unhide_uitofp_operands(Compiler *c) {
  for (LLVMValueRef fn = LLVMGetFirstFunction(c->mod); fn; fn = LLVMGetNextFunction(fn))
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef in = LLVMGetFirstInstruction(bb), next; in; in = next) {
        next = LLVMGetNextInstruction(in);
        if (!LLVMIsACallInst(in) || !LLVMIsAInlineAsm(LLVMGetCalledValue(in))) continue;
        size_t len;
        const char *s = LLVMGetInlineAsmAsmString(LLVMGetCalledValue(in), &len);
        if (len != strlen(HIDE_ASM) || memcmp(s, HIDE_ASM, len)) continue;
        LLVMReplaceAllUsesWith(in, LLVMGetOperand(in, 0));
        LLVMInstructionEraseFromParent(in);
      }
}

void run_pipeline(Compiler *c, LLVMTargetMachineRef tm) {
  int o = c->opt->opt;
  if (o < 2) {
    char passes[32];
    snprintf(passes, sizeof passes, "default<O%d>", o);
    run(c, tm, passes);
    return;
  }
  bool o3 = o >= 3;
  char *passes = xmalloc(sizeof pre_slp + 256);
  sprintf(passes, pre_slp, o3 ? ",callsite-splitting" : "", o3 ? ",argpromotion" : "", o3 ? "nontrivial" : "no-nontrivial",
          o3 ? "nontrivial" : "no-nontrivial", o3 ? ",chr" : "");
  run(c, tm, passes);
  hide_uitofp_operands(c);
  run(c, tm, "function<eager-inv>(slp-vectorizer)");
  unhide_uitofp_operands(c);
  sprintf(passes, post_slp, o3 ? 3 : 2);
  run(c, tm, passes);
  free(passes);
}
