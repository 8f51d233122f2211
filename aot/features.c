/* aot/features.c — which WebAssembly proposals a module uses, and which of them kiln-aot
 * lacks. A tolerant scan of the whole binary (types, imports, memories, globals, segments,
 * code) that runs before the reader: a module using an unsupported feature is refused with
 * that feature named, instead of a "malformed" error from the 2.0 decoder. The table below
 * is the single place to flip when a feature is implemented. */
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

#include "aot/aot.h"

static const struct {
  const char *id; /* as `kiln inspect` lists it */
  const char *name; /* as error messages name it */
  bool supported;
} features[FEAT_COUNT] = {
    [FEAT_MUTABLE_GLOBALS] = {"mutable-globals", "import/export of mutable globals", true},
    [FEAT_SIGN_EXT] = {"sign-extension", "sign-extension operators", true},
    [FEAT_SAT_CONV] = {"nontrapping-float-to-int", "non-trapping float-to-int conversions", true},
    [FEAT_MULTI_VALUE] = {"multi-value", "multi-value", true},
    [FEAT_BULK_MEMORY] = {"bulk-memory", "bulk memory operations", true},
    [FEAT_REF_TYPES] = {"reference-types", "reference types", true},
    [FEAT_SIMD] = {"simd", "SIMD", true},
    [FEAT_RELAXED_SIMD] = {"relaxed-simd", "relaxed SIMD", false},
    [FEAT_THREADS] = {"threads", "threads (shared memory, atomics)", true},
    [FEAT_EH] = {"exception-handling", "exception handling", true},
    [FEAT_EH_EXNREF] = {"exception-handling-exnref", "exception handling with exnref (try_table, throw_ref)", false},
    [FEAT_TAIL_CALL] = {"tail-call", "tail calls", true},
    [FEAT_MULTI_MEMORY] = {"multi-memory", "multi-memory", true},
    [FEAT_EXTENDED_CONST] = {"extended-const", "extended constant expressions", true},
    [FEAT_MEMORY64] = {"memory64", "memory64", false},
    [FEAT_FUNC_REFS] = {"function-references", "typed function references", false},
    [FEAT_GC] = {"gc", "garbage collection (GC types)", false},
};

/* The scan: errors longjmp out of the current section or body (the reader reports them). */
typedef struct Scan {
  Reader r;
  jmp_buf jb;
  Features *out;
} Scan;

/* Features turned off by `kiln-aot --disable ID`: refused as if kiln-aot lacked them. */
static bool disabled[FEAT_COUNT];

bool disable_feature(const char *id) {
  for (int i = 0; i < FEAT_COUNT; i++)
    if (!strcmp(features[i].id, id)) return disabled[i] = true;
  return false;
}

bool feature_enabled(int f) { return features[f].supported && !disabled[f]; }

static void use(Scan *s, int f, size_t off, const char *what) {
  FeatureUse *u = &s->out->use[f];
  if (u->used && u->off <= off) return;
  u->used = true, u->off = off, u->what = what;
}

static void give_up(Scan *s) { longjmp(s->jb, 1); }

static void skip(Scan *s, size_t n) {
  if ((size_t)(s->r.end - s->r.p) < n) give_up(s);
  s->r.p += n;
}

/* A heap type after 0x64/0x63 (ref, ref null) or ref.null: an s33 type index or an abstract type. */
static void heaptype(Scan *s) {
  size_t off = rd_off(&s->r);
  int64_t h = rd_s33(&s->r);
  if (h >= 0) { use(s, FEAT_FUNC_REFS, off, "a typed reference to a type index"); return; }
  uint8_t b = (uint8_t)(h & 0x7f);
  if (b == T_FUNCREF || b == T_EXTERNREF) return;
  if (b == 0x69 || b == 0x74) { use(s, FEAT_EH_EXNREF, off, "the exn heap type"); return; }
  if ((b >= 0x6a && b <= 0x6e) || (b >= 0x71 && b <= 0x73)) { use(s, FEAT_GC, off, "a GC heap type"); return; }
  give_up(s);
}

