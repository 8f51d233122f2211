/* host/main.c — main() of a hosted app: instantiate the linked module (`kiln_module`, from
 * kiln-aot), give it WASI with the command line's args, env and preopened dirs, run _start,
 * and exit with the app's status. A trap prints "kiln: trap: MESSAGE in FUNCTION" and exits 134.
 *
 *   app.bin [--env K=V]... [--dir HOST[:GUEST]]... [--listen tcp:[ADDR:]PORT]...
 *           [--max-file-size SIZE] [--max-write SIZE] [--restart POLICY] [--metrics PORT] [--] ARGS...
 *
 * ARGS become argv[1..]. --dir maps the host directory itself, read-write and confined
 * (host/hostfs.c); --max-file-size (default 4G) and --max-write (bytes written in all, default
 * 8G) bound what the app can put there (EFBIG / ENOSPC beyond). --listen preopens a listening TCP socket on ADDR (default 127.0.0.1:
 * a hosted app is not exposed to the network unless asked) as the kernel's listen=tcp:PORT
 * does: its fd comes after stdio and every --dir, in command-line order, as wasmtime's
 * --tcplisten. --restart restarts the app in place under a policy of kernel/lifecycle.h (a new
 * instance and WASI state, the listening sockets kept, the old linear memory unmapped);
 * --metrics serves the lifecycle's figures on 127.0.0.1:PORT (host/lifecycle.c).
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "host/host.h"
#include "kernel/lifecycle.h"
#include "wasi/socket_fd.h"
#include "wasi/vfs.h"
#include "wasi/wasi.h"
#include "wasi/wasi_types.h"

/* The compiled module's descriptor. Its symbol is `kiln_module`, which C cannot name directly
 * (the typedef of the same name hides it), hence the asm label. */
extern const struct kiln_module app_module __asm__("kiln_module");

static _Noreturn void usage(const char *prog, const char *why) {
  fprintf(stderr,
          "kiln: %s\nusage: %s [--env K=V]... [--dir HOST[:GUEST]]... [--listen tcp:[ADDR:]PORT]...\n"
          "       [--max-file-size SIZE] [--max-write SIZE] [--restart POLICY] [--metrics PORT] [--] ARGS...\n"
          "       (SIZE: bytes, or with K, M, G, T)\n",
          why, prog);
  exit(2);
}

/* --listen tcp:[ADDR:]PORT: opens the socket (net_plat.c) and gives it the next fd. */
static int preopen_listen(struct wasi_state *st, const char *spec) {
  char addr[64] = "127.0.0.1";
  const char *p = strncmp(spec, "tcp:", 4) == 0 ? spec + 4 : NULL, *colon = p ? strrchr(p, ':') : NULL;
  if (colon) {
    if ((size_t)(colon - p) >= sizeof addr) p = NULL;
    else memcpy(addr, p, (size_t)(colon - p)), addr[colon - p] = 0, p = colon + 1;
  }
  char *end;
  unsigned long port = p && *p >= '0' && *p <= '9' ? strtoul(p, &end, 10) : 0;
  uint8_t ip[4];
  if (!p || port == 0 || port > 65535 || *end || inet_pton(AF_INET, addr, ip) != 1) {
    fprintf(stderr, "kiln: --listen %s: want tcp:PORT or tcp:IPV4:PORT (PORT 1..65535)\n", spec);
    return -1;
  }
  char one[16];
  snprintf(one, sizeof one, "tcp:%lu", port);
  net_plat_listen_addr(ip);
  uint32_t fd;
  int e = wasi_sock_preopen_listen(st, one, &fd);
  if (e) {
    const char *why = e == WASI_EADDRINUSE ? "address already in use"
                      : e == WASI_EADDRNOTAVAIL ? "not an address of this machine"
                      : e == WASI_EACCES ? "permission denied"
                      : "cannot listen";
    fprintf(stderr, "kiln: --listen %s: %s (WASI errno %d)\n", spec, why, e);
    return -1;
  }
  return 0;
}

