/* kernel/multiboot.c — reads the boot information of either loader (Multiboot1 from QEMU
 * -kernel, Multiboot2 from GRUB) into one struct boot_info: usable RAM, modules, command
 * line. Everything is copied out, because the loader's structures sit in memory the page
 * allocator is about to hand out (QEMU puts them right after the kernel image). */
#include "boot/multiboot.h"
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

static int parse_mb1(const struct mb1_info *mi, struct boot_info *bi, char *err, size_t errlen) {
  if (mi->flags & MB1_INFO_CMDLINE) copy_str(bi->cmdline, sizeof bi->cmdline, (const char *)(uintptr_t)mi->cmdline);
  if (mi->flags & MB1_INFO_MMAP) {
    uintptr_t p = mi->mmap_addr, end = p + mi->mmap_length;
    while (p + sizeof(struct mb1_mmap_entry) <= end) {
      const struct mb1_mmap_entry *e = (const void *)p;
      add_region(bi, e->addr, e->len, e->type);
      if (e->size < 20) break; /* malformed: would loop or misread */
      p += e->size + 4;
    }
  } else if (mi->flags & MB1_INFO_MEMORY) {
    add_region(bi, 0, (uint64_t)mi->mem_lower << 10, MB_MEMORY_AVAILABLE);
    add_region(bi, 1 << 20, (uint64_t)mi->mem_upper << 10, MB_MEMORY_AVAILABLE);
  }
  if (mi->flags & MB1_INFO_MODS) {
    const struct mb1_module *m = (const void *)(uintptr_t)mi->mods_addr;
    for (uint32_t i = 0; i < mi->mods_count; i++)
      add_module(bi, m[i].mod_start, m[i].mod_end, (const char *)(uintptr_t)m[i].string);
  }
  if (!bi->nregions) {
    ksnprintf(err, errlen, "multiboot1: no memory information (flags %#x)", mi->flags);
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

int multiboot_parse(uint32_t magic, uintptr_t info, struct boot_info *out, char *err, size_t errlen) {
  memset(out, 0, sizeof *out);
  if (magic == MB1_BOOT_MAGIC) {
    out->version = 1;
    return parse_mb1((const void *)info, out, err, errlen);
  }
  if (magic == MB2_BOOT_MAGIC) {
    out->version = 2;
    return parse_mb2(info, out, err, errlen);
  }
  ksnprintf(err, errlen, "not started by a multiboot loader (magic %#x)", magic);
  return -1;
}

/* fs=BYTES on the command line (kiln build writes it with the image's files): the loader must
 * have loaded that many bytes of modules and left room to run. Without the check an ISO boots
 * with its directory silently missing (GRUB could not load it) and -kernel -initrd ends in a
 * panic about page tables; this names the --mem that would do. */
/* Kernel, page tables, heap, network buffers, a small app. --mem is asked 2 MiB above it: QEMU's
 * -m N leaves about N - 1 MiB usable (the low MiB and firmware areas). `kiln` does the same sum. */
#define KERNEL_MIN_RAM (16ull << 20)
void boot_check_files(const struct boot_info *bi) {
  const char *v = kernel_cmdline_get("fs");
  if (!v) return;
  uint64_t want = 0, got = 0, ram = 0;
  for (; *v >= '0' && *v <= '9'; v++) want = want * 10 + (uint64_t)(*v - '0');
  for (int i = 0; i < bi->nmodules; i++) got += bi->modules[i].end - bi->modules[i].start;
  for (int i = 0; i < bi->nregions; i++) ram += bi->regions[i].len;
  if (got >= want && ram >= got + KERNEL_MIN_RAM) return;
  panic("the image's files (%lu MiB) do not fit in this VM's %lu MiB of RAM: run it with --mem %luM or more",
        (want + (1 << 20) - 1) >> 20, ram >> 20, ((want + (1 << 20) - 1) >> 20) + 18);
}
