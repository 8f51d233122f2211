/* aot/lower_memory.c — loads, stores, memory.size/grow and the bulk memory instructions.
 *
 * The effective address is base + zext(i32 addr) + u32 offset: with the 8 GiB reservation
 * of abi.h it can never leave the region, so by default there is no check at all. With
 * --bounds-checks the end of the access is compared with memories[k]->bytes.
 *
 * Multi-memory: every memory has a reservation of its own. Memory 0's base is ctx->mem0, as
 * before; the base of memory k > 0 is memories[k]->base, loaded once per function in the
 * entry block (it never moves), so an access to any memory is one GEP from a value LLVM
 * keeps in a register or a spill slot. */
#include <stddef.h>

#include "aot/abi.h"
#include "aot/aot.h"

typedef struct MemOp {
  uint8_t type;  /* value type on the stack */
  uint8_t bytes; /* access size */
  int8_t sign;   /* narrow loads: 1 signed, 0 unsigned */
} MemOp;

static const MemOp memops[] = {
    /* 0x28 */ {T_I32, 4, 0}, {T_I64, 8, 0}, {T_F32, 4, 0}, {T_F64, 8, 0},
    /* 0x2c */ {T_I32, 1, 1}, {T_I32, 1, 0}, {T_I32, 2, 1}, {T_I32, 2, 0},
    /* 0x30 */ {T_I64, 1, 1}, {T_I64, 1, 0}, {T_I64, 2, 1}, {T_I64, 2, 0}, {T_I64, 4, 1}, {T_I64, 4, 0},
    /* 0x36 */ {T_I32, 4, 0}, {T_I64, 8, 0}, {T_F32, 4, 0}, {T_F64, 8, 0},
    /* 0x3a */ {T_I32, 1, 0}, {T_I32, 2, 0}, {T_I64, 1, 0}, {T_I64, 2, 0}, {T_I64, 4, 0},
};

/* ctx->memories[k], the kiln_memory (its pointer never changes), loaded where the builder is. */
static LLVMValueRef mem_object(Lower *L, uint32_t k) {
  Compiler *c = L->c;
  if (!L->memories) L->memories = ctx_field(L, offsetof(kiln_instance, memories), c->ptr, true);
  LLVMValueRef p = LLVMBuildGEP2(L->b, c->i8, L->memories, (LLVMValueRef[]){LLVMConstInt(c->i64, 8ull * k, 0)}, 1, "");
  return load_invariant(L, c->ptr, p);
}

static LLVMValueRef mem_base(Lower *L, uint32_t k) {
  if (k == 0) {
    if (!L->mem0) L->mem0 = ctx_field(L, offsetof(kiln_instance, mem0), L->c->ptr, true);
    return L->mem0;
  }
  if (!L->mem_bases) L->mem_bases = xmalloc(sizeof(LLVMValueRef) * L->m->nmems);
  if (!L->mem_bases[k]) {
    LLVMBuilderRef save = L->b;
    L->b = LLVMCreateBuilderInContext(L->c->llc);
    LLVMPositionBuilderAtEnd(L->b, L->entry);
    L->mem_bases[k] = load_invariant(L, L->c->ptr, mem_object(L, k)); /* kiln_memory.base is at 0 */
    LLVMDisposeBuilder(L->b);
    L->b = save;
  }
  return L->mem_bases[k];
}

/* memories[k]->field, reloaded at each use: it changes with memory.grow. A shared memory
 * grows in other threads: its size is read atomically (abi.h §8). */
static LLVMValueRef mem_field(Lower *L, uint32_t k, unsigned off) {
  LLVMValueRef p = LLVMBuildGEP2(L->b, L->c->i8, mem_object(L, k), (LLVMValueRef[]){LLVMConstInt(L->c->i64, off, 0)}, 1, "");
  LLVMValueRef v = set_tbaa(L->c, LLVMBuildLoad2(L->b, L->c->i64, p, ""), TBAA_RUNTIME);
  if (L->m->mems[k].lim.shared) {
    LLVMSetOrdering(v, LLVMAtomicOrderingAcquire);
    LLVMSetAlignment(v, 8);
  }
  return v;
}

/* Traps "out of bounds memory access" when end (64-bit) is past memory k's current size. */
static void trap_past_end(Lower *L, uint32_t k, LLVMValueRef end) {
  trap_if(L, LLVMBuildICmp(L->b, LLVMIntUGT, end, mem_field(L, k, offsetof(kiln_memory, bytes)), ""),
          KILN_TRAP_MEMORY_OOB);
}

LLVMValueRef mem_offset(Lower *L, LLVMValueRef addr, uint32_t offset) {
  Compiler *c = L->c;
  LLVMValueRef a = LLVMBuildZExt(L->b, addr, c->i64, "");
  if (offset) a = LLVMBuildNUWAdd(L->b, a, LLVMConstInt(c->i64, offset, 0), "");
  return a;
}

