/* aot/lower_control.c — lowering one function body: locals, the dispatch loop, structured
 * control flow and traps.
 *
 * Block results and loop parameters travel through allocas (one per value), which SROA and
 * mem2reg turn into phis: simpler and sturdier than building phis by hand, and free at -O1+.
 * Code after br/return/unreachable is still decoded and validated; it is emitted into a
 * fresh block without predecessors, which LLVM deletes. */
#include <stdlib.h>
#include <string.h>

#include "aot/abi.h"
#include "aot/aot.h"
#include "aot/limits.h"

/* Locals beyond this are an implementation limit ("too many locals"), like every engine. */

bool is_dead(Lower *L) { return L->ctrl[L->nctrl - 1].unreachable; }

LLVMBasicBlockRef new_block(Lower *L, const char *name) {
  return LLVMAppendBasicBlockInContext(L->c->llc, L->fn, name);
}

static bool terminated(Lower *L) { return LLVMGetBasicBlockTerminator(LLVMGetInsertBlock(L->b)) != NULL; }

LLVMValueRef entry_alloca(Lower *L, LLVMTypeRef t) {
  LLVMBuilderRef eb = LLVMCreateBuilderInContext(L->c->llc);
  LLVMPositionBuilderAtEnd(eb, L->entry);
  LLVMValueRef a = LLVMBuildAlloca(eb, t, "");
  LLVMDisposeBuilder(eb);
  return a;
}

LLVMValueRef *make_slots(Lower *L, uint32_t n, const uint8_t *types) {
  if (!n) return NULL;
  LLVMValueRef *s = xmalloc(sizeof(LLVMValueRef) * n);
  for (uint32_t i = 0; i < n; i++) s[i] = entry_alloca(L, llvm_type(L->c, types[i]));
  return s;
}

static void store_slots(Lower *L, uint32_t n, LLVMValueRef *slots, LLVMValueRef *vals) {
  for (uint32_t i = 0; i < n; i++) LLVMBuildStore(L->b, vals[i], slots[i]);
}

static void load_slots(Lower *L, uint32_t n, const uint8_t *types, LLVMValueRef *slots) {
  for (uint32_t i = 0; i < n; i++) push_val(L, types[i], LLVMBuildLoad2(L->b, llvm_type(L->c, types[i]), slots[i], ""));
}

/* After a terminator: the rest of the block is unreachable (validated, emitted nowhere useful). */
void go_dead(Lower *L) {
  LLVMPositionBuilderAtEnd(L->b, new_block(L, "dead"));
  mark_unreachable(L);
}

static LLVMBasicBlockRef trap_block(Lower *L, uint32_t code) {
  if (!L->trap_bb[code]) {
    LLVMBasicBlockRef bb = new_block(L, "trap");
    LLVMBuilderRef tb = LLVMCreateBuilderInContext(L->c->llc);
    LLVMPositionBuilderAtEnd(tb, bb);
    LLVMValueRef args[2] = {L->ctx, LLVMConstInt(L->c->i32, code, 0)};
    LLVMBuildCall2(tb, LLVMGlobalGetValueType(L->c->trap_fn), L->c->trap_fn, args, 2, "");
    LLVMBuildUnreachable(tb);
    LLVMDisposeBuilder(tb);
    L->trap_bb[code] = bb;
  }
  return L->trap_bb[code];
}

void trap_if(Lower *L, LLVMValueRef cond, uint32_t code) {
  LLVMBasicBlockRef cont = new_block(L, "ok");
  LLVMBuildCondBr(L->b, cond, trap_block(L, code), cont);
  LLVMPositionBuilderAtEnd(L->b, cont);
}

void trap_now(Lower *L, uint32_t code) {
  LLVMBuildBr(L->b, trap_block(L, code));
  go_dead(L);
}

/* Where a branch to frame f goes, having stored its label values. */
static LLVMBasicBlockRef branch_target(Frame *f) { return f->op == OP_LOOP ? f->head : f->end; }

