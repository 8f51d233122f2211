/* boot/multiboot.h — constants and records of Multiboot 0.6.96 (QEMU -kernel) and Multiboot2
 * 2.0 (GRUB), transcribed from the two specifications. Used by boot/entry.S (headers) and
 * kernel/multiboot.c (boot information). Assembler-safe above the __ASSEMBLER__ guard.
 */
#ifndef KILN_MULTIBOOT_H
#define KILN_MULTIBOOT_H

/* Multiboot 1 */
#define MB1_HEADER_MAGIC 0x1BADB002
#define MB1_BOOT_MAGIC 0x2BADB002       /* in EAX at entry */
#define MB1_FLAG_PAGE_ALIGN (1 << 0)    /* modules page-aligned */
#define MB1_FLAG_MEMORY_INFO (1 << 1)   /* mem_* and mmap_* wanted */
#define MB1_FLAG_AOUT_KLUDGE (1 << 16)  /* load by the address fields, not the ELF headers */

#define MB1_INFO_MEMORY (1 << 0)
#define MB1_INFO_CMDLINE (1 << 2)
#define MB1_INFO_MODS (1 << 3)
#define MB1_INFO_MMAP (1 << 6)

/* Multiboot 2 */
#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_BOOT_MAGIC 0x36D76289
#define MB2_ARCH_I386 0
#define MB2_HTAG_END 0
#define MB2_HTAG_ENTRY 3

#define MB2_TAG_END 0
#define MB2_TAG_CMDLINE 1
#define MB2_TAG_MODULE 3
#define MB2_TAG_BASIC_MEMINFO 4
#define MB2_TAG_MMAP 6

/* Memory map entry types (both versions) */
#define MB_MEMORY_AVAILABLE 1

#ifndef __ASSEMBLER__
#include <stdint.h>

struct mb1_info {
  uint32_t flags;
  uint32_t mem_lower, mem_upper; /* KiB below 1 MiB / above 1 MiB */
  uint32_t boot_device;
  uint32_t cmdline;             /* physical address of a C string */
  uint32_t mods_count, mods_addr;
  uint32_t syms[4];
  uint32_t mmap_length, mmap_addr;
  /* drives, config table, loader name, apm, vbe, framebuffer follow; unused */
};

struct mb1_module {
  uint32_t mod_start, mod_end;
  uint32_t string; /* physical address of a C string */
  uint32_t reserved;
};

/* Entries are variable-sized: `size` excludes the size field itself. */
struct __attribute__((packed)) mb1_mmap_entry {
  uint32_t size;
  uint64_t addr, len;
  uint32_t type;
};

struct mb2_info_header {
  uint32_t total_size, reserved;
};

struct mb2_tag {
  uint32_t type, size; /* size includes this header; tags are 8-byte aligned */
};

struct mb2_tag_module {
  uint32_t type, size;
  uint32_t mod_start, mod_end;
  char string[];
};

struct mb2_tag_meminfo {
  uint32_t type, size;
  uint32_t mem_lower, mem_upper;
};

struct mb2_tag_mmap {
  uint32_t type, size;
  uint32_t entry_size, entry_version;
  /* entries of entry_size bytes follow */
};

struct mb2_mmap_entry {
  uint64_t addr, len;
  uint32_t type, reserved;
};
#endif

#endif