/* A value type (or a block type's single result). */
static void valtype(Scan *s, uint8_t b, size_t off) {
  switch (b) {
  case T_I32: case T_I64: case T_F32: case T_F64: return;
  case T_V128: { use(s, FEAT_SIMD, off, "the v128 type"); return; }
  case T_FUNCREF: case T_EXTERNREF: { use(s, FEAT_REF_TYPES, off, "a reference type"); return; }
  case 0x64: case 0x63: /* ref, ref null */
  case 0x6b: case 0x6c: /* the same in the function-references draft that wabt 1.0.32 writes (GC
                           reuses these bytes for structref and i31ref) */
    use(s, FEAT_FUNC_REFS, off, "a (ref ...) type");
    heaptype(s);
    return;
  case 0x69: { use(s, FEAT_EH_EXNREF, off, "the exnref type"); return; }
  case 0x6a: case 0x6d: case 0x6e: case 0x71: case 0x72: case 0x73:
    { use(s, FEAT_GC, off, "a GC reference type"); return; }
  default: give_up(s);
  }
}

static void rd_valtype_scan(Scan *s) {
  size_t off = rd_off(&s->r);
  valtype(s, rd_u8(&s->r), off);
}

/* Limits of a memory or table: flags bit 0 max, bit 1 shared, bit 2 64-bit indices. */
static void limits(Scan *s, bool memory) {
  size_t off = rd_off(&s->r);
  uint8_t flags = rd_u8(&s->r);
  if (flags & 2) use(s, FEAT_THREADS, off, memory ? "a shared memory" : "a shared table");
  if (flags & 4) use(s, FEAT_MEMORY64, off, memory ? "a 64-bit memory" : "a 64-bit table");
  if (flags & ~7) give_up(s);
  rd_u64(&s->r);
  if (flags & 1) rd_u64(&s->r);
}

/* A table type: funcref tables are the MVP's; externref ones and a second table are reference types. */
static void table(Scan *s) {
  size_t off = rd_off(&s->r);
  uint8_t t = rd_u8(&s->r);
  if (t != T_FUNCREF) valtype(s, t, off);
  if (++s->out->ntables > 1) use(s, FEAT_REF_TYPES, off, "a second table");
  limits(s, false);
}

static void memory(Scan *s) {
  size_t off = rd_off(&s->r);
  if (++s->out->nmems > 1) use(s, FEAT_MULTI_MEMORY, off, "a second memory");
  limits(s, true);
}

static void memidx(Scan *s, size_t off) {
  if (rd_u32(&s->r) != 0) use(s, FEAT_MULTI_MEMORY, off, "a memory index other than 0");
}

/* A constant expression, up to its `end`. */
static void const_expr(Scan *s) {
  for (;;) {
    size_t off = rd_off(&s->r);
    uint8_t op = rd_u8(&s->r);
    switch (op) {
    case OP_END: return;
    case OP_I32_CONST: rd_s32(&s->r); break;
    case OP_I64_CONST: rd_s64(&s->r); break;
    case OP_F32_CONST: skip(s, 4); break;
    case OP_F64_CONST: skip(s, 8); break;
    case OP_GLOBAL_GET: case OP_REF_FUNC: rd_u32(&s->r); break;
    case OP_REF_NULL: heaptype(s); break;
    case 0x6a: case 0x6b: case 0x6c: case 0x7c: case 0x7d: case 0x7e:
      use(s, FEAT_EXTENDED_CONST, off, "integer arithmetic in a constant expression");
      break;
    case OP_PREFIX_FD:
      if (rd_u32(&s->r) != 12) give_up(s);
      use(s, FEAT_SIMD, off, "v128.const");
      skip(s, 16);
      break;
    case 0xfb: use(s, FEAT_GC, off, "a GC instruction"); give_up(s);
    default: give_up(s);
    }
  }
}

static void functype_results(Scan *s, uint32_t nr, size_t off) {
  if (nr > 1) use(s, FEAT_MULTI_VALUE, off, "a function type with several results");
}