/* Branch (if cond is NULL unconditionally) to label `depth` with the label values taken
 * from the stack top; they stay on the stack for br_if. */
static void branch(Lower *L, uint32_t depth, LLVMValueRef cond) {
  Frame *f = label(L, depth);
  uint32_t n;
  const uint8_t *types;
  label_types(f, &n, &types);
  LLVMValueRef vals[n ? n : 1];
  pop_vals(L, n, types, vals);
  if (cond) /* br_if keeps them */
    for (uint32_t i = 0; i < n; i++) push_val(L, types[i], vals[i]);
  if (!cond) {
    store_slots(L, n, f->slots, vals);
    eh_leave(L, depth);
    LLVMBuildBr(L->b, branch_target(f));
    go_dead(L);
    return;
  }
  LLVMBasicBlockRef cont = new_block(L, "cont");
  if (n == 0 && !eh_exits(L, depth)) {
    LLVMBuildCondBr(L->b, cond, branch_target(f), cont);
  } else { /* store only on the taken path */
    LLVMBasicBlockRef taken = new_block(L, "br_if");
    LLVMBuildCondBr(L->b, cond, taken, cont);
    LLVMPositionBuilderAtEnd(L->b, taken);
    store_slots(L, n, f->slots, vals);
    eh_leave(L, depth);
    LLVMBuildBr(L->b, branch_target(f));
  }
  LLVMPositionBuilderAtEnd(L->b, cont);
}

static void br_table(Lower *L) {
  Reader *r = &L->r;
  uint32_t n = rd_u32(r);
  if (n > (size_t)(r->end - r->p)) rd_fail(r, "unexpected end");
  uint32_t *depths = xmalloc(sizeof(uint32_t) * (n + 1));
  for (uint32_t i = 0; i <= n; i++) depths[i] = rd_u32(r);
  LLVMValueRef idx = pop_typed(L, T_I32);
  /* The spec's algorithm: every label has the default's arity, and the operands must
   * match each label's types. */
  Frame *def = label(L, depths[n]);
  uint32_t arity, k;
  const uint8_t *types;
  label_types(def, &arity, &types);
  LLVMValueRef vals[arity ? arity : 1];
  for (uint32_t i = 0; i < n; i++) {
    label_types(label(L, depths[i]), &k, &types);
    if (k != arity) fail_at(L->m, L->op_off, "type mismatch");
    Val got[k ? k : 1];
    for (uint32_t j = k; j-- > 0;) {
      got[j] = pop_val(L);
      if (got[j].type != types[j] && got[j].type != T_UNKNOWN) fail_at(L->m, L->op_off, "type mismatch");
    }
    for (uint32_t j = 0; j < k; j++) push_val(L, got[j].type, got[j].v);
  }
  label_types(def, &arity, &types);
  pop_vals(L, arity, types, vals);
  /* One block per distinct target stores the values, so each is reached from the switch. */
  LLVMBasicBlockRef *via = xmalloc(sizeof(LLVMBasicBlockRef) * L->nctrl);
  memset(via, 0, sizeof(LLVMBasicBlockRef) * L->nctrl);
  LLVMBasicBlockRef here = LLVMGetInsertBlock(L->b);
  for (uint32_t i = 0; i <= n; i++) {
    uint32_t d = depths[i];
    if (via[d]) continue;
    Frame *f = label(L, d);
    if (arity == 0 && !eh_exits(L, d)) {
      via[d] = branch_target(f);
    } else {
      via[d] = new_block(L, "br_table");
      LLVMPositionBuilderAtEnd(L->b, via[d]);
      store_slots(L, arity, f->slots, vals);
      eh_leave(L, d);
      LLVMBuildBr(L->b, branch_target(f));
    }
  }
  LLVMPositionBuilderAtEnd(L->b, here);
  LLVMValueRef sw = LLVMBuildSwitch(L->b, idx, via[depths[n]], n);
  for (uint32_t i = 0; i < n; i++)
    if (depths[i] != depths[n]) LLVMAddCase(sw, LLVMConstInt(L->c->i32, i, 0), via[depths[i]]);
  free(via);
  free(depths);
  go_dead(L);
}

