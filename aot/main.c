/* aot/main.c — kiln-aot's command line: compile a module to an object, or --inspect it.
 * Every error, whatever the layer, is `FILE:0xOFFSET: message` and exit status 1, with no
 * output file left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "aot/aot.h"
#include "aot/limits.h"

static const char *out_path; /* removed on failure */
static jmp_buf *fail_jmp;     /* --inspect of a module with unsupported features: errors come back */

_Noreturn void fail_at(const Module *m, size_t off, const char *fmt, ...) {
  va_list ap;
  if (fail_jmp) longjmp(*fail_jmp, 1);
  if (fail_catch) {
    size_t k = (size_t)snprintf(fail_catch->msg, sizeof fail_catch->msg, "%s:0x%zx: ", m->path, off);
    if (k >= sizeof fail_catch->msg) k = sizeof fail_catch->msg - 1;
    va_start(ap, fmt);
    vsnprintf(fail_catch->msg + k, sizeof fail_catch->msg - k, fmt, ap);
    va_end(ap);
    longjmp(fail_catch->jmp, 1);
  }
  fprintf(stderr, "%s:0x%zx: ", m->path, off);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  if (out_path) unlink(out_path);
  exit(1);
}

void *xmalloc(size_t n) {
  void *p = calloc(1, n ? n : 1);
  if (!p) {
    fprintf(stderr, "kiln-aot: out of memory\n");
    exit(1);
  }
  return p;
}

void *xrealloc(void *p, size_t n) {
  p = realloc(p, n ? n : 1);
  if (!p) {
    fprintf(stderr, "kiln-aot: out of memory\n");
    exit(1);
  }
  return p;
}

static void usage(void) {
  fprintf(stderr, "usage: kiln-aot IN.wasm -o OUT.o [--name N] [-O0|-O1|-O2|-O3] [--cpu CPU] [-j N]\n"
                  "                [--chunk-bytes N] [--bounds-checks] [--emit-llvm OUT.ll] [--emit-llvm-unoptimized OUT.ll]\n"
                  "                [--disable FEATURE]...\n"
                  "       kiln-aot --inspect IN.wasm\n"
                  "  -O0  no optimisation: fastest compile, every local in memory\n"
                  "  -O1  LLVM's O1 pipeline after SROA, address widening, no vectorizer\n"
                  "  -O2  (default) O2 pipeline: inlining, loop and SLP vectorizers, split bases\n"
                  "  -O3  O3 pipeline: more unrolling and unswitching (its inliner keeps the O2 thresholds)\n"
                  "  --cpu  target CPU (default x86-64-v2: SSE4.2, the baseline of Wasm SIMD; x86-64-v3\n"
                  "         lets LLVM use AVX2 forms); any LLVM x86-64 CPU name\n"
                  "  At -O1 and above, a function past 100k LLVM instructions, 20k blocks or a block of 8000\n"
                  "  is compiled without optimisation (a note names it): compile time stays linear.\n"
                  "  -j N  threads (default: online CPUs). Functions are compiled in chunks of N bytes of code\n"
                  "  (--chunk-bytes, default 32768), each in its own LLVM context, freed before the next;\n"
                  "  ld.lld-19 -r joins them. The object is the same for every -j. A module that fits one\n"
                  "  chunk stays one LLVM module (inlining across all functions); --emit-llvm* compile as one\n"
                  "  chunk. Memory: see README \"Limits\".\n"
                  "limits (refused with FILE:0xOFF: ... exceeds the limit of N; aot/limits.h):\n"
                  "  1000 params and 1000 results per type; 50000 locals per function (params included);\n"
                  "  7654321 bytes per function body; 1000000 types, functions, globals; 100000 imports,\n"
                  "  exports, data segments, tables; 10000000 element segments and initial table entries;\n"
                  "  1000000 tags; 100 memories; 64 parameters per tag (an exception's values)\n"
                  "proposals beyond 2.0: tail calls, extended-const, exception handling (legacy encoding:\n"
                  "  try/catch/catch_all/delegate/throw/rethrow; aot/abi.h section 5), threads (shared memories,\n"
                  "  seq_cst atomics trapping \"unaligned atomic\", wait/notify, fence; aot/abi.h section 8),\n"
                  "  multi-memory (up to 100 memories, each with its own guard region); others are refused by name\n"
                  "  --disable ID  refuse a proposal kiln-aot implements (ID as --inspect lists it), e.g.\n"
                  "  --disable multi-memory: Wasm 2.0's single memory and zero-byte memory immediates\n");
  exit(2);
}