/* SIZE[K|M|G|T] (powers of 1024), or "unlimited"; 0 and UINT64_MAX on error. */
static uint64_t parse_size(const char *s, int *ok) {
  char *end;
  *ok = 0;
  if (strcmp(s, "unlimited") == 0) return *ok = 1, UINT64_MAX;
  if (*s < '0' || *s > '9') return 0;
  unsigned long long v = strtoull(s, &end, 10);
  int shift = 0;
  switch (*end) {
  case 'K': case 'k': shift = 10; end++; break;
  case 'M': case 'm': shift = 20; end++; break;
  case 'G': case 'g': shift = 30; end++; break;
  case 'T': case 't': shift = 40; end++; break;
  }
  if (*end || (shift && v > (UINT64_MAX >> shift))) return 0;
  *ok = 1;
  return (uint64_t)v << shift;
}

/* `env.memory`, which wasm-ld's --import-memory asks for (the wasi-threads convention, as
 * wasmtime provides it): made here with the import's own limits, shared when it is. */
static int import_memory(const kiln_module *m, const kiln_import *imp, kiln_extern *out) {
  static kiln_memory mem;
  const kiln_limits *l = &m->memories[imp->index].limits;
  if (strcmp(imp->module.s, "env") != 0 || strcmp(imp->field.s, "memory") != 0) return -1;
  if (mem.base) kiln_plat_mem_release(&mem); /* a restart in place: a fresh memory */
  memset(&mem, 0, sizeof mem);
  mem.shared = l->shared;
  mem.max_pages = l->has_max ? l->max : KILN_MAX_PAGES;
  if (kiln_plat_mem_reserve(&mem) != 0) return -1;
  if (l->min && kiln_plat_mem_commit(&mem, 0, l->min * KILN_PAGE_SIZE) != 0) return -1;
  mem.pages = l->min;
  mem.bytes = l->min * KILN_PAGE_SIZE;
  memset(out, 0, sizeof *out);
  out->kind = KILN_EXTERN_MEMORY;
  out->u.memory = &mem;
  return 0;
}

/* WASI imports bind to their locked entries (host/wasi_lock.c): threads share the WASI state.
 * Anything else falls back to the symbol linked into the app (or is an unknown import). */
static int resolve_locked(void *ud, const kiln_module *m, const kiln_import *imp, kiln_extern *out, char *err,
                          size_t errlen) {
  if (imp->kind == KILN_EXTERN_MEMORY) return import_memory(m, imp, out);
  void *fn = imp->kind == KILN_EXTERN_FUNC && imp->symbol_name ? host_wasi_locked(imp->symbol_name) : NULL;
  if (!fn) return -1;
  memset(out, 0, sizeof *out);
  out->kind = KILN_EXTERN_FUNC;
  out->u.func.fn = fn;
  out->u.func.type_hash = m->funcs[imp->index].type->hash; /* the mangled name holds the type */
  return 0;
}

/* proc_exit's status, from the WASI state all threads share. */
static int wasi_exit_status(kiln_instance *ctx) { return ((struct wasi_state *)ctx->host)->exit_code; }

/* What the command line asks for: kept, because a restart in place builds the state again. */
struct options {
  const char **args, **envs, **dirs, **listens;
  int nargs, nenvs, ndirs, nlisten;
  struct wasi_vfs *hostfs; /* one backend for every --dir of the process: one write quota */
};

/* A new WASI state from the options: args, env, --dir, then --listen (after a restart in place,
 * the same listening sockets: wasi_sock_keep_listeners). NULL after a message. */
