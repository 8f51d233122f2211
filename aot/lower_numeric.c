/* aot/lower_numeric.c — constants, parametric instructions, and the numeric opcodes
 * 0x45..0xa6 driven by one table (the spec's is a table too: type, operands, operation). */
#include <string.h>

#include "aot/abi.h"
#include "aot/aot.h"

enum {
  K_NONE,
  K_EQZ,   /* icmp eq 0 */
  K_ICMP,  /* arg = LLVMIntPredicate */
  K_FCMP,  /* arg = LLVMRealPredicate */
  K_BIN,   /* arg = LLVMOpcode */
  K_SHIFT, /* arg = LLVMOpcode; the count is masked as the spec says */
  K_DIV,   /* arg = LLVMOpcode of sdiv/udiv/srem/urem: trap checks first */
  K_UN_INTR,  /* unary intrinsic, arg = index into intr_names */
  K_BIN_INTR, /* binary intrinsic */
  K_CLZ,   /* ctlz/cttz with "zero is defined" */
  K_CTZ,
  K_ROT,   /* arg: 0 = rotl (fshl), 1 = rotr (fshr) */
  K_FNEG,
};

typedef struct NumOp {
  uint8_t kind, in, out, binary;
  int arg;
} NumOp;

static const char *const intr_names[] = {
    "llvm.ctpop", "llvm.fabs", "llvm.ceil", "llvm.floor", "llvm.trunc", "llvm.roundeven", "llvm.sqrt",
    "llvm.minimum", "llvm.maximum", "llvm.copysign",
};
enum { I_CTPOP, I_FABS, I_CEIL, I_FLOOR, I_TRUNC, I_NEAREST, I_SQRT, I_MIN, I_MAX, I_COPYSIGN };

