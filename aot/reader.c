/* aot/reader.c — decoding the binary format (spec chapter 5) into Module, and the
 * module-level validation rules (chapter 3.4) that need no function body. Bodies are
 * decoded and validated while they are lowered (validate.c, lower_*.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aot/abi.h"
#include "aot/aot.h"
#include "aot/limits.h"

size_t rd_off(const Reader *r) { return (size_t)(r->p - r->m->buf); }

_Noreturn void rd_fail(const Reader *r, const char *fmt, ...) {
  if (r->soft) longjmp(*(jmp_buf *)r->soft, 1);
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  fail_at(r->m, rd_off(r), "%s", buf);
}

uint8_t rd_u8(Reader *r) {
  if (r->p >= r->end) rd_fail(r, "unexpected end");
  return *r->p++;
}

/* LEB128 with the spec's limits: at most ceil(bits/7) bytes, and the unused bits of the
 * last byte must be zero (unsigned) or copies of the sign bit (signed). */
static uint64_t leb(Reader *r, unsigned bits, bool sign) {
  uint64_t v = 0;
  unsigned shift = 0;
  for (;;) {
    uint8_t b = rd_u8(r);
    v |= (uint64_t)(b & 0x7f) << shift;
    if (shift + 7 >= bits) { /* last byte allowed */
      if (b & 0x80) {
        r->p--;
        rd_fail(r, "integer representation too long");
      }
      unsigned used = bits - shift;
      uint8_t rest = (uint8_t)((b & 0x7f) >> used);
      uint8_t want = 0;
      if (sign && ((b >> (used - 1)) & 1)) want = (uint8_t)(0x7f >> used);
      if (rest != want) {
        r->p--;
        rd_fail(r, "integer too large");
      }
      shift = bits;
      break;
    }
    shift += 7;
    if (!(b & 0x80)) break;
  }
  if (sign && shift < 64) v = (uint64_t)((int64_t)(v << (64 - shift)) >> (64 - shift));
  if (!sign && bits < 64) v &= (1ull << bits) - 1;
  return v;
}

uint32_t rd_u32(Reader *r) { return (uint32_t)leb(r, 32, false); }
uint64_t rd_u64(Reader *r) { return leb(r, 64, false); }
int32_t rd_s32(Reader *r) { return (int32_t)leb(r, 32, true); }
int64_t rd_s64(Reader *r) { return (int64_t)leb(r, 64, true); }
int64_t rd_s33(Reader *r) { return (int64_t)leb(r, 33, true); }

uint32_t rd_fixed32(Reader *r) {
  if (r->end - r->p < 4) rd_fail(r, "unexpected end");
  uint32_t v;
  memcpy(&v, r->p, 4);
  r->p += 4;
  return v;
}

uint64_t rd_fixed64(Reader *r) {
  if (r->end - r->p < 8) rd_fail(r, "unexpected end");
  uint64_t v;
  memcpy(&v, r->p, 8);
  r->p += 8;
  return v;
}

bool is_numtype(uint8_t t) { return t == T_I32 || t == T_I64 || t == T_F32 || t == T_F64 || t == T_V128; }
bool is_reftype(uint8_t t) { return t == T_FUNCREF || t == T_EXTERNREF; }

const char *type_name(uint8_t t) {
  switch (t) {
  case T_I32: return "i32";
  case T_I64: return "i64";
  case T_F32: return "f32";
  case T_F64: return "f64";
  case T_V128: return "v128";
  case T_FUNCREF: return "funcref";
  case T_EXTERNREF: return "externref";
  default: return "unknown";
  }
}

uint8_t rd_valtype(Reader *r) {
  uint8_t t = rd_u8(r);
  if (!is_numtype(t) && !is_reftype(t)) {
    r->p--;
    rd_fail(r, "malformed value type 0x%02x", t);
  }
  return t;
}

static uint8_t rd_reftype(Reader *r) {
  uint8_t t = rd_u8(r);
  if (!is_reftype(t)) {
    r->p--;
    rd_fail(r, "malformed reference type");
  }
  return t;
}

