# examples/net.mk — the network examples: http-server, echo, msg-send/msg-recv.
NET_EXAMPLES := http-server echo msg-send msg-recv
$(B)/examples/echo.wasm: examples/echo/echo.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
ALL += $(B)/examples/echo.wasm
$(B)/examples/http-server.wasm: examples/http-server/http-server.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
ALL += $(B)/examples/http-server.wasm

# examples/www: the pages, plus big.bin (1 MiB, deterministic) generated here, not committed.
WWW_SRC := $(shell find examples/www -type f 2>/dev/null)
$(B)/examples/www.stamp: $(WWW_SRC)
	@mkdir -p $(B)/examples/www
	cp -r examples/www/. $(B)/examples/www/
	python3 -c 'import random,sys; r=random.Random(1); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(1<<20)))' >$(B)/examples/www/big.bin
	@touch $@
ALL += $(B)/examples/www.stamp
$(B)/examples/msg-send.wasm: examples/msg-send/msg-send.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
$(B)/examples/msg-recv.wasm: examples/msg-recv/msg-recv.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
ALL += $(B)/examples/msg-send.wasm $(B)/examples/msg-recv.wasm
