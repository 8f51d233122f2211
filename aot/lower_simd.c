/* aot/lower_simd.c — the fixed-width SIMD instructions (0xfd prefix), lowered to LLVM vector
 * types. A v128 lives on the operand stack as <2 x i64> (c->v128); each instruction bitcasts
 * it to its lane shape (<16 x i8> ... <2 x double>), which costs nothing in machine code.
 *
 * Where LLVM's operation is not Wasm's, the Wasm semantics are spelled out: float min/max
 * (NaN and -0), swizzle (out-of-range index gives 0), shift counts modulo the lane width,
 * saturating narrow and trunc_sat, q15mulr_sat. The rest is table-driven like
 * lower_numeric.c; the x86-64-v2 baseline (SSE4.2) covers every instruction in a few
 * machine instructions, and LLVM picks AVX2 forms when --cpu allows them. */
#include <string.h>

#include "aot/abi.h"
#include "aot/aot.h"

/* Lane shapes. */
enum { S_I8, S_I16, S_I32, S_I64, S_F32, S_F64 };
static const unsigned shape_lanes[] = {16, 8, 4, 2, 4, 2};
static const unsigned shape_bits[] = {8, 16, 32, 64, 32, 64};
static const uint8_t shape_scalar[] = {T_I32, T_I32, T_I32, T_I64, T_F32, T_F64}; /* splat, lanes */

enum {
  K_NONE,
  K_BIN,      /* arg = LLVMOpcode */
  K_FBIN,     /* arg = LLVMOpcode on floats (identity constants kept opaque) */
  K_UN_INTR,  /* arg = index into intr_names */
  K_BIN_INTR,
  K_ABS,
  K_NEG,
  K_FNEG,
  K_ICMP,     /* arg = LLVMIntPredicate */
  K_FCMP,     /* arg = LLVMRealPredicate */
  K_SHIFT,    /* arg = LLVMOpcode; count modulo the lane width */
  K_ALL_TRUE,
  K_BITMASK,
  K_FMIN, K_FMAX, K_PMIN, K_PMAX,
  K_AVGR,
  K_NARROW,   /* arg = 1 signed; shape = the result's */
  K_EXTEND,   /* arg = EXT_* bits; shape = the input's */
  K_EXTMUL,
  K_EXTADD,   /* arg = 1 signed; shape = the input's */
  K_SPLAT,
  K_EXTRACT,  /* arg = 1 sign-extend (i8, i16), 0 zero-extend */
  K_REPLACE,
  K_CONVERT,  /* arg = LLVMOpcode sitofp/uitofp; shape = the result's */
  K_TRUNC_SAT,/* arg = index into intr_names (fptosi.sat, fptoui.sat); shape = the input's */
};
enum { EXT_HIGH = 1, EXT_SIGNED = 2 };

static const char *const intr_names[] = {
    "llvm.ctpop", "llvm.fabs", "llvm.sqrt", "llvm.ceil", "llvm.floor", "llvm.trunc", "llvm.roundeven",
    "llvm.sadd.sat", "llvm.uadd.sat", "llvm.ssub.sat", "llvm.usub.sat",
    "llvm.smin", "llvm.umin", "llvm.smax", "llvm.umax", "llvm.fptosi.sat", "llvm.fptoui.sat",
};
enum {
  I_CTPOP, I_FABS, I_SQRT, I_CEIL, I_FLOOR, I_TRUNC, I_NEAREST, I_SADD_SAT, I_UADD_SAT, I_SSUB_SAT, I_USUB_SAT,
  I_SMIN, I_UMIN, I_SMAX, I_UMAX, I_FPTOSI_SAT, I_FPTOUI_SAT
};

typedef struct SimdOp {
  uint8_t kind, shape;
  int arg;
} SimdOp;

#define OP(k, s, a) {k, s, a}
/* The ten integer comparisons of one shape: eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u. */
#define ICMPS(b, s)                                                                                                  \
  [b] = OP(K_ICMP, s, LLVMIntEQ), [b + 1] = OP(K_ICMP, s, LLVMIntNE), [b + 2] = OP(K_ICMP, s, LLVMIntSLT),           \
  [b + 3] = OP(K_ICMP, s, LLVMIntULT), [b + 4] = OP(K_ICMP, s, LLVMIntSGT), [b + 5] = OP(K_ICMP, s, LLVMIntUGT),      \
  [b + 6] = OP(K_ICMP, s, LLVMIntSLE), [b + 7] = OP(K_ICMP, s, LLVMIntULE), [b + 8] = OP(K_ICMP, s, LLVMIntSGE),      \
  [b + 9] = OP(K_ICMP, s, LLVMIntUGE)
#define FCMPS(b, s)                                                                                                  \
  [b] = OP(K_FCMP, s, LLVMRealOEQ), [b + 1] = OP(K_FCMP, s, LLVMRealUNE), [b + 2] = OP(K_FCMP, s, LLVMRealOLT),      \
  [b + 3] = OP(K_FCMP, s, LLVMRealOGT), [b + 4] = OP(K_FCMP, s, LLVMRealOLE), [b + 5] = OP(K_FCMP, s, LLVMRealOGE)
