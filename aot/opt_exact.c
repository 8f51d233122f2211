/* aot/opt_exact.c — keeping what Wasm observes and LLVM would optimise away: the trap of an
 * out-of-bounds load whose value nobody uses, or only part of it.
 *
 * With the guard region, an out-of-bounds load traps only if it is executed, in full; LLVM
 * deletes a load whose value is unused and narrows one whose value is only partly used.
 *
 * Dead loads. After SROA (locals are SSA values) a liveness walk from every instruction with
 * an effect (stores, calls, terminators) finds the linear-memory loads whose values reach
 * nothing, e.g. `local.set $unused (i32.load ..)` or `(drop (i32.add (load) ..))`, (or only
 * into x*0, x&0, x|-1, a shift or rotation of 0 or -1 by them) and makes them volatile, which
 * LLVM never deletes. It runs at -O0 too: instruction selection skips an unused load there.
 * At -O1 and above the walk runs a second time after one round of InstCombine, during which
 * every linear-memory load is held volatile (hold_loads): loads that die only once values are
 * propagated (a select whose condition a dominating branch decides, fuzz seed 127; constant
 * folding) are found too. Loads that die later, after inlining, are covered only as unused
 * calls (keep_call).
 *
 * Narrowed loads. InstCombine turns an extractelement of a vector load into a scalar load,
 * and instruction selection a load under trunc, and or shift by a constant into a smaller
 * one: the narrower access misses the trap when the original straddles the end of memory
 * (`i64x2.extract_lane 0 (v128.load)` at size - 9). keep_load_widths makes a linear-memory
 * load whose every use is such a partial one volatile (LLVM never narrows those), before the
 * pipeline and again after it. */
#include <stdlib.h>
#include <string.h>

#include "aot/aot.h"

typedef struct PtrSet {
  LLVMValueRef *slot;
  size_t cap, n;
} PtrSet;

static size_t hash_ptr(LLVMValueRef v, size_t cap) { return ((uintptr_t)v >> 4) * 0x9e3779b97f4a7c15ull & (cap - 1); }

/* Inserts v; false when it was there already. */
static bool ps_add(PtrSet *s, LLVMValueRef v) {
  if (2 * (s->n + 1) > s->cap) {
    PtrSet t = {xmalloc(sizeof(LLVMValueRef) * (s->cap ? 2 * s->cap : 256)), s->cap ? 2 * s->cap : 256, 0};
    for (size_t i = 0; i < s->cap; i++)
      if (s->slot[i]) ps_add(&t, s->slot[i]);
    free(s->slot);
    *s = t;
  }
  size_t i = hash_ptr(v, s->cap);
  for (; s->slot[i]; i = (i + 1) & (s->cap - 1))
    if (s->slot[i] == v) return false;
  s->slot[i] = v;
  s->n++;
  return true;
}

static bool ps_has(const PtrSet *s, LLVMValueRef v) {
  if (!s->cap) return false;
  for (size_t i = hash_ptr(v, s->cap); s->slot[i]; i = (i + 1) & (s->cap - 1))
    if (s->slot[i] == v) return true;
  return false;
}

/* A non-volatile load of linear memory (lower_memory.c and lower_simd.c tag them with TBAA). */
static bool memory_load(Compiler *c, LLVMValueRef in) {
  return LLVMIsALoadInst(in) && !LLVMGetVolatile(in) && c->tbaa_tag[TBAA_MEMORY] &&
         LLVMGetMetadata(in, c->md_tbaa) == c->tbaa_tag[TBAA_MEMORY];
}

static const char *callee_name(LLVMValueRef call) {
  LLVMValueRef callee = LLVMGetCalledValue(call);
  size_t len;
  return LLVMIsAFunction(callee) ? LLVMGetValueName2(callee, &len) : "";
}

/* The intrinsics the lowering calls (rotations, bit counts, rounding, min/max, saturating
 * conversions) compute only; reading the stack pointer is kept as an effect. */
static bool pure_intrinsic(LLVMValueRef in) {
  if (!LLVMIsACallInst(in)) return false;
  const char *name = callee_name(in);
  return !strncmp(name, "llvm.", 5) && strcmp(name, "llvm.read_register.i64");
}

/* Pure value computations: live only if something live uses them. */
static bool pure(LLVMValueRef in) {
  if (LLVMIsALoadInst(in)) return !LLVMGetVolatile(in);
  return pure_intrinsic(in) || LLVMIsABinaryOperator(in) || LLVMIsAUnaryOperator(in) || LLVMIsACastInst(in) || LLVMIsACmpInst(in) ||
         LLVMIsASelectInst(in) || LLVMIsAPHINode(in) || LLVMIsAGetElementPtrInst(in) ||
         LLVMIsAExtractValueInst(in) || LLVMIsAInsertValueInst(in) || LLVMIsAAllocaInst(in);
}

