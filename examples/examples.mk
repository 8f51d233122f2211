# examples/: C programs compiled to wasm32-wasi. Every examples/<name>/<name>.c with no rules of
# its own becomes $(B)/examples/<name>.wasm (again when the Makefile, and so WASM_CFLAGS, changes).
$(B)/examples/%.wasm: examples/%/*.c Makefile $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $(filter %.c,$^)

ALL += $(B)/examples/hello.wasm
