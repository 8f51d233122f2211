/* aot/lower_call.c — calls (direct, imported, indirect), local and global variables, and
 * the helpers that read the instance context and call the kiln_rt_* services. */
#include <string.h>

#include "aot/abi.h"
#include "aot/aot.h"

/* Type-based alias information: linear memory (the reserved region), global cells and the
 * runtime's objects (instance, memories, tables, funcrefs) never overlap, so a store to
 * linear memory does not force reloading a global or a table's size. */
LLVMValueRef set_tbaa(Compiler *c, LLVMValueRef access, int kind) {
  if (!c->tbaa_tag[kind]) {
    static const char *const names[3] = {"kiln linear memory", "kiln global", "kiln runtime"};
    LLVMMetadataRef root_s = LLVMMDStringInContext2(c->llc, "kiln tbaa", 9);
    LLVMMetadataRef root = LLVMMDNodeInContext2(c->llc, &root_s, 1);
    LLVMMetadataRef zero = LLVMValueAsMetadata(LLVMConstInt(c->i64, 0, 0));
    LLVMMetadataRef ty[3] = {LLVMMDStringInContext2(c->llc, names[kind], strlen(names[kind])), root, zero};
    LLVMMetadataRef tnode = LLVMMDNodeInContext2(c->llc, ty, 3);
    LLVMMetadataRef tag[3] = {tnode, tnode, zero};
    c->tbaa_tag[kind] = LLVMMetadataAsValue(c->llc, LLVMMDNodeInContext2(c->llc, tag, 3));
  }
  LLVMSetMetadata(access, c->md_tbaa, c->tbaa_tag[kind]);
  return access;
}

/* A load that never changes during the instance's life: LLVM may hoist and merge it. */
LLVMValueRef load_invariant(Lower *L, LLVMTypeRef t, LLVMValueRef p) {
  LLVMValueRef v = set_tbaa(L->c, LLVMBuildLoad2(L->b, t, p, ""), TBAA_RUNTIME);
  LLVMSetMetadata(v, L->c->md_invariant, LLVMMDNodeInContext(L->c->llc, NULL, 0));
  return v;
}

/* A field of *ctx, loaded once in the entry block when invariant. */
LLVMValueRef ctx_field(Lower *L, unsigned offset, LLVMTypeRef t, bool invariant) {
  Compiler *c = L->c;
  LLVMBuilderRef save = L->b;
  LLVMBuilderRef eb = NULL;
  if (invariant) {
    eb = LLVMCreateBuilderInContext(c->llc);
    LLVMPositionBuilderAtEnd(eb, L->entry);
    L->b = eb;
  }
  LLVMValueRef p = LLVMBuildGEP2(L->b, c->i8, L->ctx, (LLVMValueRef[]){LLVMConstInt(c->i64, offset, 0)}, 1, "");
  LLVMValueRef v = invariant ? load_invariant(L, t, p) : set_tbaa(c, LLVMBuildLoad2(L->b, t, p, ""), TBAA_RUNTIME);
  L->b = save;
  if (eb) LLVMDisposeBuilder(eb);
  return v;
}

LLVMValueRef call_rt(Lower *L, const char *name, LLVMTypeRef ret, unsigned n, LLVMValueRef *args) {
  Compiler *c = L->c;
  LLVMValueRef f = LLVMGetNamedFunction(c->mod, name);
  LLVMTypeRef pt[8];
  for (unsigned i = 0; i < n; i++) pt[i] = LLVMTypeOf(args[i]);
  LLVMTypeRef fty = LLVMFunctionType(ret, pt, n, 0);
  if (!f) f = LLVMAddFunction(c->mod, name, fty);
  return LLVMBuildCall2(L->b, fty, f, args, n, "");
}

/* Pops the parameters of ft, calls, pushes the results. */
LLVMValueRef emit_call(Lower *L, LLVMTypeRef fty, LLVMValueRef callee, LLVMValueRef cctx, const FuncType *ft) {
  LLVMValueRef args[ft->np + 1];
  pop_vals(L, ft->np, ft->t, args + 1);
  args[0] = cctx;
  LLVMValueRef r = LLVMBuildCall2(L->b, fty, callee, args, ft->np + 1, "");
  const uint8_t *res = ft->t + ft->np;
  if (ft->nr == 1) push_val(L, res[0], r);
  else
    for (uint32_t i = 0; i < ft->nr; i++) push_val(L, res[i], LLVMBuildExtractValue(L->b, r, i, ""));
  return r;
}

static LLVMValueRef gep(Lower *L, LLVMValueRef base, LLVMValueRef off) {
  return LLVMBuildGEP2(L->b, L->c->i8, base, &off, 1, "");
}

static LLVMValueRef funcref_ptr(Lower *L, uint32_t f) {
  if (!L->funcs) L->funcs = ctx_field(L, offsetof(kiln_instance, funcs), L->c->ptr, true);
  return gep(L, L->funcs, LLVMConstInt(L->c->i64, (uint64_t)f * sizeof(kiln_funcref), 0));
}

static void call_direct(Lower *L, uint32_t f) {
  Compiler *c = L->c;
  const Module *m = L->m;
  uint32_t t = check_func(L, f);
  const FuncType *ft = &m->types[t];
  if (m->funcs[f].import < 0) {
    emit_call(L, fntype(c, t), c->fns[f], L->ctx, ft);
    return;
  }
  /* Imports go through ctx->funcs[f] = {fn, ctx}, fixed at instantiation. */
  LLVMValueRef ref = funcref_ptr(L, f);
  LLVMValueRef fn = load_invariant(L, c->ptr, gep(L, ref, LLVMConstInt(c->i64, offsetof(kiln_funcref, fn), 0)));
  LLVMValueRef fc = load_invariant(L, c->ptr, gep(L, ref, LLVMConstInt(c->i64, offsetof(kiln_funcref, ctx), 0)));
  emit_call(L, fntype(c, t), fn, fc, ft);
}

