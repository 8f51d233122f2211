/* kernel/app.c — the app's life: WASI state from the command line and the file-system module,
 * instantiation of the linked `kiln_module`, a call of its `_start` (a WASI command), and the
 * report through the exit protocol (kernel/exit.c); or, under a restart policy (restart=,
 * kernel/lifecycle.h), a restart in place: a new instance and WASI state in the same VM, the
 * preopened listening sockets kept, the freed RAM reported to the host. The app is all its
 * threads (aot/abi.h §8): whichever of them ends it first (_start returning, proc_exit, a trap)
 * reports, once; the others stop. An app that has started threads is never restarted in place
 * (its other threads would still run on the old instance): it ends as without a policy. */
#include "kernel/instance.h"
#include "kernel/kernel.h"
#include "kernel/lifecycle.h"
#include "net/net.h"
#include "p9/p9.h"
#include "wasi/socket_fd.h"
#include "wasi/wasi.h"

static void (*exit_hooks[4])(void);

int app_exit_register(void (*fn)(void)) {
  for (size_t i = 0; i < ARRAY_LEN(exit_hooks); i++)
    if (!exit_hooks[i]) {
      exit_hooks[i] = fn;
      return 0;
    }
  return -1;
}

/* The first thread to end the app stops the others (they never run again) and goes on; any
 * later one stops itself. */
static void end_once(void) {
  static int ended;
  if (__atomic_exchange_n(&ended, 1, __ATOMIC_SEQ_CST)) sched_park();
  sched_stop_others();
}

/* The app ended normally (returned from _start or called proc_exit): the hooks finish what
 * it left in flight (TCP data still queued), then the machine stops with its status. */
static _Noreturn void app_exit(uint32_t status) {
  for (size_t i = 0; i < ARRAY_LEN(exit_hooks) && exit_hooks[i]; i++) exit_hooks[i]();
  kernel_exit(status);
}

/* Defined by the app object (kiln-aot). Its C name is also the type's, hence the asm label. */
extern const kiln_module app_module __asm__("kiln_module");

/* Lists every function import nothing in the image implements; returns how many. (kiln build
 * refuses such apps, so this fires only for objects linked by hand.) */
static int report_missing_imports(const kiln_module *m) {
  int missing = 0;
  for (uint32_t i = 0; i < m->nimports; i++) {
    const kiln_import *imp = &m->imports[i];
    if (imp->kind == KILN_EXTERN_FUNC && imp->symbol) continue;
    kprintf("kiln: import %s.%s (%s) is not provided by the kernel\n", imp->module.s, imp->field.s,
            imp->kind == KILN_EXTERN_FUNC ? imp->symbol_name : "not a function");
    missing++;
  }
  return missing;
}

/* WASI imports bind to their locked entries (kernel/wasi_lock.c): threads share the WASI
 * state. Other imports (none in a WASI app but wasi.thread-spawn) keep their linked symbol. */
static int resolve_locked(void *ud, const kiln_module *m, const kiln_import *imp, kiln_extern *out, char *err,
                          size_t errlen) {
  void *fn = imp->kind == KILN_EXTERN_FUNC && imp->symbol_name ? wasi_locked_entry(imp->symbol_name) : NULL;
  /* A WASI function unlocked would race with the other threads: every one must be listed. */
  if (!fn && imp->kind == KILN_EXTERN_FUNC && !strcmp(imp->module.s, "wasi_snapshot_preview1") &&
      strcmp(imp->field.s, "proc_exit") && strcmp(imp->field.s, "proc_raise"))
    panic("WASI import %s has no locked entry in kernel/wasi_lock.c", imp->symbol_name);
  if (!fn) return -1;
  memset(out, 0, sizeof *out);
  out->kind = KILN_EXTERN_FUNC;
  out->u.func.fn = fn;
  out->u.func.type_hash = m->funcs[imp->index].type->hash; /* the mangled name holds the type */
  return 0;
}

static struct wasi_state *wasi_from_boot(void) {
  struct wasi_state *st = wasi_create();
  if (!st) panic("out of memory creating the WASI state");
  for (int i = 0; i < cmdline_argc(); i++)
    if (wasi_add_arg(st, cmdline_argv(i), strlen(cmdline_argv(i)))) panic("out of memory for argv");
  for (int i = 0; i < cmdline_envc(); i++)
    if (wasi_add_env(st, cmdline_env(i), strlen(cmdline_env(i)))) panic("bad environment entry '%s'", cmdline_env(i));
  for (int i = 0; i < boot_info.nmodules; i++) {
    const struct boot_module *mod = &boot_info.modules[i];
    int rc = wasi_load_image(st, (const void *)(uintptr_t)mod->start, mod->end - mod->start);
    if (rc) panic("boot module '%s' is not a valid file-system image (WASI errno %d)", mod->name, rc);
  }
  /* Volumes (virtio-9p host directories), after the packed directories. */
  volume_preopen(st);
  /* Listening sockets (listen=tcp:PORT), fds after stdio and the preopened directories;
   * after a restart in place, the same sockets (wasi_sock_keep_listeners). */
  const char *spec;
  uint32_t fd;
  for (int i = 0; (spec = kernel_cmdline_get_nth("listen", i)); i++) {
    int rc = wasi_sock_preopen_listen(st, spec, &fd);
    if (rc) panic("listen=%s: cannot listen (WASI errno %d)", spec, rc);
  }
  return st;
}

/* Instantiates the app (data segments, start function). NULL when the start function trapped
 * or exited: *code says how (KILN_TRAP_EXIT, or a trap described in what/fn). */
