/* driver/inspect.c — kiln inspect APP.wasm: kiln-aot's listing of the module, with every
 * function import that no object of the kernel defines marked (kiln build refuses those). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "driver/driver.h"

const char *const NOT_PROVIDED = "[NOT PROVIDED by the Kiln kernel]";

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The symbols kernel.o defines (llvm-nm's third field), sorted for bsearch. */
static Strv kernel_symbols(void) {
  char *nm[] = {"llvm-nm-19", "--defined-only", path_in_build("kernel/kernel.o"), NULL}, *out;
  if (proc_capture(nm, -1, NULL, &out) != 0) die("llvm-nm-19 could not read %s", nm[2]);
  Strv syms = {0};
  for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n")) {
    char addr[64], type[8], name[4096];
    if (sscanf(line, "%63s %7s %4095s", addr, type, name) == 3) strv_add(&syms, name);
  }
  if (syms.n) qsort(syms.v, (size_t)syms.n, sizeof *syms.v, cmp_str);
  return syms;
}

/* The last whitespace-separated field of LINE (the import's mangled symbol). */
static char *last_field(const char *line) {
  size_t end = strlen(line);
  while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t')) end--;
  size_t start = end;
  while (start > 0 && line[start - 1] != ' ' && line[start - 1] != '\t') start--;
  return xasprintf("%.*s", (int)(end - start), line + start);
}

/* kiln-aot --inspect's listing of WASM with the marks, or NULL when kiln-aot failed (it said why). */
char *inspect_marked(const char *wasm) {
  char *aot[] = {path_in_build("kiln-aot"), "--inspect", (char *)wasm, NULL}, *out;
  if (proc_capture(aot, -1, NULL, &out) != 0) return NULL;
  Strv syms = kernel_symbols(), lines = {0};
  size_t n = strlen(out);
  while (n > 0 && out[n - 1] == '\n') out[--n] = 0;
  for (char *line = out, *next; line; line = next) {
    next = strchr(line, '\n');
    if (next) *next++ = 0;
    char f1[16] = "", f2[16] = "";
    sscanf(line, "%15s %15s", f1, f2);
    char *sym = last_field(line);
    if (!strcmp(f1, "import") && !strcmp(f2, "func") &&
        !bsearch(&sym, syms.v, (size_t)syms.n, sizeof *syms.v, cmp_str))
      strv_addf(&lines, "%s   %s", line, NOT_PROVIDED);
    else
      strv_add(&lines, line);
    free(sym);
  }
  char *joined = strv_join(&lines, "\n");
  return xasprintf("%s\n", joined);
}

int cmd_inspect(int argc, char **argv) {
  if (argc != 1) die("usage: kiln inspect APP.wasm");
  need(path_in_build("kiln-aot"));
  need(path_in_build("kernel/kernel.o"));
  char *listing = inspect_marked(argv[0]);
  if (!listing) return 1;
  fputs(listing, stdout);
  return 0;
}
