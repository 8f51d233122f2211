/* driver/oci.c — kiln build --oci DIR, --oci-archive FILE.tar: OCI images for urunc
 * (docs/deploy.md), made with Debian's umoci (layout, layer, config) and skopeo (archive).
 * The image's files: /boot/kernel.elf, /boot/fs.img when there are files (urunc passes it as
 * -initrd, which reaches the kernel as a PVH module), and /urunc.json. urunc reads its
 * com.urunc.unikernel.* keys from the container's annotations, which come from the image's
 * config labels (as `umoci unpack` and containerd's CRI turn them into the runtime spec) or,
 * for tools that drop them, from /urunc.json with every value base64-encoded. Kiln images run
 * as urunc's "mewz" type: its QEMU command line passes only "ip=A/BITS gateway=G", and the ELF
 * carries everything else. The manifest's annotations repeat the keys. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "driver/driver.h"

#define OCI_BINARY "/boot/kernel.elf"
#define OCI_INITRD "/boot/fs.img"

void oci_need_tools(void) {
  const char *tools[] = {"umoci", "skopeo"};
  for (int i = 0; i < 2; i++)
    if (!proc_in_path(tools[i], NULL))
      die("build: --oci needs %s (Debian package %s; run 'make deps' or tools/deps.sh)", tools[i], tools[i]);
}

static char *base64(const char *s) {
  static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t n = strlen(s);
  char *out = malloc(4 * (n / 3 + 1) + 1), *o = out;
  if (!out) die("out of memory");
  const unsigned char *p = (const unsigned char *)s;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned)p[i] << 16 | (i + 1 < n ? (unsigned)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
    *o++ = abc[v >> 18 & 63];
    *o++ = abc[v >> 12 & 63];
    *o++ = i + 1 < n ? abc[v >> 6 & 63] : '=';
    *o++ = i + 2 < n ? abc[v & 63] : '=';
  }
  *o = 0;
  return out;
}

/* Runs the umoci commands in turn (each a NULL-terminated argv); dies with WHY if one fails. */
static void umoci_steps(Strv *steps, int n, const char *why) {
  for (int i = 0; i < n; i++) {
    int out = -1;
    /* unpack lists what it did on stdout: not ours to show */
    if (!strcmp(steps[i].v[1], "unpack")) out = open("/dev/null", O_WRONLY | O_CLOEXEC);
    int rc = proc_wait(proc_spawn(steps[i].v, -1, out, -1, -1));
    if (out >= 0) close(out);
    if (rc != 0) die("%s", why);
  }
}

/* The layout in DIR and/or the archive (either may be NULL). */
void oci_image(const char *name, const char *elf, const char *fs, const char *cmdline,
               const char *dir, const char *archive, const char *work) {
  char *lay = xasprintf("%s/oci", work), *bundle = xasprintf("%s/bundle", work);
  char *image = xasprintf("%s:latest", lay);
  const char *keys[5] = {"com.urunc.unikernel.unikernelType", "com.urunc.unikernel.hypervisor",
                         "com.urunc.unikernel.binary", "com.urunc.unikernel.cmdline"};
  const char *vals[5] = {"mewz", "qemu", OCI_BINARY, cmdline};
  int nkeys = 4;
  bool initrd = is_file(fs);
  if (initrd) {
    keys[nkeys] = "com.urunc.unikernel.initrd";
    vals[nkeys++] = OCI_INITRD;
  }
  /* umoci insert (0.4.7) writes a layer whose tar stream is cut short: unpack an empty image,
   * fill its rootfs, repack. */
  Strv make[3] = {0};
  strv_addl(&make[0], "umoci", "init", "--layout", lay, NULL);
  strv_addl(&make[1], "umoci", "new", "--image", image, NULL);
  strv_addl(&make[2], "umoci", "unpack", NULL);
  if (getuid() != 0) strv_add(&make[2], "--rootless");
  strv_addl(&make[2], "--image", image, bundle, NULL);
  umoci_steps(make, 3, "build: umoci could not make an image");

  char *boot = xasprintf("%s/rootfs/boot", bundle);
  if (!make_dirs(boot)) die("build: cannot make %s: %s", boot, strerror(errno));
  if (copy_file(elf, xasprintf("%s/rootfs" OCI_BINARY, bundle)) != 0 ||
      (initrd && copy_file(fs, xasprintf("%s/rootfs" OCI_INITRD, bundle)) != 0))
    die("build: cannot copy the image's files into %s: %s", bundle, strerror(errno));
  /* The entrypoint is never run (urunc boots the binary); Kubernetes refuses an image without one. */
  Strv write[3] = {0}, json = {0};
  strv_addl(&write[0], "umoci", "repack", "--image", image, bundle, NULL);
  strv_addl(&write[1], "umoci", "config", "--image", image, "--config.entrypoint", OCI_BINARY,
            "--history.created_by", NULL);
  strv_addf(&write[1], "kiln build %s", name);
  for (int k = 0; k < nkeys; k++) {
    strv_addf(&json, "\"%s\":\"%s\"", keys[k], base64(vals[k]));
    strv_add(&write[1], "--config.label");
    strv_addf(&write[1], "%s=%s", keys[k], vals[k]);
    strv_add(&write[1], "--manifest.annotation");
    strv_addf(&write[1], "%s=%s", keys[k], vals[k]);
  }
  strv_addl(&write[2], "umoci", "gc", "--layout", lay, NULL);
  char *urunc = xasprintf("{%s}\n", strv_join(&json, ","));
  if (!write_file(xasprintf("%s/rootfs/urunc.json", bundle), urunc, strlen(urunc)))
    die("build: cannot write %s/rootfs/urunc.json: %s", bundle, strerror(errno));
  umoci_steps(write, 3, "build: umoci could not write the image");

  if (dir) {
    rm_rf(dir);
    char *cp[] = {"cp", "-r", lay, (char *)dir, NULL};
    proc_must(cp);
  }
  if (archive) {
    unlink(archive);
    /* The name podman load gives it: a reference is lower case, of [a-z0-9._-]. */
    char *ref = xasprintf("%s", name);
    for (char *c = ref; *c; c++) {
      if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
      if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("._-", *c))) *c = '-';
    }
    char *skopeo[] = {"skopeo", "copy", "--quiet", xasprintf("oci:%s", image),
                      xasprintf("oci-archive:%s:kiln/%s:latest", archive, ref), NULL};
    if (proc_run(skopeo) != 0) die("build: skopeo could not write %s", archive);
  }
}
