/* tests/spec/driver.c — runs the commands of one .wast file against its modules, compiled by
 * kiln-aot and linked into this program. tests/spec/spec.py turns wast2json's JSON into the
 * line format below and generates the table `spec_modules` (NULL for a module that did not
 * compile). One result line per command on stdout: "PASS" or "FAIL why".
 *
 * Commands (strings in hex, "-" for empty; MOD is a module name or "-" for the latest one):
 *   module IDX NAME                       instantiate module IDX, name it NAME ("-": unnamed)
 *   register ASHEX NAME                   make instance NAME importable as module ASHEX
 *   assert_uninstantiable IDX TEXTHEX     instantiation must fail: a trap (or segment bounds)
 *   assert_unlinkable IDX TEXTHEX         instantiation must fail: import resolution
 *   CMD ACT MOD FIELDHEX N ARG... M EXP... TEXTHEX
 *       CMD: action | assert_return | assert_trap | assert_exhaustion | assert_exception
 *       (an exception escapes the call: the trap "uncaught exception"); ACT: invoke | get
 *   VALUE: i32:BITS i64:BITS f32:BITS f64:BITS (decimal bits), f32:nan:canonical,
 *          f64:nan:arithmetic, externref:null, externref:N, externref:any, funcref:null,
 *          funcref:any, v128:32HEX (the bytes in memory order), v128:f32:L,L,L,L and v128:f64:L,L
 *          (lanes in order, each the decimal bits, nan:canonical or nan:arithmetic)
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"

extern const kiln_module *const spec_modules[];
extern const unsigned spec_nmodules;

#define MAXVALS 64

/* ---- instances by name, registrations ---- */

typedef struct named {
  char *name;
  kiln_instance *inst;
} named;
static named names[512], regs[512];
static int nnames, nregs;
static kiln_instance *current;

static kiln_instance *lookup(named *t, int n, const char *name) {
  for (int i = n - 1; i >= 0; i--)
    if (strcmp(t[i].name, name) == 0) return t[i].inst;
  return NULL;
}
static void bind(named *t, int *n, const char *name, kiln_instance *inst) {
  if (*n < 512) t[(*n)++] = (named){strdup(name), inst};
}

/* Hex strings to bytes (NUL-terminated; *len excludes the NUL). */
static char *unhex(const char *h, size_t *len) {
  size_t n = strcmp(h, "-") == 0 ? 0 : strlen(h) / 2;
  char *s = malloc(n + 1);
  for (size_t i = 0; i < n; i++) {
    unsigned b;
    sscanf(h + 2 * i, "%2x", &b);
    s[i] = (char)b;
  }
  s[n] = 0;
  if (len) *len = n;
  return s;
}

/* ---- the spectest module ---- */

static void sp_print(kiln_instance *c) {}
static void sp_print_i32(kiln_instance *c, int32_t a) {}
static void sp_print_i64(kiln_instance *c, int64_t a) {}
static void sp_print_f32(kiln_instance *c, float a) {}
static void sp_print_f64(kiln_instance *c, double a) {}
static void sp_print_i32_f32(kiln_instance *c, int32_t a, float b) {}
static void sp_print_f64_f64(kiln_instance *c, double a, double b) {}

static const struct {
  const char *name;
  void *fn;
  const char *params;
} spectest_funcs[] = {
    {"print", (void *)sp_print, ""},
    {"print_i32", (void *)sp_print_i32, "\x7f"},
    {"print_i64", (void *)sp_print_i64, "\x7e"},
    {"print_f32", (void *)sp_print_f32, "\x7d"},
    {"print_f64", (void *)sp_print_f64, "\x7c"},
    {"print_i32_f32", (void *)sp_print_i32_f32, "\x7f\x7d"},
    {"print_f64_f64", (void *)sp_print_f64_f64, "\x7c\x7c"},
};
static kiln_val sp_g_i32 = {.i32 = 666}, sp_g_i64 = {.i64 = 666}, sp_g_f32 = {.f32 = 666.6f}, sp_g_f64 = {.f64 = 666.6};
static kiln_table sp_table;
static kiln_memory sp_memory, sp_shared_memory; /* (memory 1 2), (memory 1 2 shared) */

static int spectest_init(void) {
  sp_table = (kiln_table){calloc(10, sizeof(void *)), 10, 20, KILN_FUNCREF};
  sp_shared_memory.shared = 1;
  for (kiln_memory *m = &sp_memory; m; m = m == &sp_memory ? &sp_shared_memory : NULL) {
    m->max_pages = 2;
    if (kiln_plat_mem_reserve(m) != 0 || kiln_plat_mem_commit(m, 0, KILN_PAGE_SIZE) != 0) return -1;
    m->pages = 1;
    m->bytes = KILN_PAGE_SIZE;
  }
  return 0;
}

