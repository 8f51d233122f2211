/* driver/main.c — `kiln`, the command users type: one command per file (build.c, run.c,
 * hosted.c, inspect.c, cache.c), dispatched here, with the help text and what they share:
 * where the tree is, and the error rule (die). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"

const char *kiln_top;
const char *kiln_build;

static const char usage_text[] =
    "usage:\n"
    "  kiln build APP.wasm -o OUT.iso [--arg A]... [--env K=V]... [--dir HOST[:GUEST]]...\n"
    "             [--listen tcp:PORT]... [--restart POLICY] [--metrics PORT] [--cmdline TOKEN]...\n"
    "             [--smp N] [-O0|-O1|-O2|-O3] [--cpu CPU] [--oci DIR] [--oci-archive FILE.tar]\n"
    "      Compiles APP.wasm ahead of time, links it with the Kiln kernel and writes a bootable ISO\n"
    "      (GRUB, multiboot2). OUT.elf beside it is the same kernel for QEMU -kernel (PVH); it\n"
    "      carries the options below itself (a command line passed at boot goes over them, key by\n"
    "      key); OUT.fs holds the files of --dir (QEMU -initrd).\n"
    "      --oci DIR writes an OCI image layout, --oci-archive FILE.tar the same as one file (podman\n"
    "      load, skopeo copy), that urunc runs as a \"mewz\" unikernel (docs/deploy.md): the ELF, the\n"
    "      files, the com.urunc.unikernel.* annotations and /urunc.json. -o may then be left out.\n"
    "      argv[0] is the app's name and each --arg appends one argument; --env sets the environment;\n"
    "      --dir packs a copy of a host directory into the image and preopens it as GUEST (default: its\n"
    "      own path; the app may write there, in memory: the changes are gone when the VM stops; run's\n"
    "      --volume persists), --listen preopens a listening socket, --cmdline passes a raw kernel\n"
    "      token (ip=, gw=, mask=). --smp N makes N processors the image's default (kernel token\n"
    "      smp=N; run's --smp overrides it).\n"
    "      --restart POLICY restarts the app in place (a new instance in the same VM; the listening\n"
    "      sockets of --listen stay open, so clients are never refused): never (the default),\n"
    "      on-failure[:LIMIT][,backoff=DUR,max-backoff=DUR,reset=DUR] (after a trap or a non-zero\n"
    "      exit, Docker's back-off), after:DUR (a fixed lifetime), or\n"
    "      memory-ratio[,measure=DUR,window=DUR,sample=DUR,min=SIZE] (when memory grows beyond\n"
    "      what recent outgoing requests explain; see kernel/lifecycle.h). DUR: N with ms, s, m, h.\n"
    "      --metrics PORT serves the instance's figures (memory, requests, restarts, traps, free\n"
    "      and returned RAM) in the Prometheus text format on PORT.\n"
    "  kiln run IMAGE [--mem SIZE] [--fwd [tcp:|udp:]HOSTPORT:GUESTPORT]... [--net none|user] [--outbound]\n"
    "             [--accel kvm|tcg] [--smp N] [--timeout SECONDS] [--append TOKEN]... [--volume HOST:GUEST]...\n"
    "             [--restart POLICY] [--metrics PORT] [--no-balloon]\n"
    "      Boots IMAGE (.iso, or .elf for a direct PVH boot: on QEMU's microvm when on one CPU\n"
    "      without --volume, else the PC machine; KILN_MACHINE=pc forces the PC) headless. The app's stdout is\n"
    "      this command's stdout, byte for byte; its stderr and the kernel's notes, traps and panics\n"
    "      go to stderr; stdin reaches the app with its end (read returns 0). The app's stdio are\n"
    "      terminals (isatty) where this command's are. --volume maps the host directory HOST itself\n"
    "      into the VM, read-write over virtio-9p, preopened as GUEST (at most 31 bytes): what the\n"
    "      app writes there stays on the host after the VM exits, unlike build's --dir. KVM is used\n"
    "      only when the CPU has hardware virtualization, TCG otherwise (multi-threaded TCG with\n"
    "      --smp N above 1). --smp N gives the VM N processors (default: the image's, from build's\n"
    "      --smp, else 1; $KILN_SMP, when set, before the image's); the kernel starts as many as\n"
    "      the firmware's ACPI tables list, up to N.\n"
    "      --fwd forwards 127.0.0.1:HOSTPORT to the guest's GUESTPORT, TCP unless udp: (user networking).\n"
    "      The guest is isolated by default: it is reachable through --fwd but cannot open\n"
    "      connections to the host (10.0.2.2, i.e. the host's 127.0.0.1) or beyond. --outbound\n"
    "      allows that (and implies user networking).\n"
    "      Exit status: the app's exit status; 134 after a Wasm trap; 135 after a kernel panic;\n"
    "      124 on timeout. --append passes one more kernel token (an .iso is then booted directly);\n"
    "      --restart and --metrics are build's, set at run time (also tokens). A virtio balloon with\n"
    "      free page reporting gives the RAM a restart frees back to the host (--no-balloon: none).\n"
    "  kiln run --hosted APP.wasm [--arg A]... [--env K=V]... [--dir HOST[:GUEST]]...\n"
    "             [--max-file-size SIZE] [--max-write SIZE] [--listen tcp:[ADDR:]PORT]...\n"
    "             [--restart POLICY] [--metrics PORT] [-- ARGS...]\n"
    "      Compiles APP.wasm (once: see kiln cache) and runs it as a native Linux process with the\n"
    "      same WASI; --listen preopens a listening socket on ADDR (default 127.0.0.1), as in the VM.\n"
    "      Here --dir maps the host directory itself, read-write, as wasmtime does: what the app\n"
    "      writes stays on the host. It is confined to HOST (no way out through \"..\", absolute paths\n"
    "      or symlinks, which the host kernel checks), and bounded: a file grows to at most\n"
    "      --max-file-size (default 4G, then EFBIG) and the app writes at most --max-write bytes in\n"
    "      all (default 8G, then ENOSPC); SIZE is bytes, or with K, M, G, T, or \"unlimited\".\n"
    "      --restart and --metrics as in the VM (build's options): the instance restarts in place\n"
    "      (its linear memory unmapped, the --listen sockets kept), metrics on 127.0.0.1:PORT.\n"
    "  kiln inspect APP.wasm\n"
    "      Lists imports, exports and memory, marking every import the kernel does not provide, and\n"
    "      the WebAssembly features the module uses, marking those kiln-aot does not support (build\n"
    "      and run --hosted refuse such a module, naming the feature).\n"
    "  kiln cache [info]      shows where the compile cache is, its entries and size\n"
    "  kiln cache clean       empties it\n"
    "      build and run --hosted keep compiled objects (and, hosted, the linked executable) in\n"
    "      $KILN_CACHE_DIR, default $XDG_CACHE_HOME/kiln or ~/.cache/kiln, keyed by the module's\n"
    "      sha256, kiln-aot's own hash, LLVM and the compile options; a second hosted run starts at\n"
    "      once. Every entry carries its sha256 and is verified before use; a corrupt one is rebuilt.\n"
    "      KILN_CACHE=off compiles every time without touching the cache.\n";

_Noreturn void die(const char *fmt, ...) {
  va_list ap;
  fputs("kiln: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(2);
}

char *xasprintf(const char *fmt, ...) {
  va_list ap;
  char *s;
  va_start(ap, fmt);
  int r = vasprintf(&s, fmt, ap);
  va_end(ap);
  if (r < 0) {
    fputs("kiln: out of memory\n", stderr);
    exit(2);
  }
  return s;
}

bool one_of(const char *s, const char *const list[]) {
  for (; *list; list++)
    if (!strcmp(s, *list)) return true;
  return false;
}

const char *const OPT_LEVELS[] = {"-O0", "-O1", "-O2", "-O3", NULL};

char *path_in_build(const char *name) { return xasprintf("%s/%s", kiln_build, name); }

void need(const char *path) {
  if (access(path, F_OK) != 0) die("%s is missing: run 'make' in %s first", path, kiln_top);
}

/* The tree is found from the program itself (build/kiln), so a copy of a whole tree uses its
 * own kiln-aot, kernel and runtime. */
