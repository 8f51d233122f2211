/* aot/descriptor.c — LLVM types of Wasm values and functions, function declarations,
 * trampolines, import mangling, and the `kiln_module` descriptor of abi.h.
 *
 * The descriptor's LLVM struct types list the C fields of abi.h in order; LLVM's x86-64
 * data layout pads them exactly as C does (tests/aot checks it from C). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot/abi.h"
#include "aot/aot.h"

LLVMTypeRef llvm_type(Compiler *c, uint8_t t) {
  switch (t) {
  case T_I32: return c->i32;
  case T_I64: return c->i64;
  case T_F32: return c->f32;
  case T_F64: return c->f64;
  case T_V128: return c->v128;
  default: return c->ptr; /* funcref, externref */
  }
}

/* Heap arrays: the counts come from the module (bounded by aot/limits.h, but a type with a
 * million params once overflowed stack arrays here). */
LLVMTypeRef llvm_functype(Compiler *c, const FuncType *ft) {
  LLVMTypeRef *params = xmalloc(sizeof(LLVMTypeRef) * (ft->np + 1));
  params[0] = c->ptr;
  for (uint32_t i = 0; i < ft->np; i++) params[i + 1] = llvm_type(c, ft->t[i]);
  LLVMTypeRef ret = c->voidt;
  if (ft->nr == 1) ret = llvm_type(c, ft->t[ft->np]);
  if (ft->nr > 1) {
    LLVMTypeRef *rs = xmalloc(sizeof(LLVMTypeRef) * ft->nr);
    for (uint32_t i = 0; i < ft->nr; i++) rs[i] = llvm_type(c, ft->t[ft->np + i]);
    ret = LLVMStructTypeInContext(c->llc, rs, ft->nr, 0);
    free(rs);
  }
  LLVMTypeRef fty = LLVMFunctionType(ret, params, ft->np + 1, 0);
  free(params);
  return fty;
}

bool results_via_ptr(const Compiler *c, const FuncType *ft) { return c->tail && ft->nr > 1; }

LLVMTypeRef results_struct(Compiler *c, const FuncType *ft) {
  LLVMTypeRef rs[ft->nr + 1];
  for (uint32_t i = 0; i < ft->nr; i++) rs[i] = llvm_type(c, ft->t[ft->np + i]);
  return LLVMStructTypeInContext(c->llc, rs, ft->nr, 0);
}

/* The tailcc entry of abi.h §1: (ctx, [results pointer,] params...). */
static LLVMTypeRef tail_functype(Compiler *c, const FuncType *ft) {
  if (!results_via_ptr(c, ft)) return llvm_functype(c, ft);
  LLVMTypeRef params[ft->np + 2];
  params[0] = params[1] = c->ptr;
  for (uint32_t i = 0; i < ft->np; i++) params[i + 2] = llvm_type(c, ft->t[i]);
  return LLVMFunctionType(c->voidt, params, ft->np + 2, 0);
}

/* The type of fns[] of module type t: tailcc entries when the module has tail calls. */
LLVMTypeRef tailtype(Compiler *c, uint32_t t) {
  if (!c->tail) return fntype(c, t);
  if (!c->tailtypes[t]) c->tailtypes[t] = tail_functype(c, &c->m->types[t]);
  return c->tailtypes[t];
}

/* LLVM function types are made on first use: a module may declare a million types it never
 * uses, and each costs memory in the context. */
LLVMTypeRef fntype(Compiler *c, uint32_t t) {
  if (!c->fntypes[t]) c->fntypes[t] = llvm_functype(c, &c->m->types[t]);
  return c->fntypes[t];
}

static char type_letter(uint8_t t) {
  switch (t) {
  case T_I32: return 'i';
  case T_I64: return 'I';
  case T_F32: return 'f';
  case T_F64: return 'F';
  case T_V128: return 'v';
  case T_FUNCREF: return 'r';
  default: return 'x';
  }
}

static void mangle_name(char **p, const Name *n) {
  for (uint32_t i = 0; i < n->len; i++) {
    unsigned char ch = (unsigned char)n->s[i];
    if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_')
      *(*p)++ = (char)ch;
    else
      *p += sprintf(*p, "_x%02x", ch);
  }
}