static bool const_is(LLVMValueRef v, int64_t k) { return LLVMIsAConstantInt(v) && LLVMConstIntGetSExtValue(v) == k; }

/* Whether operand i of `in` cannot change its result (LLVM folds them): x*0, x&0, x|-1, and the
 * amount of a shift of 0 (or an arithmetic one of -1) or of a rotation of 0 or -1. */
static bool absorbed(LLVMValueRef in, int i) {
  if (LLVMIsACallInst(in) && i == 2 && (!strncmp(callee_name(in), "llvm.fshl", 9) || !strncmp(callee_name(in), "llvm.fshr", 9))) {
    LLVMValueRef v = LLVMGetOperand(in, 0);
    return v == LLVMGetOperand(in, 1) && (const_is(v, 0) || const_is(v, -1));
  }
  if (!LLVMIsABinaryOperator(in)) return false;
  LLVMOpcode op = LLVMGetInstructionOpcode(in);
  if (i == 1 && (op == LLVMShl || op == LLVMLShr || op == LLVMAShr))
    return const_is(LLVMGetOperand(in, 0), 0) || (op == LLVMAShr && const_is(LLVMGetOperand(in, 0), -1));
  LLVMValueRef other = LLVMGetOperand(in, 1 - i);
  if (!LLVMIsAConstantInt(other)) return false;
  if (op == LLVMMul || op == LLVMAnd) return LLVMConstIntGetZExtValue(other) == 0;
  if (op == LLVMOr) return LLVMConstIntGetSExtValue(other) == -1;
  return false;
}

/* Could LLVM delete a call to fn whose result is unused? Yes when the body only computes:
 * pure instructions, plain control flow, pure intrinsics and calls of such functions
 * (`deletable` holds the verdict of functions already decided, in index order). */
static bool is_deletable(Compiler *c, LLVMValueRef fn, const PtrSet *deletable) {
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      if (pure(in) || LLVMIsABranchInst(in) || LLVMIsAReturnInst(in) || LLVMIsASwitchInst(in)) continue;
      if (LLVMIsACallInst(in)) {
        LLVMValueRef callee = LLVMGetCalledValue(in);
        if (ps_has(deletable, callee)) continue;
        if (LLVMIsAInlineAsm(callee) && !LLVMGetInlineAsmHasSideEffects(callee)) continue;
      }
      return false;
    }
  return true;
}

/* A call whose value nobody uses, of a function LLVM could delete: keep the value alive with
 * an empty asm statement, so the callee's loads still run (and trap) after inlining. */
static void keep_call(Compiler *c, LLVMBuilderRef b, LLVMValueRef call) {
  LLVMValueRef v = call;
  LLVMTypeRef t = LLVMTypeOf(v);
  if (LLVMGetTypeKind(t) == LLVMVoidTypeKind) return;
  LLVMPositionBuilderBefore(b, LLVMGetNextInstruction(call));
  if (LLVMGetTypeKind(t) == LLVMStructTypeKind) v = LLVMBuildExtractValue(b, v, 0, ""), t = LLVMTypeOf(v);
  LLVMTypeKind k = LLVMGetTypeKind(t);
  const char *cons = k == LLVMFloatTypeKind || k == LLVMDoubleTypeKind || k == LLVMVectorTypeKind ? "x" : "r";
  LLVMTypeRef fty = LLVMFunctionType(c->voidt, &t, 1, 0);
  LLVMValueRef asm_ = LLVMGetInlineAsm(fty, "", 0, cons, 1, 1, 0, LLVMInlineAsmDialectATT, 0);
  LLVMBuildCall2(b, fty, asm_, &v, 1, "");
}

static bool absorbed_use(LLVMValueRef user, LLVMValueRef v) {
  bool any = false;
  for (int i = 0, n = LLVMGetNumOperands(user); i < n; i++)
    if (LLVMGetOperand(user, i) == v) {
      if (!absorbed(user, i)) return false;
      any = true;
    }
  return any;
}