#define CMP(t, k, a) {k, t, T_I32, 1, a}
#define BIN(t, k, a) {k, t, t, 1, a}
#define UN(t, k, a) {k, t, t, 0, a}
static const NumOp numops[256] = {
    [0x45] = {K_EQZ, T_I32, T_I32, 0, 0},
    [0x46] = CMP(T_I32, K_ICMP, LLVMIntEQ), [0x47] = CMP(T_I32, K_ICMP, LLVMIntNE),
    [0x48] = CMP(T_I32, K_ICMP, LLVMIntSLT), [0x49] = CMP(T_I32, K_ICMP, LLVMIntULT),
    [0x4a] = CMP(T_I32, K_ICMP, LLVMIntSGT), [0x4b] = CMP(T_I32, K_ICMP, LLVMIntUGT),
    [0x4c] = CMP(T_I32, K_ICMP, LLVMIntSLE), [0x4d] = CMP(T_I32, K_ICMP, LLVMIntULE),
    [0x4e] = CMP(T_I32, K_ICMP, LLVMIntSGE), [0x4f] = CMP(T_I32, K_ICMP, LLVMIntUGE),
    [0x50] = {K_EQZ, T_I64, T_I32, 0, 0},
    [0x51] = CMP(T_I64, K_ICMP, LLVMIntEQ), [0x52] = CMP(T_I64, K_ICMP, LLVMIntNE),
    [0x53] = CMP(T_I64, K_ICMP, LLVMIntSLT), [0x54] = CMP(T_I64, K_ICMP, LLVMIntULT),
    [0x55] = CMP(T_I64, K_ICMP, LLVMIntSGT), [0x56] = CMP(T_I64, K_ICMP, LLVMIntUGT),
    [0x57] = CMP(T_I64, K_ICMP, LLVMIntSLE), [0x58] = CMP(T_I64, K_ICMP, LLVMIntULE),
    [0x59] = CMP(T_I64, K_ICMP, LLVMIntSGE), [0x5a] = CMP(T_I64, K_ICMP, LLVMIntUGE),
    [0x5b] = CMP(T_F32, K_FCMP, LLVMRealOEQ), [0x5c] = CMP(T_F32, K_FCMP, LLVMRealUNE),
    [0x5d] = CMP(T_F32, K_FCMP, LLVMRealOLT), [0x5e] = CMP(T_F32, K_FCMP, LLVMRealOGT),
    [0x5f] = CMP(T_F32, K_FCMP, LLVMRealOLE), [0x60] = CMP(T_F32, K_FCMP, LLVMRealOGE),
    [0x61] = CMP(T_F64, K_FCMP, LLVMRealOEQ), [0x62] = CMP(T_F64, K_FCMP, LLVMRealUNE),
    [0x63] = CMP(T_F64, K_FCMP, LLVMRealOLT), [0x64] = CMP(T_F64, K_FCMP, LLVMRealOGT),
    [0x65] = CMP(T_F64, K_FCMP, LLVMRealOLE), [0x66] = CMP(T_F64, K_FCMP, LLVMRealOGE),
#define INTOPS(t, b)                                                                                           \
  [b + 0] = UN(t, K_CLZ, 0), [b + 1] = UN(t, K_CTZ, 0), [b + 2] = UN(t, K_UN_INTR, I_CTPOP),                   \
  [b + 3] = BIN(t, K_BIN, LLVMAdd), [b + 4] = BIN(t, K_BIN, LLVMSub), [b + 5] = BIN(t, K_BIN, LLVMMul),        \
  [b + 6] = BIN(t, K_DIV, LLVMSDiv), [b + 7] = BIN(t, K_DIV, LLVMUDiv), [b + 8] = BIN(t, K_DIV, LLVMSRem),     \
  [b + 9] = BIN(t, K_DIV, LLVMURem), [b + 10] = BIN(t, K_BIN, LLVMAnd), [b + 11] = BIN(t, K_BIN, LLVMOr),      \
  [b + 12] = BIN(t, K_BIN, LLVMXor), [b + 13] = BIN(t, K_SHIFT, LLVMShl), [b + 14] = BIN(t, K_SHIFT, LLVMAShr), \
  [b + 15] = BIN(t, K_SHIFT, LLVMLShr), [b + 16] = BIN(t, K_ROT, 0), [b + 17] = BIN(t, K_ROT, 1)
    INTOPS(T_I32, 0x67), INTOPS(T_I64, 0x79),
#define FLOPS(t, b)                                                                                             \
  [b + 0] = UN(t, K_UN_INTR, I_FABS), [b + 1] = UN(t, K_FNEG, 0), [b + 2] = UN(t, K_UN_INTR, I_CEIL),           \
  [b + 3] = UN(t, K_UN_INTR, I_FLOOR), [b + 4] = UN(t, K_UN_INTR, I_TRUNC), [b + 5] = UN(t, K_UN_INTR, I_NEAREST), \
  [b + 6] = UN(t, K_UN_INTR, I_SQRT), [b + 7] = BIN(t, K_BIN, LLVMFAdd), [b + 8] = BIN(t, K_BIN, LLVMFSub),     \
  [b + 9] = BIN(t, K_BIN, LLVMFMul), [b + 10] = BIN(t, K_BIN, LLVMFDiv), [b + 11] = BIN(t, K_BIN_INTR, I_MIN),  \
  [b + 12] = BIN(t, K_BIN_INTR, I_MAX), [b + 13] = BIN(t, K_BIN_INTR, I_COPYSIGN)
    FLOPS(T_F32, 0x8b), FLOPS(T_F64, 0x99),
};

/* An overloaded intrinsic for one type, declared on first use. */
static LLVMValueRef intrinsic(Lower *L, const char *name, LLVMTypeRef t, unsigned nargs, LLVMValueRef *args) {
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(L->c->mod, id, &t, 1);
  LLVMTypeRef fty = LLVMIntrinsicGetType(L->c->llc, id, &t, 1);
  return LLVMBuildCall2(L->b, fty, f, args, nargs, "");
}

/* An identity LLVM cannot see through. x-0, x*1, x/1, x/-1, -0-x, -1*x fold to x or -x in
 * LLVM, which keeps a signalling NaN signalling; Wasm must return it quieted. */
LLVMValueRef opaque(Lower *L, LLVMValueRef v) {
  LLVMTypeRef t = LLVMTypeOf(v);
  LLVMTypeRef fty = LLVMFunctionType(t, &t, 1, 0);
  LLVMValueRef asm_ = LLVMGetInlineAsm(fty, "", 0, "=x,0", 4, 0, 0, LLVMInlineAsmDialectATT, 0);
  LLVMValueRef r = LLVMBuildCall2(L->b, fty, asm_, &v, 1, "");
  /* A pure computation to LLVM: hoisted out of loops and merged like any other. */
  static const char *const attrs[] = {"memory", "nounwind", "willreturn"}; /* memory(none) */
  for (int i = 0; i < 3; i++)
    LLVMAddCallSiteAttribute(r, LLVMAttributeFunctionIndex,
                             LLVMCreateEnumAttribute(L->c->llc, LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i])), 0));
  return r;
}

