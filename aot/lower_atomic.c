/* aot/lower_atomic.c — the 0xfe prefix of the threads proposal: atomic loads, stores,
 * read-modify-write and cmpxchg at every width, atomic.fence, and memory.atomic.wait32/64
 * and notify (calls into the runtime, abi.h §8).
 *
 * Every access is an LLVM atomic, sequentially consistent, at its natural alignment; an
 * effective address that is not a multiple of the access size traps "unaligned atomic"
 * before the access, and out of bounds is the guard-page fault as for plain loads. Atomics
 * are valid on unshared memories too and behave the same there. */
#include "aot/abi.h"
#include "aot/aot.h"

enum {
  ATOMIC_NOTIFY = 0x00,
  ATOMIC_WAIT32 = 0x01,
  ATOMIC_WAIT64 = 0x02,
  ATOMIC_FENCE = 0x03,
  ATOMIC_LOAD_FIRST = 0x10,  /* i32.atomic.load .. i64.atomic.load32_u */
  ATOMIC_STORE_FIRST = 0x17, /* i32.atomic.store .. i64.atomic.store32 */
  ATOMIC_RMW_FIRST = 0x1e,   /* seven groups of seven: add sub and or xor xchg cmpxchg */
  ATOMIC_LAST = 0x4e,
};

/* The seven shapes each family repeats, in opcode order. */
static const struct {
  uint8_t type;  /* value type on the stack */
  uint8_t bytes; /* access size; narrower than the type: zero-extended */
} shapes[7] = {{T_I32, 4}, {T_I64, 8}, {T_I32, 1}, {T_I32, 2}, {T_I64, 1}, {T_I64, 2}, {T_I64, 4}};

static const LLVMAtomicRMWBinOp rmw_ops[6] = {LLVMAtomicRMWBinOpAdd, LLVMAtomicRMWBinOpSub, LLVMAtomicRMWBinOpAnd,
                                              LLVMAtomicRMWBinOpOr,  LLVMAtomicRMWBinOpXor, LLVMAtomicRMWBinOpXchg};

#define SEQ_CST LLVMAtomicOrderingSequentiallyConsistent

/* The threads proposal wants the alignment immediate to be exactly natural. With multi-memory,
 * bit 6 of it names the memory (left in L->memarg_mem, as read_memarg does). */
static uint32_t read_atomic_memarg(Lower *L, unsigned size) {
  uint32_t align = rd_u32(&L->r);
  L->memarg_mem = 0;
  if ((align & 0x40) && feature_enabled(FEAT_MULTI_MEMORY)) L->memarg_mem = rd_u32(&L->r), align &= ~0x40u;
  uint32_t offset = rd_u32(&L->r);
  check_memory(L, L->memarg_mem);
  if (align >= 32 || (1ull << align) != size) fail_at(L->m, L->op_off, "alignment must be exactly natural for atomics");
  return offset;
}

/* The checked pointer for an access of size bytes at addr + offset. */
static LLVMValueRef atomic_address(Lower *L, LLVMValueRef addr, uint32_t offset, unsigned size) {
  Compiler *c = L->c;
  LLVMValueRef ea = mem_offset(L, addr, offset);
  if (size > 1) {
    LLVMValueRef low = LLVMBuildAnd(L->b, ea, LLVMConstInt(c->i64, size - 1, 0), "");
    trap_if(L, LLVMBuildICmp(L->b, LLVMIntNE, low, LLVMConstInt(c->i64, 0, 0), ""), KILN_TRAP_UNALIGNED_ATOMIC);
  }
  return mem_at(L, ea, size);
}

static LLVMValueRef widen(Lower *L, LLVMValueRef v, uint8_t type) {
  LLVMTypeRef vt = llvm_type(L->c, type);
  return LLVMTypeOf(v) == vt ? v : LLVMBuildZExt(L->b, v, vt, "");
}

static LLVMValueRef narrow(Lower *L, LLVMValueRef v, LLVMTypeRef at) {
  return LLVMTypeOf(v) == at ? v : LLVMBuildTrunc(L->b, v, at, "");
}