/* <M>__<F>__<params>_<results>, as abi.h documents. */
char *mangle_import(const Module *m, const Import *imp) {
  const FuncType *ft = &m->types[m->funcs[imp->index].type];
  char *s = xmalloc(4 * (imp->module.len + imp->field.len) + ft->np + ft->nr + 8);
  char *p = s;
  mangle_name(&p, &imp->module);
  *p++ = '_', *p++ = '_';
  mangle_name(&p, &imp->field);
  *p++ = '_', *p++ = '_';
  for (uint32_t i = 0; i < ft->np; i++) *p++ = type_letter(ft->t[i]);
  *p++ = '_';
  for (uint32_t i = 0; i < ft->nr; i++) *p++ = type_letter(ft->t[ft->np + i]);
  *p = 0;
  return s;
}

/* f<index>[.<name-section name>]: readable symbols for profilers and debuggers, unique by index. */
static void function_name(const Module *m, uint32_t f, char name[96]) {
  const Func *fn = &m->funcs[f];
  int k = snprintf(name, 96, "f%u", f);
  if (!fn->name.s) return;
  name[k++] = '.';
  for (uint32_t i = 0; i < fn->name.len && k < 95; i++) {
    char ch = fn->name.s[i];
    name[k++] = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ? ch : '_';
  }
  name[k] = 0;
}

/* Defined function f as an LLVM function of this module: a definition of this chunk, or the
 * declaration of one in another (declared on first use: a chunk names few of a million). Across
 * chunks the symbol is hidden, and link_chunks in emit.c makes it local in the object. */
LLVMValueRef fn_ref(Compiler *c, uint32_t f) {
  if (c->fns[f]) return c->fns[f];
  const Func *fn = &c->m->funcs[f];
  char name[96];
  function_name(c->m, f, name);
  c->fns[f] = LLVMAddFunction(c->mod, name, tailtype(c, fn->type));
  if (c->tail) LLVMSetFunctionCallConv(c->fns[f], KILN_TAILCC);
  unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
  LLVMAddAttributeAtIndex(c->fns[f], LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->llc, nounwind, 0));
  if (c->split) LLVMSetVisibility(c->fns[f], LLVMHiddenVisibility);
  else LLVMSetLinkage(c->fns[f], LLVMInternalLinkage);
  return c->fns[f];
}

void declare_functions(Compiler *c) {
  const Module *m = c->m;
  c->fntypes = xmalloc(sizeof(LLVMTypeRef) * (m->ntypes + 1)); /* filled by fntype() on first use */
  c->tailtypes = xmalloc(sizeof(LLVMTypeRef) * (m->ntypes + 1)); /* by tailtype() */
  c->fns = xmalloc(sizeof(LLVMValueRef) * (m->nfuncs + 1));      /* by fn_ref() */
  c->tramps = xmalloc(sizeof(LLVMValueRef) * (m->ntypes + 1));   /* by tramp_ref() */
  for (uint32_t f = c->lo; f < c->hi; f++) {
    fn_ref(c, f);
    /* A Wasm `call` is no tail call: recursion must exhaust the stack (spec: assert_exhaustion),
     * so neither tail-recursion elimination nor sibling calls may turn it into a loop.
     * (return_call is `musttail`, which this attribute does not affect.) */
    LLVMAddAttributeAtIndex(c->fns[f], LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(c->llc, "disable-tail-calls", 18, "true", 4));
    /* A frame larger than a page is touched page by page from the top in the prologue, so a
     * huge frame meets the guard page below the stack (a "call stack exhausted" fault) before
     * anything is stored further down, at every -O level. */
    LLVMAddAttributeAtIndex(c->fns[f], LLVMAttributeFunctionIndex,
                            LLVMCreateStringAttribute(c->llc, "probe-stack", 11, "inline-asm", 10));
  }
  c->trap_fn = trap_decl(c);
}

LLVMValueRef trap_decl(Compiler *c) {
  LLVMValueRef f = LLVMGetNamedFunction(c->mod, "kiln_trap");
  if (f) return f;
  LLVMTypeRef tt = LLVMFunctionType(c->voidt, (LLVMTypeRef[]){c->ptr, c->i32}, 2, 0);
  f = LLVMAddFunction(c->mod, "kiln_trap", tt);
  const char *attrs[] = {"noreturn", "cold", "nounwind"};
  for (int i = 0; i < 3; i++) {
    unsigned kind = LLVMGetEnumAttributeKindForName(attrs[i], strlen(attrs[i]));
    LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(c->llc, kind, 0));
  }
  return f;
}

