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

LLVMValueRef funcref_ptr(Lower *L, uint32_t f) {
  if (!L->funcs) L->funcs = ctx_field(L, offsetof(kiln_instance, funcs), L->c->ptr, true);
  return gep(L, L->funcs, LLVMConstInt(L->c->i64, (uint64_t)f * sizeof(kiln_funcref), 0));
}

/* A call to a tailcc function of this module (abi.h §1). */
static void call_tailcc(Lower *L, uint32_t f) {
  Compiler *c = L->c;
  uint32_t t = L->m->funcs[f].type;
  const FuncType *ft = &L->m->types[t];
  bool via = results_via_ptr(c, ft);
  LLVMTypeRef rs = NULL;
  LLVMValueRef out = NULL;
  if (via) { /* the callee stores its results here */
    rs = results_struct(c, ft);
    LLVMBuilderRef eb = LLVMCreateBuilderInContext(c->llc);
    LLVMPositionBuilderAtEnd(eb, L->entry);
    out = LLVMBuildAlloca(eb, rs, "");
    LLVMDisposeBuilder(eb);
  }
  LLVMValueRef args[ft->np + 2];
  unsigned base = via ? 2 : 1;
  pop_vals(L, ft->np, ft->t, args + base);
  args[0] = L->ctx;
  if (via) args[1] = out;
  LLVMValueRef r = LLVMBuildCall2(L->b, tailtype(c, t), fn_ref(c, f), args, ft->np + base, "");
  LLVMSetInstructionCallConv(r, KILN_TAILCC);
  const uint8_t *res = ft->t + ft->np;
  if (via)
    for (uint32_t i = 0; i < ft->nr; i++)
      push_val(L, res[i], LLVMBuildLoad2(L->b, llvm_type(c, res[i]), LLVMBuildStructGEP2(L->b, rs, out, i, ""), ""));
  else if (ft->nr == 1)
    push_val(L, res[0], r);
}

static void call_direct(Lower *L, uint32_t f) {
  Compiler *c = L->c;
  const Module *m = L->m;
  uint32_t t = check_func(L, f);
  const FuncType *ft = &m->types[t];
  if (m->funcs[f].import < 0) {
    if (c->tail) call_tailcc(L, f);
    else emit_call(L, fntype(c, t), fn_ref(c, f), L->ctx, ft);
    return;
  }
  /* Imports go through ctx->funcs[f] = {fn, ctx}, fixed at instantiation. */
  LLVMValueRef ref = funcref_ptr(L, f);
  LLVMValueRef fn = load_invariant(L, c->ptr, gep(L, ref, LLVMConstInt(c->i64, offsetof(kiln_funcref, fn), 0)));
  LLVMValueRef fc = load_invariant(L, c->ptr, gep(L, ref, LLVMConstInt(c->i64, offsetof(kiln_funcref, ctx), 0)));
  emit_call(L, fntype(c, t), fn, fc, ft);
}

LLVMValueRef table_ptr(Lower *L, uint32_t t) {
  if (t == 0) { /* ctx->table0: one load less on every call_indirect of table 0 */
    if (!L->table0) L->table0 = ctx_field(L, offsetof(kiln_instance, table0), L->c->ptr, true);
    return L->table0;
  }
  if (!L->tables) L->tables = ctx_field(L, offsetof(kiln_instance, tables), L->c->ptr, true);
  return load_invariant(L, L->c->ptr, gep(L, L->tables, LLVMConstInt(L->c->i64, 8ull * t, 0)));
}

/* The checks of call_indirect (index, null, type); returns the kiln_funcref * to call and
 * its type in *type. */
static LLVMValueRef indirect_ref(Lower *L, uint32_t *type) {
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
  *type = t;
  return ref;
}

static LLVMValueRef ref_field(Lower *L, LLVMValueRef ref, size_t off) {
  Compiler *c = L->c;
  return set_tbaa(c, LLVMBuildLoad2(L->b, c->ptr, gep(L, ref, LLVMConstInt(c->i64, off, 0)), ""), TBAA_RUNTIME);
}

static void call_indirect(Lower *L) {
  uint32_t t;
  LLVMValueRef ref = indirect_ref(L, &t);
  LLVMValueRef fn = ref_field(L, ref, offsetof(kiln_funcref, fn));
  LLVMValueRef fc = ref_field(L, ref, offsetof(kiln_funcref, ctx));
  emit_call(L, fntype(L->c, t), fn, fc, &L->m->types[t]);
}