static bool foldable_identity(LLVMValueRef v) {
  if (!LLVMIsAConstantFP(v)) return false;
  LLVMBool lost;
  double d = LLVMConstRealGetDouble(v, &lost);
  return d == 0.0 || d == 1.0 || d == -1.0;
}

static LLVMValueRef lower_div(Lower *L, LLVMOpcode opc, LLVMTypeRef t, LLVMValueRef a, LLVMValueRef b) {
  LLVMValueRef zero = LLVMConstNull(t), minus1 = LLVMConstAllOnes(t);
  unsigned bits = LLVMGetIntTypeWidth(t);
  if (!LLVMIsAConstantInt(b) || LLVMConstIntGetZExtValue(b) == 0)
    trap_if(L, LLVMBuildICmp(L->b, LLVMIntEQ, b, zero, ""), KILN_TRAP_DIV_ZERO);
  bool known_not_m1 = LLVMIsAConstantInt(b) && LLVMConstIntGetSExtValue(b) != -1;
  if (opc == LLVMSDiv && !known_not_m1) {
    LLVMValueRef min = LLVMConstInt(t, 1ull << (bits - 1), 0);
    LLVMValueRef ovf = LLVMBuildAnd(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, a, min, ""),
                                    LLVMBuildICmp(L->b, LLVMIntEQ, b, minus1, ""), "");
    trap_if(L, ovf, KILN_TRAP_INT_OVERFLOW);
  }
  if (opc == LLVMSRem && !known_not_m1) /* x rem -1 is 0 in Wasm, undefined for INT_MIN in LLVM */
    b = LLVMBuildSelect(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, b, minus1, ""), LLVMConstInt(t, 1, 0), b, "");
  return LLVMBuildBinOp(L->b, opc, a, b, "");
}

bool lower_numeric(Lower *L, uint8_t op) {
  if (op < OP_NUMERIC_FIRST || op > OP_NUMERIC_LAST) return false;
  const NumOp *n = &numops[op];
  LLVMValueRef b = n->binary ? pop_typed(L, n->in) : NULL;
  LLVMValueRef a = pop_typed(L, n->in);
  LLVMTypeRef t = llvm_type(L->c, n->in);
  LLVMBuilderRef B = L->b;
  LLVMValueRef r = NULL;
  switch (n->kind) {
  case K_EQZ: r = LLVMBuildZExt(B, LLVMBuildICmp(B, LLVMIntEQ, a, LLVMConstNull(t), ""), L->c->i32, ""); break;
  case K_ICMP: r = LLVMBuildZExt(B, LLVMBuildICmp(B, (LLVMIntPredicate)n->arg, a, b, ""), L->c->i32, ""); break;
  case K_FCMP: r = LLVMBuildZExt(B, LLVMBuildFCmp(B, (LLVMRealPredicate)n->arg, a, b, ""), L->c->i32, ""); break;
  case K_BIN:
    if (n->in == T_F32 || n->in == T_F64) {
      if (foldable_identity(a)) a = opaque(L, a);
      if (foldable_identity(b)) b = opaque(L, b);
    }
    r = LLVMBuildBinOp(B, (LLVMOpcode)n->arg, a, b, "");
    break;
  case K_SHIFT: {
    LLVMValueRef mask = LLVMConstInt(t, LLVMGetIntTypeWidth(t) - 1, 0);
    r = LLVMBuildBinOp(B, (LLVMOpcode)n->arg, a, LLVMBuildAnd(B, b, mask, ""), "");
    break;
  }
  case K_DIV: r = lower_div(L, (LLVMOpcode)n->arg, t, a, b); break;
  case K_UN_INTR: r = intrinsic(L, intr_names[n->arg], t, 1, &a); break;
  case K_BIN_INTR:
    r = intrinsic(L, intr_names[n->arg], t, 2, (LLVMValueRef[]){a, b});
    if (n->arg == I_MIN || n->arg == I_MAX) /* a NaN operand must come back quieted */
      r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealUNO, a, b, ""), LLVMBuildFAdd(B, a, b, ""), r, "");
    break;
  case K_CLZ:
  case K_CTZ:
    r = intrinsic(L, n->kind == K_CLZ ? "llvm.ctlz" : "llvm.cttz", t, 2,
                  (LLVMValueRef[]){a, LLVMConstInt(L->c->i1, 0, 0)});
    break;
  case K_ROT: r = intrinsic(L, n->arg ? "llvm.fshr" : "llvm.fshl", t, 3, (LLVMValueRef[]){a, a, b}); break;
  case K_FNEG: r = LLVMBuildFNeg(B, a, ""); break;
  default: fail_at(L->m, L->op_off, "illegal opcode 0x%02x", op);
  }
  push_val(L, n->out, r);
  return true;
}