/* Ends the current arm of frame f: store its results and jump to its end. */
void finish_arm(Lower *L, Frame *f) {
  LLVMValueRef vals[f->nr ? f->nr : 1];
  check_frame_end(L, f, vals);
  if (terminated(L)) return;
  if (f->unreachable) {
    LLVMBuildUnreachable(L->b);
  } else {
    store_slots(L, f->nr, f->slots, vals);
    LLVMBuildBr(L->b, f->end);
  }
}

static void lower_end(Lower *L) {
  Frame *f = &L->ctrl[L->nctrl - 1];
  if (f->op == OP_LOOP) { /* falls through in place: results stay on the stack */
    LLVMValueRef vals[f->nr ? f->nr : 1];
    check_frame_end(L, f, vals);
    if (f->unreachable && !terminated(L)) LLVMBuildUnreachable(L->b);
    bool dead = f->unreachable;
    Frame fr = *f;
    free(f->slots);
    L->nctrl--;
    if (dead) LLVMPositionBuilderAtEnd(L->b, new_block(L, "after_loop"));
    for (uint32_t i = 0; i < fr.nr; i++) push_val(L, fr.results[i], vals[i]);
    return;
  }
  if (f->op == OP_TRY || f->op == OP_CATCH || f->op == OP_CATCH_ALL) eh_end(L, f);
  else finish_arm(L, f);
  if (f->op == OP_IF && f->np == 0 && f->nr == 0) {
    /* no else and nothing to pass: the condition jumps straight to the end, one block less
     * (a chain of such ifs is the costliest shape per byte to compile) */
    LLVMReplaceAllUsesWith(LLVMBasicBlockAsValue(f->els), LLVMBasicBlockAsValue(f->end));
    LLVMDeleteBasicBlock(f->els);
  } else if (f->op == OP_IF) { /* no else: the implicit else passes the params through */
    LLVMPositionBuilderAtEnd(L->b, f->els);
    f->unreachable = false;
    L->nvals = f->height;
    for (uint32_t i = 0; i < f->np; i++) push_val(L, f->params[i], f->saved[i].v);
    finish_arm(L, f);
  }
  Frame fr = *f;
  L->nctrl--;
  LLVMMoveBasicBlockAfter(fr.end, LLVMGetInsertBlock(L->b));
  LLVMPositionBuilderAtEnd(L->b, fr.end);
  if (fr.is_func) {
    LLVMValueRef vals[fr.nr ? fr.nr : 1];
    for (uint32_t i = 0; i < fr.nr; i++) vals[i] = LLVMBuildLoad2(L->b, llvm_type(L->c, fr.results[i]), fr.slots[i], "");
    if (L->out) { /* tailcc with 2+ results: store them where the caller said (abi.h §1) */
      LLVMTypeRef rs = results_struct(L->c, L->ft);
      for (uint32_t i = 0; i < fr.nr; i++) LLVMBuildStore(L->b, vals[i], LLVMBuildStructGEP2(L->b, rs, L->out, i, ""));
      LLVMBuildRetVoid(L->b);
    } else if (fr.nr == 0) LLVMBuildRetVoid(L->b);
    else if (fr.nr == 1) LLVMBuildRet(L->b, vals[0]);
    else LLVMBuildAggregateRet(L->b, vals, fr.nr);
  } else {
    load_slots(L, fr.nr, fr.results, fr.slots);
  }
  free(fr.slots);
  free(fr.saved);
}

