/* driver/hosted.c — kiln run --hosted APP.wasm: compile (through the cache), link with the
 * hosted runtime (build/host/libkiln-host.a) and run it as a native Linux process with the
 * same WASI, argv[0] the app's name as in the VM. The linked executable is cached too. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"

#define HOSTED_CC "clang-19"

int cmd_run_hosted(int argc, char **argv) {
  const char *wasm = NULL;
  Strv opt = {0}, hostargs = {0}, appargs = {0};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = one_of(a, (const char *const[]){"--arg", "--env", "--dir", "--max-file-size", "--max-write", "--listen",
                                                  "--restart", "--metrics", NULL});
    if (takes && !v) die("run --hosted: %s wants a value", a);
    if (takes) i++;
    if (!strcmp(a, "--arg")) strv_add(&appargs, v);
    else if (takes) strv_addl(&hostargs, a, v, NULL); /* the runtime's own options (host/main.c) */
    else if (one_of(a, OPT_LEVELS)) strv_add(&opt, a);
    else if (!strcmp(a, "--")) {
      while (++i < argc) strv_add(&appargs, argv[i]);
    } else if (a[0] == '-') die("run --hosted: unknown option %s", a);
    else if (wasm) die("run --hosted: one APP.wasm only");
    else wasm = a;
  }
  if (!wasm || !is_file(wasm)) die("usage: kiln run --hosted APP.wasm [options]");
  char *host_lib = path_in_build("host/libkiln-host.a");
  need(path_in_build("kiln-aot"));
  need(host_lib);
  char *name = base_name(wasm, ".wasm"), *exe = NULL, *exe_key = NULL;
  /* The executable's key: the object's, the runtime library, the compiler that links. */
  if (cache_enabled()) {
    char *cc = xasprintf("%s", "");
    proc_in_path(HOSTED_CC, &cc);
    Strv k = {0};
    strv_addl(&k, "kiln-hosted-1", object_key(wasm, &opt), sum_of(host_lib), file_id(cc), "-lm", NULL);
    exe_key = key_of(&k);
    exe = cache_get("exe", exe_key);
  }
  char *work = NULL;
  if (!exe) {
    if (!exe_key) work = temp_dir();
    char *obj = compile_module(wasm, work, &opt);
    if (!obj) return 1;
    char *out = exe_key ? cache_temp("exe") : xasprintf("%s/%s", work, name);
    char *link[] = {HOSTED_CC, obj, host_lib, "-lm", "-o", out, NULL};
    int rc = proc_run(link);
    if (rc != 0 && exe_key) {
      unlink(out);
      return 1;
    }
    if (rc != 0) return rc;
    exe = exe_key ? cache_put("exe", exe_key, out) : out;
    if (!exe) {
      unlink(out);
      return 1;
    }
  }
  Strv run = {0};
  strv_add(&run, name);
  for (int i = 0; i < hostargs.n; i++) strv_add(&run, hostargs.v[i]);
  strv_add(&run, "--");
  for (int i = 0; i < appargs.n; i++) strv_add(&run, appargs.v[i]);
  if (!work) { /* nothing to clean up: kiln becomes the app, signals and all */
    fflush(NULL);
    execv(exe, run.v);
    die("run --hosted: cannot run %s: %s", exe, strerror(errno));
  }
  /* The executable lives in the work directory: run it, then remove both. */
  proc_block_stop_signals();
  pid_t pid = proc_spawn_as(exe, run.v, -1, -1, -1, -1);
  bool timed_out = false;
  int signo = 0, rc = proc_supervise(pid, 0, &timed_out, &signo);
  if (signo) proc_die_of(signo);
  return rc;
}