static kiln_instance *instantiate_app(const kiln_module *m, struct wasi_state *st, uint32_t *code, char *what,
                                      char *fn, size_t n) {
  char err[160];
  kiln_instance *inst = kiln_instantiate(m, resolve_locked, NULL, st, err, sizeof err);
  if (inst) return inst;
  if (st->exited) {
    *code = KILN_TRAP_EXIT;
    return NULL;
  }
  for (uint32_t c = 1; c < KILN_TRAP_COUNT; c++)
    if (!strcmp(err, kiln_trap_message(c))) {
      ksnprintf(what, n, "%s", err);
      kiln_describe_pc(NULL, call_last_trap_pc(), fn, n);
      *code = c;
      return NULL;
    }
  panic("instantiation failed: %s", err);
}

/* Runs _start: KILN_TRAP_NONE (it returned), KILN_TRAP_EXIT (proc_exit), LIFE_UNWIND_RESTART
 * (a policy restart stopped it) or a trap, described in what/fn. */
static uint32_t call_start(kiln_instance *inst, char *what, char *fn, size_t n) {
  kiln_extern start;
  if (kiln_export_get(inst, "_start", &start) || start.kind != KILN_EXTERN_FUNC)
    panic("the app exports no _start function (not a WASI command)");
  if (start.u.func.func->type->nparams || start.u.func.func->type->nresults)
    panic("the app's _start is not of type [] -> []");
  life_started(inst);
  kiln_val vals[1];
  boot_tsc_app = rdtsc();
  uint32_t code = kiln_invoke(&start.u.func, vals);
  life_ended();
  if (kiln_threads_spawned()) kiln_plat_instance_end(inst, code);
  if (code != KILN_TRAP_NONE && code != KILN_TRAP_EXIT && code != LIFE_UNWIND_RESTART) {
    kiln_describe_pc(inst, call_last_trap_pc(), fn, n);
    kiln_describe_trap(inst, code, what, n);
  }
  return code;
}

/* The end of _start in an app with threads, or of any thread's call that trapped or exited
 * (aot/abi.h §8): the whole app ends, reported by the first thread that gets here. */
_Noreturn void kiln_plat_instance_end(kiln_instance *ctx, uint32_t code) {
  void *pc = call_last_trap_pc();
  end_once();
  if (code == KILN_TRAP_NONE) app_exit(0);
  if (code == KILN_TRAP_EXIT) app_exit((uint32_t)((struct wasi_state *)ctx->host)->exit_code);
  char fn[128], what[160];
  kiln_describe_pc(ctx, pc, fn, sizeof fn);
  kiln_describe_trap(ctx, code, what, sizeof what);
  kernel_exit_trap(what, fn);
}

/* Restart in place, up to the new instance: the old one and its WASI state go (linear memory,
 * tables, globals, open files and sockets) except the preopened listening sockets, which the
 * new state gets back; the Wasm stack shrinks to its pre-mapped top. Returns the new state. */
static struct wasi_state *restart_in_place(struct wasi_state *st, kiln_instance *inst, int unwound) {
  wasi_sock_keep_listeners(st);
  if (unwound) { /* it left from inside a WASI call: its locks are let go */
    wasi_lock_release();
    net_unwound();
  }
  wasi_destroy(st);
  if (inst) kiln_instance_free(inst);
  vm_stack_trim();
  return wasi_from_boot();
}

_Noreturn void app_run(void) {
  const kiln_module *m = &app_module;
  if (report_missing_imports(m)) panic("the app imports functions the kernel does not provide");
  char err[200];
  const char *spec = kernel_cmdline_get("restart");
  if (life_init(spec, err, sizeof err)) panic("%s", err);
  if (life_policy()->kind != LIFE_NEVER) klog("kiln: restart policy %s\n", spec);
  struct wasi_state *st = wasi_from_boot();
  console_listening();
  int restarting = 0; /* the instance about to start replaces one (life_decide asked) */
  uint64_t teardown_ns = 0, returned = 0;
  for (;;) {
    char what[160] = "", fn[128] = "", trap[300];
    uint32_t code = KILN_TRAP_NONE;
    uint64_t t_start = time_ns(), backoff_ns;
    kiln_instance *inst = instantiate_app(m, st, &code, what, fn, sizeof what);
    if (restarting) /* the restart's guest time: the old instance freed, the new one made */
      life_restarted(teardown_ns + (time_ns() - t_start), returned);
    if (inst) code = call_start(inst, what, fn, sizeof what);
    ksnprintf(trap, sizeof trap, "%s in %s", what, fn);
    restarting = life_decide(code, st->exit_code, time_ns() - t_start, trap, &backoff_ns);
    if (!restarting) {
      if (code == KILN_TRAP_NONE) app_exit(0);
      if (code == KILN_TRAP_EXIT) app_exit((uint32_t)st->exit_code);
      kernel_exit_trap(what, fn);
    }
    if (code != KILN_TRAP_EXIT && code != LIFE_UNWIND_RESTART) kprintf("kiln: trap: %s\n", trap);
    uint64_t t0 = time_ns();
    st = restart_in_place(st, inst, code == LIFE_UNWIND_RESTART);
    teardown_ns = time_ns() - t0;
    /* The freed RAM back to the host (not part of the restart's time: the host's work). */
    returned = balloon_report_free();
    /* on-failure's back-off; the listeners queue clients meanwhile */
    for (uint64_t until = time_ns() + backoff_ns; time_ns() < until;) kernel_idle_until(until, kernel_events());
  }
}