static bool lower_control(Lower *L, uint8_t op) {
  uint32_t np, nr;
  const uint8_t *params, *results;
  switch (op) {
  case OP_UNREACHABLE: trap_now(L, KILN_TRAP_UNREACHABLE); return true;
  case OP_NOP: return true;
  case OP_BLOCK:
  case OP_LOOP: {
    read_blocktype(L, &np, &params, &nr, &results);
    LLVMValueRef vals[np ? np : 1];
    pop_vals(L, np, params, vals);
    Frame *f = push_ctrl(L, op, np, params, nr, results);
    if (op == OP_BLOCK) {
      f->end = new_block(L, "block_end");
      f->slots = make_slots(L, nr, results);
      for (uint32_t i = 0; i < np; i++) push_val(L, params[i], vals[i]);
    } else {
      f->head = new_block(L, "loop");
      f->slots = make_slots(L, np, params);
      store_slots(L, np, f->slots, vals);
      LLVMBuildBr(L->b, f->head);
      LLVMPositionBuilderAtEnd(L->b, f->head);
      load_slots(L, np, params, f->slots);
    }
    return true;
  }
  case OP_IF: {
    read_blocktype(L, &np, &params, &nr, &results);
    LLVMValueRef cond = pop_typed(L, T_I32);
    LLVMValueRef vals[np ? np : 1];
    pop_vals(L, np, params, vals);
    Frame *f = push_ctrl(L, OP_IF, np, params, nr, results);
    f->end = new_block(L, "if_end");
    f->els = new_block(L, "else");
    f->slots = make_slots(L, nr, results);
    f->saved = xmalloc(sizeof(Val) * (np + 1));
    for (uint32_t i = 0; i < np; i++) f->saved[i] = (Val){params[i], vals[i]};
    LLVMBasicBlockRef then = new_block(L, "then");
    LLVMBuildCondBr(L->b, LLVMBuildICmp(L->b, LLVMIntNE, cond, LLVMConstInt(L->c->i32, 0, 0), ""), then, f->els);
    LLVMPositionBuilderAtEnd(L->b, then);
    for (uint32_t i = 0; i < np; i++) push_val(L, params[i], vals[i]);
    return true;
  }
  case OP_ELSE: {
    Frame *f = &L->ctrl[L->nctrl - 1];
    if (f->op != OP_IF) fail_at(L->m, L->op_off, "else without matching if");
    finish_arm(L, f);
    f->op = OP_ELSE;
    f->unreachable = false;
    L->nvals = f->height;
    LLVMMoveBasicBlockAfter(f->els, LLVMGetInsertBlock(L->b));
    LLVMPositionBuilderAtEnd(L->b, f->els);
    for (uint32_t i = 0; i < f->np; i++) push_val(L, f->params[i], f->saved[i].v);
    return true;
  }
  case OP_END: lower_end(L); return true;
  case OP_DELEGATE: eh_delegate(L); lower_end(L); return true;
  case OP_BR: branch(L, rd_u32(&L->r), NULL); return true;
  case OP_BR_IF: {
    uint32_t d = rd_u32(&L->r);
    LLVMValueRef c = pop_typed(L, T_I32);
    label(L, d);
    branch(L, d, LLVMBuildICmp(L->b, LLVMIntNE, c, LLVMConstInt(L->c->i32, 0, 0), ""));
    return true;
  }
  case OP_BR_TABLE: br_table(L); return true;
  case OP_RETURN: branch(L, L->nctrl - 1, NULL); return true;
  default: return false;
  }
}

/* The stack check: rsp compared with ctx->stack_limit at function entry, so deep recursion
 * traps cleanly with room left for host calls. Lowering only marks the functions that need it
 * (STACK_CHECK_ATTR); insert_stack_checks adds it after the -O pipeline, once per function
 * that remains: checks lowered into every body would be inlined along with their callees,
 * where they repeat the caller's own check and make small functions look too costly to
 * inline. An inlined body needs no check of its own: its caller called it, so the caller
 * is no leaf and has one, and rsp does not move within a function. */
#define STACK_CHECK_ATTR "kiln-stack-check"

