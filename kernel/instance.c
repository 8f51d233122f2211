/* kernel/instance.c — instantiation (Wasm 2.0, §4.5.4) and the runtime services generated code
 * calls (aot/abi.h §6). Portable freestanding C: built for the kernel and for the hosted
 * runtime, so it uses no libc; every platform dependency goes through kiln_plat_*.
 */
#include "kernel/instance.h"

/* Tables never grow past this many entries, whatever their type allows: the spec lets
 * table.grow fail, and a bounded size keeps one allocation sane on the kernel's heap. */
#define TABLE_LIMIT (1u << 24)
#define NO_TABLE_MAX 0xffffffffu

/* Per-instance state beyond the ABI-visible context. pub comes first so a kiln_instance *
 * is also an inst_priv *. */
typedef struct elem_inst {
  void **items; /* evaluated references */
  uint32_t count; /* 0 once dropped */
} elem_inst;

typedef struct inst_priv {
  kiln_instance pub;
  kiln_memory *own_mems; /* memories and tables defined by this module (its globals' cells lie below: own_global) */
  kiln_table *own_tables;
  kiln_tag *own_tags;
  uint32_t *data_len; /* per data segment; 0 once dropped */
  elem_inst *elems;
} inst_priv;

static inline inst_priv *priv(kiln_instance *ctx) { return (inst_priv *)ctx; }

/* The instance of module m in one zeroed block with the cells of the globals m defines below
 * it (abi.h §3, Globals): compiled code reaches them at constant offsets from ctx. */
static inst_priv *alloc_priv(const kiln_module *m) {
  uint64_t n = m->nglobals - m->nimported_globals;
  kiln_val *block = kiln_plat_alloc(n * sizeof(kiln_val) + sizeof(inst_priv));
  if (!block) return 0;
  inst_priv *p = (inst_priv *)(block + n);
  p->pub.module = m;
  return p;
}

/* The cell of the k-th global the instance's module defines. */
static kiln_val *own_global(kiln_instance *inst, uint32_t k) { return (kiln_val *)inst - 1 - k; }

/* ---- small freestanding helpers ---- */

static void copy_bytes(void *dst, const void *src, uint64_t n) { __builtin_memmove(dst, src, n); }

/* The size of a memory, read atomically: a shared one grows in other threads (abi.h §8). */
static uint64_t mem_bytes(const kiln_memory *m) { return __atomic_load_n(&m->bytes, __ATOMIC_ACQUIRE); }
static uint64_t mem_pages(const kiln_memory *m) { return __atomic_load_n(&m->pages, __ATOMIC_ACQUIRE); }

static void set_err(char *err, size_t errlen, const char *a, const kiln_import *imp) {
  if (!err || !errlen) return;
  size_t k = 0;
  for (const char *p = a; *p && k + 1 < errlen; p++) err[k++] = *p;
  if (imp) { /* append " (module.field)" so the failing import is named */
    const char *parts[4] = {" (", imp->module.s, ".", imp->field.s};
    for (int i = 0; i < 4; i++)
      for (const char *p = parts[i]; p && *p && k + 1 < errlen; p++) err[k++] = *p;
    if (k + 1 < errlen) err[k++] = ')';
  }
  err[k] = 0;
}

static void *alloc_array(uint64_t n, uint64_t size) {
  if (n == 0) n = 1; /* a non-NULL pointer even for empty arrays keeps the code simple */
  return kiln_plat_alloc(n * size);
}

/* ---- bounds-checked primitives shared by instantiation and kiln_rt_* (0 ok, else trap code) ---- */

static uint32_t mem_init(kiln_instance *ctx, uint32_t mem, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n) {
  kiln_memory *m = ctx->memories[mem];
  uint64_t seglen = priv(ctx)->data_len[seg];
  if ((uint64_t)src + n > seglen || (uint64_t)dst + n > mem_bytes(m)) return KILN_TRAP_MEMORY_OOB;
  copy_bytes(m->base + dst, ctx->module->data[seg].bytes + src, n);
  return KILN_TRAP_NONE;
}

static uint32_t tab_init(kiln_instance *ctx, uint32_t table, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n) {
  kiln_table *t = ctx->tables[table];
  elem_inst *e = &priv(ctx)->elems[seg];
  if ((uint64_t)src + n > e->count || (uint64_t)dst + n > t->size) return KILN_TRAP_TABLE_OOB;
  copy_bytes(t->elems + dst, e->items + src, (uint64_t)n * sizeof(void *));
  return KILN_TRAP_NONE;
}

static kiln_val eval_const(kiln_instance *ctx, const kiln_const_expr *e);


/* extended-const: the postfix items of abi.h, on a bounded stack. kiln-aot validated them;
 * the checks only keep a damaged descriptor from reading outside the stack. */