static void find_tree(void) {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) die("cannot find my own program (/proc/self/exe): %s", strerror(errno));
  exe[n] = 0;
  char *slash = strrchr(exe, '/');
  *slash = 0;
  kiln_build = strdup(exe);
  slash = strrchr(exe, '/');
  if (slash == exe) slash[1] = 0;
  else *slash = 0;
  kiln_top = strdup(exe);
}

int main(int argc, char **argv) {
  /* A closed stdio fd would be taken by the next file opened (QEMU's, a cache entry): give it
   * /dev/null instead. */
  for (int fd = 0; fd <= 2; fd++)
    if (fcntl(fd, F_GETFD) < 0) {
      int null = open("/dev/null", fd == 0 ? O_RDONLY : O_WRONLY);
      if (null >= 0 && null != fd) {
        dup2(null, fd);
        close(null);
      }
    }
  find_tree();
  const char *cmd = argc > 1 ? argv[1] : "";
  if (!strcmp(cmd, "build")) return cmd_build(argc - 2, argv + 2);
  if (!strcmp(cmd, "run")) {
    if (argc > 2 && !strcmp(argv[2], "--hosted")) return cmd_run_hosted(argc - 3, argv + 3);
    return cmd_run(argc - 2, argv + 2);
  }
  if (!strcmp(cmd, "inspect")) return cmd_inspect(argc - 2, argv + 2);
  if (!strcmp(cmd, "cache")) return cmd_cache(argc - 2, argv + 2);
  if (!strcmp(cmd, "help") || !strcmp(cmd, "-h") || !strcmp(cmd, "--help")) {
    fputs(usage_text, stdout);
    return 0;
  }
  fputs(usage_text, stderr);
  return 2;
}