static void stack_check(Compiler *c, LLVMBuilderRef b, LLVMValueRef fn) {
  LLVMTypeRef fty = LLVMFunctionType(c->i64, (LLVMTypeRef[]){LLVMMetadataTypeInContext(c->llc)}, 1, 0);
  LLVMValueRef rr = LLVMGetNamedFunction(c->mod, "llvm.read_register.i64");
  if (!rr) rr = LLVMAddFunction(c->mod, "llvm.read_register.i64", fty);
  LLVMMetadataRef rsp = LLVMMDStringInContext2(c->llc, "rsp", 3);
  LLVMValueRef arg = LLVMMetadataAsValue(c->llc, LLVMMDNodeInContext2(c->llc, &rsp, 1));
  /* A new entry block holds the check; the old one follows it. The allocas move along, as
   * only those of the entry block are part of the fixed frame. */
  LLVMBasicBlockRef body = LLVMGetEntryBasicBlock(fn);
  LLVMBasicBlockRef entry = LLVMInsertBasicBlockInContext(c->llc, body, "stack_check");
  LLVMBasicBlockRef trap = LLVMAppendBasicBlockInContext(c->llc, fn, "stack_exhausted");
  LLVMPositionBuilderAtEnd(b, entry);
  for (LLVMValueRef in = LLVMGetFirstInstruction(body), next; in; in = next) {
    next = LLVMGetNextInstruction(in);
    if (!LLVMIsAAllocaInst(in)) continue;
    LLVMInstructionRemoveFromParent(in);
    LLVMInsertIntoBuilder(b, in);
  }
  LLVMValueRef ctx = LLVMGetParam(fn, 0);
  LLVMValueRef sp = LLVMBuildCall2(b, fty, rr, &arg, 1, "sp");
  LLVMValueRef lp = LLVMBuildGEP2(b, c->i8, ctx, (LLVMValueRef[]){LLVMConstInt(c->i64, offsetof(kiln_instance, stack_limit), 0)}, 1, "");
  LLVMValueRef lim = set_tbaa(c, LLVMBuildLoad2(b, c->i64, lp, ""), TBAA_RUNTIME);
  LLVMBuildCondBr(b, LLVMBuildICmp(b, LLVMIntULT, sp, lim, ""), trap, body);
  LLVMPositionBuilderAtEnd(b, trap);
  LLVMValueRef tf = trap_decl(c);
  LLVMBuildCall2(b, LLVMGlobalGetValueType(tf), tf, (LLVMValueRef[]){ctx, LLVMConstInt(c->i32, KILN_TRAP_STACK_EXHAUSTED, 0)}, 2, "");
  LLVMBuildUnreachable(b);
}

void mark_stack_check(Compiler *c, LLVMValueRef fn) {
  LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
                          LLVMCreateStringAttribute(c->llc, STACK_CHECK_ATTR, strlen(STACK_CHECK_ATTR), "", 0));
}

static bool has_stack_check(LLVMValueRef fn) {
  return LLVMGetFirstBasicBlock(fn) &&
         LLVMGetStringAttributeAtIndex(fn, LLVMAttributeFunctionIndex, STACK_CHECK_ATTR, strlen(STACK_CHECK_ATTR));
}

/* To the -O pipeline, a body whose only use of ctx is the check still to come does not use
 * it: dead-argument elimination then passes poison for ctx at every direct call from the same
 * chunk (Lua's match -> match_class, tan -> __tan) and marks the parameter readnone, and the
 * check would read the stack limit through whatever the register holds. Every direct
 * call between the module's functions passed the caller's own ctx, which is the caller's first
 * parameter when the caller is checked too (any function that calls is; a trampoline, whose
 * ctx is its second, calls through a pointer): that value is put back before the check reads
 * it, and the attributes the check makes untrue go. */
static void restore_ctx_args(LLVMValueRef fn) {
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      if (!LLVMIsACallInst(in)) continue;
      LLVMValueRef callee = LLVMGetCalledValue(in);
      if (!LLVMIsAFunction(callee) || !has_stack_check(callee) || LLVMGetNumArgOperands(in) == 0) continue;
      LLVMValueRef a = LLVMGetOperand(in, 0);
      if (LLVMIsUndef(a)) LLVMSetOperand(in, 0, LLVMGetParam(fn, 0)); /* poison is an undef too */
    }
  LLVMRemoveEnumAttributeAtIndex(fn, 1, LLVMGetEnumAttributeKindForName("readnone", 8));
  LLVMRemoveEnumAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMGetEnumAttributeKindForName("memory", 6));
}

