/* driver/run.c — kiln run IMAGE: boots an image under QEMU, headless, with the console's
 * streams wired to ours (README, "Console streams"), the forwarder (tools/kiln-fwd) in front
 * of QEMU's user network, kiln-stdin feeding our stdin to the app; ends with the app's exit
 * status, read from isa-debug-exit's debugcon file. QEMU's command line is written in one
 * place, qemu_argv(), from what the options decided (struct Vm). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"

#define QBOOT "/usr/share/qemu/qboot.rom" /* qemu-system-data */

/* What kiln run decided: qemu_argv() turns it into QEMU's command line. */
typedef struct {
  const char *accel, *cpu, *mem, *tty, *rundir;
  int smp;
  bool smp_given; /* --smp or $KILN_SMP: passed in fw_cfg as well */
  int errfd;      /* COM2's end: the pipe to our stderr */
  /* the boot: an ISO through the firmware's CD boot, or a kernel with its command line */
  const char *cdrom, *kernel, *append, *initrd;
  Strv volumes; /* host path, guest tag, ... */
  bool balloon;
  bool net, outbound;
  Strv hostfwds; /* QEMU hostfwd= values */
  bool net_ready; /* COM4: the kernel's byte once its sockets listen, for kiln-fwd */
  bool microvm;   /* QEMU's microvm machine instead of the PC (run_machine says when) */
} Vm;

/* A QEMU option value: a comma is written twice. */
static char *qemu_escape(const char *s) {
  char *out = malloc(2 * strlen(s) + 1), *o = out;
  if (!out) die("out of memory");
  for (; *s; s++) {
    if (*s == ',') *o++ = ',';
    *o++ = *s;
  }
  *o = 0;
  return out;
}

/* The serial port COM(index+1) writing to PATH. microvm's -serial gives COM1 only: the others
 * are made explicitly there. */
static void com_port(Strv *q, const Vm *vm, int index, const char *path) {
  if (vm->microvm) {
    strv_add(q, "-chardev");
    strv_addf(q, "file,id=com%d,path=%s", index, path);
    strv_add(q, "-device");
    strv_addf(q, "isa-serial,chardev=com%d,index=%d", index, index);
  } else {
    strv_add(q, "-serial");
    strv_addf(q, "file:%s", path);
  }
}

/* A virtio device on the machine's bus: virtio-mmio on microvm (drivers/virtio.c), PCI else. */
static char *virtio_dev(const Vm *vm, const char *kind, const char *opts) {
  return xasprintf("virtio-%s-%s%s%s", kind, vm->microvm ? "device" : "pci", *opts ? "," : "", opts);
}

