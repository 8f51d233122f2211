# libFuzzer targets for kiln-aot (tests/fuzz/target.c): the compiler's sources without main.c,
# built again with ASan and UBSan. `make fuzz` runs each for FUZZ_SECONDS from the committed
# seed corpus, and 200 differential modules (-O0, -O2 hosted, wasm2c); tests/fuzz/run.sh (part of `make test`)
# runs each briefly.
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_AOT_SRCS := $(filter-out aot/main.c,$(AOT_SRCS))
FUZZ_AOT_OBJS := $(FUZZ_AOT_SRCS:%.c=$(B)/fuzz/%.o)
FUZZ_SECONDS ?= 300

$(B)/fuzz/aot/%.o: aot/%.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(AOT_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer-no-link -c $< -o $@

$(B)/fuzz/fuzz-read: tests/fuzz/target.c $(FUZZ_AOT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(AOT_CFLAGS) $(FUZZ_SAN) -fsanitize=fuzzer -o $@ $< $(FUZZ_AOT_OBJS) -L$$($(LLVM_CONFIG) --libdir) -lLLVM-19

$(B)/fuzz/fuzz-compile: tests/fuzz/target.c $(FUZZ_AOT_OBJS)
	@mkdir -p $(@D)
	$(CC) $(AOT_CFLAGS) $(FUZZ_SAN) -DFUZZ_COMPILE -fsanitize=fuzzer -o $@ $< $(FUZZ_AOT_OBJS) -L$$($(LLVM_CONFIG) --libdir) -lLLVM-19

.PHONY: fuzz fuzz-build
fuzz-build: $(B)/fuzz/fuzz-read $(B)/fuzz/fuzz-compile
fuzz: $(DEPS) fuzz-build
	@FUZZ_SECONDS=$(FUZZ_SECONDS) DIFF_SEEDS=$${DIFF_SEEDS:-200} DIFF_SEED=$${DIFF_SEED:-$$RANDOM} tests/fuzz/run.sh
-include $(wildcard $(B)/fuzz/aot/*.d)