/* ---- constants ---- */

static LLVMValueRef ci8(Compiler *c, uint64_t v) { return LLVMConstInt(c->i8, v, 0); }
static LLVMValueRef ci32(Compiler *c, uint64_t v) { return LLVMConstInt(c->i32, v, 0); }
static LLVMValueRef ci64(Compiler *c, uint64_t v) { return LLVMConstInt(c->i64, v, 0); }

static LLVMValueRef private_global(Compiler *c, LLVMValueRef init, const char *name) {
  LLVMValueRef g = LLVMAddGlobal(c->mod, LLVMTypeOf(init), name);
  LLVMSetInitializer(g, init);
  LLVMSetLinkage(g, LLVMPrivateLinkage);
  LLVMSetGlobalConstant(g, 1);
  return g;
}

static LLVMValueRef bytes_global(Compiler *c, const void *p, uint32_t len, const char *name) {
  return private_global(c, LLVMConstStringInContext(c->llc, p, len, 0), name); /* NUL appended */
}

static LLVMValueRef array_global(Compiler *c, LLVMTypeRef t, LLVMValueRef *vals, uint32_t n, const char *name) {
  if (!n) return LLVMConstNull(c->ptr);
  return private_global(c, LLVMConstArray2(t, vals, n), name);
}

typedef struct DescTypes {
  LLVMTypeRef name, functype, func, limits, cexpr, import, table, mem, global, export, data, elem, tag, module;
} DescTypes;

static LLVMTypeRef st(Compiler *c, LLVMTypeRef *f, unsigned n) { return LLVMStructTypeInContext(c->llc, f, n, 0); }

static DescTypes desc_types(Compiler *c) {
  DescTypes d;
  LLVMTypeRef p = c->ptr, i8 = c->i8, i32 = c->i32, i64 = c->i64;
  d.name = st(c, (LLVMTypeRef[]){p, i32}, 2);
  d.functype = st(c, (LLVMTypeRef[]){i32, i32, p, i64}, 4);
  d.func = st(c, (LLVMTypeRef[]){p, p, p, d.name, p}, 5);
  d.limits = st(c, (LLVMTypeRef[]){i64, i64, i8, i8}, 4);
  d.cexpr = st(c, (LLVMTypeRef[]){i8, i8, i32, LLVMArrayType2(i64, 2)}, 4);
  d.import = st(c, (LLVMTypeRef[]){d.name, d.name, i8, i32, p, p}, 6);
  d.table = st(c, (LLVMTypeRef[]){i8, d.limits, i32}, 3);
  d.mem = st(c, (LLVMTypeRef[]){d.limits, i32}, 2);
  d.global = st(c, (LLVMTypeRef[]){i8, i8, d.cexpr, i32}, 4);
  d.export = st(c, (LLVMTypeRef[]){d.name, i8, i32}, 3);
  d.data = st(c, (LLVMTypeRef[]){i8, i32, d.cexpr, p, i32}, 5);
  d.elem = st(c, (LLVMTypeRef[]){i8, i8, i32, d.cexpr, i32, p}, 6);
  d.tag = st(c, (LLVMTypeRef[]){i32, i32}, 2);
  d.module = st(c, (LLVMTypeRef[]){i32, d.name, i32, p, i32, p, i32, i32, p, i32, i32, p, i32, i32, p, i32, i32, p, i32,
                                   p, i32, p, i32, p, i32, i32, i32, p},
                28);
  return d;
}

static LLVMValueRef cstruct(LLVMTypeRef t, LLVMValueRef *v, unsigned n) { return LLVMConstNamedStruct(t, v, n); }

static LLVMValueRef name_const(Compiler *c, DescTypes *d, const Name *n) {
  LLVMValueRef s = n->s ? bytes_global(c, n->s, n->len, "name") : LLVMConstNull(c->ptr);
  return cstruct(d->name, (LLVMValueRef[]){s, ci32(c, n->s ? n->len : 0)}, 2);
}

static LLVMValueRef limits_const(Compiler *c, DescTypes *d, const Limits *l) {
  return cstruct(d->limits, (LLVMValueRef[]){ci64(c, l->min), ci64(c, l->max), ci8(c, l->has_max), ci8(c, l->shared)}, 4);
}