static Strv qemu_argv(const Vm *vm) {
  Strv q = {0};
  const char *accel = vm->accel;
  /* One host thread per vCPU under TCG; one is enough (and starts faster) for one CPU. */
  if (!strcmp(accel, "tcg") && vm->smp > 1) accel = "tcg,thread=multi";
  /* -nodefaults: no VGA, no default NIC or drives for the firmware to set up; every device
   * is named below. The console: COM1 takes the app's stdout to ours, byte for byte; COM2 its
   * stderr and the kernel's notes to our stderr through a pipe (so a file shared with stdout,
   * as in >log 2>&1, keeps one offset); a virtio console takes our stdin, framed by
   * kiln-stdin, once COM3 says the kernel is ready. fw_cfg tells the kernel which of our fds
   * are terminals, for isatty() in the app. */
  strv_addl(&q, "qemu-system-x86_64", "-nodefaults", "-no-user-config", "-accel", accel, "-cpu", vm->cpu, "-m",
            vm->mem, "-smp", NULL);
  strv_addf(&q, "%d", vm->smp);
  strv_addl(&q, "-display", "none", "-monitor", "none", "-serial", "stdio", NULL);
  com_port(&q, vm, 1, xasprintf("/dev/fd/%d", vm->errfd));
  com_port(&q, vm, 2, xasprintf("%s/ready", vm->rundir));
  /* microvm: no ACPI (the kernel routes the MMIO devices' lines through the 8259), and
   * virtio-mmio version 2 (QEMU's default is the legacy interface). */
  if (vm->microvm) strv_addl(&q, "-M", "microvm,acpi=off", "-global", "virtio-mmio.force-legacy=false", NULL);
  strv_add(&q, "-fw_cfg");
  strv_addf(&q, "name=opt/kiln/stdio,string=%s", vm->tty);
  /* The processors, given here, are read by the kernel from fw_cfg before its command line's
   * smp=, so an ISO still boots with them through GRUB. */
  if (vm->smp_given) {
    strv_add(&q, "-fw_cfg");
    strv_addf(&q, "name=opt/kiln/smp,string=%d", vm->smp);
  }
  strv_add(&q, "-chardev");
  strv_addf(&q, "pipe,id=kin,path=%s/in", vm->rundir);
  strv_addl(&q, "-device", virtio_dev(vm, "serial", ""), "-device", "virtconsole,chardev=kin,nr=0", "-no-reboot", "-device",
            "isa-debug-exit,iobase=0xf4,iosize=0x04", "-debugcon", NULL);
  strv_addf(&q, "file:%s/status", vm->rundir);
  if (vm->cdrom) {
    strv_addl(&q, "-cdrom", vm->cdrom, "-boot", "d", NULL);
  } else {
    strv_addl(&q, "-kernel", vm->kernel, "-append", vm->append, NULL);
    if (vm->initrd) strv_addl(&q, "-initrd", vm->initrd, NULL);
    /* -kernel loads the ELF through its PVH note; qboot, the smallest firmware QEMU ships,
     * only has to hand over to it (SeaBIOS, the default, stays for the ISO's CD boot);
     * microvm brings its own (bios-microvm.bin). */
    if (!vm->microvm && is_file(QBOOT)) strv_addl(&q, "-bios", QBOOT, NULL);
  }
  /* A virtio-9p device per volume whose mount tag is GUEST, which the kernel preopens at that
   * name (p9/volume.c). security_model=none: files are created as the user running kiln with
   * the modes the app asks for, and symlinks stay symlinks on the host (mapped-* would hide
   * ownership in xattrs and turn symlinks into plain files; passthrough needs root to chown). */
  for (int i = 0; i + 1 < vm->volumes.n; i += 2) {
    strv_add(&q, "-fsdev");
    strv_addf(&q, "local,id=vol%d,path=%s,security_model=none,multidevs=remap", i / 2, qemu_escape(vm->volumes.v[i]));
    strv_add(&q, "-device");
    strv_addf(&q, "virtio-9p-pci,fsdev=vol%d,mount_tag=%s", i / 2, qemu_escape(vm->volumes.v[i + 1]));
  }
  /* The memory balloon, for free page reporting only: RAM the kernel frees (a restart in
   * place) goes back to the host. It never inflates, so the guest keeps all of --mem. */
  if (vm->balloon) strv_addl(&q, "-device", virtio_dev(vm, "balloon", "free-page-reporting=on"), NULL);
  if (vm->net) {
    if (vm->net_ready) com_port(&q, vm, 3, xasprintf("%s/net", vm->rundir));
    /* restrict=on: the guest cannot reach the host's loopback services (10.0.2.2) or the
     * outside; host forwards still work. --outbound lifts it. */
    Strv nd = {0};
    strv_add(&nd, vm->outbound ? "user,id=n0" : "user,id=n0,restrict=on");
    for (int i = 0; i < vm->hostfwds.n; i++) strv_addf(&nd, "hostfwd=%s", vm->hostfwds.v[i]);
    strv_add(&q, "-netdev");
    strv_add(&q, strv_join(&nd, ","));
    strv_addl(&q, "-device", virtio_dev(vm, "net", "netdev=n0"), NULL);
  } else {
    strv_addl(&q, "-nic", "none", NULL);
  }
  return q;
}

