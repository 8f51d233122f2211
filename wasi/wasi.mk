# wasi/wasi.mk — WASI preview1, built twice from the same sources:
#   kernel: $(B)/k/wasi/*.o appended to KERNEL_OBJS (freestanding, -DWASI_KERNEL)
#   host:   WASI_HOST_OBJS, for host/ to put into build/host/libkiln-host.a
# plus build/kiln-pack (the archive packer `kiln build --dir` calls) and the unit tests.
# hostwalk.c reads host directories (for kiln-pack): host side only.

WASI_SRCS := $(sort $(wildcard wasi/*.c))
WASI_HOST_ONLY := wasi/hostwalk.c
WASI_KOBJS := $(patsubst %.c,$(B)/k/%.o,$(filter-out $(WASI_HOST_ONLY),$(WASI_SRCS)))
WASI_HOST_OBJS := $(patsubst %.c,$(B)/h/%.o,$(WASI_SRCS))
KERNEL_OBJS += $(WASI_KOBJS)
$(WASI_KOBJS): KERNEL_CFLAGS += -DWASI_KERNEL

$(B)/kiln-pack: $(B)/h/wasi/tool/kiln-pack.o $(B)/h/wasi/hostwalk.o
	$(CC) -o $@ $^

# Unit tests: the host objects with a fake platform (tests/wasi/fakeplat.c), and the hosted
# --dir backend (host/hostfs.c) they test through the WASI calls.
WASI_TEST_OBJS := $(patsubst %.c,$(B)/h/%.o,$(sort $(wildcard tests/wasi/*.c)))
# socket_fd.c (the network half) needs net/; the unit tests stub no network.
$(B)/tests/wasi/unit: $(WASI_TEST_OBJS) $(filter-out $(B)/h/wasi/socket_fd.o,$(WASI_HOST_OBJS)) $(B)/h/host/hostfs.o
	@mkdir -p $(@D)
	$(CC) -o $@ $^

.PHONY: wasi wasi-unit
wasi: $(WASI_HOST_OBJS) $(WASI_KOBJS) $(B)/kiln-pack
wasi-unit: $(B)/tests/wasi/unit

ALL += $(B)/kiln-pack $(WASI_HOST_OBJS)

# The guest-pointer fuzzer (tests/fuzz/wasi.c): wasi/ with the unit tests' fake platform under
# libFuzzer, ASan and UBSan; tests/fuzz/run.sh runs it briefly, `make fuzz` longer.
FUZZ_WASI_SRCS := tests/fuzz/wasi.c $(filter-out wasi/socket_fd.c,$(WASI_SRCS)) tests/wasi/fakeplat.c host/hostfs.c
$(B)/fuzz/fuzz-wasi: $(FUZZ_WASI_SRCS) $(DEPS)
	@mkdir -p $(@D)
	$(CC) -std=c11 -g -O1 -D_GNU_SOURCE -I. -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
	  -o $@ $(FUZZ_WASI_SRCS)
fuzz-build: $(B)/fuzz/fuzz-wasi