/* abs neg _ all_true bitmask, at b (i16x8 .. i64x2; i8x16 has popcnt in the gap) */
#define UNOPS(b, s) [b] = OP(K_ABS, s, 0), [b + 1] = OP(K_NEG, s, 0), [b + 3] = OP(K_ALL_TRUE, s, 0), [b + 4] = OP(K_BITMASK, s, 0)
#define SHIFTS(b, s) [b] = OP(K_SHIFT, s, LLVMShl), [b + 1] = OP(K_SHIFT, s, LLVMAShr), [b + 2] = OP(K_SHIFT, s, LLVMLShr)
/* extend_low_s extend_high_s extend_low_u extend_high_u (and extmul in the same order); s = input shape */
#define EXTS(b, k, s)                                                                                                \
  [b] = OP(k, s, EXT_SIGNED), [b + 1] = OP(k, s, EXT_SIGNED | EXT_HIGH), [b + 2] = OP(k, s, 0), [b + 3] = OP(k, s, EXT_HIGH)
#define SATS(b, s)                                                                                                   \
  [b] = OP(K_BIN_INTR, s, I_SADD_SAT), [b + 1] = OP(K_BIN_INTR, s, I_UADD_SAT), [b + 3] = OP(K_BIN_INTR, s, I_SSUB_SAT), \
  [b + 4] = OP(K_BIN_INTR, s, I_USUB_SAT)
#define MINMAX(b, s)                                                                                                 \
  [b] = OP(K_BIN_INTR, s, I_SMIN), [b + 1] = OP(K_BIN_INTR, s, I_UMIN), [b + 2] = OP(K_BIN_INTR, s, I_SMAX),         \
  [b + 3] = OP(K_BIN_INTR, s, I_UMAX)
#define FARITH(b, s)                                                                                                 \
  [b] = OP(K_UN_INTR, s, I_FABS), [b + 1] = OP(K_FNEG, s, 0), [b + 3] = OP(K_UN_INTR, s, I_SQRT),                    \
  [b + 4] = OP(K_FBIN, s, LLVMFAdd), [b + 5] = OP(K_FBIN, s, LLVMFSub), [b + 6] = OP(K_FBIN, s, LLVMFMul),            \
  [b + 7] = OP(K_FBIN, s, LLVMFDiv), [b + 8] = OP(K_FMIN, s, 0), [b + 9] = OP(K_FMAX, s, 0),                          \
  [b + 10] = OP(K_PMIN, s, 0), [b + 11] = OP(K_PMAX, s, 0)

