/* kernel/app.c — the app's life: WASI state from the command line and the file-system module,
 * instantiation of the linked `kiln_module`, a call of its `_start` (a WASI command), and the
 * report through the exit protocol (kernel/exit.c). */
#include "kernel/instance.h"
#include "kernel/kernel.h"
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
  /* Listening sockets (listen=tcp:PORT), fds after stdio and the preopened directories. */
  const char *spec;
  uint32_t fd;
  for (int i = 0; (spec = kernel_cmdline_get_nth("listen", i)); i++) {
    int rc = wasi_sock_preopen_listen(st, spec, &fd);
    if (rc) panic("listen=%s: cannot listen (WASI errno %d)", spec, rc);
  }
  console_listening();
  return st;
}

_Noreturn void app_run(void) {
  const kiln_module *m = &app_module;
  if (report_missing_imports(m)) panic("the app imports functions the kernel does not provide");
  struct wasi_state *st = wasi_from_boot();

  char err[160];
  kiln_instance *inst = kiln_instantiate(m, NULL, NULL, st, err, sizeof err);
  if (!inst) {
    /* The start function may have trapped or exited: that is the app's outcome. */
    if (st->exited) app_exit((uint32_t)st->exit_code);
    for (uint32_t code = 1; code < KILN_TRAP_COUNT; code++)
      if (!strcmp(err, kiln_trap_message(code))) {
        char fn[128];
        kiln_describe_pc(NULL, call_last_trap_pc, fn, sizeof fn);
        kernel_exit_trap(err, fn);
      }
    panic("instantiation failed: %s", err);
  }

  kiln_extern start;
  if (kiln_export_get(inst, "_start", &start) || start.kind != KILN_EXTERN_FUNC)
    panic("the app exports no _start function (not a WASI command)");
  if (start.u.func.func->type->nparams || start.u.func.func->type->nresults)
    panic("the app's _start is not of type [] -> []");
  kiln_val vals[1];
  boot_tsc_app = rdtsc();
  uint32_t code = kiln_invoke(&start.u.func, vals);
  if (code == KILN_TRAP_NONE) app_exit(0);
  if (code == KILN_TRAP_EXIT) app_exit((uint32_t)st->exit_code);
  char fn[128], what[160];
  kiln_describe_pc(inst, call_last_trap_pc, fn, sizeof fn);
  kiln_describe_trap(inst, code, what, sizeof what);
  kernel_exit_trap(what, fn);
}
