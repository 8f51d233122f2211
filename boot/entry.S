/* boot/entry.S — the kernel's first instructions. Both loaders enter in 32-bit protected mode
 * with paging off: GRUB at _start through the Multiboot2 header (ELF loading, from the ISO),
 * QEMU -kernel at pvh_start through the PVH note (it loads the ELF's segments itself, no
 * firmware boot loader in between). The trampoline identity-maps the first 4 GiB with 2 MiB
 * pages, enters long mode and calls kmain(magic, info); kernel/vm.c replaces these tables.
 */
#include "boot/loaders.h"

#define KSTACK_SIZE 65536

/* The PVH entry point, as QEMU reads it: a note "Xen" of type PHYS32_ENTRY in a PT_NOTE
 * segment (boot/linker.ld), its descriptor the 32-bit entry address (8 bytes in ELF64). */
  .section .note.Xen, "a", @note
  .balign 4
  .long 4, 8, XEN_ELFNOTE_PHYS32_ENTRY
  .asciz "Xen"
  .balign 4
  .quad pvh_start

/* The image's own kernel command line (kernel/cmdline.c): zeros here, filled by `kiln build`
 * (driver/build.c writes the section's bytes in place, NUL-padded) with the args,
 * environment, listening sockets and options it was given, so the ELF boots with them under
 * any loader. Defined here, apart from the C that reads it, so the compiler cannot take its
 * contents for known zeros. */
  .section .kiln.cmdline, "a"
  .globl kernel_image_cmdline
kernel_image_cmdline:
  .zero 4096 /* BOOT_CMDLINE_MAX (kernel/kernel.h); kiln reads the size from the ELF */

/* The Multiboot2 header comes first in .text (the linker script keeps it at the start). */
  .section .multiboot, "a"
  .balign 8
mb2_header:
  .long MB2_HEADER_MAGIC, MB2_ARCH_I386, mb2_header_end - mb2_header
  .long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))
  .balign 8
  .short MB2_HTAG_ENTRY, 0
  .long 12, _start
  .balign 8
  .short MB2_HTAG_END, 0
  .long 8
mb2_header_end:

  .text
  .code32
  /* PVH: EBX holds the start_info; its magic in EAX tells kmain which loader this was. */
  .globl pvh_start
pvh_start:
  movl $PVH_START_MAGIC, %eax
  /* fall through */
  .globl _start
_start:
  cli
  cld
  movl %eax, boot_magic
  movl %ebx, boot_info
  movl $boot_stack_top, %esp

  /* Long mode available? (CPUID 0x80000001 EDX bit 29) */
  movl $0x80000000, %eax
  cpuid
  cmpl $0x80000001, %eax
  jb no_long_mode
  movl $0x80000001, %eax
  cpuid
  btl $29, %edx
  jnc no_long_mode
  movl %edx, %ebp                 /* keep bit 20 (NX) for EFER below */

  /* Zero .bss (the loaders should have; be sure, the page tables live there). */
  movl $__bss_start, %edi
  movl $__kernel_end, %ecx
  subl %edi, %ecx
  shrl $2, %ecx
  xorl %eax, %eax
  rep stosl

  /* PML4[0] -> PDPT, PDPT[0..3] -> PD0..3, PD entries: 2048 x 2 MiB = 4 GiB identity. */
  movl $boot_pdpt, %eax
  orl $3, %eax
  movl %eax, boot_pml4
  xorl %ecx, %ecx
1:
  movl %ecx, %eax
  shll $12, %eax
  addl $boot_pd, %eax
  orl $3, %eax
  movl %eax, boot_pdpt(,%ecx,8)
  incl %ecx
  cmpl $4, %ecx
  jb 1b
  xorl %ecx, %ecx
2:
  movl %ecx, %eax
  shll $21, %eax
  orl $0x83, %eax                 /* present, writable, 2 MiB */
  movl %eax, boot_pd(,%ecx,8)
  incl %ecx
  cmpl $2048, %ecx
  jb 2b

  /* PAE, then CR3, then EFER.LME (+NXE when the CPU has NX), then paging. */
  movl %cr4, %eax
  orl $(1 << 5), %eax
  movl %eax, %cr4
  movl $boot_pml4, %eax
  movl %eax, %cr3
  movl $0xC0000080, %ecx
  rdmsr
  orl $(1 << 8), %eax
  btl $20, %ebp
  jnc 3f
  orl $(1 << 11), %eax
3:
  wrmsr
  movl %cr0, %eax
  orl $0x80010001, %eax           /* PG | WP | PE */
  movl %eax, %cr0

  lgdt gdt_ptr
  ljmp $0x08, $long_entry

no_long_mode:
  /* The status line of the exit protocol, then the panic status for isa-debug-exit. */
  movl $no_lm_msg, %esi
4:
  movb (%esi), %al
  testb %al, %al
  jz 5f
  outb %al, $0xe9
  movw $0x3f8, %dx
  outb %al, %dx
  incl %esi
  jmp 4b
5:
  movb $0x7f, %al
  outb %al, $0xf4
6:
  hlt
  jmp 6b

  .code64
long_entry:
  movw $0x10, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs
  movq $boot_stack_top, %rsp
  xorl %ebp, %ebp
  movl boot_magic(%rip), %edi
  movl boot_info(%rip), %esi
  call kmain
7:
  cli
  hlt
  jmp 7b

  .section .rodata
no_lm_msg:
  .asciz "panic CPU lacks long mode (x86-64)\n"

  .data
  .balign 16
  /* null, 64-bit code (0x08), data (0x10), then a TSS descriptor (0x18) that kernel/cpu.c fills. */
  .globl gdt
gdt:
  .quad 0
  .quad 0x00af9a000000ffff
  .quad 0x00cf92000000ffff
  .quad 0, 0
gdt_end:
  .globl gdt_ptr
gdt_ptr:
  .short gdt_end - gdt - 1
  .quad gdt
boot_magic:
  .long 0
boot_info:
  .long 0

  .bss
  .balign 4096
  /* Also the tables the other processors start on (kernel/ap_start.S). */
  .globl boot_pml4
boot_pml4:
  .skip 4096
boot_pdpt:
  .skip 4096
boot_pd:
  .skip 4 * 4096
  /* kernel/vm.c leaves this page unmapped so a kernel stack overflow faults. */
  .globl boot_stack_guard
boot_stack_guard:
  .skip 4096
  .globl boot_stack_top
boot_stack:
  .skip KSTACK_SIZE
boot_stack_top:
