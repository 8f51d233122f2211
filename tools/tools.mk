# tools/: host programs `kiln` runs beside QEMU (deps.sh is run by the Makefile):
#   kiln-fwd    the TCP forwarder of `kiln run --fwd` (a real listen backlog in front of QEMU's)
#   kiln-stdin  frames the host's stdin for the VM's console, with end of input (kiln run)
$(B)/kiln-fwd: $(B)/h/tools/kiln-fwd.o
	$(CC) -o $@ $^
$(B)/kiln-stdin: $(B)/h/tools/kiln-stdin.o
	$(CC) -o $@ $^
ALL += $(B)/kiln-fwd $(B)/kiln-stdin
