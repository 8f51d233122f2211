# tools/: host programs `kiln` uses besides the compiler. kiln-stdin frames the host's stdin
# for the VM's console (kiln run).
$(B)/kiln-stdin: $(B)/h/tools/kiln-stdin.o
	$(CC) -o $@ $^
ALL += $(B)/kiln-stdin
