# tools/: programs the `kiln` driver runs on the host beside QEMU (deps.sh is run by the Makefile).
#   kiln-fwd   the TCP forwarder of `kiln run --fwd` (a real listen backlog in front of QEMU's)
$(B)/kiln-fwd: tools/kiln-fwd.c $(DEPS)
	$(CC) $(HOST_CFLAGS) -o $@ $<
ALL += $(B)/kiln-fwd
