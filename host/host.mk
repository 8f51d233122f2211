# host/: the hosted runtime, a Linux process providing the ABI of aot/abi.h (kiln_plat_* with
# mmap/mprotect and signals, WASI over Linux system calls). An app runs hosted with
#     build/kiln-aot app.wasm -o app.o && clang-19 app.o build/host/libkiln-host.a -lm -o app.bin
#     ./app.bin [--env K=V]... [--dir HOST[:GUEST]]... [--listen tcp:[ADDR:]PORT]... [--] ARGS...
# (ARGS become argv[1..]; --listen binds 127.0.0.1 unless ADDR is given)
# (`kiln run --hosted` does exactly that).
#
#   $(B)/host/libkiln-rt.a    instantiation + platform only, for programs with their own main
#                             (the spec harness, unit tests)
#   $(B)/host/libkiln-host.a  everything an app needs, main() and WASI included

HOST_RT_OBJS := $(B)/h/kernel/instance.o $(B)/h/host/platform.o

$(B)/host/libkiln-rt.a: $(HOST_RT_OBJS)
	@mkdir -p $(@D)
	rm -f $@ && $(AR) rcs $@ $^
ALL += $(B)/host/libkiln-rt.a

# libkiln-host.a holds ONE relocatable object: WASI functions are reached from app.o only
# through weak references, which never pull archive members; main() (wanted by crt1.o) pulls
# this single member and with it everything. WASI_HOST_OBJS comes from wasi/wasi.mk, read
# after this file, hence the second expansion.
# net_plat.o defines net/ksock.h for real; wasi/socket_fd.o's weak ENOSYS stubs yield to it.
HOST_APP_OBJS := $(HOST_RT_OBJS) $(B)/h/host/main.o $(B)/h/host/wasi_plat.o $(B)/h/host/net_plat.o \
  $(B)/h/host/hostfs.o $(B)/h/host/wasi_lock.o \
  $(B)/h/host/lifecycle.o $(B)/h/kernel/lifecycle_core.o $(B)/h/kernel/restart_policy.o \
  $(B)/h/kernel/metrics_text.o
.SECONDEXPANSION:
$(B)/host/kiln-host.o: $(HOST_APP_OBJS) $$(WASI_HOST_OBJS)
	@mkdir -p $(@D)
	$(LD) -r -o $@ $^
$(B)/host/libkiln-host.a: $(B)/host/kiln-host.o
	rm -f $@ && $(AR) rcs $@ $<
ALL += $(B)/host/libkiln-host.a

# The spec harness's runtime self-test (tests/spec/selftest.c): hand-written descriptors
# exercise instantiation, traps and the fault handlers without the compiler.
$(B)/spec/selftest: tests/spec/selftest.c $(B)/host/libkiln-rt.a
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -o $@ $< $(B)/host/libkiln-rt.a

# The spec-suite driver (tests/spec/driver.c); tests/spec/spec.py links it per .wast file with
# the modules kiln-aot compiled and libkiln-rt.a.
$(B)/spec/driver.o: tests/spec/driver.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(HOST_CFLAGS) -c $< -o $@
# The driver's own test: hand-written modules (tests/spec/driver_selftest.c) stand in for
# compiled ones.
$(B)/spec/driver-selftest: tests/spec/driver_selftest.c $(B)/spec/driver.o $(B)/host/libkiln-rt.a
	$(CC) $(HOST_CFLAGS) -o $@ $< $(B)/spec/driver.o $(B)/host/libkiln-rt.a
# A hand-written stand-in for a compiled WASI app (tests/spec/hostapp.c) tests libkiln-host.a
# exactly as apps link with it.
$(B)/spec/hostapp: tests/spec/hostapp.c $(B)/host/libkiln-host.a
	$(CC) $(HOST_CFLAGS) -c -o $@.o $<
	$(CC) -o $@ $@.o $(B)/host/libkiln-host.a -lm

# tests/hosted: Wasm apps checking socket semantics (errnos, readiness, timeouts) and the
# hosted --dir (a real, confined host directory; stdio types) hosted.
$(B)/tests/hosted/sockcheck.wasm: tests/hosted/sockcheck.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
$(B)/tests/hosted/fscheck.wasm: tests/hosted/fscheck.c $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) $(WASM_CFLAGS) -o $@ $<