static const SimdOp simdops[256] = {
    [15] = OP(K_SPLAT, S_I8, 0), [16] = OP(K_SPLAT, S_I16, 0), [17] = OP(K_SPLAT, S_I32, 0),
    [18] = OP(K_SPLAT, S_I64, 0), [19] = OP(K_SPLAT, S_F32, 0), [20] = OP(K_SPLAT, S_F64, 0),
    [21] = OP(K_EXTRACT, S_I8, 1), [22] = OP(K_EXTRACT, S_I8, 0), [23] = OP(K_REPLACE, S_I8, 0),
    [24] = OP(K_EXTRACT, S_I16, 1), [25] = OP(K_EXTRACT, S_I16, 0), [26] = OP(K_REPLACE, S_I16, 0),
    [27] = OP(K_EXTRACT, S_I32, 0), [28] = OP(K_REPLACE, S_I32, 0),
    [29] = OP(K_EXTRACT, S_I64, 0), [30] = OP(K_REPLACE, S_I64, 0),
    [31] = OP(K_EXTRACT, S_F32, 0), [32] = OP(K_REPLACE, S_F32, 0),
    [33] = OP(K_EXTRACT, S_F64, 0), [34] = OP(K_REPLACE, S_F64, 0),
    ICMPS(35, S_I8), ICMPS(45, S_I16), ICMPS(55, S_I32), FCMPS(65, S_F32), FCMPS(71, S_F64),
    [78] = OP(K_BIN, S_I64, LLVMAnd), [80] = OP(K_BIN, S_I64, LLVMOr), [81] = OP(K_BIN, S_I64, LLVMXor),
    /* i8x16 */
    [96] = OP(K_ABS, S_I8, 0), [97] = OP(K_NEG, S_I8, 0), [98] = OP(K_UN_INTR, S_I8, I_CTPOP),
    [99] = OP(K_ALL_TRUE, S_I8, 0), [100] = OP(K_BITMASK, S_I8, 0),
    [101] = OP(K_NARROW, S_I8, 1), [102] = OP(K_NARROW, S_I8, 0),
    [103] = OP(K_UN_INTR, S_F32, I_CEIL), [104] = OP(K_UN_INTR, S_F32, I_FLOOR),
    [105] = OP(K_UN_INTR, S_F32, I_TRUNC), [106] = OP(K_UN_INTR, S_F32, I_NEAREST),
    SHIFTS(107, S_I8), [110] = OP(K_BIN, S_I8, LLVMAdd), SATS(111, S_I8), [113] = OP(K_BIN, S_I8, LLVMSub),
    [116] = OP(K_UN_INTR, S_F64, I_CEIL), [117] = OP(K_UN_INTR, S_F64, I_FLOOR),
    MINMAX(118, S_I8), [122] = OP(K_UN_INTR, S_F64, I_TRUNC), [123] = OP(K_AVGR, S_I8, 0),
    [124] = OP(K_EXTADD, S_I8, 1), [125] = OP(K_EXTADD, S_I8, 0),
    [126] = OP(K_EXTADD, S_I16, 1), [127] = OP(K_EXTADD, S_I16, 0),
    /* i16x8 */
    UNOPS(128, S_I16), [133] = OP(K_NARROW, S_I16, 1), [134] = OP(K_NARROW, S_I16, 0),
    EXTS(135, K_EXTEND, S_I8), SHIFTS(139, S_I16), [142] = OP(K_BIN, S_I16, LLVMAdd), SATS(143, S_I16),
    [145] = OP(K_BIN, S_I16, LLVMSub), [148] = OP(K_UN_INTR, S_F64, I_NEAREST),
    [149] = OP(K_BIN, S_I16, LLVMMul), MINMAX(150, S_I16), [155] = OP(K_AVGR, S_I16, 0),
    EXTS(156, K_EXTMUL, S_I8),
    /* i32x4 */
    UNOPS(160, S_I32), EXTS(167, K_EXTEND, S_I16), SHIFTS(171, S_I32), [174] = OP(K_BIN, S_I32, LLVMAdd),
    [177] = OP(K_BIN, S_I32, LLVMSub), [181] = OP(K_BIN, S_I32, LLVMMul), MINMAX(182, S_I32),
    EXTS(188, K_EXTMUL, S_I16),
    /* i64x2 */
    UNOPS(192, S_I64), EXTS(199, K_EXTEND, S_I32), SHIFTS(203, S_I64), [206] = OP(K_BIN, S_I64, LLVMAdd),
    [209] = OP(K_BIN, S_I64, LLVMSub), [213] = OP(K_BIN, S_I64, LLVMMul),
    [214] = OP(K_ICMP, S_I64, LLVMIntEQ), [215] = OP(K_ICMP, S_I64, LLVMIntNE), [216] = OP(K_ICMP, S_I64, LLVMIntSLT),
    [217] = OP(K_ICMP, S_I64, LLVMIntSGT), [218] = OP(K_ICMP, S_I64, LLVMIntSLE), [219] = OP(K_ICMP, S_I64, LLVMIntSGE),
    EXTS(220, K_EXTMUL, S_I32),
    /* floats */
    FARITH(224, S_F32), FARITH(236, S_F64),
    [248] = OP(K_TRUNC_SAT, S_F32, I_FPTOSI_SAT), [249] = OP(K_TRUNC_SAT, S_F32, I_FPTOUI_SAT),
    [250] = OP(K_CONVERT, S_F32, LLVMSIToFP), [251] = OP(K_CONVERT, S_F32, LLVMUIToFP),
    [252] = OP(K_TRUNC_SAT, S_F64, I_FPTOSI_SAT), [253] = OP(K_TRUNC_SAT, S_F64, I_FPTOUI_SAT),
    [254] = OP(K_CONVERT, S_F64, LLVMSIToFP), [255] = OP(K_CONVERT, S_F64, LLVMUIToFP),
};

/* Sub-opcodes with explicit code below. */
enum {
  SIMD_LOAD = 0, SIMD_LOAD_EXT_FIRST = 1, SIMD_LOAD_EXT_LAST = 6, SIMD_LOAD_SPLAT_FIRST = 7, SIMD_LOAD_SPLAT_LAST = 10,
  SIMD_STORE = 11, SIMD_CONST = 12, SIMD_SHUFFLE = 13, SIMD_SWIZZLE = 14, SIMD_NOT = 77, SIMD_ANDNOT = 79,
  SIMD_BITSELECT = 82, SIMD_ANY_TRUE = 83, SIMD_LOAD_LANE_FIRST = 84, SIMD_LOAD_LANE_LAST = 87,
  SIMD_STORE_LANE_FIRST = 88, SIMD_STORE_LANE_LAST = 91, SIMD_LOAD32_ZERO = 92, SIMD_LOAD64_ZERO = 93,
  SIMD_DEMOTE = 94, SIMD_PROMOTE = 95, SIMD_Q15MULR = 130, SIMD_DOT = 186,
};

static LLVMTypeRef lane_type(Compiler *c, unsigned s) {
  switch (s) {
  case S_F32: return c->f32;
  case S_F64: return c->f64;
  default: return LLVMIntTypeInContext(c->llc, shape_bits[s]);
  }
}

static LLVMTypeRef vec(Compiler *c, unsigned s) { return LLVMVectorType(lane_type(c, s), shape_lanes[s]); }