static void keep_function(Compiler *c, LLVMBuilderRef b, LLVMValueRef fn, const PtrSet *deletable) {
  PtrSet live = {0};
  LLVMValueRef *work = NULL;
  size_t nwork = 0, capwork = 0;
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
      if (!pure(in) && ps_add(&live, in)) {
        if (nwork == capwork) work = xrealloc(work, sizeof(LLVMValueRef) * (capwork = capwork ? 2 * capwork : 256));
        work[nwork++] = in;
      }
  while (nwork) {
    LLVMValueRef in = work[--nwork];
    for (int i = 0, n = LLVMGetNumOperands(in); i < n; i++) {
      LLVMValueRef op = LLVMGetOperand(in, i);
      if (op && !absorbed(in, i) && LLVMIsAInstruction(op) && ps_add(&live, op)) {
        if (nwork == capwork) work = xrealloc(work, sizeof(LLVMValueRef) * (capwork = capwork ? 2 * capwork : 256));
        work[nwork++] = op;
      }
    }
  }
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      if (memory_load(c, in) && !ps_has(&live, in)) {
        LLVMSetVolatile(in, 1);
      } else if (LLVMIsACallInst(in) && ps_has(deletable, LLVMGetCalledValue(in))) {
        bool used = false;
        for (LLVMUseRef u = LLVMGetFirstUse(in); u && !used; u = LLVMGetNextUse(u))
          used = ps_has(&live, LLVMGetUser(u)) && !absorbed_use(LLVMGetUser(u), in);
        if (!used) keep_call(c, b, in);
      }
    }
  free(live.slot);
  free(work);
}

void keep_dead_loads(Compiler *c) {
  PtrSet deletable = {0};
  /* Callees first would be exact; index order plus a second round catches most chains. */
  for (int round = 0; round < 2; round++)
    for (uint32_t f = c->lo; f < c->hi; f++)
      if (!ps_has(&deletable, c->fns[f]) && is_deletable(c, c->fns[f], &deletable)) ps_add(&deletable, c->fns[f]);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
  for (uint32_t f = c->lo; f < c->hi; f++) keep_function(c, b, c->fns[f], &deletable);
  LLVMDisposeBuilder(b);
  free(deletable.slot);
}

/* hold_loads(c, true) makes every linear-memory load volatile and marks it !kiln.held;
 * hold_loads(c, false) makes the marked ones plain again. */
void hold_loads(Compiler *c, bool hold) {
  unsigned held = LLVMGetMDKindIDInContext(c->llc, "kiln.held", 9);
  LLVMValueRef mark = LLVMMDNodeInContext(c->llc, NULL, 0);
  for (uint32_t f = c->lo; f < c->hi; f++)
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(c->fns[f]); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
        if (hold && memory_load(c, in)) {
          LLVMSetVolatile(in, 1);
          LLVMSetMetadata(in, held, mark);
        } else if (!hold && LLVMIsALoadInst(in) && LLVMGetMetadata(in, held)) {
          LLVMSetVolatile(in, 0);
          LLVMSetMetadata(in, held, NULL);
        }
      }
}

/* Whether every use of v drops its last bytes, so that LLVM may load fewer bytes from the
 * same start: extractelement, trunc, `and` with a constant whose top byte is zero; through
 * bitcasts and right shifts by a constant (a shifted value alone keeps the last bytes: LLVM
 * narrows it to a load that still ends where v ends, which traps alike). vector: only
 * extractelement counts (InstCombine's case before the pipeline). */
static bool only_partial(LLVMValueRef v, bool vector, int depth) {
  LLVMUseRef u = LLVMGetFirstUse(v);
  if (!u || depth > 4) return false;
  for (; u; u = LLVMGetNextUse(u)) {
    LLVMValueRef user = LLVMGetUser(u);
    if (LLVMIsAExtractElementInst(user)) continue;
    if (LLVMIsABitCastInst(user) && only_partial(user, vector, depth + 1)) continue;
    if (vector) return false;
    if (LLVMIsATruncInst(user)) continue;
    if (!LLVMIsABinaryOperator(user)) return false;
    LLVMOpcode op = LLVMGetInstructionOpcode(user);
    LLVMValueRef a = LLVMGetOperand(user, 0), b = LLVMGetOperand(user, 1);
    if ((op == LLVMLShr || op == LLVMAShr) && a == v && LLVMIsAConstantInt(b) && only_partial(user, false, depth + 1))
      continue;
    LLVMValueRef mask = a == v ? b : a;
    if (op != LLVMAnd || !LLVMIsAConstantInt(mask) || LLVMGetTypeKind(LLVMTypeOf(v)) != LLVMIntegerTypeKind) return false;
    unsigned width = LLVMGetIntTypeWidth(LLVMTypeOf(v));
    if (width > 64 || width < 16 || LLVMConstIntGetZExtValue(mask) >> (width - 8)) return false;
  }
  return true;
}

/* Every function of the module: after the pipeline, c->fns[] may name functions inlined away. */
void keep_load_widths(Compiler *c, bool after_pipeline) {
  for (LLVMValueRef fn = LLVMGetFirstFunction(c->mod); fn; fn = LLVMGetNextFunction(fn)) {
    for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
      for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
        if (memory_load(c, in) && only_partial(in, !after_pipeline, 0)) LLVMSetVolatile(in, 1);
  }
}