/* ---- tail calls (abi.h §1): musttail from a tailcc function, then return ---- */

/* return_call*: the callee's results must be the caller's (spec: validation of return_call). */
static void check_tail_results(Lower *L, const FuncType *callee) {
  const FuncType *me = L->ft;
  if (callee->nr != me->nr || memcmp(callee->t + callee->np, me->t + me->np, me->nr))
    fail_at(L->m, L->op_off, "type mismatch");
}

/* musttail call of a tailcc entry with the arguments in args[1..] (args[0] = callee ctx). */
static void musttail(Lower *L, uint32_t t, LLVMValueRef callee, LLVMValueRef *args) {
  Compiler *c = L->c;
  const FuncType *ft = &L->m->types[t];
  LLVMValueRef a[ft->np + 2];
  unsigned n = 0;
  a[n++] = args[0];
  if (L->out) a[n++] = L->out; /* same results: the callee stores them where our caller said */
  for (uint32_t i = 0; i < ft->np; i++) a[n++] = args[i + 1];
  LLVMValueRef r = LLVMBuildCall2(L->b, tailtype(c, t), callee, a, n, "");
  LLVMSetInstructionCallConv(r, KILN_TAILCC);
  LLVMSetTailCallKind(r, LLVMTailCallKindMustTail);
  if (ft->nr == 1 && !L->out) LLVMBuildRet(L->b, r);
  else LLVMBuildRetVoid(L->b);
}

/* An ordinary call of a C entry (host function, module without tail calls), then return. */
static void call_then_return(Lower *L, uint32_t t, LLVMValueRef callee, LLVMValueRef *args) {
  Compiler *c = L->c;
  const FuncType *ft = &L->m->types[t];
  LLVMValueRef r = LLVMBuildCall2(L->b, fntype(c, t), callee, args, ft->np + 1, "");
  if (L->out) {
    LLVMTypeRef rs = results_struct(c, ft);
    for (uint32_t i = 0; i < ft->nr; i++)
      LLVMBuildStore(L->b, LLVMBuildExtractValue(L->b, r, i, ""), LLVMBuildStructGEP2(L->b, rs, L->out, i, ""));
    LLVMBuildRetVoid(L->b);
  } else if (ft->nr == 1) LLVMBuildRet(L->b, r);
  else LLVMBuildRetVoid(L->b);
}

/* Through a kiln_funcref: its tail_fn when it has one, else its C entry. */
static void tail_through_ref(Lower *L, uint32_t t, LLVMValueRef ref) {
  Compiler *c = L->c;
  const FuncType *ft = &L->m->types[t];
  LLVMValueRef args[ft->np + 1];
  pop_vals(L, ft->np, ft->t, args + 1);
  args[0] = ref_field(L, ref, offsetof(kiln_funcref, ctx));
  LLVMValueRef tfn = ref_field(L, ref, offsetof(kiln_funcref, tail_fn));
  LLVMBasicBlockRef tail = LLVMAppendBasicBlockInContext(c->llc, L->fn, "rc_tail");
  LLVMBasicBlockRef plain = LLVMAppendBasicBlockInContext(c->llc, L->fn, "rc_call");
  LLVMBuildCondBr(L->b, LLVMBuildIsNull(L->b, tfn, ""), plain, tail);
  LLVMPositionBuilderAtEnd(L->b, tail);
  musttail(L, t, tfn, args);
  LLVMPositionBuilderAtEnd(L->b, plain);
  call_then_return(L, t, ref_field(L, ref, offsetof(kiln_funcref, fn)), args);
  go_dead(L);
}

static void return_call(Lower *L, uint32_t f) {
  Compiler *c = L->c;
  uint32_t t = check_func(L, f);
  const FuncType *ft = &L->m->types[t];
  check_tail_results(L, ft);
  if (L->m->funcs[f].import >= 0) {
    tail_through_ref(L, t, funcref_ptr(L, f));
    return;
  }
  LLVMValueRef args[ft->np + 1];
  pop_vals(L, ft->np, ft->t, args + 1);
  args[0] = L->ctx;
  musttail(L, t, fn_ref(c, f), args);
  go_dead(L);
}

static void return_call_indirect(Lower *L) {
  uint32_t t;
  LLVMValueRef ref = indirect_ref(L, &t);
  check_tail_results(L, &L->m->types[t]);
  tail_through_ref(L, t, ref);
}