static kiln_val eval_const_items(kiln_instance *ctx, const kiln_const_expr *items, uint32_t n) {
  kiln_val st[KILN_CONST_STACK];
  uint32_t depth = 0;
  __builtin_memset(&st[0], 0, sizeof st[0]);
  for (uint32_t k = 0; k < n; k++) {
    const kiln_const_expr *it = &items[k];
    if (it->kind < KILN_CONST_ADD) {
      if (depth == KILN_CONST_STACK || it->kind == KILN_CONST_EXPR) break;
      st[depth++] = eval_const(ctx, it);
      continue;
    }
    if (depth < 2) break;
    kiln_val b = st[--depth], *a = &st[depth - 1];
    if (it->type == KILN_I32) { /* unsigned: wrap-around as Wasm does */
      uint32_t x = (uint32_t)a->i32, y = (uint32_t)b.i32;
      a->i32 = (int32_t)(it->kind == KILN_CONST_ADD ? x + y : it->kind == KILN_CONST_SUB ? x - y : x * y);
    } else {
      uint64_t x = (uint64_t)a->i64, y = (uint64_t)b.i64;
      a->i64 = (int64_t)(it->kind == KILN_CONST_ADD ? x + y : it->kind == KILN_CONST_SUB ? x - y : x * y);
    }
  }
  return st[depth ? depth - 1 : 0];
}

static kiln_val eval_const(kiln_instance *ctx, const kiln_const_expr *e) {
  kiln_val v;
  __builtin_memset(&v, 0, sizeof v);
  switch (e->kind) {
  case KILN_CONST_VALUE: v = e->value; break;
  case KILN_CONST_GLOBAL_GET: v = *ctx->globals[e->index]; break;
  case KILN_CONST_REF_FUNC: v.ref = &ctx->funcs[e->index]; break;
  case KILN_CONST_REF_NULL: v.ref = 0; break;
  case KILN_CONST_EXPR: v = eval_const_items(ctx, (const kiln_const_expr *)e->value.ref, e->index); break;
  }
  return v;
}

/* ---- import matching (§4.5.4 step 3, external types with limits subtyping) ---- */

/* An existing object's limits {cur, max} match the import's {min, max?}. "No max" is
 * represented by the largest value (KILN_MAX_PAGES pages, 2^32-1 entries). */
static int limits_match(uint64_t cur, uint64_t max, uint64_t nomax, const kiln_limits *want) {
  if (cur < want->min) return 0;
  if (want->has_max && (max == nomax || max > want->max)) return 0;
  return 1;
}

static int link_import(kiln_instance *inst, const kiln_import *imp, kiln_resolve_fn resolve, void *ud, char *err,
                       size_t errlen) {
  const kiln_module *m = inst->module;
  kiln_extern ex;
  __builtin_memset(&ex, 0, sizeof ex);
  char rerr[8];
  int found = resolve && resolve(ud, m, imp, &ex, rerr, sizeof rerr) == 0;
  if (!found) {
    /* A function linked statically into the image (the kernel's WASI) stands in. */
    if (imp->kind == KILN_EXTERN_FUNC && imp->symbol) {
      kiln_funcref *f = &inst->funcs[imp->index];
      f->fn = imp->symbol;
      f->ctx = inst;
      f->func = &m->funcs[imp->index];
      f->type_hash = f->func->type->hash;
      return 0;
    }
    set_err(err, errlen, "unknown import", imp);
    return -1;
  }
  if (ex.kind != imp->kind) goto incompatible;
  switch (imp->kind) {
  case KILN_EXTERN_FUNC: {
    const kiln_func *want = &m->funcs[imp->index];
    if (ex.u.func.type_hash != want->type->hash) goto incompatible;
    kiln_funcref *f = &inst->funcs[imp->index];
    *f = ex.u.func;
    if (!f->ctx) f->ctx = inst;      /* host function: it sees the importing instance */
    if (!f->func) f->func = want;    /* host function: our descriptor has its trampoline */
    return 0;
  }
  case KILN_EXTERN_TABLE: {
    const kiln_table_desc *want = &m->tables[imp->index];
    kiln_table *t = ex.u.table;
    if (t->elemtype != want->elemtype || !limits_match(t->size, t->max, NO_TABLE_MAX, &want->limits))
      goto incompatible;
    inst->tables[imp->index] = t;
    return 0;
  }
  case KILN_EXTERN_MEMORY: { /* and shared only with shared (abi.h §8) */
    kiln_memory *mem = ex.u.memory;
    const kiln_limits *want = &m->memories[imp->index].limits;
    if (!limits_match(mem_pages(mem), mem->max_pages, KILN_MAX_PAGES, want) || !mem->shared != !want->shared)
      goto incompatible;
    inst->memories[imp->index] = mem;
    return 0;
  }
  case KILN_EXTERN_GLOBAL: {
    const kiln_global_desc *want = &m->globals[imp->index];
    if (ex.u.global.type != want->type || ex.u.global.mut != want->mut) goto incompatible;
    inst->globals[imp->index] = ex.u.global.cell;
    return 0;
  }
  case KILN_EXTERN_TAG: /* tag types match exactly, like function types */
    if (!ex.u.tag || ex.u.tag->type->hash != m->types[m->tags[imp->index].type].hash) goto incompatible;
    inst->tags[imp->index] = ex.u.tag;
    return 0;
  }
incompatible:
  set_err(err, errlen, "incompatible import type", imp);
  return -1;
}

/* ---- instantiation ---- */

