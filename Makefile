# Kiln — the one entry point: make, make run, make test, make bench, make clean.
# Each part adds its own rules in <part>/<part>.mk; this file holds what they share.

.DEFAULT_GOAL := all
SHELL := /bin/bash
B := build
# Written once tools/deps.sh has put every package and fetched source in place. Being an included
# makefile, make builds it first and then starts over, so nothing below (llvm-config, the lwIP
# sources) is looked at before it exists: a newcomer's first `make` works.
DEPS := $(B)/deps.mk

CC := clang-19
LD := ld.lld-19
AR := llvm-ar-19
LLVM_CONFIG := llvm-config-19

# Programs that run on the build machine (kiln-aot, the hosted runtime, unit tests).
HOST_CFLAGS := -std=c11 -O2 -g -Wall -Wextra -Wno-unused-parameter -D_GNU_SOURCE -I. -MMD -MP
# The freestanding kernel: no red zone (interrupts), no SSE in kernel code (generated code
# owns the SSE registers), no PIC.
KERNEL_CFLAGS := -std=c11 -O2 -g --target=x86_64-unknown-none-elf -ffreestanding -fno-builtin \
  -nostdlib -fno-pic -fno-pie -mno-red-zone -mgeneral-regs-only -fno-stack-protector \
  -fno-omit-frame-pointer -Wall -Wextra -Wno-unused-parameter -I. -MMD -MP
# Apps: C compiled to wasm32-wasi with Debian's wasi-libc.
WASM_CC := clang-19 --target=wasm32-wasi
# The shadow stack goes first in linear memory (--stack-first), so an overflow runs below
# address 0 and traps instead of silently overwriting data; its size is explicit.
WASM_STACK := 65536
WASM_CFLAGS := -O2 -Wall -Wextra -Wl,--stack-first -Wl,-z,stack-size=$(WASM_STACK)

# deps: install what is missing (does nothing when all is there). Every target needs it.
.PHONY: deps
deps:
	@tools/deps.sh
$(DEPS): tools/deps.sh $(wildcard tools/patches/lwip/*.patch)
	@mkdir -p $(B) && tools/deps.sh
	@echo "LLVM_CFLAGS := $$($(LLVM_CONFIG) --cflags)" >$@.tmp && mv $@.tmp $@
include $(DEPS)

# Generic rules every part uses:
#   $(B)/k/<path>.o   from <path>.c or <path>.S, built for the freestanding kernel
#   $(B)/h/<path>.o   from <path>.c, built for the host (kiln-aot, hosted runtime, unit tests)
# Each part appends its kernel-side objects to KERNEL_OBJS (the first must be the boot entry,
# appended by boot/boot.mk); they are combined into one relocatable $(B)/kernel/kernel.o, so
# linking an app is exactly: ld.lld-19 -T boot/linker.ld -o kernel.elf build/kernel/kernel.o app.o
$(B)/k/%.o: %.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c $< -o $@
$(B)/k/%.o: %.S $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(KERNEL_CFLAGS) -c $< -o $@
$(B)/h/%.o: %.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@

ALL :=
KERNEL_OBJS :=
include $(sort $(wildcard */*.mk))

$(B)/kernel/kernel.o: $(KERNEL_OBJS)
	@mkdir -p $(@D)
	$(LD) -r -o $@ $(KERNEL_OBJS)
ALL += $(B)/kernel/kernel.o

-include $(shell find $(B)/k $(B)/h -name '*.d' 2>/dev/null)

.PHONY: all run test bench clean
all: $(DEPS) $(ALL)

# The default example: the static file server on examples/www, reachable from the host.
RUN_PORT ?= 8080
run: all
	./kiln build $(B)/examples/http-server.wasm -o $(B)/run.iso --dir $(B)/examples/www:/ --listen tcp:80
	@echo "kiln: serving examples/www at http://127.0.0.1:$(RUN_PORT)/ (Ctrl-C stops the VM)"
	./kiln run $(B)/run.elf --fwd $(RUN_PORT):80

test: all
	@tests/run

bench: all
	@bench/run

# Keeps the fetched sources, lwIP's and the real programs' (no need to fetch them again), and
# build/wasi-libc (fetched and built once; a change to tools/wasi-libc.sh or its patches rebuilds it).
clean:
	find $(B) -mindepth 1 -maxdepth 1 ! -name lwip ! -name wasi-libc ! -name deps.mk ! -name real -exec rm -rf {} + 2>/dev/null || true
	find $(B)/real -mindepth 1 -maxdepth 1 ! -name src -exec rm -rf {} + 2>/dev/null || true