static LLVMValueRef cexpr_const(Compiler *c, DescTypes *d, const ConstExpr *e) {
  LLVMValueRef v0 = ci64(c, e->bits);
  if (e->kind == KILN_CONST_EXPR) { /* value.ref: the items, in postfix order */
    LLVMValueRef *items = xmalloc(sizeof(LLVMValueRef) * e->index);
    for (uint32_t k = 0; k < e->index; k++) items[k] = cexpr_const(c, d, &e->items[k]);
    v0 = LLVMConstPtrToInt(array_global(c, d->cexpr, items, e->index, "const_items"), c->i64);
    free(items);
  }
  LLVMValueRef val = LLVMConstArray2(c->i64, (LLVMValueRef[]){v0, ci64(c, e->hi)}, 2);
  return cstruct(d->cexpr, (LLVMValueRef[]){ci8(c, e->kind), ci8(c, e->type), ci32(c, e->index), val}, 4);
}

/* void tramp(void *fn, kiln_instance *ctx, kiln_val *vals): the bridge from C runtimes, one per
 * canonical type. */
static LLVMValueRef trampoline(Compiler *c, uint32_t t) {
  const FuncType *ft = &c->m->types[t];
  LLVMTypeRef ty = LLVMFunctionType(c->voidt, (LLVMTypeRef[]){c->ptr, c->ptr, c->ptr}, 3, 0);
  char name[32];
  snprintf(name, sizeof name, "tramp%u", t);
  LLVMValueRef f = LLVMAddFunction(c->mod, name, ty);
  if (c->split) LLVMSetVisibility(f, LLVMHiddenVisibility); /* chunks name it (tramp_ref) */
  else LLVMSetLinkage(f, LLVMInternalLinkage);
  c->tramps[t] = f;
  if (c->split && !c->descriptor) return f; /* a declaration: the descriptor's chunk defines it */
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c->llc, f, "entry"));
  LLVMValueRef vals = LLVMGetParam(f, 2);
  LLVMValueRef args[ft->np + 1];
  args[0] = LLVMGetParam(f, 1);
  for (uint32_t i = 0; i < ft->np; i++) {
    LLVMValueRef p = LLVMBuildGEP2(b, c->i8, vals, (LLVMValueRef[]){ci64(c, 16ull * i)}, 1, "");
    args[i + 1] = LLVMBuildLoad2(b, llvm_type(c, ft->t[i]), p, "");
    LLVMSetAlignment(args[i + 1], 8); /* kiln_val: a v128 is only 8-aligned there */
  }
  LLVMValueRef r = LLVMBuildCall2(b, fntype(c, t), LLVMGetParam(f, 0), args, ft->np + 1, "");
  for (uint32_t i = 0; i < ft->nr; i++) {
    LLVMValueRef v = ft->nr == 1 ? r : LLVMBuildExtractValue(b, r, i, "");
    LLVMValueRef p = LLVMBuildGEP2(b, c->i8, vals, (LLVMValueRef[]){ci64(c, 16ull * i)}, 1, "");
    LLVMSetAlignment(LLVMBuildStore(b, v, p), 8);
  }
  LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return f;
}

static LLVMValueRef tramp_ref(Compiler *c, uint32_t t) { return c->tramps[t] ? c->tramps[t] : trampoline(c, t); }

