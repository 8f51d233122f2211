# p9/: the 9P2000.L client (kernel only) and its virtio transport in drivers/.
KERNEL_OBJS += $(B)/k/p9/client.o $(B)/k/drivers/virtio_9p.o
