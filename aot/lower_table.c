/* aot/lower_table.c — reference instructions (ref.null, ref.is_null, ref.func) and table
 * instructions. Tables may grow and move, so every access goes through the runtime's
 * bounds-checked kiln_rt_table_* services except table.size, read in place. */
#include "aot/abi.h"
#include "aot/aot.h"

static LLVMValueRef c32(Lower *L, uint32_t v) { return LLVMConstInt(L->c->i32, v, 0); }

bool lower_table(Lower *L, uint8_t op) {
  Compiler *c = L->c;
  const Module *m = L->m;
  switch (op) {
  case OP_REF_NULL: {
    uint8_t t = rd_u8(&L->r);
    if (!is_reftype(t)) {
      L->r.p--;
      rd_fail(&L->r, "malformed reference type");
    }
    push_val(L, t, LLVMConstNull(c->ptr));
    return true;
  }
  case OP_REF_IS_NULL: {
    Val v = pop_val(L);
    if (v.type != T_UNKNOWN && !is_reftype(v.type)) fail_at(m, L->op_off, "type mismatch");
    LLVMValueRef x = v.v ? v.v : LLVMGetUndef(c->ptr);
    push_val(L, T_I32, LLVMBuildZExt(L->b, LLVMBuildIsNull(L->b, x, ""), c->i32, ""));
    return true;
  }
  case OP_REF_FUNC: {
    uint32_t f = rd_u32(&L->r);
    check_func(L, f);
    if (!m->funcs[f].declared) fail_at(m, L->op_off, "undeclared function reference");
    push_val(L, T_FUNCREF, funcref_ptr(L, f));
    return true;
  }
  case OP_TABLE_GET: {
    uint32_t t = check_table(L, rd_u32(&L->r));
    LLVMValueRef i = pop_typed(L, T_I32);
    push_val(L, m->tables[t].elemtype, call_rt(L, "kiln_rt_table_get", c->ptr, 3, (LLVMValueRef[]){L->ctx, c32(L, t), i}));
    return true;
  }
  case OP_TABLE_SET: {
    uint32_t t = check_table(L, rd_u32(&L->r));
    LLVMValueRef v = pop_typed(L, m->tables[t].elemtype);
    LLVMValueRef i = pop_typed(L, T_I32);
    call_rt(L, "kiln_rt_table_set", c->voidt, 4, (LLVMValueRef[]){L->ctx, c32(L, t), i, v});
    return true;
  }
  default: return false;
  }
}

bool lower_table_fc(Lower *L, uint32_t sub) {
  Compiler *c = L->c;
  const Module *m = L->m;
  switch (sub) {
  case FC_TABLE_INIT: {
    uint32_t seg = rd_u32(&L->r);
    uint32_t t = check_table(L, rd_u32(&L->r));
    check_elem(L, seg);
    if (m->elems[seg].type != m->tables[t].elemtype) fail_at(m, L->op_off, "type mismatch");
    LLVMValueRef n = pop_typed(L, T_I32), src = pop_typed(L, T_I32), dst = pop_typed(L, T_I32);
    call_rt(L, "kiln_rt_table_init", c->voidt, 6, (LLVMValueRef[]){L->ctx, c32(L, t), c32(L, seg), dst, src, n});
    return true;
  }
  case FC_ELEM_DROP: {
    uint32_t seg = rd_u32(&L->r);
    check_elem(L, seg);
    call_rt(L, "kiln_rt_elem_drop", c->voidt, 2, (LLVMValueRef[]){L->ctx, c32(L, seg)});
    return true;
  }
  case FC_TABLE_COPY: {
    uint32_t dt = check_table(L, rd_u32(&L->r));
    uint32_t st = check_table(L, rd_u32(&L->r));
    if (m->tables[dt].elemtype != m->tables[st].elemtype) fail_at(m, L->op_off, "type mismatch");
    LLVMValueRef n = pop_typed(L, T_I32), src = pop_typed(L, T_I32), dst = pop_typed(L, T_I32);
    call_rt(L, "kiln_rt_table_copy", c->voidt, 6, (LLVMValueRef[]){L->ctx, c32(L, dt), c32(L, st), dst, src, n});
    return true;
  }
  case FC_TABLE_GROW: {
    uint32_t t = check_table(L, rd_u32(&L->r));
    LLVMValueRef n = pop_typed(L, T_I32);
    LLVMValueRef init = pop_typed(L, m->tables[t].elemtype);
    push_val(L, T_I32, call_rt(L, "kiln_rt_table_grow", c->i32, 4, (LLVMValueRef[]){L->ctx, c32(L, t), init, n}));
    return true;
  }
  case FC_TABLE_SIZE: {
    uint32_t t = check_table(L, rd_u32(&L->r));
    LLVMValueRef tbl = table_ptr(L, t);
    LLVMValueRef so = LLVMConstInt(c->i64, offsetof(kiln_table, size), 0);
    push_val(L, T_I32, set_tbaa(c, LLVMBuildLoad2(L->b, c->i32, LLVMBuildGEP2(L->b, c->i8, tbl, &so, 1, ""), ""), TBAA_RUNTIME));
    return true;
  }
  case FC_TABLE_FILL: {
    uint32_t t = check_table(L, rd_u32(&L->r));
    LLVMValueRef n = pop_typed(L, T_I32);
    LLVMValueRef v = pop_typed(L, m->tables[t].elemtype);
    LLVMValueRef i = pop_typed(L, T_I32);
    call_rt(L, "kiln_rt_table_fill", c->voidt, 5, (LLVMValueRef[]){L->ctx, c32(L, t), i, v, n});
    return true;
  }
  default: return false;
  }
}