/* Whether fn, as the -O pipeline left it, is a small leaf (aot/limits.h): no call but to
 * intrinsics that stay instructions (the llvm.mem* ones may become libc calls), few
 * instructions, small fixed allocas. A body lowering marked for a call it held is often one
 * once its callees are inlined (Lua's lua_pushvalue, luaH_getint). */
static bool small_leaf(LLVMTargetDataRef dl, LLVMValueRef fn) {
  uint64_t insts = 0, bytes = 0;
  for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
    for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
      if (++insts > LEAF_OPT_INSTRUCTIONS) return false;
      if (LLVMIsAAllocaInst(in)) {
        LLVMValueRef n = LLVMGetOperand(in, 0);
        if (bb != LLVMGetEntryBasicBlock(fn) || !LLVMIsAConstantInt(n)) return false;
        bytes += LLVMABISizeOfType(dl, LLVMGetAllocatedType(in)) * LLVMConstIntGetZExtValue(n);
        if (bytes > LEAF_LOCAL_BYTES) return false;
      }
      if (!LLVMIsACallInst(in) && !LLVMIsAInvokeInst(in)) continue;
      LLVMValueRef callee = LLVMGetCalledValue(in);
      size_t len;
      const char *name = LLVMIsAFunction(callee) ? LLVMGetValueName2(callee, &len) : "";
      if (!LLVMGetIntrinsicID(callee) || !strncmp(name, "llvm.mem", 8)) return false;
    }
  return true;
}

void insert_stack_checks(Compiler *c) {
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
  LLVMTargetDataRef dl = LLVMGetModuleDataLayout(c->mod);
  for (LLVMValueRef fn = LLVMGetFirstFunction(c->mod); fn; fn = LLVMGetNextFunction(fn))
    if (has_stack_check(fn)) restore_ctx_args(fn);
  for (LLVMValueRef fn = LLVMGetFirstFunction(c->mod); fn; fn = LLVMGetNextFunction(fn))
    if (has_stack_check(fn) && !small_leaf(dl, fn)) stack_check(c, b, fn);
  LLVMDisposeBuilder(b);
}

/* Bodies that call nothing skip the check when their frame is known small: few bytes of
 * locals and a short body (at -O0 every operand may get a spill slot). The margin below
 * stack_limit then holds the frame. */
static bool needs_stack_check(const Func *f, const Lower *L) {
  if (f->body_end - f->body > (ptrdiff_t)LEAF_BODY_SIZE) return true;
  uint64_t bytes = 0;
  for (uint32_t i = 0; i < L->nlocals; i++) bytes += L->local_types[i] == T_V128 ? 16 : 8;
  if (bytes > LEAF_LOCAL_BYTES) return true;
  uint8_t last = L->c->tail ? OP_RETURN_CALL_INDIRECT : OP_CALL_INDIRECT; /* return_call* only exist then */
  for (const uint8_t *p = f->body; p < f->body_end; p++)
    if (*p >= OP_CALL && *p <= last) return true; /* conservative: any such byte */
  return false;
}