/* The C entry of a tailcc function (abi.h §1): what runtimes, tables and other modules call. */
static LLVMValueRef c_wrapper(Compiler *c, uint32_t f) {
  const FuncType *ft = &c->m->types[c->m->funcs[f].type];
  char name[32];
  snprintf(name, sizeof name, "c%u", f);
  LLVMValueRef w = LLVMAddFunction(c->mod, name, fntype(c, c->m->funcs[f].type));
  LLVMSetLinkage(w, LLVMInternalLinkage);
  /* The optimizer may inline the tailcc body here, whose own check is only added afterwards:
   * the wrapper is checked instead. */
  mark_stack_check(c, w);
  LLVMBuilderRef b = LLVMCreateBuilderInContext(c->llc);
  LLVMPositionBuilderAtEnd(b, LLVMAppendBasicBlockInContext(c->llc, w, "entry"));
  bool via = results_via_ptr(c, ft);
  LLVMTypeRef rs = via ? results_struct(c, ft) : NULL;
  LLVMValueRef out = via ? LLVMBuildAlloca(b, rs, "") : NULL;
  LLVMValueRef args[ft->np + 2];
  unsigned n = 0;
  args[n++] = LLVMGetParam(w, 0);
  if (via) args[n++] = out;
  for (uint32_t i = 0; i < ft->np; i++) args[n++] = LLVMGetParam(w, i + 1);
  LLVMValueRef r = LLVMBuildCall2(b, tailtype(c, c->m->funcs[f].type), fn_ref(c, f), args, n, "");
  LLVMSetInstructionCallConv(r, KILN_TAILCC);
  if (via) LLVMBuildRet(b, LLVMBuildLoad2(b, rs, out, ""));
  else if (ft->nr) LLVMBuildRet(b, r);
  else LLVMBuildRetVoid(b);
  LLVMDisposeBuilder(b);
  return w;
}

/* The kiln_func entries [lo, hi) of abi.h as a global: the whole array in a module of one
 * chunk; in a split module each chunk's slice, all in one section that ld.lld -r joins in chunk
 * order into the one contiguous array (48-byte entries, 8-aligned: no padding between). */
static LLVMValueRef func_entries(Compiler *c, DescTypes *d, LLVMValueRef types, uint32_t lo, uint32_t hi,
                                 const char *name) {
  const Module *m = c->m;
  LLVMValueRef nullp = LLVMConstNull(c->ptr);
  LLVMValueRef *fv = xmalloc(sizeof(LLVMValueRef) * (hi - lo + 1));
  for (uint32_t f = lo; f < hi; f++) {
    const Func *fn = &m->funcs[f];
    LLVMValueRef tp = m->ntypes ? LLVMConstGEP2(d->functype, types, (LLVMValueRef[]){ci64(c, fn->type)}, 1) : nullp;
    LLVMValueRef tramp = tramp_ref(c, m->types[fn->type].canon);
    LLVMValueRef entry = nullp, tail = nullp;
    if (fn->import < 0) entry = c->tail ? c_wrapper(c, f) : fn_ref(c, f);
    if (fn->import < 0 && c->tail) tail = fn_ref(c, f);
    fv[f - lo] = cstruct(d->func, (LLVMValueRef[]){entry, tramp, tp, name_const(c, d, &fn->name), tail}, 5);
  }
  LLVMValueRef g = array_global(c, d->func, fv, hi - lo, name);
  free(fv);
  if (c->split) {
    LLVMSetLinkage(g, LLVMExternalLinkage); /* kept: nothing in the chunk names it */
    LLVMSetVisibility(g, LLVMHiddenVisibility);
    LLVMSetSection(g, ".data.rel.ro.kiln_funcs");
    LLVMSetAlignment(g, 8);
  }
  return g;
}

/* A chunk's slice of the descriptor's function array (the first chunk's starts with the
 * imports), pointing at its functions and the descriptor chunk's types and trampolines. */
void emit_func_entries(Compiler *c) {
  const Module *m = c->m;
  DescTypes d = desc_types(c);
  LLVMValueRef types = LLVMAddGlobal(c->mod, LLVMArrayType2(d.functype, m->ntypes), "kiln.types");
  LLVMSetVisibility(types, LLVMHiddenVisibility);
  uint32_t lo = c->lo == m->nimported_funcs ? 0 : c->lo;
  char name[32];
  snprintf(name, sizeof name, "kiln.funcs.%u", lo);
  func_entries(c, &d, types, lo, c->hi, name);
}