static struct wasi_state *state_from(const struct options *o) {
  struct wasi_state *st = wasi_create();
  if (!st) {
    fprintf(stderr, "kiln: out of memory\n");
    return NULL;
  }
  for (int k = 0; k < o->nargs; k++)
    if (wasi_add_arg(st, o->args[k], strlen(o->args[k])) != 0) {
      fprintf(stderr, "kiln: out of memory for the arguments\n");
      goto fail;
    }
  for (int k = 0; k < o->nenvs; k++)
    if (wasi_add_env(st, o->envs[k], strlen(o->envs[k])) != 0) {
      fprintf(stderr, "kiln: --env %s: not NAME=VALUE, or out of memory\n", o->envs[k]);
      goto fail;
    }
  /* --dir HOST[:GUEST]: the host directory itself; without GUEST it appears under its own name. */
  for (int k = 0; k < o->ndirs; k++) {
    const char *v = o->dirs[k];
    char host[4096], err[512];
    const char *colon = strchr(v, ':');
    size_t hl = colon ? (size_t)(colon - v) : strlen(v);
    memcpy(host, v, hl); /* length checked when parsed */
    host[hl] = 0;
    const char *guest = colon ? colon + 1 : host;
    struct wasi_vfs_file *root;
    if (hostfs_root(o->hostfs, host, &root, err, sizeof err) != 0) {
      fprintf(stderr, "kiln: --dir %s: %s\n", v, err);
      goto fail;
    }
    if (wasi_preopen_vfs(st, o->hostfs, root, guest, strlen(guest)) != 0) {
      fprintf(stderr, "kiln: --dir %s: cannot preopen (out of fds or memory)\n", v);
      goto fail;
    }
  }
  /* Sockets after all the directories, whatever the order on the command line. */
  for (int k = 0; k < o->nlisten; k++)
    if (preopen_listen(st, o->listens[k]) != 0) goto fail;
  return st;
fail:
  wasi_destroy(st);
  return NULL;
}

/* Runs _start: KILN_TRAP_NONE, KILN_TRAP_EXIT, LIFE_UNWIND_RESTART or a trap (printed, and
 * described in trap as "MESSAGE in FUNCTION"). */
static uint32_t call_start(kiln_instance *inst, char *trap, size_t n) {
  kiln_extern start;
  if (kiln_export_get(inst, "_start", &start) != 0 || start.kind != KILN_EXTERN_FUNC) {
    fprintf(stderr, "kiln: the module exports no _start function\n");
    exit(1);
  }
  kiln_val vals[1];
  life_started(inst);
  kiln_host_exit_status = wasi_exit_status; /* for a thread that ends the app (aot/abi.h §8) */
  uint32_t code = kiln_invoke(&start.u.func, vals);
  life_ended();
  /* With threads, the end of _start ends every thread, through the same door as a thread that
   * traps or exits, so only one of them reports; and there is no restart in place
   * (kernel/instance.h). The process ends there and the OS reclaims all. */
  if (kiln_threads_spawned()) kiln_plat_instance_end(inst, code);
  if (code != KILN_TRAP_NONE && code != KILN_TRAP_EXIT && code != LIFE_UNWIND_RESTART) {
    char where[256], what[256];
    kiln_describe_pc(kiln_host_last_trap.ctx, kiln_host_last_trap.pc, where, sizeof where);
    kiln_describe_trap(kiln_host_last_trap.ctx, code, what, sizeof what);
    snprintf(trap, n, "%s in %s", code == KILN_HOST_WILD_FAULT ? kiln_host_trap_message(code) : what, where);
    fprintf(stderr, "kiln: trap: %s\n", trap);
  }
  return code;
}

