# boot/: the PVH and Multiboot2 entry and 32->64-bit trampoline (first kernel object), the linker
# script and the GRUB configuration template.
#
# What `kiln build` does with these (both boot paths from one file):
#   ld.lld-19 -T boot/linker.ld -o APP.elf build/kernel/kernel.o app.o
#   APP.elf boots as is with QEMU -kernel (PVH note: QEMU loads the ELF itself) and, copied
#   to ISO/boot/kernel.elf next to boot/grub.cfg (with @CMDLINE@ and @MODULES@ replaced),
#   from `grub-mkrescue -o APP.iso ISO/` (multiboot2).
KERNEL_OBJS += $(B)/k/boot/entry.o