static void read_locals(Lower *L) {
  Reader *r = &L->r;
  const FuncType *ft = L->ft;
  uint32_t groups = rd_u32(r);
  uint64_t total = ft->np;
  const uint8_t *save = r->p;
  for (uint32_t g = 0; g < groups; g++) {
    const uint8_t *at = r->p;
    total += rd_u32(r);
    rd_valtype(r);
    if (total > LIMIT_LOCALS) {
      r->p = at;
      rd_fail(r, "too many locals: %llu (params included) exceeds the limit of %u", (unsigned long long)total,
              LIMIT_LOCALS);
    }
  }
  L->nlocals = (uint32_t)total;
  L->local_types = xmalloc(total + 1);
  L->locals = xmalloc(sizeof(LLVMValueRef) * (total + 1));
  memcpy(L->local_types, ft->t, ft->np);
  r->p = save;
  uint32_t k = ft->np;
  for (uint32_t g = 0; g < groups; g++) {
    uint32_t n = rd_u32(r);
    uint8_t t = rd_valtype(r);
    for (uint32_t i = 0; i < n; i++) L->local_types[k++] = t;
  }
  if (needs_stack_check(&L->m->funcs[L->fidx], L)) mark_stack_check(L->c, L->fn);
  for (uint32_t i = 0; i < L->nlocals; i++) {
    LLVMTypeRef t = llvm_type(L->c, L->local_types[i]);
    L->locals[i] = entry_alloca(L, t);
    LLVMValueRef init = i < ft->np ? LLVMGetParam(L->fn, i + (L->out ? 2 : 1)) : LLVMConstNull(t);
    LLVMBuildStore(L->b, init, L->locals[i]);
  }
}

void lower_function(Compiler *c, uint32_t fidx) {
  const Module *m = c->m;
  const Func *fn = &m->funcs[fidx];
  Lower L = {.c = c, .m = m, .fidx = fidx, .ft = &m->types[fn->type]};
  L.r = (Reader){m, fn->body, fn->body_end, NULL};
  L.fn = c->fns[fidx];
  L.ctx = LLVMGetParam(L.fn, 0);
  if (results_via_ptr(c, L.ft)) L.out = LLVMGetParam(L.fn, 1);
  L.b = LLVMCreateBuilderInContext(c->llc);
  L.entry = new_block(&L, "entry");
  LLVMBasicBlockRef body = new_block(&L, "body");
  LLVMPositionBuilderAtEnd(L.b, body);
  L.op_off = rd_off(&L.r);
  read_locals(&L);
  eh_begin_function(&L);

  Frame *f = push_ctrl(&L, OP_BLOCK, 0, NULL, L.ft->nr, L.ft->t + L.ft->np);
  f->is_func = true;
  f->end = new_block(&L, "return");
  f->slots = make_slots(&L, L.ft->nr, L.ft->t + L.ft->np);

  while (L.nctrl > 0) {
    L.op_off = rd_off(&L.r);
    uint8_t op = rd_u8(&L.r);
    if (lower_control(&L, op) || lower_numeric(&L, op) || lower_const(&L, op) || lower_parametric(&L, op) ||
        lower_variable(&L, op) || lower_memory(&L, op) || lower_call(&L, op) || lower_table(&L, op) ||
        lower_convert(&L, op) || lower_eh(&L, op))
      continue;
    if (op == OP_PREFIX_FC) {
      uint32_t sub = rd_u32(&L.r);
      if (lower_trunc_sat(&L, sub) || lower_memory_fc(&L, sub) || lower_table_fc(&L, sub)) continue;
      fail_at(m, L.op_off, "illegal opcode 0xfc %u", sub);
    }
    if (op == OP_PREFIX_FD) {
      uint32_t sub = rd_u32(&L.r);
      if (lower_simd(&L, sub)) continue;
      fail_at(m, L.op_off, "illegal opcode 0xfd %u", sub);
    }
    if (op == OP_PREFIX_FE) {
      uint32_t sub = rd_u32(&L.r);
      if (lower_atomic(&L, sub)) continue;
      fail_at(m, L.op_off, "illegal opcode 0xfe %u", sub);
    }
    fail_at(m, L.op_off, "illegal opcode 0x%02x", op);
  }
  if (L.r.p != L.r.end) rd_fail(&L.r, "section size mismatch: operators after the end of the function");

  LLVMBuilderRef eb = LLVMCreateBuilderInContext(c->llc);
  LLVMPositionBuilderAtEnd(eb, L.entry);
  LLVMBuildBr(eb, body);
  LLVMDisposeBuilder(eb);
  LLVMDisposeBuilder(L.b);
  free(L.vals);
  free(L.ctrl);
  free(L.locals);
  free(L.local_types);
  free(L.mem_bases);
}