static int spectest_get(const char *field, kiln_extern *out) {
  memset(out, 0, sizeof *out);
  for (size_t i = 0; i < sizeof spectest_funcs / sizeof *spectest_funcs; i++)
    if (strcmp(field, spectest_funcs[i].name) == 0) {
      const char *p = spectest_funcs[i].params;
      out->kind = KILN_EXTERN_FUNC;
      out->u.func.fn = spectest_funcs[i].fn;
      out->u.func.type_hash = kiln_functype_hash((uint32_t)strlen(p), (const uint8_t *)p, 0, NULL);
      return 0;
    }
  static const struct {
    const char *name;
    kiln_val *cell;
    uint8_t type;
  } globals[] = {{"global_i32", &sp_g_i32, KILN_I32},
                 {"global_i64", &sp_g_i64, KILN_I64},
                 {"global_f32", &sp_g_f32, KILN_F32},
                 {"global_f64", &sp_g_f64, KILN_F64}};
  for (size_t i = 0; i < 4; i++)
    if (strcmp(field, globals[i].name) == 0) {
      out->kind = KILN_EXTERN_GLOBAL;
      out->u.global.cell = globals[i].cell;
      out->u.global.type = globals[i].type;
      return 0;
    }
  if (strcmp(field, "table") == 0) {
    out->kind = KILN_EXTERN_TABLE;
    out->u.table = &sp_table;
    return 0;
  }
  if (strcmp(field, "memory") == 0 || strcmp(field, "shared_memory") == 0) {
    out->kind = KILN_EXTERN_MEMORY;
    out->u.memory = field[0] == 's' ? &sp_shared_memory : &sp_memory;
    return 0;
  }
  return -1;
}

/* Exports looked up by bytes and length: names may hold any UTF-8, even NUL. */
static const kiln_export *find_export(kiln_instance *inst, const char *name, size_t len) {
  const kiln_module *m = inst->module;
  for (uint32_t i = 0; i < m->nexports; i++)
    if (m->exports[i].name.len == len && memcmp(m->exports[i].name.s, name, len) == 0) return &m->exports[i];
  return NULL;
}

static int resolve(void *ud, const kiln_module *m, const kiln_import *imp, kiln_extern *out, char *err, size_t n) {
  if (strcmp(imp->module.s, "spectest") == 0) return spectest_get(imp->field.s, out);
  kiln_instance *inst = lookup(regs, nregs, imp->module.s);
  if (!inst) return -1;
  const kiln_export *e = find_export(inst, imp->field.s, imp->field.len);
  return e ? kiln_export_get(inst, e->name.s, out) : -1;
}

/* ---- values ---- */

typedef enum { EXACT, NAN_CANON, NAN_ARITH, ANY_REF } match_kind;
typedef struct expect {
  uint8_t type;
  match_kind kind;
  kiln_val v;
  uint8_t lane_bytes;    /* v128 given per float lane: 4 or 8 (0: the 16 bytes exactly) */
  match_kind lanes[4];   /* then the kind of each lane */
} expect;

static uint8_t type_of(const char *s) {
  static const struct {
    const char *n;
    uint8_t t;
  } tab[] = {{"i32", KILN_I32}, {"i64", KILN_I64}, {"f32", KILN_F32}, {"f64", KILN_F64},
             {"v128", KILN_V128}, {"externref", KILN_EXTERNREF}, {"funcref", KILN_FUNCREF}};
  for (size_t i = 0; i < sizeof tab / sizeof *tab; i++)
    if (strcmp(s, tab[i].n) == 0) return tab[i].t;
  return 0;
}