/* QEMU's -m SIZE (MiB unless suffixed M or G) in MiB. */
static unsigned long mem_mib(const char *mem) {
  char *end;
  unsigned long n = strtoul(mem, &end, 10);
  return (*end == 'G' || *end == 'g') ? n * 1024 : n;
}

static bool valid_mem(const char *s) {
  size_t d = strspn(s, "0123456789");
  return d > 0 && (s[d] == 0 || (strchr("MmGg", s[d]) && s[d + 1] == 0));
}

/* --timeout's value as timeout(1) takes it (a number, then s, m, h or d) in seconds, or -1. */
static double timeout_seconds(const char *s) {
  char *end;
  errno = 0;
  double t = strtod(s, &end);
  if (end == s || errno || t < 0) return -1;
  double unit = 1;
  if (*end == 'm') unit = 60;
  else if (*end == 'h') unit = 3600;
  else if (*end == 'd') unit = 86400;
  else if (*end && *end != 's') return -1;
  if (*end && end[1]) return -1;
  return t * unit;
}

/* KVM only where the CPU has hardware virtualization (a software /dev/kvm is far slower). */
static const char *accel_auto(void) {
  char *cpuinfo = read_file("/proc/cpuinfo", NULL);
  bool hw = false;
  for (char *p = cpuinfo; p && !hw && (p = strstr(p, "flags")); p++) {
    char *eol = strchr(p, '\n');
    if (eol) *eol = 0;
    hw = strstr(p, " vmx") || strstr(p, " svm");
    if (eol) *eol = '\n';
  }
  return hw && access("/dev/kvm", W_OK) == 0 ? "kvm" : "tcg";
}

/* A whole line from FD (kiln-fwd's ports), or NULL at its end. */
static char *read_line(int fd) {
  char buf[512];
  size_t n = 0;
  while (n + 1 < sizeof buf) {
    ssize_t r = read(fd, buf + n, 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) return NULL;
    if (buf[n] == '\n') break;
    n++;
  }
  buf[n] = 0;
  return xasprintf("%s", buf);
}

/* The ISO's kernel, command line and files, taken out of the image to boot them directly
 * (GRUB's command line is written into the ISO, so extra tokens need this). */
static void iso_boot_direct(Vm *vm, const char *image, const char *extra) {
  char *x = xasprintf("%s/iso", vm->rundir), *log = xasprintf("%s/log", x);
  if (!make_dirs(x)) die("run: cannot make %s: %s", x, strerror(errno));
  int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  char *xorriso[] = {"xorriso", "-osirrox", "on", "-indev", (char *)image, "-extract", "/boot",
                     xasprintf("%s/boot", x), NULL};
  if (proc_wait(proc_spawn(xorriso, -1, logfd, logfd, -1)) != 0) {
    char *text = read_file(log, NULL), *last = "";
    if (text) {
      size_t n = strlen(text);
      while (n > 0 && text[n - 1] == '\n') text[--n] = 0;
      last = strrchr(text, '\n') ? strrchr(text, '\n') + 1 : text;
    }
    die("run: cannot read %s: %s", image, last);
  }
  close(logfd);
  vm->kernel = xasprintf("%s/boot/kernel.elf", x);
  if (!is_file(vm->kernel)) die("run: %s is not a Kiln image (no /boot/kernel.elf)", image);
  /* the kernel's line in grub.cfg: "multiboot2 /boot/kernel.elf TOKENS..." */
  Strv cl = {0};
  char *cfg = read_file(xasprintf("%s/boot/grub/grub.cfg", x), NULL);
  char *lines, *words;
  for (char *l = cfg ? strtok_r(cfg, "\n", &lines) : NULL; l; l = strtok_r(NULL, "\n", &lines)) {
    char *f = strtok_r(l, " \t", &words);
    if (!f || strcmp(f, "multiboot2")) continue;
    strtok_r(NULL, " \t", &words); /* the kernel's path */
    while ((f = strtok_r(NULL, " \t", &words))) strv_add(&cl, f);
    break;
  }
  vm->append = xasprintf("%s %s", strv_join(&cl, " "), extra);
  char *fs = xasprintf("%s/boot/fs.img", x);
  if (is_file(fs)) vm->initrd = fs;
}

