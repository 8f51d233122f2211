/* kernel/ap_start.S — how another processor gets from its start-up IPI to C. The trampoline
 * (ap_tramp_start..ap_tramp_end) is copied by kernel/smp.c to AP_TRAMP, a page below 1 MiB,
 * because a SIPI starts the processor in real mode at vector * 4 KiB. It goes to protected
 * mode, then to long mode on the boot page tables (boot/entry.S: 4 GiB identity, executable,
 * so the copy can run there), and jumps to ap_entry64 in kernel text, which switches to the
 * kernel's own tables (where the copy is not executable) and to the processor's stack.
 * smp.c fills the last 8 bytes of the copy (boot CR3, EFER bits) and the ap_boot_* globals.
 */
#define AP_TRAMP 0x8000
#define ABS(x) ((x) - ap_tramp_start + AP_TRAMP)

  .section .rodata
  .balign 16
  .globl ap_tramp_start, ap_tramp_end
ap_tramp_start:
  .code16
  cli
  cld
  movw %cs, %ax
  movw %ax, %ds
  lgdtl tr_gdtr - ap_tramp_start
  movl %cr0, %eax
  orl $1, %eax
  movl %eax, %cr0
  ljmpl $0x18, $ABS(tr_pm32)

  .code32
tr_pm32:
  movw $0x10, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  movl %cr4, %eax
  orl $(1 << 5), %eax /* PAE */
  movl %eax, %cr4
  movl ABS(tr_cr3), %eax
  movl %eax, %cr3
  movl $0xC0000080, %ecx
  rdmsr
  orl ABS(tr_efer), %eax /* LME, and NXE when the CPU has NX (the kernel's tables use it) */
  wrmsr
  movl %cr0, %eax
  orl $0x80010001, %eax /* PG | WP | PE */
  movl %eax, %cr0
  ljmpl $0x08, $ABS(tr_lm64)

  .code64
tr_lm64:
  movabsq $ap_entry64, %rax
  jmpq *%rax

  .balign 8
  /* null, 64-bit code (0x08) and data (0x10) as in the kernel's GDT, 32-bit code (0x18) */
tr_gdt:
  .quad 0
  .quad 0x00af9a000000ffff
  .quad 0x00cf92000000ffff
  .quad 0x00cf9a000000ffff
tr_gdtr:
  .short tr_gdtr - tr_gdt - 1
  .long ABS(tr_gdt)
  .balign 4
tr_cr3:
  .long 0
tr_efer:
  .long 0
ap_tramp_end:

  .text
  .code64
  .globl ap_entry64
ap_entry64:
  movw $0x10, %ax
  movw %ax, %ds
  movw %ax, %es
  movw %ax, %ss
  xorw %ax, %ax
  movw %ax, %fs
  movw %ax, %gs
  movq ap_boot_cr3(%rip), %rax
  movq %rax, %cr3
  movq ap_boot_stack(%rip), %rsp
  movq ap_boot_cpu(%rip), %rdi
  xorl %ebp, %ebp
  call ap_main
1:
  cli
  hlt
  jmp 1b