/* A vector length, checked against the bytes left so huge counts cannot exhaust memory. */
static uint32_t rd_count(Reader *r, size_t min_item) {
  uint32_t n = rd_u32(r);
  if ((uint64_t)n * min_item > (uint64_t)(r->end - r->p)) rd_fail(r, "length out of bounds");
  return n;
}

/* A count checked against an implementation limit (aot/limits.h) before anything is sized by
 * it; `have` is how many the module already has (imports, earlier sections). */
static uint32_t rd_limited(Reader *r, size_t min_item, uint64_t have, uint32_t limit, const char *what) {
  const uint8_t *at = r->p;
  uint32_t n = rd_u32(r);
  if (have + n > limit) {
    r->p = at;
    rd_fail(r, "%s: %llu exceeds the limit of %u", what, (unsigned long long)(have + n), limit);
  }
  r->p = at;
  return rd_count(r, min_item);
}

/* Open-addressing hash set of indices, for the structural type and export-name lookups that
 * were quadratic in the number of entries. */
typedef struct IndexSet {
  uint32_t *slot; /* index + 1; 0 = empty */
  size_t mask;
} IndexSet;

static IndexSet set_new(uint32_t n) {
  size_t cap = 16;
  while (cap < 2 * (size_t)n) cap *= 2;
  return (IndexSet){xmalloc(cap * sizeof(uint32_t)), cap - 1};
}

