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
# sockets.c (the network half) needs net/; the unit tests stub no network.
$(B)/tests/wasi/unit: $(WASI_TEST_OBJS) $(filter-out $(B)/h/wasi/sockets.o,$(WASI_HOST_OBJS)) $(B)/h/host/hostfs.o
	@mkdir -p $(@D)
	$(CC) -o $@ $^

.PHONY: wasi wasi-unit
wasi: $(WASI_HOST_OBJS) $(WASI_KOBJS) $(B)/kiln-pack
wasi-unit: $(B)/tests/wasi/unit

ALL += $(B)/kiln-pack $(WASI_HOST_OBJS)