static void sec_type(Scan *s) {
  uint32_t n = rd_u32(&s->r);
  for (uint32_t i = 0; i < n; i++) {
    size_t off = rd_off(&s->r);
    uint8_t form = rd_u8(&s->r);
    if (form == 0x4e || form == 0x4f || form == 0x50 || form == 0x5e || form == 0x5f) {
      use(s, FEAT_GC, off, "a struct, array, sub or rec type");
      give_up(s); /* their encoding is not worth decoding only to refuse it */
    }
    if (form != T_FUNC) give_up(s);
    uint32_t np = rd_u32(&s->r);
    for (uint32_t k = 0; k < np; k++) rd_valtype_scan(s);
    uint32_t nr = rd_u32(&s->r);
    for (uint32_t k = 0; k < nr; k++) rd_valtype_scan(s);
    functype_results(s, nr, off);
  }
}

static void globaltype(Scan *s, bool imported) {
  rd_valtype_scan(s);
  size_t off = rd_off(&s->r);
  uint8_t mut = rd_u8(&s->r);
  if (mut & 2) use(s, FEAT_THREADS, off, "a shared global");
  if ((mut & 1) && imported) use(s, FEAT_MUTABLE_GLOBALS, off, "an imported mutable global");
}

static void sec_import(Scan *s) {
  uint32_t n = rd_u32(&s->r);
  for (uint32_t i = 0; i < n; i++) {
    for (int k = 0; k < 2; k++) skip(s, rd_u32(&s->r)); /* module and field names */
    size_t off = rd_off(&s->r);
    switch (rd_u8(&s->r)) {
    case EXT_FUNC: rd_u32(&s->r); break;
    case EXT_TABLE: table(s); break;
    case EXT_MEMORY: memory(s); break;
    case EXT_GLOBAL: globaltype(s, true); break;
    case 4: use(s, FEAT_EH, off, "an imported tag"); rd_u8(&s->r); rd_u32(&s->r); break;
    default: give_up(s);
    }
  }
}

static void sec_export(Scan *s) {
  uint32_t n = rd_u32(&s->r);
  for (uint32_t i = 0; i < n; i++) {
    skip(s, rd_u32(&s->r));
    size_t off = rd_off(&s->r);
    uint8_t kind = rd_u8(&s->r);
    rd_u32(&s->r);
    if (kind == 4) use(s, FEAT_EH, off, "an exported tag");
    else if (kind > EXT_GLOBAL) give_up(s);
  }
}

static void sec_elem(Scan *s) {
  uint32_t n = rd_u32(&s->r);
  for (uint32_t i = 0; i < n; i++) {
    size_t off = rd_off(&s->r);
    uint32_t flags = rd_u32(&s->r);
    if (flags > 7) give_up(s);
    if (flags & 1) use(s, FEAT_BULK_MEMORY, off, "a passive or declarative element segment");
    if (!(flags & 1)) {
      if (flags & 2) rd_u32(&s->r);
      const_expr(s);
    }
    if (flags & 3) {
      if (flags & 4) rd_valtype_scan(s);
      else rd_u8(&s->r);
    }
    uint32_t count = rd_u32(&s->r);
    for (uint32_t k = 0; k < count; k++) {
      if (flags & 4) const_expr(s);
      else rd_u32(&s->r);
    }
  }
}

static void sec_data(Scan *s) {
  uint32_t n = rd_u32(&s->r);
  for (uint32_t i = 0; i < n; i++) {
    size_t off = rd_off(&s->r);
    uint32_t flags = rd_u32(&s->r);
    if (flags == 1) use(s, FEAT_BULK_MEMORY, off, "a passive data segment");
    if (flags == 2) memidx(s, off);
    if (flags != 1) const_expr(s);
    skip(s, rd_u32(&s->r));
  }
}

static void blocktype(Scan *s) {
  size_t off = rd_off(&s->r);
  if (s->r.p >= s->r.end) give_up(s);
  uint8_t b = *s->r.p;
  if (b == T_EMPTY) {
    s->r.p++;
  } else if (b >= 0x40 && b < 0x80) { /* one byte, bit 6 set: a negative s33, so a value type */
    s->r.p++;
    valtype(s, b, off);
  } else {
    rd_s33(&s->r);
    use(s, FEAT_MULTI_VALUE, off, "a block type given by a type index");
  }
}

