/* kernel/vectors.S — the 256 interrupt entry stubs. Each pushes a zero error code when the
 * CPU does not push one, then its vector number, and joins trap_common, which saves the
 * general registers as a struct trapframe (kernel/kernel.h) and calls trap_dispatch(tf).
 * SSE registers are not saved: kernel C code is built with -mgeneral-regs-only. */

  .text
  .code64
trap_common:
  pushq %rax
  pushq %rbx
  pushq %rcx
  pushq %rdx
  pushq %rsi
  pushq %rdi
  pushq %rbp
  pushq %r8
  pushq %r9
  pushq %r10
  pushq %r11
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  cld
  movq %rsp, %rdi
  movq %rsp, %rbx
  andq $-16, %rsp
  call trap_dispatch
  movq %rbx, %rsp
/* Back to the interrupted code from the struct trapframe at rsp (also where a preempted thread
 * resumes: kernel/switch.S's sched_preempt_stub). */
  .globl trap_return
trap_return:
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %r11
  popq %r10
  popq %r9
  popq %r8
  popq %rbp
  popq %rdi
  popq %rsi
  popq %rdx
  popq %rcx
  popq %rbx
  popq %rax
  addq $16, %rsp /* vector and error code */
  iretq

/* Vectors whose exceptions push an error code: 8, 10-14, 17, 21, 29, 30. */
.macro stub n
  .balign 16
vector\n:
  .if (\n == 8) || (\n >= 10 && \n <= 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
  .else
  pushq $0
  .endif
  pushq $\n
  jmp trap_common
.endm

  .balign 16
  .globl trap_vectors_start
trap_vectors_start:
.altmacro
.set i, 0
.rept 256
  stub %i
  .set i, i + 1
.endr

  .section .rodata
  .balign 8
  .globl trap_vectors
trap_vectors:
.macro vecaddr n
  .quad vector\n
.endm
.set i, 0
.rept 256
  vecaddr %i
  .set i, i + 1
.endr
