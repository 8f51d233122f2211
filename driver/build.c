/* driver/build.c — kiln build APP.wasm: compile (through the cache), link with the kernel
 * (ld.lld), write the image's command line into the ELF, pack --dir files (kiln-pack), make
 * the GRUB ISO (grub-mkrescue) and, on request, an OCI image (oci.c). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"

/* Percent-encodes one kernel command-line value (spaces and specials would split tokens). */
char *pct(const char *s) {
  static const char keep[] = "._~/:=,@+-";
  char *out = malloc(3 * strlen(s) + 1), *o = out;
  if (!out) die("out of memory");
  for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
    if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || strchr(keep, *p))
      *o++ = (char)*p;
    else
      o += sprintf(o, "%%%02X", *p);
  }
  *o = 0;
  return out;
}

/* The guest RAM (MiB) an image whose files take BYTES needs: the files stay in RAM, plus 6 MiB
 * for the kernel and a small app and 2 of QEMU's (as kernel/bootinfo.c checks). */
unsigned long mem_need_mib(unsigned long long bytes) { return (unsigned long)((bytes + (1 << 20) - 1) >> 20) + 8; }

static bool all_digits(const char *s) {
  if (!*s) return false;
  for (; *s; s++)
    if (*s < '0' || *s > '9') return false;
  return true;
}

/* --smp's value: 1 to 16, else 0. */
int smp_value(const char *s) {
  if (!all_digits(s) || s[0] == '0' || strlen(s) > 2) return 0;
  int n = atoi(s);
  return n <= 16 ? n : 0;
}

/* Writes LINE into the ELF's .kiln.cmdline section (boot/entry.S), NUL-padded to the section's
 * size, which bounds it. The section keeps its size, so its bytes are written in place. */
static void image_cmdline(const char *elf, const char *line) {
  size_t len;
  char *img = read_file(elf, &len);
  if (!img) die("build: cannot read %s: %s", elf, strerror(errno));
  Elf64_Ehdr *eh = (Elf64_Ehdr *)img;
  Elf64_Shdr *sec = NULL;
  if (len >= sizeof *eh && !memcmp(eh->e_ident, ELFMAG, SELFMAG) && eh->e_ident[EI_CLASS] == ELFCLASS64 &&
      eh->e_shoff + (Elf64_Off)eh->e_shnum * sizeof(Elf64_Shdr) <= len && eh->e_shstrndx < eh->e_shnum) {
    Elf64_Shdr *sh = (Elf64_Shdr *)(img + eh->e_shoff), *names = &sh[eh->e_shstrndx];
    for (int i = 0; i < eh->e_shnum; i++)
      if (sh[i].sh_name < names->sh_size && names->sh_offset + names->sh_size <= len &&
          !strcmp(img + names->sh_offset + sh[i].sh_name, ".kiln.cmdline") && sh[i].sh_type != SHT_NOBITS &&
          sh[i].sh_offset + sh[i].sh_size <= len)
        sec = &sh[i];
  }
  if (!sec) die("build: %s has no .kiln.cmdline section (kernel.o older than boot/entry.S? run make)", elf);
  size_t n = strlen(line);
  if (n >= sec->sh_size)
    die("build: the kernel command line takes %zu bytes, more than the %zu an image holds", n,
        (size_t)sec->sh_size - 1);
  memset(img + sec->sh_offset, 0, sec->sh_size);
  memcpy(img + sec->sh_offset, line, n);
  int fd = open(elf, O_WRONLY | O_CLOEXEC);
  if (fd < 0 || pwrite(fd, img + sec->sh_offset, sec->sh_size, (off_t)sec->sh_offset) != (ssize_t)sec->sh_size ||
      close(fd) != 0)
    die("build: cannot write %s: %s", elf, strerror(errno));
  free(img);
}

/* boot/grub.cfg with @CMDLINE@ and @MODULES@ replaced. */
static void write_grub_cfg(const char *path, const char *cmdline, const char *module) {
  char *tpl = read_file(xasprintf("%s/boot/grub.cfg", kiln_top), NULL);
  if (!tpl) die("build: cannot read %s/boot/grub.cfg", kiln_top);
  FILE *f = fopen(path, "we");
  if (!f) die("build: cannot write %s: %s", path, strerror(errno));
  for (char *p = tpl; *p;) {
    if (!strncmp(p, "@CMDLINE@", 9)) {
      fputs(cmdline, f);
      p += 9;
    } else if (!strncmp(p, "@MODULES@", 9)) {
      fputs(module, f);
      p += 9;
    } else {
      fputc(*p++, f);
    }
  }
  fclose(f);
}

