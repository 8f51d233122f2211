/* aot/lower_eh.c — legacy exception handling (abi.h §5): try, catch, catch_all, delegate,
 * throw, rethrow.
 *
 * A try body runs under a kiln_eh_handler in the frame, set by llvm.eh.sjlj.setjmp; the
 * runtime's throw longjmps to the innermost one. Its landing code is a chain of tag tests,
 * one per catch clause, built as the clauses are read; what no clause takes goes on to the
 * next handler. Within a function the chain head is known statically (the innermost try
 * in its body, or the head at entry), so leaving a try body by any path is one store. */
#include <stddef.h>

#include "aot/abi.h"
#include "aot/aot.h"

static LLVMValueRef intrinsic(Compiler *c, const char *name, LLVMTypeRef ret, LLVMTypeRef *params, unsigned n) {
  LLVMTypeRef fty = LLVMFunctionType(ret, params, n, 0);
  LLVMValueRef f = LLVMGetNamedFunction(c->mod, name);
  if (!f) f = LLVMAddFunction(c->mod, name, fty);
  return f;
}

static LLVMValueRef at(Lower *L, LLVMValueRef base, uint64_t off) {
  return LLVMBuildGEP2(L->b, L->c->i8, base, (LLVMValueRef[]){LLVMConstInt(L->c->i64, off, 0)}, 1, "");
}

static bool is_try_body(const Frame *f) { return f->op == OP_TRY; }

/* The chain head inside frames [0, k): the handler of the innermost try body there, or the
 * head the function was entered with. */
static LLVMValueRef head_below(Lower *L, uint32_t k) {
  for (uint32_t j = k; j-- > 0;)
    if (is_try_body(&L->ctrl[j])) return L->ctrl[j].handler;
  return L->eh_entry;
}

static void set_head(Lower *L, LLVMValueRef h) {
  LLVMBuildStore(L->b, h, L->eh); /* kiln_eh_state.head at 0 */
}

void eh_begin_function(Lower *L) {
  const Func *fn = &L->m->funcs[L->fidx];
  if (!L->c->opt->exceptions || !body_uses_eh(L->m, fn->body, fn->body_end)) return;
  Compiler *c = L->c;
  L->eh = call_rt(L, "kiln_rt_eh_state", c->ptr, 1, &L->ctx);
  L->eh_entry = LLVMBuildLoad2(L->b, c->ptr, L->eh, "eh_entry");
  /* The setjmp's frame is this function's: inlined elsewhere it would be another's. */
  unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
  LLVMAddAttributeAtIndex(L->fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->llc, noinline, 0));
}

bool eh_exits(Lower *L, uint32_t depth) {
  if (!L->eh) return false;
  uint32_t k = L->nctrl - 1 - depth; /* the target frame ends too (a try is never a loop) */
  return head_below(L, L->nctrl) != head_below(L, k);
}

void eh_leave(Lower *L, uint32_t depth) {
  if (eh_exits(L, depth)) set_head(L, head_below(L, L->nctrl - 1 - depth));
}

void eh_leave_function(Lower *L) {
  if (L->eh && head_below(L, L->nctrl) != L->eh_entry) set_head(L, L->eh_entry);
}

static uint32_t check_tag(Lower *L, uint32_t idx) {
  if (idx >= L->m->ntags) fail_at(L->m, L->op_off, "unknown tag %u", idx);
  return L->m->tags[idx].type;
}

static LLVMValueRef tag_ptr(Lower *L, uint32_t idx) {
  Compiler *c = L->c;
  if (!L->tags) L->tags = ctx_field(L, offsetof(kiln_instance, tags), c->ptr, true);
  return load_invariant(L, c->ptr, at(L, L->tags, 8ull * idx));
}

/* The exception in flight, or a copy of it: its values are kiln_vals from offset 16. */
static LLVMValueRef exn_val(Lower *L, LLVMValueRef exn, uint32_t k, uint8_t t) {
  LLVMValueRef v = LLVMBuildLoad2(L->b, llvm_type(L->c, t), at(L, exn, offsetof(kiln_exn, vals) + 16ull * k), "");
  LLVMSetAlignment(v, 8);
  return v;
}

static LLVMValueRef current_exn(Lower *L) { return at(L, L->eh, offsetof(kiln_eh_state, exn)); }

static _Noreturn void eh_fail(Lower *L, const char *msg) { fail_at(L->m, L->op_off, "%s", msg); }

