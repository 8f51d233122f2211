/* aot/opt_exact.c — keeping what Wasm observes and LLVM would optimise away: loads whose
 * value nobody uses.
 *
 * With the guard region, an out-of-bounds load traps only if it is executed; LLVM deletes a
 * load whose value is unused. After SROA (locals are SSA values) a liveness walk from every
 * instruction with an effect (stores, calls, terminators) finds the linear-memory loads whose
 * values reach nothing, e.g. `local.set $unused (i32.load ..)` or `(drop (i32.add (load) ..))`,
 * (or only into x*0, x&0, x|-1, a shift or rotation of 0 or -1 by them) and makes them volatile,
 * which LLVM never deletes. It runs at -O0 too: instruction selection skips an unused load there.
 * Loads that only die later, after inlining or constant propagation, are not covered. */
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
      if (LLVMIsALoadInst(in) && !ps_has(&live, in)) {
        LLVMValueRef p = LLVMGetOperand(in, 0);
        if (LLVMIsAGetElementPtrInst(p) && LLVMGetMetadata(p, c->md_addr)) LLVMSetVolatile(in, 1);
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