void emit_descriptor(Compiler *c) {
  const Module *m = c->m;
  DescTypes d = desc_types(c);
  LLVMValueRef nullp = LLVMConstNull(c->ptr);

  /* types */
  /* All signatures in one array, each type pointing into it: one global per type cost
   * about a kilobyte each in LLVM (a million types took 1.5 GB). */
  size_t nsig = 0;
  for (uint32_t i = 0; i < m->ntypes; i++) nsig += m->types[i].np + m->types[i].nr;
  uint8_t *sigs = xmalloc(nsig + 1);
  nsig = 0;
  for (uint32_t i = 0; i < m->ntypes; i++) {
    memcpy(sigs + nsig, m->types[i].t, m->types[i].np + m->types[i].nr);
    nsig += m->types[i].np + m->types[i].nr;
  }
  LLVMValueRef sig = bytes_global(c, sigs, (uint32_t)nsig, "sigs");
  free(sigs);
  LLVMValueRef *tv = xmalloc(sizeof(LLVMValueRef) * (m->ntypes + 1));
  nsig = 0;
  for (uint32_t i = 0; i < m->ntypes; i++) {
    const FuncType *ft = &m->types[i];
    LLVMValueRef bytes = ft->np + ft->nr ? LLVMConstGEP2(c->i8, sig, (LLVMValueRef[]){ci64(c, nsig)}, 1) : nullp;
    nsig += ft->np + ft->nr;
    uint64_t h = kiln_functype_hash(ft->np, ft->t, ft->nr, ft->t + ft->np);
    tv[i] = cstruct(d.functype, (LLVMValueRef[]){ci32(c, ft->np), ci32(c, ft->nr), bytes, ci64(c, h)}, 4);
  }
  LLVMValueRef types = array_global(c, d.functype, tv, m->ntypes, c->split ? "kiln.types" : "types");
  if (c->split) { /* the chunks' function entries point into it */
    LLVMSetLinkage(types, LLVMExternalLinkage);
    LLVMSetVisibility(types, LLVMHiddenVisibility);
  }

  /* imports, with one weak undefined symbol per function import */
  LLVMValueRef *iv = xmalloc(sizeof(LLVMValueRef) * (m->nimports + 1));
  for (uint32_t i = 0; i < m->nimports; i++) {
    const Import *im = &m->imports[i];
    LLVMValueRef sym = nullp, symname = nullp;
    if (im->kind == EXT_FUNC) {
      char *mn = mangle_import(m, im);
      sym = LLVMGetNamedFunction(c->mod, mn);
      if (!sym) {
        sym = LLVMAddFunction(c->mod, mn, fntype(c, m->funcs[im->index].type));
        LLVMSetLinkage(sym, LLVMExternalWeakLinkage);
      }
      symname = bytes_global(c, mn, (uint32_t)strlen(mn), "symname");
      free(mn);
    }
    iv[i] = cstruct(d.import,
                    (LLVMValueRef[]){name_const(c, &d, &im->module), name_const(c, &d, &im->field), ci8(c, im->kind),
                                     ci32(c, im->index), sym, symname},
                    6);
  }
  LLVMValueRef imports = array_global(c, d.import, iv, m->nimports, "imports");

  /* functions and one trampoline per distinct type */
  LLVMValueRef funcs;
  if (!c->split) {
    funcs = func_entries(c, &d, types, 0, m->nfuncs, "funcs");
  } else { /* the chunks hold the entries; the descriptor's chunk the trampolines they name */
    for (uint32_t f = 0; f < m->nfuncs; f++) tramp_ref(c, m->types[m->funcs[f].type].canon);
    funcs = LLVMAddGlobal(c->mod, d.func, "kiln.funcs.0");
    LLVMSetVisibility(funcs, LLVMHiddenVisibility);
  }

  LLVMValueRef *tb = xmalloc(sizeof(LLVMValueRef) * (m->ntables + 1));
  for (uint32_t i = 0; i < m->ntables; i++)
    tb[i] = cstruct(d.table,
                    (LLVMValueRef[]){ci8(c, m->tables[i].elemtype), limits_const(c, &d, &m->tables[i].lim),
                                     ci32(c, (uint32_t)m->tables[i].import)},
                    3);
  LLVMValueRef tables = array_global(c, d.table, tb, m->ntables, "tables");

  LLVMValueRef *mv = xmalloc(sizeof(LLVMValueRef) * (m->nmems + 1));
  for (uint32_t i = 0; i < m->nmems; i++)
    mv[i] = cstruct(d.mem, (LLVMValueRef[]){limits_const(c, &d, &m->mems[i].lim), ci32(c, (uint32_t)m->mems[i].import)}, 2);
  LLVMValueRef mems = array_global(c, d.mem, mv, m->nmems, "memories");

  LLVMValueRef *gv = xmalloc(sizeof(LLVMValueRef) * (m->nglobals + 1));
  for (uint32_t i = 0; i < m->nglobals; i++) {
    const Global *g = &m->globals[i];
    gv[i] = cstruct(d.global,
                    (LLVMValueRef[]){ci8(c, g->type), ci8(c, g->mut), cexpr_const(c, &d, &g->init), ci32(c, (uint32_t)g->import)},
                    4);
  }
  LLVMValueRef globals = array_global(c, d.global, gv, m->nglobals, "globals");

  LLVMValueRef *ev = xmalloc(sizeof(LLVMValueRef) * (m->nexports + 1));
  for (uint32_t i = 0; i < m->nexports; i++) {
    const Export *e = &m->exports[i];
    ev[i] = cstruct(d.export, (LLVMValueRef[]){name_const(c, &d, &e->name), ci8(c, e->kind), ci32(c, e->index)}, 3);
  }
  LLVMValueRef exports = array_global(c, d.export, ev, m->nexports, "exports");

  LLVMValueRef *dv = xmalloc(sizeof(LLVMValueRef) * (m->ndata + 1));
  for (uint32_t i = 0; i < m->ndata; i++) {
    const Data *s = &m->data[i];
    LLVMValueRef bytes = s->len ? bytes_global(c, s->bytes, s->len, "data") : nullp;
    dv[i] = cstruct(d.data,
                    (LLVMValueRef[]){ci8(c, s->mode), ci32(c, s->mem), cexpr_const(c, &d, &s->off), bytes, ci32(c, s->len)},
                    5);
  }
  LLVMValueRef data = array_global(c, d.data, dv, m->ndata, "data");

  LLVMValueRef *elv = xmalloc(sizeof(LLVMValueRef) * (m->nelems + 1));
  for (uint32_t i = 0; i < m->nelems; i++) {
    const Elem *e = &m->elems[i];
    LLVMValueRef *items = xmalloc(sizeof(LLVMValueRef) * (e->count + 1));
    for (uint32_t k = 0; k < e->count; k++) items[k] = cexpr_const(c, &d, &e->items[k]);
    LLVMValueRef arr = array_global(c, d.cexpr, items, e->count, "elem_items");
    free(items);
    elv[i] = cstruct(d.elem,
                     (LLVMValueRef[]){ci8(c, e->mode), ci8(c, e->type), ci32(c, e->table), cexpr_const(c, &d, &e->off),
                                      ci32(c, e->count), arr},
                     6);
  }
  LLVMValueRef elems = array_global(c, d.elem, elv, m->nelems, "elems");

  LLVMValueRef *tgv = xmalloc(sizeof(LLVMValueRef) * (m->ntags + 1));
  for (uint32_t i = 0; i < m->ntags; i++)
    tgv[i] = cstruct(d.tag, (LLVMValueRef[]){ci32(c, m->tags[i].type), ci32(c, (uint32_t)m->tags[i].import)}, 2);
  LLVMValueRef tags = array_global(c, d.tag, tgv, m->ntags, "tags");

  LLVMValueRef mod = cstruct(d.module,
                             (LLVMValueRef[]){ci32(c, KILN_ABI_VERSION), name_const(c, &d, &m->name), ci32(c, m->ntypes), types,
                                              ci32(c, m->nimports), imports, ci32(c, m->nfuncs),
                                              ci32(c, m->nimported_funcs), funcs, ci32(c, m->ntables),
                                              ci32(c, m->nimported_tables), tables, ci32(c, m->nmems),
                                              ci32(c, m->nimported_mems), mems, ci32(c, m->nglobals),
                                              ci32(c, m->nimported_globals), globals, ci32(c, m->nexports), exports,
                                              ci32(c, m->ndata), data, ci32(c, m->nelems), elems, ci32(c, (uint32_t)m->start),
                                              ci32(c, m->ntags), ci32(c, m->nimported_tags), tags},
                             28);
  char sym[256] = "kiln_module";
  if (c->opt->name) snprintf(sym, sizeof sym, "kiln_module_%s", c->opt->name);
  LLVMValueRef g = LLVMAddGlobal(c->mod, d.module, sym);
  LLVMSetInitializer(g, mod);
  LLVMSetGlobalConstant(g, 1);
  LLVMSetLinkage(g, LLVMExternalLinkage);
  free(tv), free(iv), free(tb), free(mv), free(gv), free(ev), free(dv), free(elv), free(tgv);
}