/* A count on the command line: 1 to max. */
static unsigned long number(const char *s, unsigned long max) {
  char *end;
  unsigned long n = strtoul(s, &end, 10);
  if (*s < '0' || *s > '9' || *end || n < 1 || n > max) usage();
  return n;
}

static void print_types(const uint8_t *t, uint32_t n) {
  if (!n) fputs("()", stdout);
  for (uint32_t i = 0; i < n; i++) printf("%s%s", i ? "," : "", type_name(t[i]));
}

static void print_limits(const Limits *l) {
  printf("%llu %s", (unsigned long long)l->min, l->has_max ? "" : "none");
  if (l->has_max) printf("%llu", (unsigned long long)l->max);
  if (l->shared) fputs(" shared", stdout);
}

static void inspect(const Module *m) {
  for (uint32_t i = 0; i < m->nimports; i++) {
    const Import *im = &m->imports[i];
    static const char *kinds[] = {"func", "table", "memory", "global", "tag"};
    printf("import %s %s.%s ", kinds[im->kind], im->module.s, im->field.s);
    switch (im->kind) {
    case EXT_FUNC: {
      const FuncType *ft = &m->types[m->funcs[im->index].type];
      char *sym = mangle_import(m, im);
      putchar('(');
      if (ft->np) print_types(ft->t, ft->np);
      fputs(")->", stdout);
      print_types(ft->t + ft->np, ft->nr);
      printf(" %s\n", sym);
      free(sym);
      break;
    }
    case EXT_TABLE:
      printf("%s ", type_name(m->tables[im->index].elemtype));
      print_limits(&m->tables[im->index].lim);
      putchar('\n');
      break;
    case EXT_MEMORY: print_limits(&m->mems[im->index].lim); putchar('\n'); break;
    case EXT_GLOBAL:
      printf("%s%s\n", m->globals[im->index].mut ? "mut " : "", type_name(m->globals[im->index].type));
      break;
    case EXT_TAG: {
      const FuncType *ft = &m->types[m->tags[im->index].type];
      putchar('(');
      if (ft->np) print_types(ft->t, ft->np);
      puts(")");
      break;
    }
    }
  }
  for (uint32_t i = 0; i < m->nexports; i++) {
    const Export *e = &m->exports[i];
    static const char *kinds[] = {"func", "table", "memory", "global", "tag"};
    printf("export %s %s", kinds[e->kind], e->name.s);
    if (e->kind == EXT_FUNC) {
      const FuncType *ft = &m->types[m->funcs[e->index].type];
      fputs(" (", stdout);
      if (ft->np) print_types(ft->t, ft->np);
      fputs(")->", stdout);
      print_types(ft->t + ft->np, ft->nr);
    } else if (e->kind == EXT_GLOBAL) {
      printf(" %s%s", m->globals[e->index].mut ? "mut " : "", type_name(m->globals[e->index].type));
    } else if (e->kind == EXT_TABLE) {
      printf(" %s", type_name(m->tables[e->index].elemtype));
    } else if (e->kind == EXT_TAG) {
      const FuncType *ft = &m->types[m->tags[e->index].type];
      fputs(" (", stdout);
      if (ft->np) print_types(ft->t, ft->np);
      putchar(')');
    }
    putchar('\n');
  }
  for (uint32_t i = 0; i < m->nmems; i++) {
    fputs("memory ", stdout);
    print_limits(&m->mems[i].lim);
    putchar('\n');
  }
}

static uint8_t *read_file(const char *path, size_t *size) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    perror(path);
    exit(1);
  }
  size_t cap = 1 << 16, n = 0;
  uint8_t *buf = xmalloc(cap);
  size_t k;
  while ((k = fread(buf + n, 1, cap - n, f)) > 0) {
    n += k;
    if (n == cap) buf = xrealloc(buf, cap *= 2);
  }
  if (ferror(f)) {
    perror(path);
    exit(1);
  }
  fclose(f);
  *size = n;
  return buf;
}

