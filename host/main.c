/* host/main.c — main() of a hosted app: instantiate the linked module (`kiln_module`, from
 * kiln-aot), give it WASI with the command line's args, env and preopened dirs, run _start,
 * and exit with the app's status. A trap prints "kiln: trap: MESSAGE in FUNCTION" and exits 134.
 *
 *   app.bin [--env K=V]... [--dir HOST[:GUEST]]... [--] ARGS...    (ARGS become argv[1..])
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "host/host.h"
#include "wasi/wasi.h"

#define EXIT_TRAP 134

/* The compiled module's descriptor. Its symbol is `kiln_module`, which C cannot name directly
 * (the typedef of the same name hides it), hence the asm label. */
extern const struct kiln_module app_module __asm__("kiln_module");

static _Noreturn void usage(const char *prog, const char *why) {
  fprintf(stderr, "kiln: %s\nusage: %s [--env K=V]... [--dir HOST[:GUEST]]... [--] ARGS...\n", why, prog);
  exit(2);
}

static void add_arg(struct wasi_state *st, const char *s) {
  if (wasi_add_arg(st, s, strlen(s)) != 0) {
    fprintf(stderr, "kiln: out of memory for the arguments\n");
    exit(1);
  }
}

int main(int argc, char **argv) {
  struct wasi_state *st = wasi_create();
  if (!st) {
    fprintf(stderr, "kiln: out of memory\n");
    return 1;
  }
  /* argv[0] of the app is the program's name, as a shell would pass it. */
  const char *prog = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  add_arg(st, prog);
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "--env") == 0 || strcmp(a, "--dir") == 0) {
      if (i + 1 >= argc) usage(argv[0], "missing value after --env/--dir");
      const char *v = argv[++i];
      if (a[2] == 'e') {
        if (!strchr(v, '=') || wasi_add_env(st, v, strlen(v)) != 0) usage(argv[0], "--env needs K=V");
      } else {
        /* HOST[:GUEST]; without GUEST the directory appears under its own name */
        char host[4096], err[256];
        const char *colon = strchr(v, ':');
        size_t hl = colon ? (size_t)(colon - v) : strlen(v);
        if (hl == 0 || hl >= sizeof host) usage(argv[0], "--dir needs HOST[:GUEST]");
        memcpy(host, v, hl);
        host[hl] = 0;
        const char *guest = colon ? colon + 1 : host;
        if (wasi_preopen_host(st, host, guest, err, sizeof err) != 0) {
          fprintf(stderr, "kiln: --dir %s: %s\n", v, err);
          return 1;
        }
      }
    } else if (a[0] == '-' && a[1] == '-') {
      char why[256];
      snprintf(why, sizeof why, "unknown option %s (put app arguments after --)", a);
      usage(argv[0], why);
    } else {
      break; /* the first plain argument starts the app's own */
    }
  }
  for (; i < argc; i++) add_arg(st, argv[i]);

  char err[256];
  kiln_instance *inst = kiln_instantiate(&app_module, NULL, NULL, st, err, sizeof err);
  if (!inst) {
    if (st->exited) return st->exit_code; /* proc_exit from a start function */
    int trapped = kiln_host_last_trap.code != KILN_TRAP_NONE;
    fprintf(stderr, "kiln: %s: %s\n", trapped ? "trap" : "instantiation failed", err);
    return trapped ? EXIT_TRAP : 1;
  }
  kiln_extern start;
  if (kiln_export_get(inst, "_start", &start) != 0 || start.kind != KILN_EXTERN_FUNC) {
    fprintf(stderr, "kiln: the module exports no _start function\n");
    return 1;
  }
  kiln_val vals[1];
  uint32_t code = kiln_invoke(&start.u.func, vals);
  int status;
  if (code == KILN_TRAP_NONE) {
    status = 0;
  } else if (code == KILN_TRAP_EXIT) {
    status = st->exit_code;
  } else {
    char where[256];
    kiln_describe_pc(kiln_host_last_trap.ctx, kiln_host_last_trap.pc, where, sizeof where);
    fprintf(stderr, "kiln: trap: %s in %s\n", kiln_host_trap_message(code), where);
    status = EXIT_TRAP;
  }
  /* No wasi_destroy/kiln_instance_free: the process ends here and the OS reclaims all. */
  return status;
}