/* memarg: alignment (bit 6 set: a memory index follows, multi-memory), then the offset (u64
 * under memory64). */
static void memarg(Scan *s, size_t off) {
  uint32_t align = rd_u32(&s->r);
  if (align & 0x40) memidx(s, off);
  rd_u64(&s->r);
}

static void simd(Scan *s, size_t off) {
  uint32_t sub = rd_u32(&s->r);
  if (sub >= 0x100) use(s, FEAT_RELAXED_SIMD, off, "a relaxed SIMD instruction (0xfd prefix)");
  else use(s, FEAT_SIMD, off, "a SIMD instruction (0xfd prefix)");
  if (sub <= 11 || sub == 92 || sub == 93) memarg(s, off);
  else if (sub == 12 || sub == 13) skip(s, 16);
  else if (sub >= 21 && sub <= 34) skip(s, 1);
  else if (sub >= 84 && sub <= 91) memarg(s, off), skip(s, 1);
  else if (sub > 0x113) give_up(s);
}

static void atomic(Scan *s, size_t off) {
  uint32_t sub = rd_u32(&s->r);
  use(s, FEAT_THREADS, off, "an atomic instruction (0xfe prefix)");
  if (sub == 3) skip(s, 1); /* atomic.fence */
  else if (sub <= 2 || (sub >= 0x10 && sub <= 0x4e)) memarg(s, off);
  else give_up(s);
}

static void prefix_fc(Scan *s, size_t off) {
  uint32_t sub = rd_u32(&s->r);
  if (sub <= 7) { use(s, FEAT_SAT_CONV, off, "a non-trapping conversion"); return; }
  switch (sub) {
  case 8: rd_u32(&s->r); memidx(s, off); break;      /* memory.init */
  case 10: memidx(s, off); memidx(s, off); break;    /* memory.copy */
  case 11: memidx(s, off); break;                    /* memory.fill */
  case 9: case 13: rd_u32(&s->r); break;             /* data.drop, elem.drop */
  case 12: case 14: rd_u32(&s->r); rd_u32(&s->r); break;
  case 15: case 16: case 17: rd_u32(&s->r); use(s, FEAT_REF_TYPES, off, "table.grow/size/fill"); return;
  default: give_up(s);
  }
  use(s, FEAT_BULK_MEMORY, off, "a bulk memory or table instruction");
}