/* The object in `from` written into `to` (a device or a pipe), as plain writes. */
static bool copy_out(const char *from, const char *to) {
  FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
  char buf[65536];
  size_t n;
  bool ok = in && out;
  while (ok && (n = fread(buf, 1, sizeof buf, in)) > 0) ok = fwrite(buf, 1, n, out) == n;
  if (in) fclose(in);
  if (out && fclose(out)) ok = false;
  if (!ok) fprintf(stderr, "kiln-aot: cannot write %s\n", to);
  return ok;
}

int main(int argc, char **argv) {
  long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
  Options o = {.opt = 2, .cpu = "x86-64-v2", .jobs = ncpu > 0 ? (unsigned)ncpu : 1,
               .chunk_bytes = CHUNK_CODE_BYTES};
  bool do_inspect = false;
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-o") && i + 1 < argc) o.out = argv[++i];
    else if (!strcmp(a, "--name") && i + 1 < argc) o.name = argv[++i];
    else if (!strcmp(a, "--cpu") && i + 1 < argc) o.cpu = argv[++i];
    else if (!strcmp(a, "--emit-llvm") && i + 1 < argc) o.ll = argv[++i];
    else if (!strcmp(a, "--emit-llvm-unoptimized") && i + 1 < argc) o.ll_pre = argv[++i];
    else if (!strcmp(a, "--bounds-checks")) o.bounds_checks = true;
    else if (!strncmp(a, "-j", 2) && (a[2] || i + 1 < argc)) o.jobs = (unsigned)number(a[2] ? a + 2 : argv[++i], 1024);
    else if (!strcmp(a, "--chunk-bytes") && i + 1 < argc) o.chunk_bytes = (uint32_t)number(argv[++i], UINT32_MAX);
    else if (!strcmp(a, "--inspect")) do_inspect = true;
    else if (!strcmp(a, "--disable") && i + 1 < argc) {
      if (!disable_feature(argv[++i])) {
        fprintf(stderr, "kiln-aot: --disable: unknown feature '%s' (the IDs --inspect lists)\n", argv[i]);
        return 2;
      }
    }
    else if (a[0] == '-' && a[1] == 'O' && a[2] >= '0' && a[2] <= '3' && !a[3]) o.opt = a[2] - '0';
    else if (a[0] == '-' || o.in) usage();
    else o.in = a;
  }
  if (!o.in || (!do_inspect && !o.out)) usage();
  if (o.name)
    for (const char *p = o.name; *p; p++)
      if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) {
        fprintf(stderr, "kiln-aot: --name must be a C identifier\n");
        return 2;
      }
  Module m = {.path = o.in};
  m.buf = read_file(o.in, &m.size);
  Features feat;
  scan_features(&m, &feat);
  if (do_inspect) {
    /* A module that needs a feature Kiln lacks may not decode as Wasm 2.0: list its features
     * anyway, and the rest when it decodes. */
    jmp_buf jb;
    if (first_unsupported(&feat) >= 0) {
      fail_jmp = &jb;
      if (setjmp(jb)) {
        print_features(&feat);
        fprintf(stderr, "%s: imports, exports and memories not listed: decoding the module needs the "
                        "unsupported features above\n", o.in);
        return 0;
      }
    }
    read_module(&m);
    fail_jmp = NULL;
    inspect(&m);
    print_features(&feat);
    return 0;
  }
  /* -o a device or a pipe (/dev/null, a FIFO): the compile writes a regular file in /var/tmp,
   * copied into OUT at the end with plain writes. Only a regular file is ever renamed over
   * (llvm-objcopy does) or removed (a failure's cleanup): as root, either would replace
   * /dev/null itself. */
  struct stat st;
  const char *dest = NULL;
  char tmp[] = "/var/tmp/kiln-aot.XXXXXX";
  if (stat(o.out, &st) == 0 && !S_ISREG(st.st_mode)) {
    int fd = mkstemp(tmp);
    if (fd < 0) {
      perror(tmp);
      return 1;
    }
    close(fd);
    dest = o.out, o.out = tmp;
  }
  out_path = o.out;
  refuse_unsupported(&m, &feat); /* before the 2.0 decoder calls them malformed */
  o.tail_calls = feat.use[FEAT_TAIL_CALL].used;
  o.exceptions = feat.use[FEAT_EH].used;
  read_module(&m);
  compile_module(&m, &o);
  if (dest && !copy_out(tmp, dest)) {
    unlink(tmp);
    return 1;
  }
  if (dest) unlink(tmp);
  return 0;
}
