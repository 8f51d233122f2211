/* aot/validate.c — the operand and control stacks of the spec's validation algorithm
 * (appendix "Validation Algorithm"), fused with lowering: each operand carries both its
 * type and its LLVM value. Lowering calls these for every instruction, including those in
 * unreachable code, so every type error is found. Index-space checks live here too. */
#include <stdlib.h>

#include "aot/aot.h"

static _Noreturn void vfail(Lower *L, const char *msg, uint32_t idx, bool with_idx) {
  if (with_idx) fail_at(L->m, L->op_off, "%s %u", msg, idx);
  fail_at(L->m, L->op_off, "%s", msg);
}

void push_val(Lower *L, uint8_t type, LLVMValueRef v) {
  if (L->nvals == L->capvals) {
    L->capvals = L->capvals ? 2 * L->capvals : 64;
    L->vals = xrealloc(L->vals, sizeof(Val) * L->capvals);
  }
  L->vals[L->nvals++] = (Val){type, v};
}

Val pop_val(Lower *L) {
  Frame *f = &L->ctrl[L->nctrl - 1];
  if (L->nvals == f->height) {
    if (f->unreachable) return (Val){T_UNKNOWN, NULL};
    vfail(L, "type mismatch", 0, false);
  }
  return L->vals[--L->nvals];
}

LLVMValueRef pop_typed(Lower *L, uint8_t type) {
  Val v = pop_val(L);
  if (v.type != type && v.type != T_UNKNOWN && type != T_UNKNOWN) vfail(L, "type mismatch", 0, false);
  /* Unknown operands exist only in unreachable code: any value of the right type will do. */
  if (!v.v && type != T_UNKNOWN) return LLVMGetUndef(llvm_type(L->c, type));
  return v.v;
}

void pop_vals(Lower *L, uint32_t n, const uint8_t *types, LLVMValueRef *out) {
  for (uint32_t i = n; i-- > 0;) {
    LLVMValueRef v = pop_typed(L, types[i]);
    if (out) out[i] = v;
  }
}

Frame *push_ctrl(Lower *L, uint8_t op, uint32_t np, const uint8_t *params, uint32_t nr, const uint8_t *results) {
  if (L->nctrl == L->capctrl) {
    L->capctrl = L->capctrl ? 2 * L->capctrl : 16;
    L->ctrl = xrealloc(L->ctrl, sizeof(Frame) * L->capctrl);
  }
  Frame *f = &L->ctrl[L->nctrl++];
  *f = (Frame){.op = op, .np = np, .nr = nr, .params = params, .results = results, .height = L->nvals};
  return f;
}

void check_frame_end(Lower *L, Frame *f, LLVMValueRef *out) {
  pop_vals(L, f->nr, f->results, out);
  if (L->nvals != f->height) vfail(L, "type mismatch", 0, false);
}

void mark_unreachable(Lower *L) {
  Frame *f = &L->ctrl[L->nctrl - 1];
  L->nvals = f->height;
  f->unreachable = true;
}

Frame *label(Lower *L, uint32_t depth) {
  if (depth >= L->nctrl) vfail(L, "unknown label", depth, true);
  return &L->ctrl[L->nctrl - 1 - depth];
}

void label_types(const Frame *f, uint32_t *n, const uint8_t **types) {
  if (f->op == OP_LOOP) *n = f->np, *types = f->params;
  else *n = f->nr, *types = f->results;
}

void read_blocktype(Lower *L, uint32_t *np, const uint8_t **params, uint32_t *nr, const uint8_t **results) {
  static uint8_t single[256];
  if (!single[T_I32])
    for (int i = 0; i < 256; i++) single[i] = (uint8_t)i;
  Reader *r = &L->r;
  if (r->p >= r->end) rd_fail(r, "unexpected end");
  uint8_t b = *r->p;
  *np = *nr = 0;
  *params = *results = single;
  if (b == T_EMPTY) {
    r->p++;
  } else if (is_numtype(b) || is_reftype(b)) {
    r->p++;
    *nr = 1, *results = &single[b];
  } else {
    int64_t t = rd_s33(r);
    if (t < 0) rd_fail(r, "malformed block type");
    if ((uint64_t)t >= L->m->ntypes) vfail(L, "unknown type", (uint32_t)t, true);
    const FuncType *ft = &L->m->types[t];
    *np = ft->np, *params = ft->t, *nr = ft->nr, *results = ft->t + ft->np;
  }
}

uint32_t check_func(Lower *L, uint32_t idx) {
  if (idx >= L->m->nfuncs) vfail(L, "unknown function", idx, true);
  return L->m->funcs[idx].type;
}

uint32_t check_table(Lower *L, uint32_t idx) {
  if (idx >= L->m->ntables) vfail(L, "unknown table", idx, true);
  return idx;
}

void check_memory(Lower *L, uint32_t idx) {
  if (idx >= L->m->nmems) vfail(L, "unknown memory", idx, true);
}

uint32_t check_type(Lower *L, uint32_t idx) {
  if (idx >= L->m->ntypes) vfail(L, "unknown type", idx, true);
  return idx;
}

void check_data(Lower *L, uint32_t idx) {
  if (!L->m->has_datacount) vfail(L, "data count section required", 0, false);
  if (idx >= L->m->datacount) vfail(L, "unknown data segment", idx, true);
}

void check_elem(Lower *L, uint32_t idx) {
  if (idx >= L->m->nelems) vfail(L, "unknown elem segment", idx, true);
}

uint32_t check_local(Lower *L, uint32_t idx) {
  if (idx >= L->nlocals) vfail(L, "unknown local", idx, true);
  return idx;
}

uint32_t check_global(Lower *L, uint32_t idx) {
  if (idx >= L->m->nglobals) vfail(L, "unknown global", idx, true);
  return idx;
}
