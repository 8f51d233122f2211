# examples/net.mk — the network examples (built by the pattern rule of examples/examples.mk),
# and examples/www plus big.bin (1 MiB, deterministic) generated here, not committed.
NET_EXAMPLES := http-server echo msg-send msg-recv udp-echo auth-proxy auth-server upstream
ALL += $(NET_EXAMPLES:%=$(B)/examples/%.wasm)

WWW_SRC := $(shell find examples/www -type f 2>/dev/null)
$(B)/examples/www.stamp: $(WWW_SRC)
	@mkdir -p $(B)/examples/www
	cp -r examples/www/. $(B)/examples/www/
	python3 -c 'import random,sys; r=random.Random(1); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(1<<20)))' >$(B)/examples/www/big.bin
	@touch $@
ALL += $(B)/examples/www.stamp