static void lower_try(Lower *L) {
  Compiler *c = L->c;
  uint32_t np, nr;
  const uint8_t *params, *results;
  read_blocktype(L, &np, &params, &nr, &results);
  LLVMValueRef vals[np ? np : 1];
  pop_vals(L, np, params, vals);
  LLVMValueRef outer = head_below(L, L->nctrl);
  Frame *f = push_ctrl(L, OP_TRY, np, params, nr, results);
  f->end = new_block(L, "try_end");
  f->slots = make_slots(L, nr, results);
  f->outer = outer;
  f->handler = entry_alloca(L, LLVMArrayType2(c->ptr, sizeof(kiln_eh_handler) / sizeof(void *)));
  LLVMBuildStore(L->b, outer, at(L, f->handler, offsetof(kiln_eh_handler, prev)));
  LLVMValueRef fa = LLVMBuildCall2(L->b, LLVMFunctionType(c->ptr, &c->i32, 1, 0),
                                   intrinsic(c, "llvm.frameaddress.p0", c->ptr, &c->i32, 1),
                                   (LLVMValueRef[]){LLVMConstInt(c->i32, 0, 0)}, 1, "");
  LLVMBuildStore(L->b, fa, f->handler);
  LLVMValueRef sp = LLVMBuildCall2(L->b, LLVMFunctionType(c->ptr, NULL, 0, 0),
                                   intrinsic(c, "llvm.stacksave.p0", c->ptr, NULL, 0), NULL, 0, "");
  LLVMBuildStore(L->b, sp, at(L, f->handler, 16));
  LLVMValueRef r = LLVMBuildCall2(L->b, LLVMFunctionType(c->i32, &c->ptr, 1, 0),
                                  intrinsic(c, "llvm.eh.sjlj.setjmp", c->i32, &c->ptr, 1), &f->handler, 1, "");
  /* The intrinsic is not declared returns_twice; without it the code generator may give a
   * stack slot still read by the landing code to another value once the body is past its
   * last straight-line use (a stale ctx->tags pointer failed a tag test). */
  unsigned rt = LLVMGetEnumAttributeKindForName("returns_twice", 13);
  LLVMAddCallSiteAttribute(r, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->llc, rt, 0));
  LLVMBasicBlockRef body = new_block(L, "try_body");
  f->land = new_block(L, "landing");
  LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, r, LLVMConstInt(c->i32, 0, 0), ""), body, f->land);
  LLVMPositionBuilderAtEnd(L->b, body);
  set_head(L, f->handler);
  for (uint32_t i = 0; i < np; i++) push_val(L, params[i], vals[i]);
}

/* Ends the body or the previous clause of the try frame on top, which it returns. */
static Frame *end_arm(Lower *L, const char *what) {
  Frame *f = &L->ctrl[L->nctrl - 1];
  if (f->op != OP_TRY && f->op != OP_CATCH && f->op != OP_CATCH_ALL) eh_fail(L, what);
  if (f->op == OP_CATCH_ALL) eh_fail(L, "catch after catch_all");
  if (f->op == OP_TRY) set_head(L, f->outer); /* the body is done: its handler goes */
  finish_arm(L, f);
  return f;
}

/* Starts a clause of f in a block of its own after the current one (where the landing
 * chain entered it, and where rethrow's copy goes). */
static void begin_clause(Lower *L, Frame *f, uint8_t op) {
  f->op = op;
  f->unreachable = false;
  f->exn = NULL;
  L->nvals = f->height;
  LLVMBasicBlockRef clause = new_block(L, "clause");
  LLVMBuildBr(L->b, clause);
  LLVMPositionBuilderAtEnd(L->b, clause);
}

static void lower_catch(Lower *L) {
  Compiler *c = L->c;
  uint32_t idx = rd_u32(&L->r);
  Frame *f = end_arm(L, "catch without try");
  const FuncType *tt = &L->m->types[check_tag(L, idx)];
  LLVMPositionBuilderAtEnd(L->b, f->land);
  LLVMValueRef tag = LLVMBuildLoad2(L->b, c->ptr, current_exn(L), "tag"); /* kiln_exn.tag at 0 */
  f->caught = new_block(L, "caught");
  f->land = new_block(L, "landing");
  LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntEQ, tag, tag_ptr(L, idx), ""), f->caught, f->land);
  LLVMPositionBuilderAtEnd(L->b, f->caught);
  begin_clause(L, f, OP_CATCH);
  for (uint32_t k = 0; k < tt->np; k++) push_val(L, tt->t[k], exn_val(L, current_exn(L), k, tt->t[k]));
}

static void lower_catch_all(Lower *L) {
  Frame *f = end_arm(L, "catch_all without try");
  f->caught = f->land;
  f->land = NULL;
  LLVMPositionBuilderAtEnd(L->b, f->caught);
  begin_clause(L, f, OP_CATCH_ALL);
}