int main(int argc, char **argv) {
  struct options o = {0};
  o.args = calloc((size_t)argc + 1, sizeof *o.args), o.envs = calloc((size_t)argc, sizeof *o.envs);
  o.dirs = calloc((size_t)argc, sizeof *o.dirs), o.listens = calloc((size_t)argc, sizeof *o.listens);
  if (!o.args || !o.envs || !o.dirs || !o.listens) {
    fprintf(stderr, "kiln: out of memory\n");
    return 1;
  }
  /* argv[0] of the app is the program's name, as a shell would pass it. */
  o.args[o.nargs++] = strrchr(argv[0], '/') ? strrchr(argv[0], '/') + 1 : argv[0];
  const char *restart = NULL, *metrics = NULL;
  uint64_t max_file = WASI_VFS_DEFAULT_MAX_FILE_SIZE, max_write = WASI_VFS_DEFAULT_WRITE_BUDGET;
  int i = 1;
  for (; i < argc; i++) {
    const char *a = argv[i];
    if (strcmp(a, "--") == 0) {
      i++;
      break;
    } else if (strcmp(a, "--listen") == 0) {
      if (i + 1 >= argc) usage(argv[0], "missing value after --listen");
      o.listens[o.nlisten++] = argv[++i];
    } else if (strcmp(a, "--restart") == 0 || strcmp(a, "--metrics") == 0) {
      if (i + 1 >= argc) usage(argv[0], "missing value after --restart/--metrics");
      if (a[2] == 'r') restart = argv[++i];
      else metrics = argv[++i];
    } else if (strcmp(a, "--max-file-size") == 0 || strcmp(a, "--max-write") == 0) {
      int ok;
      if (i + 1 >= argc) usage(argv[0], "missing value after --max-file-size/--max-write");
      uint64_t v = parse_size(argv[++i], &ok);
      if (!ok) usage(argv[0], "--max-file-size/--max-write need a size: N, NK, NM, NG, NT or unlimited");
      if (a[6] == 'f') max_file = v;
      else max_write = v;
    } else if (strcmp(a, "--env") == 0 || strcmp(a, "--dir") == 0) {
      if (i + 1 >= argc) usage(argv[0], "missing value after --env/--dir");
      const char *v = argv[++i];
      if (a[2] == 'e') {
        if (!strchr(v, '=')) usage(argv[0], "--env needs K=V");
        o.envs[o.nenvs++] = v;
      } else {
        const char *colon = strchr(v, ':');
        size_t hl = colon ? (size_t)(colon - v) : strlen(v);
        if (hl == 0 || hl >= 4096) usage(argv[0], "--dir needs HOST[:GUEST]");
        o.dirs[o.ndirs++] = v; /* preopened once the quota options are all read */
      }
    } else if (a[0] == '-' && a[1] == '-') {
      char why[256];
      snprintf(why, sizeof why, "unknown option %s (put app arguments after --)", a);
      usage(argv[0], why);
    } else {
      break; /* the first plain argument starts the app's own */
    }
  }
  for (; i < argc; i++) o.args[o.nargs++] = argv[i];
  if (o.ndirs && !(o.hostfs = hostfs_create(max_file, max_write))) {
    fprintf(stderr, "kiln: out of memory\n");
    return 1;
  }
  char err[256];
  if (life_init(restart, err, sizeof err) != 0) {
    fprintf(stderr, "kiln: --restart: %s\n", err);
    return 2;
  }
  if (metrics && host_life_metrics(metrics) != 0) return 2;
  struct wasi_state *st = state_from(&o);
  if (!st) return 1;

  for (;;) {
    char trap[300] = "";
    uint64_t t_start = kiln_plat_now_ns(), backoff_ns;
    uint32_t code;
    kiln_instance *inst = kiln_instantiate(&app_module, resolve_locked, NULL, st, err, sizeof err);
    if (inst) {
      code = call_start(inst, trap, sizeof trap);
    } else if (st->exited) { /* proc_exit from a start function */
      code = KILN_TRAP_EXIT;
    } else if (kiln_host_last_trap.code != KILN_TRAP_NONE) {
      snprintf(trap, sizeof trap, "%s", err);
      fprintf(stderr, "kiln: trap: %s\n", trap);
      code = kiln_host_last_trap.code;
    } else {
      fprintf(stderr, "kiln: instantiation failed: %s\n", err);
      return 1;
    }
    if (!life_decide(code, st->exit_code, kiln_plat_now_ns() - t_start, trap, &backoff_ns)) {
      /* No wasi_destroy/kiln_instance_free: the process ends here and the OS reclaims all. */
      if (code == KILN_TRAP_NONE) return 0;
      if (code == KILN_TRAP_EXIT) return st->exit_code;
      return KILN_HOST_EXIT_TRAP;
    }
    /* Restart in place: the instance (its linear memory unmapped: back to the host) and the
     * WASI state go, the listening sockets stay; the Wasm stack's pages are given back. */
    uint64_t t0 = kiln_plat_now_ns(), linear = life_linear_bytes(inst);
    if (code == LIFE_UNWIND_RESTART) host_wasi_release(); /* it left from inside a locked WASI call */
    wasi_sock_keep_listeners(st);
    wasi_destroy(st);
    if (inst) kiln_instance_free(inst);
    kiln_host_stack_trim();
    if (!(st = state_from(&o))) return 1;
    life_restarted(kiln_plat_now_ns() - t0, linear);
    if (backoff_ns) { /* on-failure's */
      struct timespec ts = {(time_t)(backoff_ns / 1000000000ull), (long)(backoff_ns % 1000000000ull)};
      while (nanosleep(&ts, &ts) != 0) {}
    }
  }
}