static LLVMTypeRef ivec(Compiler *c, unsigned bits, unsigned lanes) {
  return LLVMVectorType(LLVMIntTypeInContext(c->llc, bits), lanes);
}

static LLVMValueRef pop_as(Lower *L, unsigned s) { return LLVMBuildBitCast(L->b, pop_typed(L, T_V128), vec(L->c, s), ""); }

static void push_v128(Lower *L, LLVMValueRef v) { push_val(L, T_V128, LLVMBuildBitCast(L->b, v, L->c->v128, "")); }

/* An overloaded intrinsic; `types` are its overloaded types in LLVM's order. */
static LLVMValueRef intrinsic(Lower *L, int which, LLVMTypeRef *types, unsigned ntypes, LLVMValueRef *args,
                              unsigned nargs) {
  const char *name = intr_names[which];
  unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
  LLVMValueRef f = LLVMGetIntrinsicDeclaration(L->c->mod, id, types, ntypes);
  return LLVMBuildCall2(L->b, LLVMIntrinsicGetType(L->c->llc, id, types, ntypes), f, args, nargs, "");
}

static LLVMValueRef intr1(Lower *L, int which, LLVMValueRef a) {
  LLVMTypeRef t = LLVMTypeOf(a);
  return intrinsic(L, which, &t, 1, &a, 1);
}

static LLVMValueRef intr2(Lower *L, int which, LLVMValueRef a, LLVMValueRef b) {
  LLVMTypeRef t = LLVMTypeOf(a);
  return intrinsic(L, which, &t, 1, (LLVMValueRef[]){a, b}, 2);
}

/* A constant integer vector of type vt, every lane x. */
static LLVMValueRef splat_const(LLVMTypeRef vt, unsigned long long x) {
  unsigned n = LLVMGetVectorSize(vt);
  LLVMValueRef lanes[16];
  for (unsigned i = 0; i < n; i++) lanes[i] = LLVMConstInt(LLVMGetElementType(vt), x, 0);
  return LLVMConstVector(lanes, n);
}

static LLVMValueRef splat(Lower *L, LLVMValueRef x, unsigned lanes) {
  LLVMTypeRef vt = LLVMVectorType(LLVMTypeOf(x), lanes);
  LLVMValueRef v = LLVMBuildInsertElement(L->b, LLVMGetPoison(vt), x, LLVMConstInt(L->c->i32, 0, 0), "");
  return LLVMBuildShuffleVector(L->b, v, LLVMGetPoison(vt), LLVMConstNull(LLVMVectorType(L->c->i32, lanes)), "");
}

/* A constant shuffle mask: n indices first, first+step, ... */
static LLVMValueRef mask(Compiler *c, unsigned n, unsigned first, unsigned step) {
  LLVMValueRef m[16];
  for (unsigned i = 0; i < n; i++) m[i] = LLVMConstInt(c->i32, first + i * step, 0);
  return LLVMConstVector(m, n);
}

/* Lanes [first, first+n) of v (or of the concatenation v ++ w). */
static LLVMValueRef lanes_of(Lower *L, LLVMValueRef v, LLVMValueRef w, unsigned n, unsigned first, unsigned step) {
  return LLVMBuildShuffleVector(L->b, v, w ? w : LLVMGetPoison(LLVMTypeOf(v)), mask(L->c, n, first, step), "");
}

/* The low or high half of integer vector v (shape s), extended to twice the lane width. */
static LLVMValueRef extend_half(Lower *L, LLVMValueRef v, unsigned s, int how) {
  unsigned n = shape_lanes[s] / 2;
  LLVMValueRef h = lanes_of(L, v, NULL, n, (how & EXT_HIGH) ? n : 0, 1);
  LLVMTypeRef wide = ivec(L->c, 2 * shape_bits[s], n);
  return (how & EXT_SIGNED) ? LLVMBuildSExt(L->b, h, wide, "") : LLVMBuildZExt(L->b, h, wide, "");
}

/* A comparison result: all ones or all zeros per lane, in integer lanes of the operand width. */
static LLVMValueRef mask_lanes(Lower *L, LLVMValueRef cmp, unsigned s) {
  return LLVMBuildSExt(L->b, cmp, ivec(L->c, shape_bits[s], shape_lanes[s]), "");
}

static LLVMValueRef float_bits(Lower *L, LLVMValueRef v, unsigned s) {
  return LLVMBuildBitCast(L->b, v, ivec(L->c, shape_bits[s], shape_lanes[s]), "");
}

/* Wasm fmin/fmax: a NaN operand gives a NaN (quieted: a+b), and -0 < +0; equal operands
 * are combined bitwise (or for min keeps a -0, and for max keeps a +0). */
