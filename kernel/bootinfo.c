/* kernel/bootinfo.c — reads the boot information of either loader (PVH from QEMU -kernel,
 * Multiboot2 from GRUB) into one struct boot_info: usable RAM, modules, command line.
 * Everything is copied out, because the loader's structures sit in memory the page allocator
 * is about to hand out. */
#include "boot/loaders.h"
#include "kernel/kernel.h"

struct boot_info boot_info;

static void copy_str(char *dst, size_t cap, const char *src) {
  size_t i = 0;
  if (src)
    for (; src[i] && i + 1 < cap; i++) dst[i] = src[i];
  dst[i] = 0;
}

static void add_region(struct boot_info *bi, uint64_t addr, uint64_t len, uint32_t type) {
  if (type != MB_MEMORY_AVAILABLE || len == 0 || bi->nregions == BOOT_MAX_REGIONS) return;
  bi->regions[bi->nregions].addr = addr;
  bi->regions[bi->nregions].len = len;
  bi->nregions++;
}

static void add_module(struct boot_info *bi, uint64_t start, uint64_t end, const char *name) {
  if (bi->nmodules == BOOT_MAX_MODULES || end < start) return;
  struct boot_module *m = &bi->modules[bi->nmodules++];
  m->start = start;
  m->end = end;
  copy_str(m->name, sizeof m->name, name);
}

/* PVH: pvh_start (boot/entry.S) passes the start_info's own magic as the loader's. */
static int parse_pvh(const struct pvh_start_info *si, struct boot_info *bi, char *err, size_t errlen) {
  bi->rsdp = si->rsdp_paddr;
  if (si->cmdline_paddr) copy_str(bi->cmdline, sizeof bi->cmdline, (const char *)(uintptr_t)si->cmdline_paddr);
  if (si->version >= 1) {
    const struct pvh_memmap_entry *e = (const void *)(uintptr_t)si->memmap_paddr;
    for (uint32_t i = 0; e && i < si->memmap_entries; i++) add_region(bi, e[i].addr, e[i].size, e[i].type);
  }
  const struct pvh_module *m = (const void *)(uintptr_t)si->modlist_paddr;
  for (uint32_t i = 0; m && i < si->nr_modules; i++)
    add_module(bi, m[i].paddr, m[i].paddr + m[i].size,
               m[i].cmdline_paddr ? (const char *)(uintptr_t)m[i].cmdline_paddr : "");
  if (!bi->nregions) {
    ksnprintf(err, errlen, "PVH: no memory map (start_info version %u)", si->version);
    return -1;
  }
  return 0;
}

static int parse_mb2(uintptr_t info, struct boot_info *bi, char *err, size_t errlen) {
  const struct mb2_info_header *h = (const void *)info;
  uintptr_t p = info + 8, end = info + h->total_size;
  int have_mmap = 0;
  uint32_t lower = 0, upper = 0;
  while (p + 8 <= end) {
    const struct mb2_tag *t = (const void *)p;
    if (t->type == MB2_TAG_END) break;
    if (t->size < 8 || p + t->size > end) {
      ksnprintf(err, errlen, "multiboot2: malformed tag %u of size %u", t->type, t->size);
      return -1;
    }
    switch (t->type) {
    case MB2_TAG_CMDLINE:
      copy_str(bi->cmdline, sizeof bi->cmdline, (const char *)(p + 8));
      break;
    case MB2_TAG_MODULE: {
      const struct mb2_tag_module *m = (const void *)p;
      add_module(bi, m->mod_start, m->mod_end, m->string);
      break;
    }
    case MB2_TAG_BASIC_MEMINFO: {
      const struct mb2_tag_meminfo *m = (const void *)p;
      lower = m->mem_lower, upper = m->mem_upper;
      break;
    }
    case MB2_TAG_MMAP: {
      const struct mb2_tag_mmap *m = (const void *)p;
      if (m->entry_size < sizeof(struct mb2_mmap_entry)) break;
      for (uintptr_t e = p + sizeof *m; e + m->entry_size <= p + t->size; e += m->entry_size) {
        const struct mb2_mmap_entry *me = (const void *)e;
        add_region(bi, me->addr, me->len, me->type);
      }
      have_mmap = 1;
      break;
    }
    }
    p += (t->size + 7) & ~7u;
  }
  if (!have_mmap && upper) {
    add_region(bi, 0, (uint64_t)lower << 10, MB_MEMORY_AVAILABLE);
    add_region(bi, 1 << 20, (uint64_t)upper << 10, MB_MEMORY_AVAILABLE);
  }
  if (!bi->nregions) {
    ksnprintf(err, errlen, "multiboot2: no memory map");
    return -1;
  }
  return 0;
}

int boot_parse(uint32_t magic, uintptr_t info, struct boot_info *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (magic == PVH_START_MAGIC && ((const struct pvh_start_info *)info)->magic == PVH_START_MAGIC) {
    out->loader = "PVH";
    return parse_pvh((const void *)info, out, err, errlen);
  }
  if (magic == MB2_BOOT_MAGIC) {
    out->loader = "multiboot2";
    return parse_mb2(info, out, err, errlen);
  }
  ksnprintf(err, errlen, "not started by a PVH or Multiboot2 loader (magic %#x)", magic);
  return -1;
}

/* fs=BYTES on the command line (kiln build writes it with the image's files): the loader must
 * have loaded that many bytes of modules and left room to run. Without the check an ISO boots
 * with its directory silently missing (GRUB could not load it) and -kernel -initrd ends in a
 * panic about page tables; this names the --mem that would do. */
/* Kernel, page tables, heap, network buffers, a small app: examples/http-server serves its
 * 1 MiB of files from -m 7M (6 MiB usable: 5 beside the files), so 6 MiB with a margin; a
 * cluster packs VMs by this figure (docs/deploy.md). --mem is asked 2 MiB above it: QEMU's
 * -m N leaves about N - 1 MiB usable (the low MiB and firmware areas). `kiln` does the same sum. */
#define KERNEL_MIN_RAM ((uint64_t)6 << 20)
void boot_check_files(const struct boot_info *bi) {
  const char *v = kernel_cmdline_get("fs");
  if (!v) return;
  uint64_t want = 0, got = 0, ram = 0;
  for (; *v >= '0' && *v <= '9'; v++) want = want * 10 + (uint64_t)(*v - '0');
  for (int i = 0; i < bi->nmodules; i++) got += bi->modules[i].end - bi->modules[i].start;
  for (int i = 0; i < bi->nregions; i++) ram += bi->regions[i].len;
  if (got >= want && ram >= got + KERNEL_MIN_RAM) return;
  /* No files although they would fit: a loader that got the ELF alone (its files are APP.fs
   * beside it, /boot/fs.img in the OCI image). Say so, rather than blame the RAM. */
  if (!bi->nmodules && ram >= want + KERNEL_MIN_RAM) panic("the image's files (%lu bytes) were not loaded: boot it with -initrd APP.fs", want);
  panic("the image's files (%lu MiB) do not fit in this VM's %lu MiB of RAM: run it with --mem %luM or more",
        (want + (1 << 20) - 1) >> 20, ram >> 20, ((want + (1 << 20) - 1) >> 20) + (KERNEL_MIN_RAM >> 20) + 2);
}