/* Host references (ref.extern N) are the non-null pointer values N+1. */
static int parse_value(char *tok, expect *e) {
  char *colon = strchr(tok, ':');
  if (!colon) return -1;
  *colon = 0;
  const char *val = colon + 1;
  memset(e, 0, sizeof *e);
  e->type = type_of(tok);
  if (strncmp(val, "nan:canonical", 13) == 0) e->kind = NAN_CANON;
  else if (strncmp(val, "nan:arithmetic", 14) == 0) e->kind = NAN_ARITH;
  else if (strcmp(val, "null") == 0) e->v.ref = NULL;
  else if (strcmp(val, "any") == 0) e->kind = ANY_REF;
  else if (e->type == KILN_V128 && (strncmp(val, "f32:", 4) == 0 || strncmp(val, "f64:", 4) == 0)) {
    e->lane_bytes = val[1] == '3' ? 4 : 8;
    const char *p = val + 4;
    for (int i = 0; i < 16 / e->lane_bytes; i++) {
      if (strncmp(p, "nan:canonical", 13) == 0) e->lanes[i] = NAN_CANON;
      else if (strncmp(p, "nan:arithmetic", 14) == 0) e->lanes[i] = NAN_ARITH;
      else {
        uint64_t bits = strtoull(p, NULL, 10);
        memcpy(e->v.v128 + i * e->lane_bytes, &bits, e->lane_bytes); /* little-endian */
      }
      p = strchr(p, ',');
      if (!p && i + 1 < 16 / e->lane_bytes) return -1;
      if (p) p++;
    }
  }
  else switch (e->type) {
    case KILN_I32: case KILN_F32: e->v.i32 = (int32_t)strtoul(val, NULL, 10); break;
    case KILN_I64: case KILN_F64: e->v.i64 = (int64_t)strtoull(val, NULL, 10); break;
    case KILN_EXTERNREF: e->v.ref = (void *)(uintptr_t)(strtoull(val, NULL, 10) + 1); break;
    case KILN_V128:
      for (int i = 0; i < 16; i++) {
        unsigned b;
        sscanf(val + 2 * i, "%2x", &b);
        e->v.v128[i] = (uint8_t)b;
      }
      break;
    default: return -1;
    }
  return e->type ? 0 : -1;
}

static void show(char *buf, size_t n, uint8_t type, const kiln_val *v) {
  switch (type) {
  case KILN_I32: snprintf(buf, n, "i32:%" PRIu32, (uint32_t)v->i32); break;
  case KILN_F32: snprintf(buf, n, "f32:%" PRIu32 " (%g)", (uint32_t)v->i32, v->f32); break;
  case KILN_I64: snprintf(buf, n, "i64:%" PRIu64, (uint64_t)v->i64); break;
  case KILN_F64: snprintf(buf, n, "f64:%" PRIu64 " (%g)", (uint64_t)v->i64, v->f64); break;
  case KILN_EXTERNREF:
    if (v->ref) snprintf(buf, n, "externref:%" PRIuPTR, (uintptr_t)v->ref - 1);
    else snprintf(buf, n, "externref:null");
    break;
  case KILN_FUNCREF: snprintf(buf, n, "funcref:%s", v->ref ? "non-null" : "null"); break;
  case KILN_V128: {
    int k = snprintf(buf, n, "v128:");
    for (int i = 0; i < 16 && k < (int)n; i++) k += snprintf(buf + k, n - k, "%02x", v->v128[i]);
    break;
  }
  default: snprintf(buf, n, "unknown");
  }
}