static LLVMValueRef fminmax(Lower *L, LLVMValueRef a, LLVMValueRef b, unsigned s, bool max) {
  LLVMBuilderRef B = L->b;
  LLVMRealPredicate first = max ? LLVMRealOGT : LLVMRealOLT;
  LLVMValueRef ia = float_bits(L, a, s), ib = float_bits(L, b, s);
  LLVMValueRef same = max ? LLVMBuildAnd(B, ia, ib, "") : LLVMBuildOr(B, ia, ib, "");
  LLVMValueRef r = LLVMBuildBitCast(B, same, vec(L->c, s), "");
  r = LLVMBuildSelect(B, LLVMBuildFCmp(B, first, b, a, ""), b, r, "");
  r = LLVMBuildSelect(B, LLVMBuildFCmp(B, first, a, b, ""), a, r, "");
  return LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealUNO, a, b, ""), LLVMBuildFAdd(B, a, b, ""), r, "");
}

/* x+0, x*1 and the like fold to x in LLVM, which keeps a signalling NaN: Wasm quiets it. */
static LLVMValueRef keep_opaque(Lower *L, LLVMValueRef v) { return LLVMIsConstant(v) && !is_dead(L) ? opaque(L, v) : v; }

static bool lower_table_op(Lower *L, uint32_t sub) {
  if (sub > 255 || simdops[sub].kind == K_NONE) return false;
  Compiler *c = L->c;
  LLVMBuilderRef B = L->b;
  const SimdOp *o = &simdops[sub];
  unsigned s = o->shape, n = shape_lanes[s], bits = shape_bits[s];
  LLVMValueRef a, b, r;
  switch (o->kind) {
  case K_BIN: b = pop_as(L, s), a = pop_as(L, s); r = LLVMBuildBinOp(B, (LLVMOpcode)o->arg, a, b, ""); break;
  case K_FBIN:
    b = keep_opaque(L, pop_as(L, s)), a = keep_opaque(L, pop_as(L, s));
    r = LLVMBuildBinOp(B, (LLVMOpcode)o->arg, a, b, "");
    break;
  case K_UN_INTR: r = intr1(L, o->arg, pop_as(L, s)); break;
  case K_BIN_INTR: b = pop_as(L, s), a = pop_as(L, s); r = intr2(L, o->arg, a, b); break;
  case K_ABS: {
    a = pop_as(L, s);
    const char *name = "llvm.abs";
    LLVMTypeRef t = LLVMTypeOf(a);
    unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
    r = LLVMBuildCall2(B, LLVMIntrinsicGetType(c->llc, id, &t, 1), LLVMGetIntrinsicDeclaration(c->mod, id, &t, 1),
                       (LLVMValueRef[]){a, LLVMConstInt(c->i1, 0, 0)}, 2, ""); /* abs(INT_MIN) = INT_MIN */
    break;
  }
  case K_NEG: a = pop_as(L, s); r = LLVMBuildSub(B, LLVMConstNull(LLVMTypeOf(a)), a, ""); break;
  case K_FNEG: r = LLVMBuildFNeg(B, pop_as(L, s), ""); break;
  case K_ICMP:
    b = pop_as(L, s), a = pop_as(L, s);
    r = mask_lanes(L, LLVMBuildICmp(B, (LLVMIntPredicate)o->arg, a, b, ""), s);
    break;
  case K_FCMP:
    b = pop_as(L, s), a = pop_as(L, s);
    r = mask_lanes(L, LLVMBuildFCmp(B, (LLVMRealPredicate)o->arg, a, b, ""), s);
    break;
  case K_SHIFT: {
    LLVMValueRef count = pop_typed(L, T_I32);
    a = pop_as(L, s);
    count = LLVMBuildAnd(B, count, LLVMConstInt(c->i32, bits - 1, 0), "");
    count = LLVMBuildIntCast2(B, count, lane_type(c, s), 0, "");
    r = LLVMBuildBinOp(B, (LLVMOpcode)o->arg, a, splat(L, count, n), "");
    break;
  }
  case K_ALL_TRUE:
  case K_BITMASK: {
    a = pop_as(L, s);
    LLVMValueRef zero = LLVMConstNull(LLVMTypeOf(a));
    LLVMValueRef lanes = o->kind == K_ALL_TRUE ? LLVMBuildICmp(B, LLVMIntNE, a, zero, "")
                                               : LLVMBuildICmp(B, LLVMIntSLT, a, zero, "");
    LLVMValueRef m = LLVMBuildBitCast(B, lanes, LLVMIntTypeInContext(c->llc, n), "");
    if (o->kind == K_ALL_TRUE) m = LLVMBuildICmp(B, LLVMIntEQ, m, LLVMConstAllOnes(LLVMTypeOf(m)), "");
    push_val(L, T_I32, LLVMBuildZExt(B, m, c->i32, ""));
    return true;
  }
  case K_FMIN: case K_FMAX:
    b = pop_as(L, s), a = pop_as(L, s);
    r = fminmax(L, a, b, s, o->kind == K_FMAX);
    break;
  case K_PMIN: /* b < a ? b : a */
    b = pop_as(L, s), a = pop_as(L, s);
    r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, b, a, ""), b, a, "");
    break;
  case K_PMAX: /* a < b ? b : a */
    b = pop_as(L, s), a = pop_as(L, s);
    r = LLVMBuildSelect(B, LLVMBuildFCmp(B, LLVMRealOLT, a, b, ""), b, a, "");
    break;
  case K_AVGR: { /* (a + b + 1) >> 1 without overflow: pavgb/pavgw */
    b = pop_as(L, s), a = pop_as(L, s);
    LLVMTypeRef wide = ivec(c, 2 * bits, n);
    LLVMValueRef sum = LLVMBuildAdd(B, LLVMBuildZExt(B, a, wide, ""), LLVMBuildZExt(B, b, wide, ""), "");
    sum = LLVMBuildAdd(B, sum, splat_const(wide, 1), "");
    r = LLVMBuildTrunc(B, LLVMBuildLShr(B, sum, splat_const(wide, 1), ""), vec(c, s), "");
    break;
  }
  case K_NARROW: { /* both inputs' lanes, clamped to the result's range: packss/packus */
    unsigned in = s + 1;
    b = pop_as(L, in), a = pop_as(L, in);
    LLVMValueRef both = lanes_of(L, a, b, n, 0, 1);
    LLVMTypeRef wt = LLVMTypeOf(both);
    unsigned long long lo = o->arg ? -(1ull << (bits - 1)) : 0;
    unsigned long long hi = o->arg ? (1ull << (bits - 1)) - 1 : (1ull << bits) - 1;
    both = intr2(L, I_SMAX, both, splat_const(wt, lo));
    both = intr2(L, I_SMIN, both, splat_const(wt, hi));
    r = LLVMBuildTrunc(B, both, vec(c, s), "");
    break;
  }
  case K_EXTEND: r = extend_half(L, pop_as(L, s), s, o->arg); break;
  case K_EXTMUL:
    b = extend_half(L, pop_as(L, s), s, o->arg), a = extend_half(L, pop_as(L, s), s, o->arg);
    r = LLVMBuildMul(B, a, b, "");
    break;
  case K_EXTADD: { /* pairs of adjacent lanes, extended and added */
    a = pop_as(L, s);
    LLVMTypeRef wide = ivec(c, 2 * bits, n);
    LLVMValueRef w = o->arg ? LLVMBuildSExt(B, a, wide, "") : LLVMBuildZExt(B, a, wide, "");
    r = LLVMBuildAdd(B, lanes_of(L, w, NULL, n / 2, 0, 2), lanes_of(L, w, NULL, n / 2, 1, 2), "");
    break;
  }
  case K_SPLAT: {
    LLVMValueRef x = pop_typed(L, shape_scalar[s]);
    if (bits < 32) x = LLVMBuildTrunc(B, x, lane_type(c, s), "");
    r = splat(L, x, n);
    break;
  }
  case K_EXTRACT:
  case K_REPLACE: {
    uint8_t lane = rd_u8(&L->r);
    if (lane >= n) fail_at(L->m, L->op_off, "invalid lane index");
    LLVMValueRef idx = LLVMConstInt(c->i32, lane, 0);
    if (o->kind == K_EXTRACT) {
      LLVMValueRef x = LLVMBuildExtractElement(B, pop_as(L, s), idx, "");
      if (bits < 32) x = o->arg ? LLVMBuildSExt(B, x, c->i32, "") : LLVMBuildZExt(B, x, c->i32, "");
      push_val(L, shape_scalar[s], x);
      return true;
    }
    LLVMValueRef x = pop_typed(L, shape_scalar[s]);
    if (bits < 32) x = LLVMBuildTrunc(B, x, lane_type(c, s), "");
    r = LLVMBuildInsertElement(B, pop_as(L, s), x, idx, "");
    break;
  }
  case K_CONVERT:
    if (s == S_F32) {
      r = LLVMBuildCast(B, (LLVMOpcode)o->arg, pop_as(L, S_I32), vec(c, S_F32), "");
    } else { /* the low two i32 lanes, exactly */
      a = lanes_of(L, pop_as(L, S_I32), NULL, 2, 0, 1);
      r = LLVMBuildCast(B, (LLVMOpcode)o->arg, a, vec(c, S_F64), "");
    }
    break;
  case K_TRUNC_SAT: { /* NaN gives 0, out of range the nearest bound: llvm.fpto[su]i.sat */
    a = pop_as(L, s);
    LLVMTypeRef types[2] = {ivec(c, 32, n), LLVMTypeOf(a)};
    r = intrinsic(L, o->arg, types, 2, &a, 1);
    if (s == S_F64) r = lanes_of(L, r, LLVMConstNull(types[0]), 4, 0, 1); /* the _zero forms */
    break;
  }
  default: return false;
  }
  push_v128(L, r);
  return true;
}