bool lower_const(Lower *L, uint8_t op) {
  Compiler *c = L->c;
  switch (op) {
  case OP_I32_CONST: push_val(L, T_I32, LLVMConstInt(c->i32, (uint32_t)rd_s32(&L->r), 0)); return true;
  case OP_I64_CONST: push_val(L, T_I64, LLVMConstInt(c->i64, (uint64_t)rd_s64(&L->r), 0)); return true;
  /* Floats are built from their bits so NaN payloads survive exactly. */
  /* An identity (+-0, +-1) is opaque from the start: wherever it flows (locals, phis, calls
   * that get inlined), LLVM could fold x*1, x-0, x/-1... and keep a signalling NaN. */
  case OP_F32_CONST: {
    LLVMValueRef v = LLVMConstBitCast(LLVMConstInt(c->i32, rd_fixed32(&L->r), 0), c->f32);
    push_val(L, T_F32, foldable_identity(v) && !is_dead(L) ? opaque(L, v) : v);
    return true;
  }
  case OP_F64_CONST: {
    LLVMValueRef v = LLVMConstBitCast(LLVMConstInt(c->i64, rd_fixed64(&L->r), 0), c->f64);
    push_val(L, T_F64, foldable_identity(v) && !is_dead(L) ? opaque(L, v) : v);
    return true;
  }
  default: return false;
  }
}

bool lower_parametric(Lower *L, uint8_t op) {
  switch (op) {
  case OP_DROP: pop_val(L); return true;
  case OP_SELECT:
  case OP_SELECT_T: {
    uint8_t want = T_UNKNOWN;
    if (op == OP_SELECT_T) {
      uint32_t n = rd_u32(&L->r);
      if (n != 1) fail_at(L->m, L->op_off, "invalid result arity");
      want = rd_valtype(&L->r);
    }
    LLVMValueRef cond = pop_typed(L, T_I32);
    Val b = pop_val(L), a = pop_val(L);
    if (want != T_UNKNOWN) {
      if ((a.type != want && a.type != T_UNKNOWN) || (b.type != want && b.type != T_UNKNOWN))
        fail_at(L->m, L->op_off, "type mismatch");
    } else {
      /* Untyped select only takes numeric (and vector) operands. */
      if ((a.type != T_UNKNOWN && !is_numtype(a.type)) || (b.type != T_UNKNOWN && !is_numtype(b.type)))
        fail_at(L->m, L->op_off, "type mismatch");
      if (a.type != b.type && a.type != T_UNKNOWN && b.type != T_UNKNOWN) fail_at(L->m, L->op_off, "type mismatch");
      want = a.type != T_UNKNOWN ? a.type : b.type;
    }
    if (want == T_UNKNOWN) { /* only in unreachable code */
      push_val(L, T_UNKNOWN, NULL);
      return true;
    }
    LLVMTypeRef t = llvm_type(L->c, want);
    LLVMValueRef av = a.v ? a.v : LLVMGetUndef(t), bv = b.v ? b.v : LLVMGetUndef(t);
    LLVMValueRef c = LLVMBuildICmp(L->b, LLVMIntNE, cond, LLVMConstInt(L->c->i32, 0, 0), "");
    push_val(L, want, LLVMBuildSelect(L->b, c, av, bv, ""));
    return true;
  }
  default: return false;
  }
}
