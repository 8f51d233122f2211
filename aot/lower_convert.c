/* aot/lower_convert.c — conversions 0xa7..0xc4 (wrap, extend, trunc with its traps,
 * convert, demote/promote, reinterpret, sign extension) and trunc_sat (0xfc 0..7). */
#include "aot/abi.h"
#include "aot/aot.h"

typedef struct Conv {
  uint8_t in, out;
  uint8_t kind;
  bool sign;
  uint8_t bits; /* extendN_s: N */
} Conv;

enum { C_NONE, C_WRAP, C_EXTEND, C_TRUNC, C_CONVERT, C_DEMOTE, C_PROMOTE, C_REINTERPRET, C_EXTEND_N };

static const Conv convs[256] = {
    [0xa7] = {T_I64, T_I32, C_WRAP, 0, 0},
    [0xa8] = {T_F32, T_I32, C_TRUNC, 1, 0}, [0xa9] = {T_F32, T_I32, C_TRUNC, 0, 0},
    [0xaa] = {T_F64, T_I32, C_TRUNC, 1, 0}, [0xab] = {T_F64, T_I32, C_TRUNC, 0, 0},
    [0xac] = {T_I32, T_I64, C_EXTEND, 1, 0}, [0xad] = {T_I32, T_I64, C_EXTEND, 0, 0},
    [0xae] = {T_F32, T_I64, C_TRUNC, 1, 0}, [0xaf] = {T_F32, T_I64, C_TRUNC, 0, 0},
    [0xb0] = {T_F64, T_I64, C_TRUNC, 1, 0}, [0xb1] = {T_F64, T_I64, C_TRUNC, 0, 0},
    [0xb2] = {T_I32, T_F32, C_CONVERT, 1, 0}, [0xb3] = {T_I32, T_F32, C_CONVERT, 0, 0},
    [0xb4] = {T_I64, T_F32, C_CONVERT, 1, 0}, [0xb5] = {T_I64, T_F32, C_CONVERT, 0, 0},
    [0xb6] = {T_F64, T_F32, C_DEMOTE, 0, 0},
    [0xb7] = {T_I32, T_F64, C_CONVERT, 1, 0}, [0xb8] = {T_I32, T_F64, C_CONVERT, 0, 0},
    [0xb9] = {T_I64, T_F64, C_CONVERT, 1, 0}, [0xba] = {T_I64, T_F64, C_CONVERT, 0, 0},
    [0xbb] = {T_F32, T_F64, C_PROMOTE, 0, 0},
    [0xbc] = {T_F32, T_I32, C_REINTERPRET, 0, 0}, [0xbd] = {T_F64, T_I64, C_REINTERPRET, 0, 0},
    [0xbe] = {T_I32, T_F32, C_REINTERPRET, 0, 0}, [0xbf] = {T_I64, T_F64, C_REINTERPRET, 0, 0},
    [0xc0] = {T_I32, T_I32, C_EXTEND_N, 1, 8}, [0xc1] = {T_I32, T_I32, C_EXTEND_N, 1, 16},
    [0xc2] = {T_I64, T_I64, C_EXTEND_N, 1, 8}, [0xc3] = {T_I64, T_I64, C_EXTEND_N, 1, 16},
    [0xc4] = {T_I64, T_I64, C_EXTEND_N, 1, 32},
};

/* The open interval (lo, hi) of floats that truncate into the integer type; both bounds
 * are exactly representable, so the comparisons are exact. */
static void trunc_bounds(uint8_t out, bool sign, uint8_t in, double *lo, double *hi) {
  if (out == T_I32) {
    *hi = sign ? 2147483648.0 : 4294967296.0;
    /* f32 cannot hold -2147483649, but -2147483648 - 1 ulp (-2147483904) is outside too. */
    *lo = sign ? (in == T_F32 ? -2147483904.0 : -2147483649.0) : -1.0;
  } else {
    *hi = sign ? 9223372036854775808.0 : 18446744073709551616.0;
    *lo = sign ? (in == T_F32 ? -9223373136366403584.0 : -9223372036854777856.0) : -1.0;
  }
}