static void lower_wait_notify(Lower *L, uint32_t sub) {
  Compiler *c = L->c;
  unsigned size = sub == ATOMIC_WAIT64 ? 8 : 4;
  uint32_t offset = read_atomic_memarg(L, size);
  LLVMValueRef mem = LLVMConstInt(c->i32, L->memarg_mem, 0), r;
  if (sub == ATOMIC_NOTIFY) {
    LLVMValueRef count = pop_typed(L, T_I32), addr = pop_typed(L, T_I32);
    r = call_rt(L, "kiln_rt_atomic_notify", c->i32, 4, (LLVMValueRef[]){L->ctx, mem, mem_offset(L, addr, offset), count});
  } else {
    LLVMValueRef timeout = pop_typed(L, T_I64);
    LLVMValueRef expected = pop_typed(L, sub == ATOMIC_WAIT64 ? T_I64 : T_I32);
    LLVMValueRef addr = pop_typed(L, T_I32);
    if (sub == ATOMIC_WAIT32) expected = LLVMBuildZExt(L->b, expected, c->i64, "");
    LLVMValueRef args[6] = {L->ctx, mem, mem_offset(L, addr, offset), expected, timeout, LLVMConstInt(c->i32, size, 0)};
    r = call_rt(L, "kiln_rt_atomic_wait", c->i32, 6, args);
  }
  push_val(L, T_I32, r);
}

bool lower_atomic(Lower *L, uint32_t sub) {
  Compiler *c = L->c;
  if (sub <= ATOMIC_WAIT64) {
    lower_wait_notify(L, sub);
    return true;
  }
  if (sub == ATOMIC_FENCE) {
    if (rd_u8(&L->r) != 0) {
      L->r.p--;
      rd_fail(&L->r, "zero byte expected");
    }
    LLVMBuildFence(L->b, SEQ_CST, 0, "");
    return true;
  }
  if (sub < ATOMIC_LOAD_FIRST || sub > ATOMIC_LAST) return false;
  unsigned k = (sub - ATOMIC_LOAD_FIRST) % 7;
  uint8_t type = shapes[k].type;
  unsigned size = shapes[k].bytes;
  LLVMTypeRef at = LLVMIntTypeInContext(c->llc, size * 8);
  uint32_t offset = read_atomic_memarg(L, size);
  if (sub < ATOMIC_STORE_FIRST) {
    LLVMValueRef addr = pop_typed(L, T_I32);
    LLVMValueRef v = LLVMBuildLoad2(L->b, at, atomic_address(L, addr, offset, size), "");
    LLVMSetOrdering(v, SEQ_CST);
    LLVMSetAlignment(v, size);
    set_tbaa(c, v, TBAA_MEMORY);
    push_val(L, type, widen(L, v, type));
  } else if (sub < ATOMIC_RMW_FIRST) {
    LLVMValueRef v = pop_typed(L, type), addr = pop_typed(L, T_I32);
    LLVMValueRef st = LLVMBuildStore(L->b, narrow(L, v, at), atomic_address(L, addr, offset, size));
    LLVMSetOrdering(st, SEQ_CST);
    LLVMSetAlignment(st, size);
    set_tbaa(c, st, TBAA_MEMORY);
  } else if (sub < ATOMIC_RMW_FIRST + 6 * 7) {
    LLVMValueRef v = pop_typed(L, type), addr = pop_typed(L, T_I32);
    LLVMValueRef p = atomic_address(L, addr, offset, size);
    LLVMValueRef old = LLVMBuildAtomicRMW(L->b, rmw_ops[(sub - ATOMIC_RMW_FIRST) / 7], p, narrow(L, v, at), SEQ_CST, 0);
    LLVMSetAlignment(old, size);
    push_val(L, type, widen(L, old, type));
  } else { /* cmpxchg: a narrow one compares with the expected value wrapped to its width */
    LLVMValueRef repl = pop_typed(L, type), expected = pop_typed(L, type), addr = pop_typed(L, T_I32);
    LLVMValueRef p = atomic_address(L, addr, offset, size);
    LLVMValueRef pair = LLVMBuildAtomicCmpXchg(L->b, p, narrow(L, expected, at), narrow(L, repl, at), SEQ_CST, SEQ_CST, 0);
    LLVMSetAlignment(pair, size);
    push_val(L, type, widen(L, LLVMBuildExtractValue(L->b, pair, 0, ""), type));
  }
  return true;
}