static int alloc_instance(inst_priv *p, const kiln_module *m) {
  kiln_instance *inst = &p->pub;
  inst->module = m;
  inst->funcs = alloc_array(m->nfuncs, sizeof(kiln_funcref));
  inst->tables = alloc_array(m->ntables, sizeof(kiln_table *));
  inst->memories = alloc_array(m->nmemories, sizeof(kiln_memory *));
  inst->globals = alloc_array(m->nglobals, sizeof(kiln_val *));
  inst->tags = alloc_array(m->ntags, sizeof(kiln_tag *));
  p->own_tags = alloc_array(m->ntags - m->nimported_tags, sizeof(kiln_tag));
  p->own_tables = alloc_array(m->ntables - m->nimported_tables, sizeof(kiln_table));
  p->own_mems = alloc_array(m->nmemories - m->nimported_memories, sizeof(kiln_memory));
  p->data_len = alloc_array(m->ndata, sizeof(uint32_t));
  p->elems = alloc_array(m->nelems, sizeof(elem_inst));
  return inst->funcs && inst->tables && inst->memories && inst->globals && inst->tags && p->own_tags &&
                 p->own_tables && p->own_mems && p->data_len && p->elems
             ? 0
             : -1;
}

/* Allocate defined tables, memories and globals, in the spec's order. A thread's instance
 * (parent != NULL) takes the parent's memories instead: they are shared (abi.h §8). */
static int alloc_defined(inst_priv *p, kiln_instance *parent, char *err, size_t errlen) {
  kiln_instance *inst = &p->pub;
  const kiln_module *m = inst->module;
  for (uint32_t i = m->nimported_funcs; i < m->nfuncs; i++) {
    kiln_funcref *f = &inst->funcs[i];
    f->fn = m->funcs[i].fn;
    f->ctx = inst;
    f->func = &m->funcs[i];
    f->type_hash = m->funcs[i].type->hash;
    f->tail_fn = m->funcs[i].tail_fn;
  }
  for (uint32_t i = m->nimported_tags; i < m->ntags; i++) { /* each instantiation makes new tags */
    kiln_tag *t = &p->own_tags[i - m->nimported_tags];
    t->type = &m->types[m->tags[i].type];
    inst->tags[i] = t;
  }
  for (uint32_t i = m->nimported_tables; i < m->ntables; i++) {
    const kiln_table_desc *d = &m->tables[i];
    kiln_table *t = &p->own_tables[i - m->nimported_tables];
    if (d->limits.min > TABLE_LIMIT) goto oom;
    t->elemtype = d->elemtype;
    t->size = (uint32_t)d->limits.min;
    t->max = d->limits.has_max ? (uint32_t)d->limits.max : NO_TABLE_MAX;
    t->elems = alloc_array(t->size, sizeof(void *));
    if (!t->elems) goto oom;
    inst->tables[i] = t;
  }
  inst->table0 = m->ntables ? inst->tables[0] : 0; /* imported tables are bound by now */
  for (uint32_t i = m->nimported_memories; i < m->nmemories; i++) {
    const kiln_memory_desc *d = &m->memories[i];
    kiln_memory *mem = &p->own_mems[i - m->nimported_memories];
    if (parent) {
      inst->memories[i] = parent->memories[i];
      continue;
    }
    mem->shared = d->limits.shared;
    mem->max_pages = d->limits.has_max ? d->limits.max : KILN_MAX_PAGES;
    if (d->limits.min > mem->max_pages || kiln_plat_mem_reserve(mem) != 0) goto oom;
    inst->memories[i] = mem; /* from here on instance_free releases it */
    if (d->limits.min && kiln_plat_mem_commit(mem, 0, d->limits.min * KILN_PAGE_SIZE) != 0) goto oom;
    mem->pages = d->limits.min;
    mem->bytes = mem->pages * KILN_PAGE_SIZE;
  }
  inst->mem0 = m->nmemories ? inst->memories[0]->base : 0;
  for (uint32_t i = m->nimported_globals; i < m->nglobals; i++) {
    kiln_val *cell = own_global(inst, i - m->nimported_globals);
    *cell = eval_const(inst, &m->globals[i].init);
    inst->globals[i] = cell;
  }
  for (uint32_t i = 0; i < m->ndata; i++) p->data_len[i] = m->data[i].len;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const kiln_elem_desc *d = &m->elems[i];
    elem_inst *e = &p->elems[i];
    e->items = alloc_array(d->count, sizeof(void *));
    if (!e->items) goto oom;
    for (uint32_t k = 0; k < d->count; k++) e->items[k] = eval_const(inst, &d->items[k]).ref;
    e->count = d->count;
  }
  return 0;
oom:
  set_err(err, errlen, "out of memory", 0);
  return -1;
}

/* Active segments are table.init/memory.init followed by a drop (elements first, then data);
 * in Wasm 2.0 a failing segment traps with the earlier ones left applied. */