/* --oci replaces an OCI layout or an empty directory, nothing else. */
static bool may_replace_oci(const char *dir) {
  struct stat st;
  return lstat(dir, &st) != 0 || is_file(xasprintf("%s/oci-layout", dir)) || dir_is_empty(dir);
}

int cmd_build(int argc, char **argv) {
  const char *wasm = NULL, *out = NULL, *oci = NULL, *oci_archive = NULL;
  Strv opt = {0}, cmdline = {0}, dirs = {0};
  for (int i = 0; i < argc; i++) {
    const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
    bool takes = one_of(a, (const char *const[]){"-o", "--arg", "--env", "--dir", "--listen", "--restart", "--metrics",
                                                  "--cmdline", "--oci", "--oci-archive", "--smp", "--cpu", NULL});
    if (takes && !v) die("build: %s wants a value", a);
    if (takes) i++;
    if (!strcmp(a, "-o")) out = v;
    else if (!strcmp(a, "--arg")) strv_addf(&cmdline, "arg=%s", pct(v));
    else if (!strcmp(a, "--env")) {
      if (!strchr(v, '=')) die("--env wants NAME=VALUE, got '%s'", v);
      strv_addf(&cmdline, "env=%s", pct(v));
    } else if (!strcmp(a, "--dir")) strv_add(&dirs, v);
    else if (!strcmp(a, "--listen")) strv_addf(&cmdline, "listen=%s", pct(v));
    else if (!strcmp(a, "--restart")) strv_addf(&cmdline, "restart=%s", pct(v));
    else if (!strcmp(a, "--metrics")) {
      if (!all_digits(v)) die("--metrics wants a port, got '%s'", v);
      strv_addf(&cmdline, "metrics=%s", v);
    } else if (!strcmp(a, "--cmdline")) strv_add(&cmdline, v);
    else if (!strcmp(a, "--oci")) oci = v;
    else if (!strcmp(a, "--oci-archive")) oci_archive = v;
    else if (!strcmp(a, "--smp")) {
      if (!smp_value(v)) die("build: --smp wants 1 to 16, got '%s'", v);
      strv_addf(&cmdline, "smp=%s", v);
    } else if (one_of(a, OPT_LEVELS)) strv_add(&opt, a);
    else if (!strcmp(a, "--cpu")) strv_addl(&opt, "--cpu", v, NULL);
    else if (a[0] == '-') die("build: unknown option %s", a);
    else if (wasm) die("build: one APP.wasm only");
    else wasm = a;
  }
  if (!wasm || (!out && !oci && !oci_archive))
    die("usage: kiln build APP.wasm -o OUT.iso|--oci DIR|--oci-archive FILE.tar [options]");
  if (!is_file(wasm)) die("no such file: %s", wasm);
  /* OUT is the ISO; OUT.elf is written beside it (an OUT.elf would be an ISO named .elf). */
  if (out && ends_with(out, ".elf"))
    die("build: -o names the ISO: give -o %s.iso, and %s is written beside it", strip_suffix(out, ".elf"), out);
  need(path_in_build("kiln-aot"));
  need(path_in_build("kernel/kernel.o"));
  if (oci || oci_archive) oci_need_tools();
  /* Never delete a directory that is not an image: --oci replaces an OCI layout only. */
  if (oci && !may_replace_oci(oci))
    die("build: --oci %s exists and is not an OCI image layout; not overwriting it", oci);
  char *name = base_name(wasm, ".wasm");
  /* argv[0] is the app's name and each --arg appends, as in `kiln run --hosted` and wasmtime. */
  Strv line = {0};
  strv_addf(&line, "arg=%s", pct(name));
  for (int i = 0; i < cmdline.n; i++) strv_add(&line, cmdline.v[i]);

  char *listing = inspect_marked(wasm);
  if (!listing) return 1;
  if (strstr(listing, NOT_PROVIDED)) {
    fprintf(stderr, "kiln: %s imports functions the Kiln kernel does not provide:\n", wasm);
    for (char *l = strtok(listing, "\n"); l; l = strtok(NULL, "\n")) {
      char f1[64], f2[64], f3[4096], f4[4096];
      if (strstr(l, NOT_PROVIDED) && sscanf(l, "%63s %63s %4095s %4095s", f1, f2, f3, f4) == 4)
        fprintf(stderr, "  %s %s\n", f3, f4);
    }
    return 1;
  }

  char *work = temp_dir();
  /* Without -o (only --oci...), the ELF and files are made in the work directory and no ISO. */
  bool iso = out != NULL;
  if (!iso) {
    make_dirs(xasprintf("%s/out", work));
    out = xasprintf("%s/out/%s.iso", work, name);
  }
  char *obj = compile_module(wasm, work, &opt);
  if (!obj) return 1;
  char *base = strip_suffix(out, ".iso"), *elf = xasprintf("%s.elf", base), *fs = xasprintf("%s.fs", base);
  /* Debug info stays in the objects; the image carries code, data and symbols only. */
  Strv ld = {0};
  strv_addl(&ld, "ld.lld-19", "-T", xasprintf("%s/boot/linker.ld", kiln_top), "--gc-sections", "--strip-debug",
            "-o", elf, path_in_build("kernel/kernel.o"), obj, NULL);
  proc_must(ld.v);

  if (!make_dirs(xasprintf("%s/iso/boot/grub", work))) die("build: cannot make %s/iso: %s", work, strerror(errno));
  const char *module = "";
  if (dirs.n > 0) {
    char *pack = path_in_build("kiln-pack");
    need(pack);
    Strv p = {0};
    strv_add(&p, pack);
    for (int i = 0; i < dirs.n; i++) strv_add(&p, dirs.v[i]);
    strv_add(&p, "-o");
    strv_add(&p, fs);
    proc_must(p.v);
    if (copy_file(fs, xasprintf("%s/iso/boot/fs.img", work)) != 0) die("build: cannot copy %s: %s", fs, strerror(errno));
    module = "module2 /boot/fs.img fs";
    /* The kernel checks that all of it was loaded and names the --mem needed if not. */
    struct stat st;
    if (stat(fs, &st) != 0) die("build: %s: %s", fs, strerror(errno));
    unsigned long long fsbytes = (unsigned long long)st.st_size;
    strv_addf(&line, "fs=%llu", fsbytes);
    if (mem_need_mib(fsbytes) > 128)
      fprintf(stderr, "kiln: note: the files take %llu MiB: run the image with --mem %luM or more\n", fsbytes >> 20,
              mem_need_mib(fsbytes));
  } else {
    unlink(fs);
  }
  /* The ELF carries its command line, so it boots with it under any loader (urunc passes only
   * the network); OUT.cmdline and the ISO's grub.cfg repeat it for loaders that pass a line. */
  char *joined = strv_join(&line, " "), *lines = strv_join(&line, "\n");
  image_cmdline(elf, joined);
  char *cl_path = xasprintf("%s.cmdline", base), *cl_text = xasprintf("%s\n", lines);
  if (!write_file(cl_path, cl_text, strlen(cl_text))) die("build: cannot write %s: %s", cl_path, strerror(errno));
  if (oci || oci_archive) oci_image(name, elf, fs, joined, oci, oci_archive, work);
  if (!iso) return 0;
  if (copy_file(elf, xasprintf("%s/iso/boot/kernel.elf", work)) != 0) die("build: cannot copy %s: %s", elf, strerror(errno));
  write_grub_cfg(xasprintf("%s/iso/boot/grub/grub.cfg", work), joined, module);
  /* Only the GRUB modules a multiboot2 boot needs, compressed: keeps a hello ISO under 1 MiB. */
  char *log = xasprintf("%s/grub.log", work);
  int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  char *grub[] = {"grub-mkrescue", "-o", (char *)out, "--compress=xz", "--install-modules=multiboot2 normal",
                  "--fonts=", "--locales=", "--themes=", xasprintf("%s/iso", work), NULL};
  int rc = proc_wait(proc_spawn(grub, -1, logfd, logfd, -1));
  close(logfd);
  if (rc != 0) {
    char *text = read_file(log, NULL);
    if (text) fputs(text, stderr);
    die("grub-mkrescue failed");
  }
  return 0;
}