/* One float (f32 when wide is 0, else f64) of the given bits against a kind. */
static int float_matches(match_kind kind, int wide, uint64_t bits, uint64_t want) {
  switch (kind) {
  case NAN_CANON:
    return !wide ? (bits & 0x7fffffffu) == 0x7fc00000u : (bits & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
  case NAN_ARITH:
    return !wide ? (bits & 0x7fc00000u) == 0x7fc00000u : (bits & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
  default: return bits == want;
  }
}

static int matches(const expect *e, const kiln_val *v) {
  uint32_t b32 = (uint32_t)v->i32;
  uint64_t b64 = (uint64_t)v->i64;
  switch (e->kind) {
  case NAN_CANON:
  case NAN_ARITH: return float_matches(e->kind, e->type == KILN_F64, e->type == KILN_F64 ? b64 : b32, 0);
  case ANY_REF: return v->ref != NULL;
  case EXACT: break;
  }
  switch (e->type) {
  case KILN_I32: case KILN_F32: return b32 == (uint32_t)e->v.i32;
  case KILN_I64: case KILN_F64: return b64 == (uint64_t)e->v.i64;
  case KILN_V128:
    if (!e->lane_bytes) return memcmp(v->v128, e->v.v128, 16) == 0;
    for (int i = 0; i < 16 / e->lane_bytes; i++) {
      uint64_t got = 0, want = 0;
      memcpy(&got, v->v128 + i * e->lane_bytes, e->lane_bytes);
      memcpy(&want, e->v.v128 + i * e->lane_bytes, e->lane_bytes);
      if (!float_matches(e->lanes[i], e->lane_bytes == 8, got, want)) return 0;
    }
    return 1;
  default: return v->ref == e->v.ref;
  }
}

/* Spec messages may carry detail after the text the test expects ("uninitialized element 2"). */
static int msg_matches(const char *actual, const char *expected) {
  size_t a = strlen(actual), e = strlen(expected);
  return strncmp(actual, expected, a < e ? a : e) == 0 && (a < e ? a : e) > 0;
}

/* ---- commands ---- */

static char result[1024];
#define FAILF(...) (snprintf(result, sizeof result, "FAIL " __VA_ARGS__), 0)

static kiln_instance *instance_named(const char *name) {
  return strcmp(name, "-") == 0 ? current : lookup(names, nnames, name);
}

static int cmd_module(char **tok, int n) {
  unsigned idx = (unsigned)atoi(tok[1]);
  current = NULL;
  const kiln_module *m = idx < spec_nmodules ? spec_modules[idx] : NULL;
  if (!m) return FAILF("module %u did not compile", idx);
  char err[256];
  kiln_instance *inst = kiln_instantiate(m, resolve, NULL, NULL, err, sizeof err);
  if (!inst) return FAILF("instantiation failed: %s", err);
  inst->stack_limit = kiln_host_stack_limit();
  current = inst;
  if (strcmp(tok[2], "-") != 0) bind(names, &nnames, tok[2], inst);
  return 1;
}

static int cmd_must_fail(char **tok, int n, int unlinkable) {
  unsigned idx = (unsigned)atoi(tok[1]);
  const kiln_module *m = idx < spec_nmodules ? spec_modules[idx] : NULL;
  char *text = unhex(tok[2], NULL);
  if (!m) return free(text), FAILF("module %u did not compile", idx);
  char err[256];
  kiln_instance *inst = kiln_instantiate(m, resolve, NULL, NULL, err, sizeof err);
  int ok = !inst && msg_matches(err, text);
  if (inst) FAILF("instantiated; expected \"%s\"", text);
  else if (!ok) FAILF("failed with \"%s\"; expected \"%s\"", err, text);
  (void)unlinkable;
  free(text);
  return ok;
}

static int cmd_action(char **tok, int n) {
  const char *cmd = tok[0], *act = tok[1];
  kiln_instance *inst = instance_named(tok[2]);
  size_t flen;
  char *field = unhex(tok[3], &flen);
  int k = 4, nargs = atoi(tok[k++]);
  expect args[MAXVALS], exps[MAXVALS];
  if (nargs > MAXVALS) return free(field), FAILF("too many arguments");
  for (int i = 0; i < nargs; i++)
    if (parse_value(tok[k++], &args[i]) != 0) return free(field), FAILF("bad argument");
  int nexp = atoi(tok[k++]);
  if (nexp > MAXVALS) return free(field), FAILF("too many results");
  for (int i = 0; i < nexp; i++)
    if (parse_value(tok[k++], &exps[i]) != 0) return free(field), FAILF("bad expected value");
  char *text = unhex(tok[k], NULL);
  int ok = 0;
  const kiln_export *e = inst ? find_export(inst, field, flen) : NULL;
  kiln_val vals[MAXVALS];
  memset(vals, 0, sizeof vals);
  uint32_t code = KILN_TRAP_NONE;
  int nres = 0;
  const uint8_t *rtypes = NULL;
  if (!inst) {
    FAILF("no module instance (%s)", tok[2]);
    goto out;
  }
  if (!e) {
    FAILF("no export \"%s\"", field);
    goto out;
  }
  if (strcmp(act, "get") == 0) {
    if (e->kind != KILN_EXTERN_GLOBAL) {
      FAILF("export \"%s\" is not a global", field);
      goto out;
    }
    vals[0] = *inst->globals[e->index];
    nres = 1;
    rtypes = &inst->module->globals[e->index].type;
  } else {
    if (e->kind != KILN_EXTERN_FUNC) {
      FAILF("export \"%s\" is not a function", field);
      goto out;
    }
    kiln_funcref *f = &inst->funcs[e->index];
    const kiln_functype *ft = f->func->type;
    if ((int)ft->nparams != nargs) {
      FAILF("export \"%s\" takes %u arguments, given %d", field, ft->nparams, nargs);
      goto out;
    }
    for (int i = 0; i < nargs; i++) vals[i] = args[i].v;
    code = kiln_invoke(f, vals);
    nres = (int)ft->nresults;
    rtypes = ft->types + ft->nparams;
  }
  if (strcmp(cmd, "assert_trap") == 0 || strcmp(cmd, "assert_exhaustion") == 0) {
    if (code == KILN_TRAP_NONE) FAILF("returned; expected trap \"%s\"", text);
    else if (!msg_matches(kiln_host_trap_message(code), text))
      FAILF("trapped \"%s\"; expected \"%s\"", kiln_host_trap_message(code), text);
    else ok = 1;
    goto out;
  }
  if (strcmp(cmd, "assert_exception") == 0) {
    if (code == KILN_TRAP_UNCAUGHT_EXCEPTION) ok = 1;
    else if (code == KILN_TRAP_NONE) FAILF("returned; expected an uncaught exception");
    else FAILF("trapped \"%s\"; expected an uncaught exception", kiln_host_trap_message(code));
    goto out;
  }
  if (code != KILN_TRAP_NONE) {
    char where[128];
    kiln_describe_pc(kiln_host_last_trap.ctx, kiln_host_last_trap.pc, where, sizeof where);
    FAILF("trapped \"%s\" in %s", kiln_host_trap_message(code), where);
    goto out;
  }
  if (strcmp(cmd, "action") == 0) {
    ok = 1;
    goto out;
  }
  if (nres != nexp) {
    FAILF("%d results, expected %d", nres, nexp);
    goto out;
  }
  ok = 1;
  for (int i = 0; i < nexp && ok; i++)
    if (rtypes[i] != exps[i].type) {
      ok = FAILF("result %d has type 0x%02x, expected 0x%02x", i, rtypes[i], exps[i].type);
    } else if (!matches(&exps[i], &vals[i])) {
      char got[96], want[160];
      show(got, sizeof got, rtypes[i], &vals[i]);
      if (exps[i].lane_bytes) {
        int w = snprintf(want, sizeof want, "f%d lanes", exps[i].lane_bytes * 8);
        for (int l = 0; l < 16 / exps[i].lane_bytes; l++) {
          uint64_t bits = 0;
          memcpy(&bits, exps[i].v.v128 + l * exps[i].lane_bytes, exps[i].lane_bytes);
          w += exps[i].lanes[l] == NAN_CANON ? snprintf(want + w, sizeof want - w, " nan:canonical")
               : exps[i].lanes[l] == NAN_ARITH ? snprintf(want + w, sizeof want - w, " nan:arithmetic")
                                               : snprintf(want + w, sizeof want - w, " %" PRIu64, bits);
        }
      } else if (exps[i].kind == NAN_CANON) snprintf(want, sizeof want, "nan:canonical");
      else if (exps[i].kind == NAN_ARITH) snprintf(want, sizeof want, "nan:arithmetic");
      else if (exps[i].kind == ANY_REF) snprintf(want, sizeof want, "non-null reference");
      else show(want, sizeof want, exps[i].type, &exps[i].v);
      ok = FAILF("result %d: got %s, expected %s", i, got, want);
    }
out:
  free(field);
  free(text);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: %s COMMANDS-FILE\n", argv[0]);
    return 2;
  }
  FILE *in = fopen(argv[1], "r");
  if (!in) {
    perror(argv[1]);
    return 2;
  }
  setvbuf(stdout, NULL, _IOLBF, 0);
  /* A wild fault in compiled code fails one command instead of the whole file. */
  kiln_host_catch_wild_faults = 1;
  if (kiln_host_init() != 0 || spectest_init() != 0) {
    fprintf(stderr, "driver: cannot set up the runtime\n");
    return 2;
  }
  static char line[1 << 16];
  while (fgets(line, sizeof line, in)) {
    char *tok[2 * MAXVALS + 16];
    int n = 0;
    for (char *s = strtok(line, " \n"); s && n < (int)(sizeof tok / sizeof *tok); s = strtok(NULL, " \n"))
      tok[n++] = s;
    if (n == 0) continue;
    int ok;
    if (strcmp(tok[0], "module") == 0 && n == 3) ok = cmd_module(tok, n);
    else if (strcmp(tok[0], "register") == 0 && n == 3) {
      kiln_instance *inst = instance_named(tok[2]);
      char *as = unhex(tok[1], NULL);
      if (inst) bind(regs, &nregs, as, inst);
      ok = inst ? 1 : FAILF("no module instance to register as \"%s\"", as);
      free(as);
    } else if (strcmp(tok[0], "assert_uninstantiable") == 0 && n == 3) ok = cmd_must_fail(tok, n, 0);
    else if (strcmp(tok[0], "assert_unlinkable") == 0 && n == 3) ok = cmd_must_fail(tok, n, 1);
    else if (n >= 7) ok = cmd_action(tok, n);
    else ok = FAILF("driver: malformed command %s", tok[0]);
    puts(ok ? "PASS" : result);
  }
  return 0;
}