static LLVMValueRef trunc_trapping(Lower *L, const Conv *c, LLVMValueRef x) {
  LLVMTypeRef ft = llvm_type(L->c, c->in), it = llvm_type(L->c, c->out);
  double lo, hi;
  trunc_bounds(c->out, c->sign, c->in, &lo, &hi);
  trap_if(L, LLVMBuildFCmp(L->b, LLVMRealUNO, x, x, ""), KILN_TRAP_INVALID_CONVERSION);
  LLVMValueRef in = LLVMBuildAnd(L->b, LLVMBuildFCmp(L->b, LLVMRealOGT, x, LLVMConstReal(ft, lo), ""),
                                 LLVMBuildFCmp(L->b, LLVMRealOLT, x, LLVMConstReal(ft, hi), ""), "");
  trap_if(L, LLVMBuildNot(L->b, in, ""), KILN_TRAP_INT_OVERFLOW);
  return c->sign ? LLVMBuildFPToSI(L->b, x, it, "") : LLVMBuildFPToUI(L->b, x, it, "");
}

bool lower_convert(Lower *L, uint8_t op) {
  if (op < OP_CONVERT_FIRST || op > OP_CONVERT_LAST) return false;
  const Conv *c = &convs[op];
  LLVMValueRef x = pop_typed(L, c->in);
  LLVMTypeRef ot = llvm_type(L->c, c->out);
  LLVMBuilderRef B = L->b;
  LLVMValueRef r;
  switch (c->kind) {
  case C_WRAP: r = LLVMBuildTrunc(B, x, ot, ""); break;
  case C_EXTEND: r = c->sign ? LLVMBuildSExt(B, x, ot, "") : LLVMBuildZExt(B, x, ot, ""); break;
  case C_TRUNC: r = trunc_trapping(L, c, x); break;
  case C_CONVERT: r = c->sign ? LLVMBuildSIToFP(B, x, ot, "") : LLVMBuildUIToFP(B, x, ot, ""); break;
  case C_DEMOTE: /* demote(promote(x)) folds to x in LLVM, keeping a signalling NaN */
    if (LLVMIsAFPExtInst(x)) x = opaque(L, x);
    r = LLVMBuildFPTrunc(B, x, ot, "");
    break;
  case C_PROMOTE: r = LLVMBuildFPExt(B, x, ot, ""); break;
  case C_REINTERPRET: r = LLVMBuildBitCast(B, x, ot, ""); break;
  case C_EXTEND_N:
    r = LLVMBuildSExt(B, LLVMBuildTrunc(B, x, LLVMIntTypeInContext(L->c->llc, c->bits), ""), ot, "");
    break;
  default: return false;
  }
  push_val(L, c->out, r);
  return true;
}

/* i32.trunc_sat_f32_s .. i64.trunc_sat_f64_u: LLVM's fpto[su]i.sat are exactly the spec's
 * semantics (NaN -> 0, saturate at the bounds). */
bool lower_trunc_sat(Lower *L, uint32_t sub) {
  if (sub > FC_I64_TRUNC_SAT_F64_U) return false;
  uint8_t out = sub < 4 ? T_I32 : T_I64;
  uint8_t in = (sub & 2) ? T_F64 : T_F32;
  bool sign = !(sub & 1);
  LLVMValueRef x = pop_typed(L, in);
  LLVMTypeRef tys[2] = {llvm_type(L->c, out), llvm_type(L->c, in)};
  const char *name = sign ? "llvm.fptosi.sat" : "llvm.fptoui.sat";
  unsigned id = LLVMLookupIntrinsicID(name, 15);
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(L->c->mod, id, tys, 2);
  push_val(L, out, LLVMBuildCall2(L->b, LLVMIntrinsicGetType(L->c->llc, id, tys, 2), f, &x, 1, ""));
  return true;
}