static uint32_t apply_segments(inst_priv *p) {
  kiln_instance *inst = &p->pub;
  const kiln_module *m = inst->module;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const kiln_elem_desc *d = &m->elems[i];
    if (d->mode == KILN_SEG_ACTIVE) {
      uint32_t dst = (uint32_t)eval_const(inst, &d->offset).i32;
      uint32_t code = tab_init(inst, d->table, i, dst, 0, d->count);
      if (code) return code;
    }
    if (d->mode != KILN_SEG_PASSIVE) p->elems[i].count = 0;
  }
  for (uint32_t i = 0; i < m->ndata; i++) {
    const kiln_data_desc *d = &m->data[i];
    if (d->mode != KILN_SEG_ACTIVE) continue;
    uint32_t dst = (uint32_t)eval_const(inst, &d->offset).i32;
    uint32_t code = mem_init(inst, d->memory, i, dst, 0, d->len);
    if (code) return code;
    p->data_len[i] = 0;
  }
  return KILN_TRAP_NONE;
}

kiln_instance *kiln_instantiate(const kiln_module *m, kiln_resolve_fn resolve, void *ud, void *host, char *err,
                                size_t errlen) {
  if (err && errlen) err[0] = 0;
  if (!m || m->abi_version != KILN_ABI_VERSION) {
    set_err(err, errlen, "module descriptor has the wrong ABI version", 0);
    return 0;
  }
  inst_priv *p = alloc_priv(m);
  if (!p) {
    set_err(err, errlen, "out of memory", 0);
    return 0;
  }
  kiln_instance *inst = &p->pub;
  inst->host = host;
  if (alloc_instance(p, m) != 0) {
    set_err(err, errlen, "out of memory", 0);
    goto fail;
  }
  for (uint32_t i = 0; i < m->nimports; i++)
    if (link_import(inst, &m->imports[i], resolve, ud, err, errlen) != 0) goto fail;
  if (alloc_defined(p, 0, err, errlen) != 0) goto fail;

  /* From here on the instance's functions may already sit in imported tables, so a failing
   * instance is not freed: its code stays callable through them (linking.wast). */
  uint32_t code = apply_segments(p);
  if (code == KILN_TRAP_NONE && m->start >= 0) {
    kiln_val vals[1];
    code = kiln_invoke(&inst->funcs[m->start], vals);
  }
  if (code != KILN_TRAP_NONE) {
    set_err(err, errlen, kiln_trap_message(code), 0);
    return 0;
  }
  return inst;
fail:
  kiln_instance_free(inst);
  return 0;
}

void kiln_instance_free(kiln_instance *inst) {
  if (!inst) return;
  inst_priv *p = priv(inst);
  const kiln_module *m = inst->module;
  if (p->own_mems && inst->memories)
    for (uint32_t i = m->nimported_memories; i < m->nmemories; i++)
      if (inst->memories[i] == &p->own_mems[i - m->nimported_memories])
        kiln_plat_mem_release(inst->memories[i]);
  if (p->own_tables)
    for (uint32_t i = 0; i < m->ntables - m->nimported_tables; i++) kiln_plat_free(p->own_tables[i].elems);
  if (p->elems)
    for (uint32_t i = 0; i < m->nelems; i++) kiln_plat_free(p->elems[i].items);
  kiln_plat_free(p->elems);
  kiln_plat_free(p->data_len);
  kiln_plat_free(p->own_tags);
  kiln_plat_free(inst->tags);
  kiln_plat_free(p->own_mems);
  kiln_plat_free(p->own_tables);
  kiln_plat_free(inst->globals);
  kiln_plat_free(inst->memories);
  kiln_plat_free(inst->tables);
  kiln_plat_free(inst->funcs);
  kiln_plat_free((kiln_val *)p - (m->nglobals - m->nimported_globals));
}

/* ---- exports, calls, reporting ---- */

int kiln_export_get(kiln_instance *inst, const char *name, kiln_extern *out) {
  const kiln_module *m = inst->module;
  uint32_t n = 0;
  while (name[n]) n++;
  for (uint32_t i = 0; i < m->nexports; i++) {
    const kiln_export *e = &m->exports[i];
    if (e->name.len != n || __builtin_memcmp(e->name.s, name, n) != 0) continue;
    __builtin_memset(out, 0, sizeof *out);
    out->kind = e->kind;
    switch (e->kind) {
    case KILN_EXTERN_FUNC: out->u.func = inst->funcs[e->index]; break;
    case KILN_EXTERN_TABLE: out->u.table = inst->tables[e->index]; break;
    case KILN_EXTERN_MEMORY: out->u.memory = inst->memories[e->index]; break;
    case KILN_EXTERN_GLOBAL:
      out->u.global.cell = inst->globals[e->index];
      out->u.global.type = m->globals[e->index].type;
      out->u.global.mut = m->globals[e->index].mut;
      break;
    case KILN_EXTERN_TAG: out->u.tag = inst->tags[e->index]; break;
    }
    return 0;
  }
  return -1;
}

uint32_t kiln_invoke(kiln_funcref *f, kiln_val *vals) {
  return kiln_plat_call(f->ctx, f->func->tramp, f->fn, vals);
}