/* ---- memory ---- */

/* A load from linear memory; a dropped value still traps (lower_memory.c does the same). */
static LLVMValueRef simd_load(Lower *L, LLVMTypeRef t, LLVMValueRef addr, uint32_t offset, unsigned size) {
  LLVMValueRef v = LLVMBuildLoad2(L->b, t, mem_address(L, addr, offset, size), "");
  LLVMSetAlignment(v, 1);
  set_tbaa(L->c, v, TBAA_MEMORY);
  if (L->r.p < L->r.end && *L->r.p == OP_DROP) LLVMSetVolatile(v, 1);
  return v;
}

static void simd_store(Lower *L, LLVMValueRef v, LLVMValueRef addr, uint32_t offset, unsigned size) {
  LLVMValueRef st = LLVMBuildStore(L->b, v, mem_address(L, addr, offset, size));
  LLVMSetAlignment(st, 1);
  set_tbaa(L->c, st, TBAA_MEMORY);
}

static bool lower_simd_memory(Lower *L, uint32_t sub) {
  Compiler *c = L->c;
  LLVMBuilderRef B = L->b;
  uint32_t offset;
  if (sub == SIMD_LOAD || sub == SIMD_STORE) {
    read_memarg(L, 16, &offset);
    if (sub == SIMD_STORE) {
      LLVMValueRef v = pop_typed(L, T_V128);
      simd_store(L, v, pop_typed(L, T_I32), offset, 16);
    } else {
      push_val(L, T_V128, simd_load(L, c->v128, pop_typed(L, T_I32), offset, 16));
    }
    return true;
  }
  if (sub >= SIMD_LOAD_EXT_FIRST && sub <= SIMD_LOAD_EXT_LAST) { /* 8x8, 16x4, 32x2; _s then _u */
    unsigned s = (sub - SIMD_LOAD_EXT_FIRST) / 2, n = shape_lanes[s] / 2;
    read_memarg(L, 8, &offset);
    LLVMValueRef v = simd_load(L, LLVMVectorType(lane_type(c, s), n), pop_typed(L, T_I32), offset, 8);
    LLVMTypeRef wide = ivec(c, 2 * shape_bits[s], n);
    push_v128(L, (sub - SIMD_LOAD_EXT_FIRST) % 2 == 0 ? LLVMBuildSExt(B, v, wide, "") : LLVMBuildZExt(B, v, wide, ""));
    return true;
  }
  if (sub >= SIMD_LOAD_SPLAT_FIRST && sub <= SIMD_LOAD_SPLAT_LAST) {
    unsigned s = sub - SIMD_LOAD_SPLAT_FIRST, size = shape_bits[s] / 8;
    read_memarg(L, size, &offset);
    push_v128(L, splat(L, simd_load(L, lane_type(c, s), pop_typed(L, T_I32), offset, size), shape_lanes[s]));
    return true;
  }
  if (sub == SIMD_LOAD32_ZERO || sub == SIMD_LOAD64_ZERO) {
    unsigned s = sub == SIMD_LOAD32_ZERO ? S_I32 : S_I64, size = shape_bits[s] / 8;
    read_memarg(L, size, &offset);
    LLVMValueRef x = simd_load(L, lane_type(c, s), pop_typed(L, T_I32), offset, size);
    push_v128(L, LLVMBuildInsertElement(B, LLVMConstNull(vec(c, s)), x, LLVMConstInt(c->i32, 0, 0), ""));
    return true;
  }
  if (sub >= SIMD_LOAD_LANE_FIRST && sub <= SIMD_STORE_LANE_LAST) {
    bool store = sub >= SIMD_STORE_LANE_FIRST;
    unsigned s = (sub - SIMD_LOAD_LANE_FIRST) % 4, size = shape_bits[s] / 8;
    read_memarg(L, size, &offset);
    uint8_t lane = rd_u8(&L->r);
    if (lane >= shape_lanes[s]) fail_at(L->m, L->op_off, "invalid lane index");
    LLVMValueRef idx = LLVMConstInt(c->i32, lane, 0);
    LLVMValueRef v = pop_as(L, s), addr = pop_typed(L, T_I32);
    if (store) {
      simd_store(L, LLVMBuildExtractElement(B, v, idx, ""), addr, offset, size);
    } else {
      LLVMValueRef x = simd_load(L, lane_type(c, s), addr, offset, size);
      push_v128(L, LLVMBuildInsertElement(B, v, x, idx, ""));
    }
    return true;
  }
  return false;
}

