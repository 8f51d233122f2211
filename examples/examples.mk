# examples/: C programs compiled to wasm32-wasi. Every examples/<name>/<name>.c with no rules of
# its own becomes $(B)/examples/<name>.wasm (again when the Makefile, and so WASM_CFLAGS, changes).
$(B)/examples/%.wasm: examples/%/*.c Makefile $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $(filter %.c,$^)

ALL += $(B)/examples/hello.wasm

# examples/broker is multi-threaded: the pthreads of pthread/ (README, "Threads for C apps"), a
# shared memory of at most 1 GiB (its queues hold whole benchmark runs). The library is named
# by its path: pthread/pthread.mk, which sets PTHREAD_LIB, is read after this file.
$(B)/examples/broker.wasm: examples/broker/broker.c $(B)/pthread/libkiln-pthread.a pthread/kiln-pthread.rsp Makefile $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) $(PTHREAD_CFLAGS) -Wl,--max-memory=1073741824 -o $@ $< $(PTHREAD_LDFLAGS)
ALL += $(B)/examples/broker.wasm