static LLVMValueRef table_ptr(Lower *L, uint32_t t) {
  if (!L->tables) L->tables = ctx_field(L, offsetof(kiln_instance, tables), L->c->ptr, true);
  return load_invariant(L, L->c->ptr, gep(L, L->tables, LLVMConstInt(L->c->i64, 8ull * t, 0)));
}

static void call_indirect(Lower *L) {
  Compiler *c = L->c;
  const Module *m = L->m;
  uint32_t t = check_type(L, rd_u32(&L->r));
  uint32_t tab = check_table(L, rd_u32(&L->r));
  if (m->tables[tab].elemtype != T_FUNCREF) fail_at(m, L->op_off, "type mismatch");
  const FuncType *ft = &m->types[t];
  LLVMValueRef idx = pop_typed(L, T_I32);
  LLVMValueRef tbl = table_ptr(L, tab);
  LLVMValueRef size = set_tbaa(c, LLVMBuildLoad2(L->b, c->i32, gep(L, tbl, LLVMConstInt(c->i64, offsetof(kiln_table, size), 0)), ""), TBAA_RUNTIME);
  trap_if(L, LLVMBuildICmp(L->b, LLVMIntUGE, idx, size, ""), KILN_TRAP_UNDEFINED_ELEMENT);
  LLVMValueRef elems = set_tbaa(c, LLVMBuildLoad2(L->b, c->ptr, tbl, ""), TBAA_RUNTIME);
  LLVMValueRef slot = LLVMBuildGEP2(L->b, c->ptr, elems, (LLVMValueRef[]){LLVMBuildZExt(L->b, idx, c->i64, "")}, 1, "");
  LLVMValueRef ref = set_tbaa(c, LLVMBuildLoad2(L->b, c->ptr, slot, ""), TBAA_RUNTIME);
  trap_if(L, LLVMBuildIsNull(L->b, ref, ""), KILN_TRAP_UNINITIALIZED);
  LLVMValueRef hash = set_tbaa(c, LLVMBuildLoad2(L->b, c->i64, gep(L, ref, LLVMConstInt(c->i64, offsetof(kiln_funcref, type_hash), 0)), ""), TBAA_RUNTIME);
  uint64_t want = kiln_functype_hash(ft->np, ft->t, ft->nr, ft->t + ft->np);
  trap_if(L, LLVMBuildICmp(L->b, LLVMIntNE, hash, LLVMConstInt(c->i64, want, 0), ""), KILN_TRAP_INDIRECT_MISMATCH);
  LLVMValueRef fn = set_tbaa(c, LLVMBuildLoad2(L->b, c->ptr, gep(L, ref, LLVMConstInt(c->i64, offsetof(kiln_funcref, fn), 0)), ""), TBAA_RUNTIME);
  LLVMValueRef fc = set_tbaa(c, LLVMBuildLoad2(L->b, c->ptr, gep(L, ref, LLVMConstInt(c->i64, offsetof(kiln_funcref, ctx), 0)), ""), TBAA_RUNTIME);
  emit_call(L, fntype(c, t), fn, fc, ft);
}

bool lower_call(Lower *L, uint8_t op) {
  switch (op) {
  case OP_CALL: call_direct(L, rd_u32(&L->r)); return true;
  case OP_CALL_INDIRECT: call_indirect(L); return true;
  default: return false;
  }
}

static LLVMValueRef global_cell(Lower *L, uint32_t g) {
  if (!L->globals) L->globals = ctx_field(L, offsetof(kiln_instance, globals), L->c->ptr, true);
  return load_invariant(L, L->c->ptr, gep(L, L->globals, LLVMConstInt(L->c->i64, 8ull * g, 0)));
}

bool lower_variable(Lower *L, uint8_t op) {
  Compiler *c = L->c;
  switch (op) {
  case OP_LOCAL_GET: {
    uint32_t i = check_local(L, rd_u32(&L->r));
    uint8_t t = L->local_types[i];
    push_val(L, t, LLVMBuildLoad2(L->b, llvm_type(c, t), L->locals[i], ""));
    return true;
  }
  case OP_LOCAL_SET:
  case OP_LOCAL_TEE: {
    uint32_t i = check_local(L, rd_u32(&L->r));
    uint8_t t = L->local_types[i];
    LLVMValueRef v = pop_typed(L, t);
    LLVMBuildStore(L->b, v, L->locals[i]);
    if (op == OP_LOCAL_TEE) push_val(L, t, v);
    return true;
  }
  case OP_GLOBAL_GET: {
    uint32_t g = check_global(L, rd_u32(&L->r));
    const Global *gl = &L->m->globals[g];
    LLVMValueRef cell = global_cell(L, g);
    LLVMTypeRef t = llvm_type(c, gl->type);
    LLVMValueRef v = LLVMBuildLoad2(L->b, t, cell, "");
    if (!gl->mut) LLVMSetMetadata(v, c->md_invariant, LLVMMDNodeInContext(c->llc, NULL, 0));
    push_val(L, gl->type, set_tbaa(c, v, TBAA_GLOBAL));
    return true;
  }
  case OP_GLOBAL_SET: {
    uint32_t g = check_global(L, rd_u32(&L->r));
    const Global *gl = &L->m->globals[g];
    if (!gl->mut) fail_at(L->m, L->op_off, "global is immutable");
    LLVMValueRef v = pop_typed(L, gl->type);
    set_tbaa(c, LLVMBuildStore(L->b, v, global_cell(L, g)), TBAA_GLOBAL);
    return true;
  }
  default: return false;
  }
}