LLVMValueRef mem_address(Lower *L, LLVMValueRef addr, uint32_t offset, unsigned size) {
  return mem_at(L, mem_offset(L, addr, offset), size);
}

LLVMValueRef mem_at(Lower *L, LLVMValueRef a, unsigned size) {
  Compiler *c = L->c;
  if (c->opt->bounds_checks)
    trap_past_end(L, L->memarg_mem, LLVMBuildAdd(L->b, a, LLVMConstInt(c->i64, size, 0), ""));
  /* inbounds: base + any u33 stays inside the reservation (abi.h), which lets LLVM's loop
   * analyses assume pointer induction variables do not wrap. */
  LLVMValueRef g = LLVMBuildInBoundsGEP2(L->b, c->i8, mem_base(L, L->memarg_mem), &a, 1, "");
  LLVMSetMetadata(g, c->md_addr, LLVMMDNodeInContext(c->llc, NULL, 0)); /* for opt_address.c */
  return g;
}

/* Alignment, then (multi-memory: when bit 6 of the alignment is set) a memory index, then
 * the offset. The memory is left in L->memarg_mem for mem_address. */
void read_memarg(Lower *L, unsigned size, uint32_t *offset) {
  uint32_t align = rd_u32(&L->r);
  L->memarg_mem = 0;
  if ((align & 0x40) && feature_enabled(FEAT_MULTI_MEMORY)) L->memarg_mem = rd_u32(&L->r), align &= ~0x40u;
  *offset = rd_u32(&L->r);
  check_memory(L, L->memarg_mem);
  if (align >= 32 || (1ull << align) > size) fail_at(L->m, L->op_off, "alignment must not be larger than natural");
}

static void zero_byte(Lower *L) {
  if (rd_u8(&L->r) != 0) {
    L->r.p--;
    rd_fail(&L->r, "zero byte expected");
  }
}

/* The memory of memory.size/grow/fill/copy/init: a u32 index under multi-memory, where Wasm
 * 2.0 has a zero byte (`--disable multi-memory`, as the 2.0 test suite runs). */
static uint32_t mem_index(Lower *L) {
  uint32_t k = 0;
  if (!feature_enabled(FEAT_MULTI_MEMORY)) zero_byte(L);
  else k = rd_u32(&L->r);
  check_memory(L, k);
  return k;
}

bool lower_memory(Lower *L, uint8_t op) {
  Compiler *c = L->c;
  if (op >= OP_I32_LOAD && op <= OP_I64_STORE32) {
    const MemOp *mo = &memops[op - OP_I32_LOAD];
    uint32_t offset;
    read_memarg(L, mo->bytes, &offset);
    LLVMTypeRef vt = llvm_type(c, mo->type);
    LLVMTypeRef at = LLVMIntTypeInContext(c->llc, mo->bytes * 8);
    if (mo->type == T_F32 || mo->type == T_F64 || mo->bytes * 8 == LLVMGetIntTypeWidth(vt)) at = vt;
    if (op <= OP_I64_LOAD32_U) {
      LLVMValueRef addr = pop_typed(L, T_I32);
      LLVMValueRef v = LLVMBuildLoad2(L->b, at, mem_address(L, addr, offset, mo->bytes), "");
      LLVMSetAlignment(v, 1);
      set_tbaa(c, v, TBAA_MEMORY);
      /* A load whose value is dropped must still trap: keep it from being deleted. */
      if (L->r.p < L->r.end && *L->r.p == OP_DROP) LLVMSetVolatile(v, 1);
      if (at != vt) v = mo->sign ? LLVMBuildSExt(L->b, v, vt, "") : LLVMBuildZExt(L->b, v, vt, "");
      push_val(L, mo->type, v);
    } else {
      LLVMValueRef v = pop_typed(L, mo->type);
      LLVMValueRef addr = pop_typed(L, T_I32);
      if (at != vt) v = LLVMBuildTrunc(L->b, v, at, "");
      LLVMValueRef st = LLVMBuildStore(L->b, v, mem_address(L, addr, offset, mo->bytes));
      LLVMSetAlignment(st, 1);
      set_tbaa(c, st, TBAA_MEMORY);
    }
    return true;
  }
  switch (op) {
  case OP_MEMORY_SIZE: {
    uint32_t k = mem_index(L);
    LLVMValueRef pages = mem_field(L, k, offsetof(kiln_memory, pages));
    push_val(L, T_I32, LLVMBuildTrunc(L->b, pages, c->i32, ""));
    return true;
  }
  case OP_MEMORY_GROW: {
    uint32_t k = mem_index(L);
    /* Kiln memories stop at 65535 pages (a grow may always fail, says the spec), so that an
     * access that did not trap bounds its address 64 KiB below 2^32: opt_address.c. */
    LLVMValueRef delta = pop_typed(L, T_I32);
    LLVMValueRef pages = mem_field(L, k, offsetof(kiln_memory, pages));
    LLVMValueRef room = LLVMBuildSub(L->b, LLVMConstInt(c->i64, KILN_MAX_PAGES - 1, 0), pages, "");
    LLVMValueRef too_big = LLVMBuildICmp(L->b, LLVMIntUGT, LLVMBuildZExt(L->b, delta, c->i64, ""), room, "");
    LLVMBasicBlockRef here = LLVMGetInsertBlock(L->b);
    LLVMBasicBlockRef call_bb = LLVMAppendBasicBlockInContext(c->llc, L->fn, "grow");
    LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(c->llc, L->fn, "grown");
    LLVMBuildCondBr(L->b, too_big, done, call_bb);
    LLVMPositionBuilderAtEnd(L->b, call_bb);
    LLVMValueRef args[3] = {L->ctx, LLVMConstInt(c->i32, k, 0), delta};
    LLVMValueRef r = call_rt(L, "kiln_rt_memory_grow", c->i32, 3, args);
    LLVMBuildBr(L->b, done);
    LLVMPositionBuilderAtEnd(L->b, done);
    LLVMValueRef phi = LLVMBuildPhi(L->b, c->i32, "");
    LLVMValueRef inv[2] = {LLVMConstAllOnes(c->i32), r};
    LLVMBasicBlockRef from[2] = {here, call_bb};
    LLVMAddIncoming(phi, inv, from, 2);
    push_val(L, T_I32, phi);
    return true;
  }
  default: return false;
  }
}

