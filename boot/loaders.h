/* boot/loaders.h — constants and records of the two ways the kernel is started: Multiboot2 2.0
 * (GRUB, from the ISO) and PVH, Xen's x86/HVM direct boot ABI (QEMU -kernel with an ELF that
 * carries the PVH note), transcribed from the Multiboot2 specification and Xen's
 * public/arch-x86/hvm/start_info.h. Used by boot/entry.S (headers, note) and kernel/bootinfo.c
 * (boot information). Assembler-safe above the __ASSEMBLER__ guard.
 */
#ifndef KILN_LOADERS_H
#define KILN_LOADERS_H

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

/* PVH: the ELF note (name "Xen") whose descriptor is the 32-bit entry point, and the magic of
 * struct hvm_start_info, whose address is in EBX at that entry (paging off, flat segments). */
#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define PVH_START_MAGIC 0x336EC578

/* Memory map entry types (Multiboot2 and PVH, as E820) */
#define MB_MEMORY_AVAILABLE 1

#ifndef __ASSEMBLER__
#include <stdint.h>

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

struct pvh_start_info {
  uint32_t magic; /* PVH_START_MAGIC */
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr; /* struct pvh_module[nr_modules] */
  uint64_t cmdline_paddr; /* a C string, or 0 */
  uint64_t rsdp_paddr;
  uint64_t memmap_paddr; /* version 1 and later: struct pvh_memmap_entry[memmap_entries] */
  uint32_t memmap_entries;
  uint32_t reserved;
};

struct pvh_module {
  uint64_t paddr, size;
  uint64_t cmdline_paddr;
  uint64_t reserved;
};

struct pvh_memmap_entry {
  uint64_t addr, size;
  uint32_t type, reserved;
};
#endif

#endif
