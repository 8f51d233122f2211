/* kernel/switch.S — the non-C parts of kiln_plat_call (kernel/call.c): a setjmp/longjmp pair
 * that also saves RFLAGS (a trap unwinds from a fault handler, where interrupts are off), and
 * a call made on another stack. SSE state is not saved: nothing lives in it across a call. */
  .text
  .code64

/* int kjmp_set(struct kjmp *j)  -- rbx rbp r12 r13 r14 r15 rsp rip rflags */
  .globl kjmp_set
kjmp_set:
  movq %rbx, 0(%rdi)
  movq %rbp, 8(%rdi)
  movq %r12, 16(%rdi)
  movq %r13, 24(%rdi)
  movq %r14, 32(%rdi)
  movq %r15, 40(%rdi)
  leaq 8(%rsp), %rax
  movq %rax, 48(%rdi)
  movq (%rsp), %rax
  movq %rax, 56(%rdi)
  pushfq
  popq %rax
  movq %rax, 64(%rdi)
  xorl %eax, %eax
  ret

/* _Noreturn void kjmp_long(struct kjmp *j, int v): kjmp_set returns v (1 if v is 0). */
  .globl kjmp_long
kjmp_long:
  movl %esi, %eax
  testl %eax, %eax
  jnz 1f
  incl %eax
1:
  movq 0(%rdi), %rbx
  movq 8(%rdi), %rbp
  movq 16(%rdi), %r12
  movq 24(%rdi), %r13
  movq 32(%rdi), %r14
  movq 40(%rdi), %r15
  movq 48(%rdi), %rsp
  pushq 64(%rdi)
  popfq
  jmpq *56(%rdi)

/* void call_on_stack(tramp, fn, ctx, vals, sp): tramp(fn, ctx, vals) with rsp = sp, or on
 * the current stack when sp is 0. */
  .globl call_on_stack
call_on_stack:
  pushq %rbp
  movq %rsp, %rbp
  testq %r8, %r8
  jz 2f
  movq %r8, %rsp
2:
  andq $-16, %rsp
  movq %rdi, %rax
  movq %rsi, %rdi
  movq %rdx, %rsi
  movq %rcx, %rdx
  callq *%rax
  movq %rbp, %rsp
  popq %rbp
  ret

/* void sched_switch(uint64_t *save_rsp, uint64_t rsp) (kernel/sched.c): saves the callee-saved
 * registers on this stack and its rsp in *save_rsp, then resumes the stack rsp (a thread that
 * switched away here, or a fresh one prepared to return into sched_thread_entry). */
  .globl sched_switch
sched_switch:
  pushq %rbp
  pushq %rbx
  pushq %r12
  pushq %r13
  pushq %r14
  pushq %r15
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  popq %r15
  popq %r14
  popq %r13
  popq %r12
  popq %rbx
  popq %rbp
  ret

  .globl sched_thread_entry
sched_thread_entry:
  andq $-16, %rsp
  call sched_thread_start
  ud2

/* Where a preempted thread resumes (kernel/sched.c's sched_tick): its interrupted registers
 * are a struct trapframe at rsp; after the switch, back to them as the interrupt would have
 * (kernel/vectors.S's trap_return). */
  .globl sched_preempt_stub
sched_preempt_stub:
  call sched_preempt
  jmp trap_return