void kiln_describe_pc(const kiln_instance *inst, const void *pc, char *buf, size_t n) {
  if (!buf || !n) return;
  const kiln_module *m = inst ? inst->module : 0;
  int64_t best = -1;
  uintptr_t at = (uintptr_t)pc, best_fn = 0;
  for (uint32_t i = m ? m->nimported_funcs : 0; m && i < m->nfuncs; i++) {
    /* the C entry, and the body itself when it is a separate tailcc function (abi.h §1) */
    uintptr_t fn = (uintptr_t)m->funcs[i].fn, tail = (uintptr_t)m->funcs[i].tail_fn;
    if (fn && fn <= at && fn >= best_fn) best = i, best_fn = fn;
    if (tail && tail <= at && tail >= best_fn) best = i, best_fn = tail;
  }
  char tmp[24];
  const char *parts[3] = {"unknown function", 0, 0};
  if (best >= 0 && m->funcs[best].name.s) {
    parts[0] = m->funcs[best].name.s;
  } else if (best >= 0) { /* "func[N]" */
    int k = sizeof tmp - 1;
    tmp[k] = 0;
    uint64_t v = (uint64_t)best;
    do tmp[--k] = (char)('0' + v % 10); while ((v /= 10) && k > 0);
    parts[0] = "func[", parts[1] = tmp + k, parts[2] = "]";
  }
  size_t o = 0;
  for (int i = 0; i < 3; i++)
    for (const char *s = parts[i]; s && *s && o + 1 < n; s++) buf[o++] = *s;
  buf[o] = 0;
}

static const kiln_tag *last_uncaught; /* the tag of the last exception that escaped to the host */

/* The tag by the instance's name for it: an export, an import, else its index. */
static void name_tag(const kiln_instance *inst, const kiln_tag *tag, const char *parts[3], char *tmp, size_t n) {
  const kiln_module *m = inst->module;
  for (uint32_t i = 0; i < m->nexports; i++)
    if (m->exports[i].kind == KILN_EXTERN_TAG && inst->tags[m->exports[i].index] == tag) {
      parts[0] = m->exports[i].name.s;
      return;
    }
  for (uint32_t i = 0; i < m->nimports; i++)
    if (m->imports[i].kind == KILN_EXTERN_TAG && inst->tags[m->imports[i].index] == tag) {
      parts[0] = m->imports[i].module.s, parts[1] = ".", parts[2] = m->imports[i].field.s;
      return;
    }
  for (uint32_t i = 0; i < m->ntags; i++)
    if (inst->tags[i] == tag) {
      size_t k = n - 1;
      tmp[k] = 0;
      uint32_t v = i;
      do tmp[--k] = (char)('0' + v % 10); while ((v /= 10) && k > 0);
      parts[0] = tmp + k;
      return;
    }
  parts[0] = "of another instance";
}

void kiln_describe_trap(const kiln_instance *inst, uint32_t code, char *buf, size_t n) {
  const char *parts[6] = {kiln_trap_message(code), 0, 0, 0, 0, 0};
  char tmp[16];
  if (code == KILN_TRAP_UNCAUGHT_EXCEPTION && inst && last_uncaught) {
    parts[1] = " (tag ";
    name_tag(inst, last_uncaught, parts + 2, tmp, sizeof tmp);
    parts[5] = ")";
  }
  size_t o = 0;
  for (int i = 0; i < 6; i++)
    for (const char *s = parts[i]; s && *s && o + 1 < n; s++) buf[o++] = *s;
  if (n) buf[o] = 0;
}

/* ---- services for generated code (aot/abi.h §6) ---- */

__attribute__((noinline)) _Noreturn void kiln_trap(kiln_instance *ctx, uint32_t code) {
  kiln_plat_unwind(ctx, code, __builtin_return_address(0));
}

/* A trap from a service reports the generated code that called the service. */
#define RT_TRAP(ctx, code) kiln_plat_unwind((ctx), (code), __builtin_return_address(0))

/* A shared memory grows under its lock, and publishes its new size only once the pages
 * are committed (abi.h §8). */
int32_t kiln_rt_memory_grow(kiln_instance *ctx, uint32_t mem, uint32_t delta) {
  kiln_memory *m = ctx->memories[mem];
  if (m->shared) kiln_lock(&m->lock);
  uint64_t old = m->pages;
  int32_t r = (int32_t)old;
  if (delta > m->max_pages - old ||
      (delta && kiln_plat_mem_commit(m, old * KILN_PAGE_SIZE, (old + delta) * KILN_PAGE_SIZE) != 0))
    r = -1;
  else {
    __atomic_store_n(&m->bytes, (old + delta) * KILN_PAGE_SIZE, __ATOMIC_RELEASE);
    __atomic_store_n(&m->pages, old + delta, __ATOMIC_RELEASE);
  }
  if (m->shared) kiln_unlock(&m->lock);
  return r;
}

void kiln_rt_memory_init(kiln_instance *ctx, uint32_t mem, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n) {
  uint32_t code = mem_init(ctx, mem, seg, dst, src, n);
  if (code) RT_TRAP(ctx, code);
}

void kiln_rt_data_drop(kiln_instance *ctx, uint32_t seg) { priv(ctx)->data_len[seg] = 0; }

void *kiln_rt_table_get(kiln_instance *ctx, uint32_t table, uint32_t i) {
  kiln_table *t = ctx->tables[table];
  if (i >= t->size) RT_TRAP(ctx, KILN_TRAP_TABLE_OOB);
  return t->elems[i];
}

void kiln_rt_table_set(kiln_instance *ctx, uint32_t table, uint32_t i, void *ref) {
  kiln_table *t = ctx->tables[table];
  if (i >= t->size) RT_TRAP(ctx, KILN_TRAP_TABLE_OOB);
  t->elems[i] = ref;
}