/* memory.copy and memory.fill inline: the range [at, at + n) of memory k is checked against
 * its current size (every range before any byte moves, as the spec has it; n = 0 too), then
 * LLVM's memmove/memset, which become the runtime's own memmove/memset (glibc's hosted,
 * kernel/string.c's in the VM) or, for a size known after inlining, a few moves. A call into
 * the runtime for each was 1.2% of sqlite3's in-memory workload, where wasi-libc's memcpy is
 * one memory.copy (tools/patches/wasi-libc/bulk-memory-string.patch). Returns the range's
 * native address. */
static LLVMValueRef bulk_range(Lower *L, uint32_t k, LLVMValueRef at, LLVMValueRef n64) {
  LLVMValueRef a = mem_offset(L, at, 0);
  trap_past_end(L, k, LLVMBuildNUWAdd(L->b, a, n64, ""));
  return LLVMBuildInBoundsGEP2(L->b, L->c->i8, mem_base(L, k), &a, 1, "");
}

bool lower_memory_fc(Lower *L, uint32_t sub) {
  Compiler *c = L->c;
  switch (sub) {
  case FC_MEMORY_INIT: {
    uint32_t seg = rd_u32(&L->r);
    uint32_t k = mem_index(L);
    check_data(L, seg);
    LLVMValueRef n = pop_typed(L, T_I32), src = pop_typed(L, T_I32), dst = pop_typed(L, T_I32);
    call_rt(L, "kiln_rt_memory_init", c->voidt, 6,
            (LLVMValueRef[]){L->ctx, LLVMConstInt(c->i32, k, 0), LLVMConstInt(c->i32, seg, 0), dst, src, n});
    return true;
  }
  case FC_DATA_DROP: {
    uint32_t seg = rd_u32(&L->r);
    check_data(L, seg);
    call_rt(L, "kiln_rt_data_drop", c->voidt, 2, (LLVMValueRef[]){L->ctx, LLVMConstInt(c->i32, seg, 0)});
    return true;
  }
  case FC_MEMORY_COPY: {
    uint32_t kd = mem_index(L), ks = mem_index(L);
    LLVMValueRef n = pop_typed(L, T_I32), src = pop_typed(L, T_I32), dst = pop_typed(L, T_I32);
    LLVMValueRef n64 = LLVMBuildZExt(L->b, n, c->i64, "");
    LLVMValueRef d = bulk_range(L, kd, dst, n64), s = bulk_range(L, ks, src, n64);
    LLVMBuildMemMove(L->b, d, 1, s, 1, n64);
    return true;
  }
  case FC_MEMORY_FILL: {
    uint32_t k = mem_index(L);
    LLVMValueRef n = pop_typed(L, T_I32), val = pop_typed(L, T_I32), dst = pop_typed(L, T_I32);
    LLVMValueRef n64 = LLVMBuildZExt(L->b, n, c->i64, "");
    LLVMBuildMemSet(L->b, bulk_range(L, k, dst, n64), LLVMBuildTrunc(L->b, val, c->i8, ""), n64, 1);
    return true;
  }
  default: return false;
  }
}
