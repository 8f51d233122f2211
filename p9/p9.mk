# p9/: the 9P2000.L client (kernel only), its virtio transport in drivers/, and the WASI
# backend (wasi/vfs.h) that serves `kiln run --volume` preopens over it.
KERNEL_OBJS += $(B)/k/p9/client.o $(B)/k/p9/resolve.o $(B)/k/p9/volume.o $(B)/k/drivers/virtio_9p.o

# tests/volume: the Wasm app that changes a volume for the host to check.
$(B)/tests/volume/volcheck.wasm: tests/volume/volcheck.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