int32_t kiln_rt_table_grow(kiln_instance *ctx, uint32_t table, void *init, uint32_t delta) {
  kiln_table *t = ctx->tables[table];
  uint32_t old = t->size;
  uint32_t limit = t->max < TABLE_LIMIT ? t->max : TABLE_LIMIT;
  if (old > limit || delta > limit - old) return -1;
  if (delta == 0) return (int32_t)old;
  void **e = alloc_array((uint64_t)old + delta, sizeof(void *));
  if (!e) return -1;
  copy_bytes(e, t->elems, (uint64_t)old * sizeof(void *));
  for (uint32_t k = old; k < old + delta; k++) e[k] = init;
  void **prev = t->elems;
  t->elems = e;
  t->size = old + delta;
  kiln_plat_free(prev);
  return (int32_t)old;
}

void kiln_rt_table_fill(kiln_instance *ctx, uint32_t table, uint32_t i, void *ref, uint32_t n) {
  kiln_table *t = ctx->tables[table];
  if ((uint64_t)i + n > t->size) RT_TRAP(ctx, KILN_TRAP_TABLE_OOB);
  for (uint32_t k = 0; k < n; k++) t->elems[i + k] = ref;
}

void kiln_rt_table_copy(kiln_instance *ctx, uint32_t dst_table, uint32_t src_table, uint32_t dst, uint32_t src,
                        uint32_t n) {
  kiln_table *d = ctx->tables[dst_table], *s = ctx->tables[src_table];
  if ((uint64_t)src + n > s->size || (uint64_t)dst + n > d->size) RT_TRAP(ctx, KILN_TRAP_TABLE_OOB);
  copy_bytes(d->elems + dst, s->elems + src, (uint64_t)n * sizeof(void *));
}

void kiln_rt_table_init(kiln_instance *ctx, uint32_t table, uint32_t seg, uint32_t dst, uint32_t src, uint32_t n) {
  uint32_t code = tab_init(ctx, table, seg, dst, src, n);
  if (code) RT_TRAP(ctx, code);
}

void kiln_rt_elem_drop(kiln_instance *ctx, uint32_t seg) { priv(ctx)->elems[seg].count = 0; }

/* ---- exceptions (aot/abi.h §5) ---- */

kiln_eh_state *kiln_rt_eh_state(kiln_instance *ctx) {
  (void)ctx;
  return kiln_plat_eh_state();
}

/* To the innermost handler below the current kiln_plat_call, which leaves the chain; with
 * none, the exception escapes to the host: a trap. pc: the throwing code. */
static _Noreturn void throw_to_head(kiln_instance *ctx, kiln_eh_state *st, void *pc) {
  kiln_eh_handler *h = st->head;
  if (!h) {
    last_uncaught = st->exn.tag;
    kiln_plat_unwind(ctx, KILN_TRAP_UNCAUGHT_EXCEPTION, pc);
  }
  st->head = h->prev;
  __builtin_longjmp(h->jb, 1);
}

__attribute__((noinline)) _Noreturn void kiln_rt_throw(kiln_instance *ctx, const kiln_tag *tag, const kiln_val *vals,
                                                       uint32_t n) {
  kiln_eh_state *st = kiln_plat_eh_state();
  st->exn.tag = tag;
  st->exn.n = n <= KILN_EXN_MAX_VALUES ? n : KILN_EXN_MAX_VALUES; /* kiln-aot refuses more */
  copy_bytes(st->exn.vals, vals, (uint64_t)st->exn.n * sizeof(kiln_val));
  throw_to_head(ctx, st, __builtin_return_address(0));
}

__attribute__((noinline)) _Noreturn void kiln_rt_rethrow(kiln_instance *ctx, const kiln_exn *exn) {
  kiln_eh_state *st = kiln_plat_eh_state();
  if (exn != &st->exn) {
    st->exn.tag = exn->tag;
    st->exn.n = exn->n <= KILN_EXN_MAX_VALUES ? exn->n : KILN_EXN_MAX_VALUES;
    copy_bytes(st->exn.vals, exn->vals, (uint64_t)st->exn.n * sizeof(kiln_val));
  }
  throw_to_head(ctx, st, __builtin_return_address(0));
}

/* ---- threads (aot/abi.h §8) ---- */

/* Three states: 0 free, 1 held, 2 held and someone may sleep on it (Drepper, "Futexes Are
 * Tricky", mutex 2). */