bool lower_call(Lower *L, uint8_t op) {
  switch (op) {
  case OP_CALL: call_direct(L, rd_u32(&L->r)); return true;
  case OP_CALL_INDIRECT: call_indirect(L); return true;
  case OP_RETURN_CALL:
  case OP_RETURN_CALL_INDIRECT:
    /* main.c sets tail_calls from the feature scan, which sees every return_call* */
    if (!L->c->tail) fail_at(L->m, L->op_off, "internal error: return_call in a module compiled without tail calls");
    eh_leave_function(L); /* the frame goes, its handlers with it (abi.h §5) */
    if (op == OP_RETURN_CALL) return_call(L, rd_u32(&L->r));
    else return_call_indirect(L);
    return true;
  default: return false;
  }
}

/* The kiln_val cell of global g. A defined global's lies right below ctx (abi.h §3a): one
 * load from ctx reaches its value, where ctx->globals[g] would take three dependent loads
 * (__stack_pointer is read and written in most functions' prologue and epilogue). */
static LLVMValueRef global_cell(Lower *L, uint32_t g) {
  uint32_t nimp = L->m->nimported_globals;
  if (g >= nimp)
    return gep(L, L->ctx, LLVMConstInt(L->c->i64, (uint64_t)-(int64_t)(sizeof(kiln_val) * ((uint64_t)g - nimp + 1)), 1));
  if (!L->globals) L->globals = ctx_field(L, offsetof(kiln_instance, globals), L->c->ptr, true);
  return load_invariant(L, L->c->ptr, gep(L, L->globals, LLVMConstInt(L->c->i64, 8ull * g, 0)));
}

bool lower_variable(Lower *L, uint8_t op) {
  Compiler *c = L->c;
  switch (op) {
  case OP_LOCAL_GET: {
    uint32_t i = check_local(L, rd_u32(&L->r));
    uint8_t t = L->local_types[i];
    LLVMValueRef v = LLVMBuildLoad2(L->b, llvm_type(c, t), L->locals[i], "");
    if (L->eh) LLVMSetVolatile(v, 1); /* abi.h §5: landing code must see the try body's writes */
    push_val(L, t, v);
    return true;
  }
  case OP_LOCAL_SET:
  case OP_LOCAL_TEE: {
    uint32_t i = check_local(L, rd_u32(&L->r));
    uint8_t t = L->local_types[i];
    LLVMValueRef v = pop_typed(L, t);
    LLVMValueRef st = LLVMBuildStore(L->b, v, L->locals[i]);
    if (L->eh) LLVMSetVolatile(st, 1);
    if (op == OP_LOCAL_TEE) push_val(L, t, v);
    return true;
  }
  case OP_GLOBAL_GET: {
    uint32_t g = check_global(L, rd_u32(&L->r));
    const Global *gl = &L->m->globals[g];
    LLVMValueRef cell = global_cell(L, g);
    LLVMTypeRef t = llvm_type(c, gl->type);
    LLVMValueRef v = LLVMBuildLoad2(L->b, t, cell, "");
    LLVMSetAlignment(v, 8); /* a kiln_val cell: a v128 is only 8-aligned (abi.h) */
    if (!gl->mut) LLVMSetMetadata(v, c->md_invariant, LLVMMDNodeInContext(c->llc, NULL, 0));
    push_val(L, gl->type, set_tbaa(c, v, TBAA_GLOBAL));
    return true;
  }
  case OP_GLOBAL_SET: {
    uint32_t g = check_global(L, rd_u32(&L->r));
    const Global *gl = &L->m->globals[g];
    if (!gl->mut) fail_at(L->m, L->op_off, "global is immutable");
    LLVMValueRef v = pop_typed(L, gl->type);
    if ((int64_t)g == L->m->sp_global) { /* abi.h §4: the C stack's bound */
      LLVMValueRef lim = LLVMBuildLoad2(L->b, c->i32, global_cell(L, (uint32_t)L->m->sp_limit_global), "");
      LLVMSetAlignment(lim, 8);
      set_tbaa(c, lim, TBAA_GLOBAL);
      trap_if(L, LLVMBuildICmp(L->b, LLVMIntULT, v, lim, ""), KILN_TRAP_STACK_EXHAUSTED);
    }
    LLVMValueRef st = LLVMBuildStore(L->b, v, global_cell(L, g));
    LLVMSetAlignment(st, 8); /* as in global.get */
    set_tbaa(c, st, TBAA_GLOBAL);
    return true;
  }
  default: return false;
  }
}