/* What no clause took goes to the next handler. */
static void rethrow_rest(Lower *L, Frame *f) {
  if (!f->land) return;
  LLVMPositionBuilderAtEnd(L->b, f->land);
  call_rt(L, "kiln_rt_rethrow", L->c->voidt, 2, (LLVMValueRef[]){L->ctx, current_exn(L)});
  LLVMBuildUnreachable(L->b);
  f->land = NULL;
}

void eh_end(Lower *L, Frame *f) {
  if (f->op == OP_TRY) set_head(L, f->outer);
  finish_arm(L, f);
  rethrow_rest(L, f);
}

void eh_delegate(Lower *L) {
  uint32_t depth = rd_u32(&L->r);
  if (!L->eh) fail_at(L->m, L->op_off, "internal error: exception instruction in a body scanned without one");
  Frame *f = &L->ctrl[L->nctrl - 1];
  if (f->op != OP_TRY) eh_fail(L, "delegate without try");
  /* The label counts from outside the try: the frame below it is label 0. */
  if (depth + 1 >= L->nctrl) fail_at(L->m, L->op_off, "unknown label %u", depth);
  uint32_t k = L->nctrl - 2 - depth;
  LLVMBasicBlockRef here = LLVMGetInsertBlock(L->b);
  LLVMPositionBuilderAtEnd(L->b, f->land);
  /* Thrown again as if from label k: caught by k's clauses when k is a try body. */
  set_head(L, head_below(L, k + 1));
  call_rt(L, "kiln_rt_rethrow", L->c->voidt, 2, (LLVMValueRef[]){L->ctx, current_exn(L)});
  LLVMBuildUnreachable(L->b);
  f->land = NULL;
  LLVMPositionBuilderAtEnd(L->b, here);
}

static void lower_throw(Lower *L) {
  Compiler *c = L->c;
  uint32_t idx = rd_u32(&L->r);
  const FuncType *tt = &L->m->types[check_tag(L, idx)];
  LLVMValueRef vals[tt->np + 1];
  pop_vals(L, tt->np, tt->t, vals);
  LLVMValueRef buf = LLVMConstNull(c->ptr);
  if (tt->np) {
    buf = entry_alloca(L, LLVMArrayType2(c->i8, 16ull * tt->np));
    LLVMSetAlignment(buf, 16);
    for (uint32_t k = 0; k < tt->np; k++) LLVMSetAlignment(LLVMBuildStore(L->b, vals[k], at(L, buf, 16ull * k)), 8);
  }
  call_rt(L, "kiln_rt_throw", c->voidt, 4,
          (LLVMValueRef[]){L->ctx, tag_ptr(L, idx), buf, LLVMConstInt(c->i32, tt->np, 0)});
  LLVMBuildUnreachable(L->b);
  go_dead(L);
}

static void lower_rethrow(Lower *L) {
  Compiler *c = L->c;
  uint32_t depth = rd_u32(&L->r);
  Frame *f = label(L, depth);
  if (f->op != OP_CATCH && f->op != OP_CATCH_ALL) eh_fail(L, "invalid rethrow label");
  if (!f->exn) { /* the first rethrow of this clause: copy the exception when it is caught */
    f->exn = entry_alloca(L, LLVMArrayType2(c->i8, sizeof(kiln_exn)));
    LLVMSetAlignment(f->exn, 16);
    LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
    LLVMPositionBuilderBefore(b, LLVMGetBasicBlockTerminator(f->caught));
    LLVMValueRef src = LLVMBuildGEP2(b, c->i8, L->eh, (LLVMValueRef[]){LLVMConstInt(c->i64, offsetof(kiln_eh_state, exn), 0)}, 1, "");
    LLVMBuildMemCpy(b, f->exn, 16, src, 8, LLVMConstInt(c->i64, sizeof(kiln_exn), 0));
    LLVMDisposeBuilder(b);
  }
  call_rt(L, "kiln_rt_rethrow", c->voidt, 2, (LLVMValueRef[]){L->ctx, f->exn});
  LLVMBuildUnreachable(L->b);
  go_dead(L);
}

bool lower_eh(Lower *L, uint8_t op) {
  if (op != OP_TRY && op != OP_CATCH && op != OP_CATCH_ALL && op != OP_THROW && op != OP_RETHROW) return false;
  /* main.c sets exceptions from the feature scan, which sees every such instruction */
  if (!L->eh) fail_at(L->m, L->op_off, "internal error: exception instruction in a body scanned without one");
  switch (op) {
  case OP_TRY: lower_try(L); return true;
  case OP_CATCH: lower_catch(L); return true;
  case OP_CATCH_ALL: lower_catch_all(L); return true;
  case OP_THROW: lower_throw(L); return true;
  case OP_RETHROW: lower_rethrow(L); return true;
  default: return false;
  }
}