void kiln_lock(uint32_t *lock) {
  uint32_t c = 0;
  if (__atomic_compare_exchange_n(lock, &c, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
  if (c != 2) c = __atomic_exchange_n(lock, 2, __ATOMIC_ACQUIRE);
  while (c != 0) {
    kiln_plat_wait(lock, 2, UINT64_MAX);
    c = __atomic_exchange_n(lock, 2, __ATOMIC_ACQUIRE);
  }
}

void kiln_unlock(uint32_t *lock) {
  if (__atomic_exchange_n(lock, 0, __ATOMIC_RELEASE) == 2) kiln_plat_wake(lock, 1);
}

/* The wait queues: one waiter per blocked memory.atomic.wait, in its frame, on the list of
 * the bucket its (memory, address) hashes to, in arrival order (notify wakes the oldest). */
typedef struct waiter {
  struct waiter *next;
  const kiln_memory *mem;
  uint64_t addr;
  uint32_t woken; /* set by notify under the bucket's lock; the waiter sleeps on it */
} waiter;

#define WAIT_BUCKETS 64
typedef struct wait_bucket {
  uint32_t lock;
  waiter *head;
} wait_bucket;
static wait_bucket wait_buckets[WAIT_BUCKETS];

static wait_bucket *bucket_of(const kiln_memory *m, uint64_t addr) {
  uint64_t h = ((uintptr_t)m->base + addr) * 0x9e3779b97f4a7c15ull;
  return &wait_buckets[h >> 58]; /* 6 bits: WAIT_BUCKETS */
}

/* Alignment first, then bounds, as the compiled atomics check them. */
static kiln_memory *atomic_target(kiln_instance *ctx, uint32_t mem, uint64_t addr, uint32_t width, void *pc) {
  kiln_memory *m = ctx->memories[mem];
  if (addr & (width - 1)) kiln_plat_unwind(ctx, KILN_TRAP_UNALIGNED_ATOMIC, pc);
  if (addr + width > mem_bytes(m)) kiln_plat_unwind(ctx, KILN_TRAP_MEMORY_OOB, pc);
  return m;
}

__attribute__((noinline)) int32_t kiln_rt_atomic_wait(kiln_instance *ctx, uint32_t mem, uint64_t addr,
                                                      int64_t expected, int64_t timeout_ns, uint32_t width) {
  void *pc = __builtin_return_address(0);
  kiln_memory *m = atomic_target(ctx, mem, addr, width, pc);
  if (!m->shared) kiln_plat_unwind(ctx, KILN_TRAP_EXPECTED_SHARED, pc);
  uint64_t deadline = UINT64_MAX;
  if (timeout_ns >= 0) {
    uint64_t now = kiln_plat_now_ns();
    deadline = (uint64_t)timeout_ns < UINT64_MAX - now ? now + (uint64_t)timeout_ns : UINT64_MAX - 1;
  }
  wait_bucket *b = bucket_of(m, addr);
  waiter w = {.mem = m, .addr = addr};
  kiln_lock(&b->lock);
  /* The value is compared under the queue's lock: a notify after the store that changes it
   * finds this waiter queued. */
  int equal = width == 4 ? __atomic_load_n((uint32_t *)(m->base + addr), __ATOMIC_SEQ_CST) == (uint32_t)expected
                         : __atomic_load_n((uint64_t *)(m->base + addr), __ATOMIC_SEQ_CST) == (uint64_t)expected;
  if (!equal) {
    kiln_unlock(&b->lock);
    return 1;
  }
  waiter **tail = &b->head;
  while (*tail) tail = &(*tail)->next;
  *tail = &w;
  kiln_unlock(&b->lock);
  for (;;) {
    /* Woken: notify has taken w off the queue and is done with it (its wake-up names only
     * the address), so w's frame may go without the bucket's lock. */
    if (__atomic_load_n(&w.woken, __ATOMIC_ACQUIRE)) return 0;
    if (kiln_plat_now_ns() >= deadline) break;
    kiln_plat_wait(&w.woken, 0, deadline);
  }
  kiln_lock(&b->lock);
  int32_t r = 0;
  if (!w.woken) {
    for (waiter **p = &b->head; *p; p = &(*p)->next)
      if (*p == &w) {
        *p = w.next;
        break;
      }
    r = 2;
  }
  kiln_unlock(&b->lock);
  return r;
}

__attribute__((noinline)) int32_t kiln_rt_atomic_notify(kiln_instance *ctx, uint32_t mem, uint64_t addr,
                                                        uint32_t count) {
  kiln_memory *m = atomic_target(ctx, mem, addr, 4, __builtin_return_address(0));
  if (!m->shared || count == 0) return 0; /* nobody can wait on an unshared memory */
  wait_bucket *b = bucket_of(m, addr);
  int32_t woken = 0;
  /* The waiters are taken off the queue under the bucket's lock, a batch at a time, and
   * woken after it: with the wake-up (a futex call hosted, the scheduler's lock in the VM)
   * inside, every wait and notify hashed to the bucket queued behind it (examples/broker
   * hosted: a third of its futex calls were on one bucket's lock). A waiter that sees woken
   * set may return before its wake-up comes: that wake-up then finds nobody on the address,
   * or a later wait there, which wakes spuriously and looks again. */
  for (;;) {
    uint32_t *batch[16];
    int n = 0;
    kiln_lock(&b->lock);
    for (waiter **p = &b->head; *p && (uint32_t)woken < count && n < 16;) {
      waiter *w = *p;
      if (w->mem != m || w->addr != addr) {
        p = &w->next;
        continue;
      }
      *p = w->next;
      batch[n++] = &w->woken;
      __atomic_store_n(&w->woken, 1, __ATOMIC_RELEASE);
      woken++;
    }
    kiln_unlock(&b->lock);
    for (int i = 0; i < n; i++) kiln_plat_wake(batch[i], 1);
    if (n < 16 || (uint32_t)woken == count) return woken;
  }
}

/* wasi-threads: thread ids, and what a new thread runs. */
#define TID_MAX 0x1fffffff
#define WASI_EAGAIN 6
#define WASI_ENOTSUP 58
static uint32_t next_tid = 1;

typedef struct thread_start {
  kiln_instance *inst;
  kiln_funcref entry; /* the thread instance's wasi_thread_start */
  int32_t tid;
  uint32_t arg;
} thread_start;

/* A thread instance can be freed when it ends only if none of its functions can have been
 * stored anywhere but its own tables: no imported table or global. */
static int thread_instance_private(const kiln_module *m) { return m->nimported_tables == 0 && m->nimported_globals == 0; }

static void thread_main(void *arg) {
  thread_start *ts = arg;
  kiln_val vals[2];
  vals[0].i32 = ts->tid;
  vals[1].i32 = (int32_t)ts->arg;
  uint32_t code = kiln_invoke(&ts->entry, vals);
  if (code != KILN_TRAP_NONE) kiln_plat_instance_end(ts->inst, code); /* never returns */
  if (thread_instance_private(ts->inst->module)) kiln_instance_free(ts->inst);
  kiln_plat_free(ts);
}

/* Binds every import of the thread instance to what the parent's is bound to. */
static void inherit_imports(kiln_instance *inst, kiln_instance *parent) {
  const kiln_module *m = inst->module;
  for (uint32_t i = 0; i < m->nimports; i++) {
    uint32_t k = m->imports[i].index;
    switch (m->imports[i].kind) {
    case KILN_EXTERN_FUNC:
      inst->funcs[k] = parent->funcs[k];
      if (inst->funcs[k].ctx == parent) inst->funcs[k].ctx = inst; /* a host function sees its caller */
      break;
    case KILN_EXTERN_TABLE: inst->tables[k] = parent->tables[k]; break;
    case KILN_EXTERN_MEMORY: inst->memories[k] = parent->memories[k]; break;
    case KILN_EXTERN_GLOBAL: inst->globals[k] = parent->globals[k]; break;
    case KILN_EXTERN_TAG: inst->tags[k] = parent->tags[k]; break;
    }
  }
}

int kiln_threads_spawned(void) { return __atomic_load_n(&next_tid, __ATOMIC_RELAXED) > 1; }

int32_t kiln_thread_spawn(kiln_instance *parent, uint32_t start_arg) {
  const kiln_module *m = parent->module;
  for (uint32_t i = 0; i < m->nmemories; i++)
    if (!parent->memories[i]->shared) return -WASI_ENOTSUP;
  kiln_extern entry;
  if (kiln_export_get(parent, "wasi_thread_start", &entry) != 0 || entry.kind != KILN_EXTERN_FUNC) return -WASI_ENOTSUP;
  const kiln_functype *t = entry.u.func.func->type;
  if (t->nparams != 2 || t->nresults != 0 || t->types[0] != KILN_I32 || t->types[1] != KILN_I32) return -WASI_ENOTSUP;
  uint32_t tid = __atomic_fetch_add(&next_tid, 1, __ATOMIC_RELAXED);
  if (tid > TID_MAX) return -WASI_EAGAIN;

  inst_priv *p = alloc_priv(m);
  thread_start *ts = kiln_plat_alloc(sizeof *ts);
  if (!p || !ts) goto fail;
  kiln_instance *inst = &p->pub;
  inst->host = parent->host;
  if (alloc_instance(p, m) != 0) goto fail;
  inherit_imports(inst, parent);
  if (alloc_defined(p, parent, 0, 0) != 0) goto fail;
  /* Fresh tables get their elements; the shared memory already has its data (written by
   * the first instance), and the start function does not run again. */
  for (uint32_t i = 0; i < m->ndata; i++)
    if (m->data[i].mode == KILN_SEG_ACTIVE) p->data_len[i] = 0;
  for (uint32_t i = 0; i < m->nelems; i++) {
    const kiln_elem_desc *d = &m->elems[i];
    if (d->mode == KILN_SEG_ACTIVE &&
        tab_init(inst, d->table, i, (uint32_t)eval_const(inst, &d->offset).i32, 0, d->count) != KILN_TRAP_NONE)
      goto fail;
    if (d->mode != KILN_SEG_PASSIVE) p->elems[i].count = 0;
  }
  kiln_extern e;
  kiln_export_get(inst, "wasi_thread_start", &e);
  *ts = (thread_start){inst, e.u.func, (int32_t)tid, start_arg};
  if (kiln_plat_thread_create(thread_main, ts) != 0) goto fail;
  return (int32_t)tid;
fail:
  if (p) kiln_instance_free(&p->pub);
  kiln_plat_free(ts);
  return -WASI_EAGAIN;
}

/* The import itself, `wasi.thread-spawn (i32) -> i32`, linked by its mangled name. */
int32_t KILN_IMPORT(wasi, thread_x2dspawn, i_i)(kiln_instance *ctx, int32_t start_arg);
int32_t KILN_IMPORT(wasi, thread_x2dspawn, i_i)(kiln_instance *ctx, int32_t start_arg) {
  return kiln_thread_spawn(ctx, (uint32_t)start_arg);
}
