# kernel/: the freestanding x86-64 core. Objects are appended after boot/entry.o (boot/boot.mk);
# the Makefile combines all KERNEL_OBJS into build/kernel/kernel.o.
KERNEL_OBJS += $(addprefix $(B)/k/kernel/, main.o bootinfo.o cpu.o trap.o vectors.o pic.o pmem.o vm.o \
  heap.o time.o cmdline.o printf.o console.o exit.o string.o call.o switch.o app.o random.o wasi_plat.o selftest.o \
  acpi.o smp.o ap_start.o sched.o wasi_lock.o \
  lifecycle.o lifecycle_core.o restart_policy.o metrics_text.o)
# kernel/instance.c is written with the hosted runtime; linked in once it exists.
KERNEL_OBJS += $(if $(wildcard kernel/instance.c),$(B)/k/kernel/instance.o)