/* One instruction; the caller loops to the end of the body. */
static void instr(Scan *s) {
  Reader *r = &s->r;
  size_t off = rd_off(r);
  uint8_t op = rd_u8(r);
  if ((op >= OP_NUMERIC_FIRST && op <= OP_CONVERT_LAST) || op == OP_UNREACHABLE || op == OP_NOP ||
      op == OP_ELSE || op == OP_END || op == OP_RETURN || op == OP_DROP || op == OP_SELECT) {
    if (op >= 0xc0 && op <= 0xc4) use(s, FEAT_SIGN_EXT, off, "a sign-extension operator");
    return;
  }
  if (op >= OP_I32_LOAD && op <= OP_I64_STORE32) { memarg(s, off); return; }
  switch (op) {
  case OP_BLOCK: case OP_LOOP: case OP_IF: blocktype(s); break;
  case 0x06: use(s, FEAT_EH, off, "try"); blocktype(s); break;
  case 0x07: use(s, FEAT_EH, off, "catch"); rd_u32(r); break;
  case 0x08: use(s, FEAT_EH, off, "throw"); rd_u32(r); break;
  case 0x09: use(s, FEAT_EH, off, "rethrow"); rd_u32(r); break;
  case 0x0a: use(s, FEAT_EH_EXNREF, off, "throw_ref"); break;
  case 0x18: use(s, FEAT_EH, off, "delegate"); rd_u32(r); break;
  case 0x19: use(s, FEAT_EH, off, "catch_all"); break;
  case 0x1f: {
    use(s, FEAT_EH_EXNREF, off, "try_table");
    blocktype(s);
    uint32_t n = rd_u32(r);
    for (uint32_t i = 0; i < n; i++) {
      uint8_t kind = rd_u8(r);
      if (kind > 3) give_up(s);
      if (kind <= 1) rd_u32(r); /* the tag */
      rd_u32(r);                /* the label */
    }
    break;
  }
  case OP_BR: case OP_BR_IF: case OP_CALL: rd_u32(r); break;
  case OP_BR_TABLE: {
    uint32_t n = rd_u32(r);
    for (uint64_t i = 0; i <= n; i++) rd_u32(r);
    break;
  }
  case OP_CALL_INDIRECT:
    rd_u32(r);
    if (rd_u32(r) != 0) use(s, FEAT_REF_TYPES, off, "call_indirect through a table other than 0");
    break;
  case 0x12: use(s, FEAT_TAIL_CALL, off, "return_call"); rd_u32(r); break;
  case 0x13: use(s, FEAT_TAIL_CALL, off, "return_call_indirect"); rd_u32(r); rd_u32(r); break;
  case 0x14: use(s, FEAT_FUNC_REFS, off, "call_ref"); rd_u32(r); break;
  case 0x15:
    use(s, FEAT_TAIL_CALL, off, "return_call_ref");
    use(s, FEAT_FUNC_REFS, off, "return_call_ref");
    rd_u32(r);
    break;
  case OP_SELECT_T: {
    use(s, FEAT_REF_TYPES, off, "select with a type");
    uint32_t n = rd_u32(r);
    for (uint32_t i = 0; i < n; i++) rd_valtype_scan(s);
    break;
  }
  case OP_LOCAL_GET: case OP_LOCAL_SET: case OP_LOCAL_TEE: case OP_GLOBAL_GET: case OP_GLOBAL_SET:
    rd_u32(r);
    break;
  case OP_TABLE_GET: case OP_TABLE_SET: use(s, FEAT_REF_TYPES, off, "table.get/set"); rd_u32(r); break;
  case OP_MEMORY_SIZE: case OP_MEMORY_GROW: memidx(s, off); break;
  case OP_I32_CONST: rd_s32(r); break;
  case OP_I64_CONST: rd_s64(r); break;
  case OP_F32_CONST: skip(s, 4); break;
  case OP_F64_CONST: skip(s, 8); break;
  case OP_REF_NULL: use(s, FEAT_REF_TYPES, off, "ref.null"); heaptype(s); break;
  case OP_REF_IS_NULL: use(s, FEAT_REF_TYPES, off, "ref.is_null"); break;
  case OP_REF_FUNC: use(s, FEAT_REF_TYPES, off, "ref.func"); rd_u32(r); break;
  case 0xd3: use(s, FEAT_GC, off, "ref.eq"); break;
  case 0xd4: use(s, FEAT_FUNC_REFS, off, "ref.as_non_null"); break;
  case 0xd5: case 0xd6: use(s, FEAT_FUNC_REFS, off, "br_on_null/br_on_non_null"); rd_u32(r); break;
  case 0xfb: use(s, FEAT_GC, off, "a GC instruction (0xfb prefix)"); give_up(s);
  case OP_PREFIX_FC: prefix_fc(s, off); break;
  case OP_PREFIX_FD: simd(s, off); break;
  case 0xfe: atomic(s, off); break;
  default: give_up(s); /* an illegal opcode: the reader names it */
  }
}

static void sec_code(Scan *s) {
  Reader sec = s->r;
  /* A bad body size ends the scan: with s->jb, reading it again would fail again for each of
   * up to 2^32 bodies (a 63-byte module hung kiln-aot; found by tests/fuzz). */
  jmp_buf sec_jb;
  sec.soft = &sec_jb;
  if (setjmp(sec_jb)) return;
  uint32_t n = rd_u32(&sec);
  for (uint32_t i = 0; i < n; i++) {
    uint32_t size = rd_u32(&sec);
    if (size > (size_t)(sec.end - sec.p)) return;
    s->r = (Reader){sec.m, sec.p, sec.p + size, &s->jb};
    sec.p += size;
    if (setjmp(s->jb)) continue; /* the next body is still worth scanning */
    uint32_t groups = rd_u32(&s->r);
    for (uint32_t g = 0; g < groups; g++) rd_u32(&s->r), rd_valtype_scan(s);
    while (s->r.p < s->r.end) instr(s);
  }
}