/* ---- the rest: constants, shuffles, bitwise, and the odd ones out ---- */

static bool lower_simd_other(Lower *L, uint32_t sub) {
  Compiler *c = L->c;
  LLVMBuilderRef B = L->b;
  LLVMValueRef a, b;
  switch (sub) {
  case SIMD_CONST: {
    uint64_t lo = rd_fixed64(&L->r), hi = rd_fixed64(&L->r);
    push_val(L, T_V128, LLVMConstVector((LLVMValueRef[]){LLVMConstInt(c->i64, lo, 0), LLVMConstInt(c->i64, hi, 0)}, 2));
    return true;
  }
  case SIMD_SHUFFLE: {
    LLVMValueRef m[16];
    for (int i = 0; i < 16; i++) {
      uint8_t lane = rd_u8(&L->r);
      if (lane >= 32) fail_at(L->m, L->op_off, "invalid lane index");
      m[i] = LLVMConstInt(c->i32, lane, 0);
    }
    b = pop_as(L, S_I8), a = pop_as(L, S_I8);
    push_v128(L, LLVMBuildShuffleVector(B, a, b, LLVMConstVector(m, 16), ""));
    return true;
  }
  case SIMD_SWIZZLE: {
    /* Lane i is a[b[i]], 0 where b[i] >= 16. Written as a build_vector of variable extracts
     * (poison for b[i] >= 16, masked afterwards), which x86's instruction selection turns
     * into one pshufb where the target has SSSE3, and into scalar code where not. */
    b = pop_as(L, S_I8), a = pop_as(L, S_I8);
    LLVMValueRef r = LLVMGetPoison(vec(c, S_I8));
    for (unsigned i = 0; i < 16; i++) {
      LLVMValueRef idx = LLVMBuildExtractElement(B, b, LLVMConstInt(c->i32, i, 0), "");
      r = LLVMBuildInsertElement(B, r, LLVMBuildExtractElement(B, a, idx, ""), LLVMConstInt(c->i32, i, 0), "");
    }
    LLVMValueRef in_range = LLVMBuildICmp(B, LLVMIntULT, b, splat_const(vec(c, S_I8), 16), "");
    push_v128(L, LLVMBuildSelect(B, in_range, r, LLVMConstNull(vec(c, S_I8)), ""));
    return true;
  }
  case SIMD_NOT: push_val(L, T_V128, LLVMBuildNot(B, pop_typed(L, T_V128), "")); return true;
  case SIMD_ANDNOT:
    b = pop_typed(L, T_V128), a = pop_typed(L, T_V128);
    push_val(L, T_V128, LLVMBuildAnd(B, a, LLVMBuildNot(B, b, ""), ""));
    return true;
  case SIMD_BITSELECT: { /* (v1 & c) | (v2 & ~c) */
    LLVMValueRef m = pop_typed(L, T_V128);
    b = pop_typed(L, T_V128), a = pop_typed(L, T_V128);
    push_val(L, T_V128, LLVMBuildOr(B, LLVMBuildAnd(B, a, m, ""), LLVMBuildAnd(B, b, LLVMBuildNot(B, m, ""), ""), ""));
    return true;
  }
  case SIMD_ANY_TRUE: {
    a = LLVMBuildBitCast(B, pop_typed(L, T_V128), LLVMIntTypeInContext(c->llc, 128), "");
    LLVMValueRef nz = LLVMBuildICmp(B, LLVMIntNE, a, LLVMConstNull(LLVMTypeOf(a)), "");
    push_val(L, T_I32, LLVMBuildZExt(B, nz, c->i32, ""));
    return true;
  }
  case SIMD_DEMOTE: /* f32x4.demote_f64x2_zero */
    a = LLVMBuildFPTrunc(B, pop_as(L, S_F64), LLVMVectorType(c->f32, 2), "");
    push_v128(L, lanes_of(L, a, LLVMConstNull(LLVMTypeOf(a)), 4, 0, 1));
    return true;
  case SIMD_PROMOTE: /* f64x2.promote_low_f32x4 */
    a = lanes_of(L, pop_as(L, S_F32), NULL, 2, 0, 1);
    push_v128(L, LLVMBuildFPExt(B, a, vec(c, S_F64), ""));
    return true;
  case SIMD_Q15MULR: { /* (a*b + 0x4000) >> 15, saturated: only -32768 * -32768 overflows */
    LLVMTypeRef wide = ivec(c, 32, 8);
    b = LLVMBuildSExt(B, pop_as(L, S_I16), wide, ""), a = LLVMBuildSExt(B, pop_as(L, S_I16), wide, "");
    LLVMValueRef p = LLVMBuildAdd(B, LLVMBuildMul(B, a, b, ""), splat_const(wide, 0x4000), "");
    p = intr2(L, I_SMIN, LLVMBuildAShr(B, p, splat_const(wide, 15), ""), splat_const(wide, 0x7fff));
    push_v128(L, LLVMBuildTrunc(B, p, vec(c, S_I16), ""));
    return true;
  }
  case SIMD_DOT: { /* i32x4.dot_i16x8_s: pmaddwd */
    LLVMTypeRef wide = ivec(c, 32, 8);
    b = LLVMBuildSExt(B, pop_as(L, S_I16), wide, ""), a = LLVMBuildSExt(B, pop_as(L, S_I16), wide, "");
    LLVMValueRef p = LLVMBuildMul(B, a, b, "");
    push_v128(L, LLVMBuildAdd(B, lanes_of(L, p, NULL, 4, 0, 2), lanes_of(L, p, NULL, 4, 1, 2), ""));
    return true;
  }
  default: return false;
  }
}

bool lower_simd(Lower *L, uint32_t sub) {
  return lower_simd_memory(L, sub) || lower_simd_other(L, sub) || lower_table_op(L, sub);
}
