# drivers/: device drivers linked into the kernel. serial.c is the console; PCI and virtio
# (networking) add their objects here too.
KERNEL_OBJS += $(B)/k/drivers/serial.o $(B)/k/drivers/fw_cfg.o $(B)/k/drivers/virtio_console.o $(B)/k/drivers/virtio_balloon.o