static uint64_t hash_bytes(uint64_t h, const uint8_t *p, size_t n) {
  for (size_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x100000001b3ull; /* FNV-1a */
  return h;
}

static bool utf8_ok(const uint8_t *s, uint32_t n) {
  for (uint32_t i = 0; i < n;) {
    uint8_t c = s[i];
    uint32_t len, cp;
    if (c < 0x80) { i++; continue; }
    if ((c & 0xe0) == 0xc0) len = 2, cp = c & 0x1f;
    else if ((c & 0xf0) == 0xe0) len = 3, cp = c & 0x0f;
    else if ((c & 0xf8) == 0xf0) len = 4, cp = c & 0x07;
    else return false;
    if (i + len > n) return false;
    for (uint32_t k = 1; k < len; k++) {
      if ((s[i + k] & 0xc0) != 0x80) return false;
      cp = cp << 6 | (s[i + k] & 0x3f);
    }
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += len;
  }
  return true;
}

static Name rd_name(Reader *r) {
  uint32_t n = rd_u32(r);
  if (n > (size_t)(r->end - r->p)) rd_fail(r, "unexpected end");
  if (!utf8_ok(r->p, n)) rd_fail(r, "malformed UTF-8 encoding");
  Name nm = {xmalloc(n + 1), n};
  memcpy(nm.s, r->p, n);
  r->p += n;
  return nm;
}

/* Flags: bit 0 a maximum follows, bit 1 shared (threads; memories only). */
static Limits rd_limits(Reader *r, bool memory) {
  Limits l = {0};
  const uint8_t *at = r->p;
  uint8_t flag = rd_u8(r);
  if (flag > (memory ? 3 : 1)) {
    r->p--;
    rd_fail(r, "integer too large");
  }
  l.min = rd_u32(r);
  if (flag & 1) l.has_max = true, l.max = rd_u32(r);
  l.shared = flag & 2;
  if (l.shared && !l.has_max) {
    r->p = at;
    rd_fail(r, "shared memory must have maximum");
  }
  return l;
}

static void check_limits(Reader *r, Limits l, uint64_t range, const char *what) {
  if (l.min > range || (l.has_max && l.max > range)) {
    if (range == WASM_MAX_PAGES) rd_fail(r, "memory size must be at most 65536 pages (4GiB)");
    rd_fail(r, "%s size must be at most %llu", what, (unsigned long long)range);
  }
  if (l.has_max && l.min > l.max) rd_fail(r, "size minimum must not be greater than maximum");
}

/* A table's initial size is bounded (its storage is allocated at instantiation); a larger
 * maximum is accepted as browsers do, since growing past the limit may fail. */
static Limits rd_table_limits(Reader *r) {
  const uint8_t *at = r->p;
  Limits l = rd_limits(r, false);
  check_limits(r, l, 0xffffffffull, "table");
  if (l.min > LIMIT_TABLE_ENTRIES) {
    r->p = at + 1; /* the initial size, after the flag byte */
    rd_fail(r, "table entries: %llu exceeds the limit of %u", (unsigned long long)l.min, LIMIT_TABLE_ENTRIES);
  }
  return l;
}

/* One constant instruction. `nglobals` is how many globals are visible (only imported ones
 * inside global initializers). Returns false at an instruction that is not constant. */
static bool rd_const_instr(Module *m, Reader *r, uint8_t op, uint32_t nglobals, ConstExpr *e) {
  *e = (ConstExpr){0};
  switch (op) {
  case OP_I32_CONST: e->kind = KILN_CONST_VALUE, e->type = T_I32, e->bits = (uint32_t)rd_s32(r); break;
  case OP_I64_CONST: e->kind = KILN_CONST_VALUE, e->type = T_I64, e->bits = (uint64_t)rd_s64(r); break;
  case OP_F32_CONST: e->kind = KILN_CONST_VALUE, e->type = T_F32, e->bits = rd_fixed32(r); break;
  case OP_F64_CONST: e->kind = KILN_CONST_VALUE, e->type = T_F64, e->bits = rd_fixed64(r); break;
  case OP_REF_NULL: e->kind = KILN_CONST_REF_NULL, e->type = rd_reftype(r); break;
  case OP_PREFIX_FD: /* v128.const, the one constant SIMD instruction */
    if (rd_u32(r) != 12) return false;
    e->kind = KILN_CONST_VALUE, e->type = T_V128, e->bits = rd_fixed64(r), e->hi = rd_fixed64(r);
    break;
  case OP_REF_FUNC:
    e->kind = KILN_CONST_REF_FUNC, e->type = T_FUNCREF, e->index = rd_u32(r);
    if (e->index >= m->nfuncs) rd_fail(r, "unknown function %u", e->index);
    m->funcs[e->index].declared = true;
    break;
  case OP_GLOBAL_GET:
    e->kind = KILN_CONST_GLOBAL_GET, e->index = rd_u32(r);
    if (e->index >= nglobals) rd_fail(r, "unknown global %u", e->index);
    if (m->globals[e->index].mut) rd_fail(r, "constant expression required");
    e->type = m->globals[e->index].type;
    break;
  /* extended-const: i32/i64 add, sub, mul */
  case 0x6a: e->kind = KILN_CONST_ADD, e->type = T_I32; break;
  case 0x6b: e->kind = KILN_CONST_SUB, e->type = T_I32; break;
  case 0x6c: e->kind = KILN_CONST_MUL, e->type = T_I32; break;
  case 0x7c: e->kind = KILN_CONST_ADD, e->type = T_I64; break;
  case 0x7d: e->kind = KILN_CONST_SUB, e->type = T_I64; break;
  case 0x7e: e->kind = KILN_CONST_MUL, e->type = T_I64; break;
  default: return false;
  }
  return true;
}

/* A constant expression up to its `end`, validated like a function body with a stack of
 * types. One instruction stays a plain ConstExpr; more become KILN_CONST_EXPR (abi.h). */
static ConstExpr rd_const(Module *m, Reader *r, uint8_t want, uint32_t nglobals) {
  size_t start = rd_off(r);
  ConstExpr *items = NULL;
  uint32_t n = 0, cap = 0, depth = 0;
  uint8_t stack[KILN_CONST_STACK];
  for (;;) {
    uint8_t op = rd_u8(r);
    if (op == OP_END) break;
    if (n == cap) items = xrealloc(items, sizeof(ConstExpr) * (cap = cap ? 2 * cap : 4));
    ConstExpr *e = &items[n];
    if (!rd_const_instr(m, r, op, nglobals, e)) {
      r->p--;
      rd_fail(r, "constant expression required");
    }
    n++;
    if (e->kind >= KILN_CONST_ADD) {
      if (depth < 2 || stack[depth - 1] != e->type || stack[depth - 2] != e->type) rd_fail(r, "type mismatch");
      depth--;
    } else {
      if (depth == KILN_CONST_STACK) rd_fail(r, "constant expression nested too deeply (at most %u values)", KILN_CONST_STACK);
      stack[depth++] = e->type;
    }
  }
  if (depth != 1 || stack[0] != want) fail_at(m, start, "type mismatch");
  if (n == 1) {
    ConstExpr e = items[0];
    free(items);
    return e;
  }
  return (ConstExpr){.kind = KILN_CONST_EXPR, .type = want, .index = n, .items = items};
}

static void sec_type(Module *m, Reader *r) {
  m->ntypes = rd_limited(r, 3, 0, LIMIT_TYPES, "types");
  m->types = xmalloc(sizeof(FuncType) * (m->ntypes + 1));
  IndexSet seen = set_new(m->ntypes);
  for (uint32_t i = 0; i < m->ntypes; i++) {
    FuncType *t = &m->types[i];
    if (rd_u8(r) != T_FUNC) {
      r->p--;
      rd_fail(r, "malformed function type");
    }
    uint32_t np = rd_limited(r, 1, 0, LIMIT_PARAMS, "params of a function type");
    uint8_t *p = xmalloc(np + 1);
    for (uint32_t k = 0; k < np; k++) p[k] = rd_valtype(r);
    uint32_t nr = rd_limited(r, 1, 0, LIMIT_RESULTS, "results of a function type");
    t->t = xmalloc(np + nr + 1);
    memcpy(t->t, p, np);
    free(p);
    for (uint32_t k = 0; k < nr; k++) t->t[np + k] = rd_valtype(r);
    t->np = np, t->nr = nr, t->canon = i;
    uint64_t h = hash_bytes(hash_bytes(0xcbf29ce484222325ull, t->t, np + nr), (const uint8_t *)&np, sizeof np);
    for (size_t k = h & seen.mask;; k = (k + 1) & seen.mask) {
      if (!seen.slot[k]) {
        seen.slot[k] = i + 1;
        break;
      }
      const FuncType *o = &m->types[seen.slot[k] - 1];
      if (o->np == np && o->nr == nr && !memcmp(o->t, t->t, np + nr)) {
        t->canon = seen.slot[k] - 1;
        break;
      }
    }
  }
  free(seen.slot);
}

/* A tag type: attribute 0 (an exception), then a function type without results. */
static Tag rd_tagtype(Module *m, Reader *r, int32_t import) {
  if (m->ntags >= LIMIT_TAGS) rd_fail(r, "tags: %u exceeds the limit of %u", m->ntags + 1, LIMIT_TAGS);
  if (rd_u8(r) != 0) {
    r->p--;
    rd_fail(r, "malformed tag attribute");
  }
  uint32_t t = rd_u32(r);
  if (t >= m->ntypes) rd_fail(r, "unknown type %u", t);
  if (m->types[t].nr) rd_fail(r, "non-empty tag result type");
  if (m->types[t].np > KILN_EXN_MAX_VALUES)
    rd_fail(r, "tag parameters: %u exceeds the limit of %u", m->types[t].np, KILN_EXN_MAX_VALUES);
  return (Tag){.type = t, .import = import};
}

static void sec_tag(Module *m, Reader *r) {
  uint32_t n = rd_limited(r, 2, m->ntags, LIMIT_TAGS, "tags");
  m->tags = xrealloc(m->tags, sizeof(Tag) * (m->ntags + n + 1));
  for (uint32_t i = 0; i < n; i++) {
    Tag t = rd_tagtype(m, r, -1);
    m->tags[m->ntags++] = t;
  }
}

static void sec_import(Module *m, Reader *r) {
  m->nimports = rd_limited(r, 4, 0, LIMIT_IMPORTS, "imports");
  m->imports = xmalloc(sizeof(Import) * (m->nimports + 1));
  for (uint32_t i = 0; i < m->nimports; i++) {
    Import *im = &m->imports[i];
    im->module = rd_name(r);
    im->field = rd_name(r);
    im->kind = rd_u8(r);
    switch (im->kind) {
    case EXT_FUNC: {
      uint32_t t = rd_u32(r);
      if (t >= m->ntypes) rd_fail(r, "unknown type %u", t);
      if (m->nfuncs >= LIMIT_FUNCS) rd_fail(r, "functions: %u exceeds the limit of %u", m->nfuncs + 1, LIMIT_FUNCS);
      m->funcs = xrealloc(m->funcs, sizeof(Func) * (m->nfuncs + 1));
      m->funcs[m->nfuncs] = (Func){.type = t, .import = (int32_t)i};
      im->index = m->nfuncs++;
      m->nimported_funcs++;
      break;
    }
    case EXT_TABLE: {
      if (m->ntables >= LIMIT_TABLES) rd_fail(r, "tables: %u exceeds the limit of %u", m->ntables + 1, LIMIT_TABLES);
      Table t = {.elemtype = rd_reftype(r), .import = (int32_t)i};
      t.lim = rd_table_limits(r);
      m->tables = xrealloc(m->tables, sizeof(Table) * (m->ntables + 1));
      m->tables[m->ntables] = t;
      im->index = m->ntables++;
      m->nimported_tables++;
      break;
    }
    case EXT_MEMORY: {
      if (m->nmems >= LIMIT_MEMORIES) rd_fail(r, "memories: %u exceeds the limit of %u", m->nmems + 1, LIMIT_MEMORIES);
      Memory mem = {.lim = rd_limits(r, true), .import = (int32_t)i};
      check_limits(r, mem.lim, WASM_MAX_PAGES, "memory");
      m->mems = xrealloc(m->mems, sizeof(Memory) * (m->nmems + 1));
      m->mems[m->nmems] = mem;
      im->index = m->nmems++;
      m->nimported_mems++;
      break;
    }
    case EXT_GLOBAL: {
      if (m->nglobals >= LIMIT_GLOBALS) rd_fail(r, "globals: %u exceeds the limit of %u", m->nglobals + 1, LIMIT_GLOBALS);
      Global g = {.type = rd_valtype(r), .import = (int32_t)i};
      g.mut = rd_u8(r);
      if (g.mut > 1) {
        r->p--;
        rd_fail(r, "malformed mutability");
      }
      m->globals = xrealloc(m->globals, sizeof(Global) * (m->nglobals + 1));
      m->globals[m->nglobals] = g;
      im->index = m->nglobals++;
      m->nimported_globals++;
      break;
    }
    case EXT_TAG: {
      Tag t = rd_tagtype(m, r, (int32_t)i);
      m->tags = xrealloc(m->tags, sizeof(Tag) * (m->ntags + 1));
      m->tags[m->ntags] = t;
      im->index = m->ntags++;
      m->nimported_tags++;
      break;
    }
    default: r->p--; rd_fail(r, "malformed import kind");
    }
  }
}

static void sec_function(Module *m, Reader *r) {
  uint32_t n = rd_limited(r, 1, m->nfuncs, LIMIT_FUNCS, "functions");
  m->funcs = xrealloc(m->funcs, sizeof(Func) * (m->nfuncs + n + 1));
  for (uint32_t i = 0; i < n; i++) {
    uint32_t t = rd_u32(r);
    if (t >= m->ntypes) rd_fail(r, "unknown type %u", t);
    m->funcs[m->nfuncs++] = (Func){.type = t, .import = -1};
  }
}

static void sec_table(Module *m, Reader *r) {
  uint32_t n = rd_limited(r, 3, m->ntables, LIMIT_TABLES, "tables");
  m->tables = xrealloc(m->tables, sizeof(Table) * (m->ntables + n + 1));
  for (uint32_t i = 0; i < n; i++) {
    Table t = {.elemtype = rd_reftype(r), .import = -1};
    t.lim = rd_table_limits(r);
    m->tables[m->ntables++] = t;
  }
}

static void sec_memory(Module *m, Reader *r) {
  uint32_t n = rd_limited(r, 2, m->nmems, LIMIT_MEMORIES, "memories");
  m->mems = xrealloc(m->mems, sizeof(Memory) * (m->nmems + n + 1));
  for (uint32_t i = 0; i < n; i++) {
    Memory mem = {.lim = rd_limits(r, true), .import = -1};
    check_limits(r, mem.lim, WASM_MAX_PAGES, "memory");
    m->mems[m->nmems++] = mem;
  }
}

static void sec_global(Module *m, Reader *r) {
  uint32_t n = rd_limited(r, 4, m->nglobals, LIMIT_GLOBALS, "globals");
  m->globals = xrealloc(m->globals, sizeof(Global) * (m->nglobals + n + 1));
  for (uint32_t i = 0; i < n; i++) {
    Global g = {.type = rd_valtype(r), .import = -1};
    g.mut = rd_u8(r);
    if (g.mut > 1) {
      r->p--;
      rd_fail(r, "malformed mutability");
    }
    g.init = rd_const(m, r, g.type, m->nimported_globals);
    m->globals[m->nglobals++] = g;
  }
}

/* The index of the mutable i32 global exported as name, or -1. */
static int64_t exported_i32_global(const Module *m, const char *name) {
  size_t n = strlen(name);
  for (uint32_t i = 0; i < m->nexports; i++) {
    const Export *e = &m->exports[i];
    if (e->kind != EXT_GLOBAL || e->name.len != n || memcmp(e->name.s, name, n)) continue;
    const Global *g = &m->globals[e->index];
    return g->mut && g->type == T_I32 ? (int64_t)e->index : -1;
  }
  return -1;
}

static void sec_export(Module *m, Reader *r) {
  m->nexports = rd_limited(r, 3, 0, LIMIT_EXPORTS, "exports");
  m->exports = xmalloc(sizeof(Export) * (m->nexports + 1));
  IndexSet names = set_new(m->nexports);
  for (uint32_t i = 0; i < m->nexports; i++) {
    Export *e = &m->exports[i];
    e->name = rd_name(r);
    e->kind = rd_u8(r);
    e->index = rd_u32(r);
    uint32_t lim = 0;
    const char *what = "";
    switch (e->kind) {
    case EXT_FUNC: lim = m->nfuncs, what = "function"; break;
    case EXT_TABLE: lim = m->ntables, what = "table"; break;
    case EXT_MEMORY: lim = m->nmems, what = "memory"; break;
    case EXT_GLOBAL: lim = m->nglobals, what = "global"; break;
    case EXT_TAG: lim = m->ntags, what = "tag"; break;
    default: rd_fail(r, "malformed export kind");
    }
    if (e->index >= lim) rd_fail(r, "unknown %s %u", what, e->index);
    if (e->kind == EXT_FUNC) m->funcs[e->index].declared = true;
    uint64_t h = hash_bytes(0xcbf29ce484222325ull, (const uint8_t *)e->name.s, e->name.len);
    for (size_t k = h & names.mask;; k = (k + 1) & names.mask) {
      if (!names.slot[k]) {
        names.slot[k] = i + 1;
        break;
      }
      const Name *o = &m->exports[names.slot[k] - 1].name;
      if (o->len == e->name.len && !memcmp(o->s, e->name.s, e->name.len)) rd_fail(r, "duplicate export name");
    }
  }
  free(names.slot);
  m->sp_global = exported_i32_global(m, "__stack_pointer");
  m->sp_limit_global = exported_i32_global(m, "__kiln_stack_limit");
  if (m->sp_global < 0 || m->sp_limit_global < 0) m->sp_global = m->sp_limit_global = -1;
}

static void sec_start(Module *m, Reader *r) {
  uint32_t f = rd_u32(r);
  if (f >= m->nfuncs) rd_fail(r, "unknown function %u", f);
  const FuncType *t = &m->types[m->funcs[f].type];
  if (t->np || t->nr) rd_fail(r, "start function");
  m->start = (int32_t)f;
}

static void sec_element(Module *m, Reader *r) {
  m->nelems = rd_limited(r, 1, 0, LIMIT_ELEM_SEGMENTS, "element segments");
  m->elems = xmalloc(sizeof(Elem) * (m->nelems + 1));
  for (uint32_t i = 0; i < m->nelems; i++) {
    Elem *e = &m->elems[i];
    uint32_t flags = rd_u32(r);
    if (flags > 7) rd_fail(r, "malformed elements segment kind");
    e->mode = (flags & 1) ? ((flags & 2) ? KILN_SEG_DECLARATIVE : KILN_SEG_PASSIVE) : KILN_SEG_ACTIVE;
    e->type = T_FUNCREF;
    if (e->mode == KILN_SEG_ACTIVE) {
      if (flags & 2) e->table = rd_u32(r);
      if (e->table >= m->ntables) rd_fail(r, "unknown table %u", e->table);
      e->off = rd_const(m, r, T_I32, m->nimported_globals);
    }
    bool exprs = flags & 4;
    if (flags & 3) { /* explicit elemkind or reftype */
      if (exprs) e->type = rd_reftype(r);
      else if (rd_u8(r) != 0x00) {
        r->p--;
        rd_fail(r, "malformed elements segment kind");
      }
    }
    e->count = rd_count(r, 1);
    e->items = xmalloc(sizeof(ConstExpr) * (e->count + 1));
    for (uint32_t k = 0; k < e->count; k++) {
      if (exprs) {
        e->items[k] = rd_const(m, r, e->type, m->nimported_globals);
      } else {
        uint32_t f = rd_u32(r);
        if (f >= m->nfuncs) rd_fail(r, "unknown function %u", f);
        m->funcs[f].declared = true;
        e->items[k] = (ConstExpr){.kind = KILN_CONST_REF_FUNC, .type = T_FUNCREF, .index = f};
      }
    }
    if (e->mode == KILN_SEG_ACTIVE && m->tables[e->table].elemtype != e->type) rd_fail(r, "type mismatch");
  }
}

static void sec_code(Module *m, Reader *r) {
  uint32_t n = rd_count(r, 2);
  if (n != m->nfuncs - m->nimported_funcs) rd_fail(r, "function and code section have inconsistent lengths");
  for (uint32_t i = 0; i < n; i++) {
    const uint8_t *at = r->p;
    uint32_t size = rd_u32(r);
    if (size > LIMIT_BODY_SIZE) {
      r->p = at;
      rd_fail(r, "function body size: %u bytes exceeds the limit of %u", size, LIMIT_BODY_SIZE);
    }
    if (size > (size_t)(r->end - r->p)) rd_fail(r, "unexpected end");
    Func *f = &m->funcs[m->nimported_funcs + i];
    f->body = r->p;
    f->body_end = r->p + size;
    r->p += size;
  }
}

static void sec_data(Module *m, Reader *r) {
  m->ndata = rd_limited(r, 1, 0, LIMIT_DATA_SEGMENTS, "data segments");
  if (m->has_datacount && m->ndata != m->datacount)
    rd_fail(r, "data count and data section have inconsistent lengths");
  m->data = xmalloc(sizeof(Data) * (m->ndata + 1));
  for (uint32_t i = 0; i < m->ndata; i++) {
    Data *d = &m->data[i];
    uint32_t flags = rd_u32(r);
    if (flags > 2) rd_fail(r, "malformed data segment kind");
    d->mode = flags == 1 ? KILN_SEG_PASSIVE : KILN_SEG_ACTIVE;
    if (flags == 2) d->mem = rd_u32(r);
    if (d->mode == KILN_SEG_ACTIVE) {
      if (d->mem >= m->nmems) rd_fail(r, "unknown memory %u", d->mem);
      d->off = rd_const(m, r, T_I32, m->nimported_globals);
    }
    d->len = rd_u32(r);
    if (d->len > (size_t)(r->end - r->p)) rd_fail(r, "unexpected end of section or function");
    d->bytes = r->p;
    r->p += d->len;
  }
}

/* The name section is advisory: a malformed one is ignored, never an error. */
static void sec_names(Module *m, Reader *outer) {
  jmp_buf jb;
  Reader r = *outer;
  r.soft = &jb;
  if (setjmp(jb)) return;
  while (r.p < r.end) {
    uint8_t id = rd_u8(&r);
    uint32_t size = rd_u32(&r);
    if (size > (size_t)(r.end - r.p)) return;
    Reader s = {m, r.p, r.p + size, &jb};
    r.p += size;
    if (id == 0) {
      m->name = rd_name(&s);
    } else if (id == 1) {
      uint32_t n = rd_u32(&s);
      for (uint32_t i = 0; i < n; i++) {
        uint32_t idx = rd_u32(&s);
        Name nm = rd_name(&s);
        if (idx < m->nfuncs && !m->funcs[idx].name.s) m->funcs[idx].name = nm;
        else free(nm.s);
      }
    }
  }
}

void read_module(Module *m) {
  Reader r = {m, m->buf, m->buf + m->size, NULL};
  m->start = -1;
  m->sp_global = m->sp_limit_global = -1;
  if (m->size < 4 || memcmp(m->buf, "\0asm", 4)) rd_fail(&r, "magic header not detected");
  r.p += 4;
  if (m->size < 8) rd_fail(&r, "unexpected end");
  if (rd_fixed32(&r) != WASM_VERSION) {
    r.p -= 4;
    rd_fail(&r, "unknown binary version");
  }
  /* Position of each section id in the required order (datacount sits before code, tag
   * between memory and global). */
  static const uint8_t rank[14] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 12, 13, 11, 6};
  unsigned last = 0;
  bool have_code = false;
  while (r.p < r.end) {
    size_t id_off = rd_off(&r);
    uint8_t id = rd_u8(&r);
    uint32_t size = rd_u32(&r);
    if (size > (size_t)(r.end - r.p)) rd_fail(&r, "section size mismatch: unexpected end");
    Reader s = {m, r.p, r.p + size, NULL};
    r.p += size;
    if (id > SEC_TAG) fail_at(m, id_off, "malformed section id %u", id);
    if (id == SEC_CUSTOM) {
      Name nm = rd_name(&s);
      if (nm.len == 4 && !memcmp(nm.s, "name", 4)) sec_names(m, &s);
      free(nm.s);
      continue;
    }
    if (rank[id] <= last) fail_at(m, id_off, "unexpected content after last section");
    last = rank[id];
    switch (id) {
    case SEC_TYPE: sec_type(m, &s); break;
    case SEC_IMPORT: sec_import(m, &s); break;
    case SEC_FUNCTION: sec_function(m, &s); break;
    case SEC_TABLE: sec_table(m, &s); break;
    case SEC_MEMORY: sec_memory(m, &s); break;
    case SEC_TAG: sec_tag(m, &s); break;
    case SEC_GLOBAL: sec_global(m, &s); break;
    case SEC_EXPORT: sec_export(m, &s); break;
    case SEC_START: sec_start(m, &s); break;
    case SEC_ELEMENT: sec_element(m, &s); break;
    case SEC_DATACOUNT: m->has_datacount = true, m->datacount = rd_u32(&s); break;
    case SEC_CODE: sec_code(m, &s), have_code = true; break;
    case SEC_DATA: sec_data(m, &s); break;
    }
    if (s.p != s.end) rd_fail(&s, "section size mismatch");
  }
  if (!have_code && m->nfuncs > m->nimported_funcs)
    rd_fail(&r, "function and code section have inconsistent lengths");
  if (m->has_datacount && m->datacount != m->ndata)
    rd_fail(&r, "data count and data section have inconsistent lengths");
}