/* --volume HOST:GUEST, checked, as (real host path, guest) pairs. */
static void volumes(Vm *vm, const Strv *vols) {
  for (int i = 0; i < vols->n; i++) {
    const char *v = vols->v[i], *colon = strrchr(v, ':');
    if (!colon) die("run: --volume wants HOST:GUEST, got '%s'", v);
    char *host = xasprintf("%.*s", (int)(colon - v), v), *guest = xasprintf("%s", colon + 1);
    if (!*host || !is_dir(host)) die("run: --volume: host directory '%s' does not exist (create it first)", host);
    if (!*guest) die("run: --volume '%s': GUEST is empty", v);
    if (strlen(guest) > 31)
      die("run: --volume: guest path '%s' is longer than 31 bytes (QEMU's mount tag limit)", guest);
    char real[PATH_MAX];
    if (!realpath(host, real)) die("run: --volume: %s: %s", host, strerror(errno));
    strv_addl(&vm->volumes, real, guest, NULL);
  }
}

int cmd_run(int argc, char **argv) {
  const char *image = NULL, *acc = NULL, *timeout = "0", *net = "auto";
  Strv fwds = {0}, extra = {0}, vols = {0};
  Vm vm = {.mem = "128M", .balloon = true};
  int smp = 0;
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = one_of(a, (const char *const[]){"--mem", "--fwd", "--net", "--accel", "--smp", "--timeout", "--append",
                                                  "--restart", "--metrics", "--volume", NULL});
    if (takes && !v) die("run: %s wants a value", a);
    if (takes) i++;
    if (!strcmp(a, "--mem")) {
      if (!valid_mem(v)) die("run: --mem wants a size like 256M or 2G, got '%s'", v);
      vm.mem = v;
    } else if (!strcmp(a, "--fwd")) strv_add(&fwds, v);
    else if (!strcmp(a, "--net")) net = v;
    else if (!strcmp(a, "--outbound")) vm.outbound = true;
    else if (!strcmp(a, "--accel")) acc = v;
    else if (!strcmp(a, "--smp")) {
      if (!(smp = smp_value(v))) die("run: --smp wants 1 to 16, got '%s'", v);
    } else if (!strcmp(a, "--timeout")) timeout = v;
    else if (!strcmp(a, "--append")) strv_add(&extra, v);
    else if (!strcmp(a, "--restart")) strv_addf(&extra, "restart=%s", pct(v));
    else if (!strcmp(a, "--metrics")) {
      if (!*v || strspn(v, "0123456789") != strlen(v)) die("run: --metrics wants a port, got '%s'", v);
      strv_addf(&extra, "metrics=%s", v);
    } else if (!strcmp(a, "--no-balloon")) vm.balloon = false;
    else if (!strcmp(a, "--volume")) strv_add(&vols, v);
    else if (a[0] == '-') die("run: unknown option %s", a);
    else if (image) die("run: one IMAGE only");
    else image = a;
  }
  if (!image || !is_file(image)) die("usage: kiln run IMAGE [options]");
  double timeout_s = timeout_seconds(timeout);
  if (timeout_s < 0) die("run: --timeout wants seconds, got '%s'", timeout);
  vm.accel = acc ? acc : accel_auto();
  vm.cpu = strcmp(vm.accel, "kvm") ? "max" : "host";
  /* Processors: --smp, else $KILN_SMP (to run whole test suites on N CPUs), else the image's
   * default (smp= in the command line kiln build wrote beside it), else 1. */
  const char *env_smp = getenv("KILN_SMP");
  if (!smp && env_smp && *env_smp && !(smp = smp_value(env_smp))) die("run: KILN_SMP wants 1 to 16, got '%s'", env_smp);
  vm.smp_given = smp > 0;
  if (!smp) {
    char *dot = strrchr(image, '.');
    char *cl = read_file(xasprintf("%.*s.cmdline", (int)(dot ? dot - image : (long)strlen(image)), image), NULL);
    for (char *l = cl ? strtok(cl, "\n") : NULL; l; l = strtok(NULL, "\n"))
      if (!strncmp(l, "smp=", 4)) smp = atoi(l + 4);
    if (smp < 1) smp = 1;
  }
  vm.smp = smp;
  char *kiln_stdin = path_in_build("kiln-stdin");
  need(kiln_stdin);

  /* From here on, the signals that stop the VM wait for proc_supervise(), which stops QEMU first. */
  proc_block_stop_signals();

  vm.rundir = temp_dir();
  char *ready = xasprintf("%s/ready", vm.rundir), *in = xasprintf("%s/in", vm.rundir);
  if (mkfifo(ready, 0600) || mkfifo(in, 0600)) die("run: mkfifo in %s: %s", vm.rundir, strerror(errno));
  char tty[4];
  for (int fd = 0; fd < 3; fd++) tty[fd] = isatty(fd) ? '1' : '0';
  tty[3] = 0;
  vm.tty = tty;
  /* COM2's pipe, copied to our stderr by cat (qemu_argv says why) */
  int errpipe[2];
  if (pipe2(errpipe, O_CLOEXEC) < 0) die("run: pipe: %s", strerror(errno));
  char *cat[] = {"cat", NULL};
  pid_t errpid = proc_spawn(cat, errpipe[0], 2, -1, -1);
  close(errpipe[0]);
  vm.errfd = errpipe[1];

  char *extras = strv_join(&extra, " ");
  bool is_elf = ends_with(image, ".elf");
  if (ends_with(image, ".iso")) {
    if (extra.n > 0) iso_boot_direct(&vm, image, extras);
    else vm.cdrom = image;
  } else if (is_elf) {
    char *base = strip_suffix(image, ".elf"), *cl = read_file(xasprintf("%s.cmdline", base), NULL);
    for (char *c = cl; c && *c; c++)
      if (*c == '\n') *c = ' ';
    vm.kernel = image;
    vm.append = xasprintf("%s %s", cl ? cl : "", extras);
    char *fs = xasprintf("%s.fs", base);
    struct stat st;
    if (stat(fs, &st) == 0 && S_ISREG(st.st_mode)) {
      unsigned long need_mib = mem_need_mib((unsigned long long)st.st_size);
      if (mem_mib(vm.mem) < need_mib)
        die("run: the image's files do not fit in --mem %s: run it with --mem %luM or more", vm.mem, need_mib);
      vm.initrd = fs;
    }
  } else {
    die("run: IMAGE must be .iso or .elf");
  }
  volumes(&vm, &vols);
  /* The machine: QEMU's microvm for an .elf on one CPU without volumes (no PCI, no ACPI:
   * virtio over MMIO, drivers/virtio.c; it starts sooner than the PC machine, bench/serve);
   * else the PC machine (the ISO's CD boot, the ACPI tables smp=N needs, virtio-9p on PCI).
   * KILN_MACHINE=pc forces the PC machine. */
  const char *machine = getenv("KILN_MACHINE");
  vm.microvm = is_elf && vm.smp == 1 && vols.n == 0 && !(machine && !strcmp(machine, "pc"));
  if (!strcmp(net, "none") && vm.outbound) die("run: --outbound needs a network (not --net none)");
  vm.net = strcmp(net, "none") && (!strcmp(net, "user") || fwds.n > 0 || vm.outbound);
  Strv tcp_host = {0}, tcp_guest = {0};
  for (int i = 0; vm.net && i < fwds.n; i++) {
    const char *f = fwds.v[i], *proto = "tcp";
    if (!strncmp(f, "tcp:", 4) || !strncmp(f, "udp:", 4)) {
      proto = !strncmp(f, "udp:", 4) ? "udp" : "tcp";
      f += 4;
    }
    size_t d1 = strspn(f, "0123456789"), d2 = f[d1] == ':' ? strspn(f + d1 + 1, "0123456789") : 0;
    if (!d1 || !d2 || f[d1 + 1 + d2]) die("run: --fwd wants [tcp:|udp:]HOSTPORT:GUESTPORT, got '%s'", f);
    char *host = xasprintf("%.*s", (int)d1, f), *guest = xasprintf("%s", f + d1 + 1);
    if (!strcmp(proto, "tcp")) {
      strv_add(&tcp_host, host);
      strv_add(&tcp_guest, guest);
    } else {
      strv_addf(&vm.hostfwds, "udp:127.0.0.1:%s-:%s", host, guest);
    }
  }
  pid_t fwdpid = -1;
  if (tcp_host.n > 0) {
    /* QEMU's own TCP forward listens with a backlog of 1: kiln-fwd takes the host ports with a
     * real backlog and hands connections to QEMU's forwards on private loopback ports, and
     * holds clients until COM4 says the kernel's sockets listen. */
    char *fwd = path_in_build("kiln-fwd"), *netfifo = xasprintf("%s/net", vm.rundir);
    need(fwd);
    if (mkfifo(netfifo, 0600)) die("run: mkfifo %s: %s", netfifo, strerror(errno));
    vm.net_ready = true;
    Strv f = {0};
    strv_addl(&f, fwd, "--ready", netfifo, NULL);
    for (int i = 0; i < tcp_host.n; i++) strv_add(&f, tcp_host.v[i]);
    int po[2];
    if (pipe2(po, O_CLOEXEC) < 0) die("run: pipe: %s", strerror(errno));
    fwdpid = proc_spawn(f.v, -1, po[1], -1, -1);
    close(po[1]);
    char *ports = read_line(po[0]); /* po[0] stays open: kiln-fwd's stdout */
    if (!ports) die("run: cannot forward %s (see above)", strv_join(&tcp_host, " "));
    int i = 0;
    for (char *p = strtok(ports, " "); p && i < tcp_guest.n; p = strtok(NULL, " "), i++)
      strv_addf(&vm.hostfwds, "tcp:127.0.0.1:%s-:%s", p, tcp_guest.v[i]);
  }

  Strv q = qemu_argv(&vm);
  char *sa[] = {kiln_stdin, ready, in, NULL};
  pid_t inpid = proc_spawn(sa, -1, -1, -1, -1);
  int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_t qemu = proc_spawn(q.v, null, -1, -1, vm.errfd);
  close(null);
  bool timed_out = false;
  int signo = 0;
  int rc = proc_supervise(qemu, timeout_s, &timed_out, &signo);
  if (fwdpid > 0) kill(fwdpid, SIGTERM);
  /* kiln-stdin may still wait on a terminal the app never read to the end. */
  kill(inpid, SIGTERM);
  close(vm.errfd);
  proc_wait(errpid);
  if (signo) proc_die_of(signo);
  char *line = first_line(xasprintf("%s/status", vm.rundir));
  if (line && !strncmp(line, "exit ", 5)) exit(atoi(line + 5) & 255);
  if (line && !strncmp(line, "trap ", 5)) exit(134);
  if (line && !strncmp(line, "panic", 5)) exit(135);
  if (timed_out) {
    fprintf(stderr, "kiln: timed out after %ss\n", timeout);
    exit(124);
  }
  fprintf(stderr, "kiln: the VM stopped without an exit status (qemu status %d)\n", rc);
  exit(136);
}