/* Whether one function body uses an exception instruction (lower_eh.c then makes its locals
 * volatile). The body was scanned once already: this cannot fail where that did not. */
bool body_uses_eh(const Module *m, const uint8_t *body, const uint8_t *end) {
  Features f;
  memset(&f, 0, sizeof f);
  Scan s = {.out = &f};
  s.r = (Reader){m, body, end, &s.jb};
  if (setjmp(s.jb)) return true; /* cannot happen; true is the safe answer */
  uint32_t groups = rd_u32(&s.r);
  for (uint32_t g = 0; g < groups; g++) rd_u32(&s.r), rd_valtype_scan(&s);
  while (s.r.p < s.r.end) instr(&s);
  return f.use[FEAT_EH].used;
}

void scan_features(const Module *m, Features *out) {
  memset(out, 0, sizeof *out);
  if (m->size < 8 || memcmp(m->buf, "\0asm", 4)) return;
  Scan s = {.out = out};
  jmp_buf top_jb;
  Reader top = {m, m->buf + 8, m->buf + m->size, &top_jb};
  if (setjmp(top_jb)) return; /* a malformed section header: the reader reports it */
  while (top.p < top.end) {
    size_t id_off = rd_off(&top);
    uint8_t id = rd_u8(&top);
    uint32_t size = rd_u32(&top);
    if (size > (size_t)(top.end - top.p)) return;
    s.r = (Reader){m, top.p, top.p + size, &s.jb};
    top.p += size;
    if (id == SEC_TAG) use(&s, FEAT_EH, id_off, "a tag section");
    if (id == SEC_DATACOUNT) use(&s, FEAT_BULK_MEMORY, id_off, "a data count section");
    if (setjmp(s.jb)) continue; /* stop scanning this section only */
    switch (id) {
    case SEC_TYPE: sec_type(&s); break;
    case SEC_IMPORT: sec_import(&s); break;
    case SEC_TABLE: {
      uint32_t n = rd_u32(&s.r);
      for (uint32_t i = 0; i < n; i++) table(&s);
      break;
    }
    case SEC_MEMORY: {
      uint32_t n = rd_u32(&s.r);
      for (uint32_t i = 0; i < n; i++) memory(&s);
      break;
    }
    case SEC_GLOBAL: {
      uint32_t n = rd_u32(&s.r);
      for (uint32_t i = 0; i < n; i++) globaltype(&s, false), const_expr(&s);
      break;
    }
    case SEC_EXPORT: sec_export(&s); break;
    case SEC_ELEMENT: sec_elem(&s); break;
    case SEC_CODE: sec_code(&s); break;
    case SEC_DATA: sec_data(&s); break;
    }
  }
}

/* The unsupported feature used first in the file, or -1. */
int first_unsupported(const Features *f) {
  int best = -1;
  for (int i = 0; i < FEAT_COUNT; i++)
    if (f->use[i].used && !feature_enabled(i) && (best < 0 || f->use[i].off < f->use[best].off)) best = i;
  return best;
}

void refuse_unsupported(const Module *m, const Features *f) {
  int i = first_unsupported(f);
  if (i < 0) return;
  if (disabled[i]) fail_at(m, f->use[i].off, "%s is disabled (--disable %s) (%s)", features[i].name, features[i].id, f->use[i].what);
  fail_at(m, f->use[i].off, "%s is not supported by kiln-aot (%s)", features[i].name, f->use[i].what);
}

/* `feature ID 0xOFFSET: WHAT`, one line per feature used, those kiln-aot lacks marked. */
void print_features(const Features *f) {
  for (int i = 0; i < FEAT_COUNT; i++) {
    const FeatureUse *u = &f->use[i];
    if (!u->used) continue;
    printf("feature %s 0x%zx: %s%s\n", features[i].id, u->off, u->what,
           !features[i].supported ? "   [NOT SUPPORTED by kiln-aot]" : disabled[i] ? "   [DISABLED]" : "");
  }
}
