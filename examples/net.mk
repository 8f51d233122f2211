# examples/net.mk — the network examples: http-server, echo, msg-send/msg-recv.
NET_EXAMPLES := http-server echo msg-send msg-recv
$(B)/examples/echo.wasm: examples/echo/echo.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
ALL += $(B)/examples/echo.wasm
