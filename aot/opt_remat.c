/* aot/opt_remat.c — i32 address sums recomputed in the blocks that use them, not kept live.
 *
 * A Wasm32 address is an i32 sum zero-extended to 64 bits, `zext(sp + 4736)`, which is no x86
 * address mode: the i32 sum may wrap (opt_address.c widens it only where an access proves it
 * cannot). LICM hoists each loop-invariant sum, with its zext and its GEP from the memory base,
 * into the loop's preheader; in an interpreter loop that is one per shadow-stack slot (jq's
 * jq_next: 711 sums `sp + C`), and the register allocator, which recomputes only constants,
 * spills them all and reloads one at each use: jq_next's native frame was 4.3 KB (clang's
 * native build: 328 bytes) and 38% of its samples fell on stack-slot instructions (6% natively).
 * So, after the -O pipeline, in a function with at least REMAT_MIN such values used outside
 * their block (far more than there are registers), each `add i32 x, C`, `zext` of one and
 * `gep base, zext(...)` of one gets a copy in every block that uses it, placed before the
 * first use there: a `lea` at the use instead of a reload, and only x and the base stay
 * live. Functions with fewer keep LLVM's placement. Values only: no memory access moves. */
#include "aot/aot.h"

/* Values crossing blocks before a function is treated: several times the 16 registers. With
 * 26 (Lua's luaV_execute) the copies cost more than the reloads they save (4637 -> 4835
 * instructions, float-math 3% slower); with 719 (jq_next) they save 6% of jq's time. */
#define REMAT_MIN 64

/* `add i32 x, C` with a non-constant x and a constant C (InstCombine puts it second). */
static bool const_add(LLVMValueRef in) {
  LLVMTypeRef t = LLVMTypeOf(in);
  return LLVMGetInstructionOpcode(in) == LLVMAdd && LLVMGetTypeKind(t) == LLVMIntegerTypeKind &&
         LLVMGetIntTypeWidth(t) == 32 && LLVMIsAConstantInt(LLVMGetOperand(in, 1)) &&
         !LLVMIsAConstant(LLVMGetOperand(in, 0));
}

/* x + C, zext(x + C) or gep i8 base, zext(x + C). */
static bool address_sum(LLVMValueRef in) {
  if (!LLVMIsAInstruction(in)) return false;
  if (LLVMIsAZExtInst(in)) return LLVMIsAInstruction(LLVMGetOperand(in, 0)) && const_add(LLVMGetOperand(in, 0));
  if (LLVMIsAGetElementPtrInst(in))
    return LLVMGetNumOperands(in) == 2 && LLVMIsAZExtInst(LLVMGetOperand(in, 1)) && address_sum(LLVMGetOperand(in, 1));
  return LLVMIsABinaryOperator(in) && const_add(in);
}

static LLVMValueRef copy_sum(LLVMBuilderRef b, LLVMValueRef in) {
  if (LLVMIsAZExtInst(in)) return LLVMBuildZExt(b, copy_sum(b, LLVMGetOperand(in, 0)), LLVMTypeOf(in), "");
  if (LLVMIsAGetElementPtrInst(in)) {
    LLVMValueRef idx = copy_sum(b, LLVMGetOperand(in, 1));
    LLVMValueRef g = LLVMBuildGEP2(b, LLVMGetGEPSourceElementType(in), LLVMGetOperand(in, 0), &idx, 1, "");
    LLVMSetIsInBounds(g, LLVMIsInBounds(in));
    return g;
  }
  LLVMValueRef a = LLVMBuildAdd(b, LLVMGetOperand(in, 0), LLVMGetOperand(in, 1), "");
  if (LLVMGetNUW(in)) LLVMSetNUW(a, 1);
  if (LLVMGetNSW(in)) LLVMSetNSW(a, 1);
  return a;
}

/* A user of `in` outside its block, or NULL (a phi uses it on an edge: left alone). */
static LLVMValueRef user_elsewhere(LLVMValueRef in) {
  LLVMBasicBlockRef bb = LLVMGetInstructionParent(in);
  for (LLVMUseRef u = LLVMGetFirstUse(in); u; u = LLVMGetNextUse(u)) {
    LLVMValueRef w = LLVMGetUser(u);
    if (!LLVMIsAPHINode(w) && LLVMGetInstructionParent(w) != bb) return w;
  }
  return NULL;
}

static bool uses(LLVMValueRef i, LLVMValueRef v) {
  for (unsigned k = 0, n = LLVMGetNumOperands(i); k < n; k++)
    if (LLVMGetOperand(i, k) == v) return true;
  return false;
}

static void remat_function(LLVMBuilderRef b, LLVMValueRef fn) {
  unsigned n = 0;
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb && n < REMAT_MIN; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in && n < REMAT_MIN; in = LLVMGetNextInstruction(in))
      if (address_sum(in) && user_elsewhere(in)) n++;
  if (n < REMAT_MIN) return;
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      if (!address_sum(in)) continue;
      /* One block at a time: the copy serves every use in that block after it. */
      for (LLVMValueRef user; (user = user_elsewhere(in));) {
        LLVMValueRef first = LLVMGetFirstInstruction(LLVMGetInstructionParent(user));
        while (first != user && (LLVMIsAPHINode(first) || !uses(first, in))) first = LLVMGetNextInstruction(first);
        LLVMPositionBuilderBefore(b, first);
        LLVMValueRef copy = copy_sum(b, in);
        for (LLVMValueRef i = first; i; i = LLVMGetNextInstruction(i))
          for (unsigned k = 0, nk = LLVMGetNumOperands(i); k < nk; k++)
            if (LLVMGetOperand(i, k) == in) LLVMSetOperand(i, k, copy);
      }
    }
}

void remat_address_sums(Compiler *c) {
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
  for (LLVMValueRef fn = LLVMGetFirstFunction(c->mod); fn; fn = LLVMGetNextFunction(fn))
    if (LLVMGetFirstBasicBlock(fn)) remat_function(b, fn);
  LLVMDisposeBuilder(b);
}
