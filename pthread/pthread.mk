# pthread/: POSIX threads for C apps over wasi-threads (aot/abi.h §8). Debian's wasi-libc is
# built for one thread: it has no pthreads, no atomics (so wasm-ld refuses --shared-memory
# unless told not to check), no locks in malloc and stdio, and one errno for all threads.
# The layer adds the threads (pthread.c, sync.c), a malloc with a lock and per-thread caches
# (malloc.c) and a lock around stdio (stdio_lock.c), both through the linker's --wrap. An app
# compiles with $(PTHREAD_CFLAGS) and links with $(PTHREAD_LDFLAGS) (README: "Threads for C
# apps").
#
# It is built twice. $(WASI_LIBC_SYSROOT) is Debian's wasi-libc sources built with -pthread, so
# that errno is thread-local (tools/wasi-libc.sh, once; make starts over after it); the layer
# built over it is that sysroot's libpthread.a, which clang's -pthread links. Over Debian's
# wasi-libc it is $(PTHREAD_LIB), with errno.c for the one errno: apps built without --sysroot
# (the only way where the sources could not be fetched, then WASI_LIBC_SYSROOT is empty).
# (Not for `make clean` alone: it would build the libc to remove it.)
ifneq ($(MAKECMDGOALS),clean)
include $(B)/wasi-libc/sysroot.mk
endif
$(B)/wasi-libc/sysroot.mk: tools/wasi-libc.sh $(wildcard tools/patches/wasi-libc/*.patch) | $(DEPS)
	tools/wasi-libc.sh $(B)/wasi-libc

PTHREAD_LIB := $(B)/pthread/libkiln-pthread.a
PTHREAD_SRCS := $(wildcard pthread/*.c)
PTHREAD_HDRS := pthread/pthread_int.h $(wildcard pthread/include/*.h) pthread/pthread.mk $(DEPS)
PTHREAD_OBJS := $(patsubst pthread/%.c,$(B)/pthread/%.o,$(PTHREAD_SRCS))
$(B)/pthread/%.o: pthread/%.c $(PTHREAD_HDRS)
	@mkdir -p $(@D)
	$(WASM_CC) -O2 -Wall -Wextra -Wno-unused-parameter -pthread -Ipthread/include -I. -c $< -o $@

ifneq ($(WASI_LIBC_SYSROOT),)
PTHREAD_CFLAGS := -pthread -Ipthread/include --sysroot=$(WASI_LIBC_SYSROOT)
PTHREAD_LDFLAGS := -Wl,@pthread/kiln-pthread.rsp
PTHREAD_TLS_LIB := $(WASI_LIBC_SYSROOT)/lib/wasm32-wasi/libpthread.a
PTHREAD_TLS_OBJS := $(patsubst pthread/%.c,$(B)/pthread/tls/%.o,$(filter-out pthread/errno.c,$(PTHREAD_SRCS)))
$(B)/pthread/tls/%.o: pthread/%.c $(PTHREAD_HDRS) $(B)/wasi-libc/sysroot.mk
	@mkdir -p $(@D)
	$(WASM_CC) -O2 -Wall -Wextra -Wno-unused-parameter $(PTHREAD_CFLAGS) -I. -c $< -o $@
$(PTHREAD_TLS_LIB): $(PTHREAD_TLS_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
else
PTHREAD_CFLAGS := -pthread -Ipthread/include
PTHREAD_LDFLAGS := -Wl,@pthread/kiln-pthread.rsp $(PTHREAD_LIB)
endif
# Made with its twin, so that whatever needs the layer names only $(PTHREAD_LIB).
$(PTHREAD_LIB): $(PTHREAD_OBJS) $(PTHREAD_TLS_LIB)
	rm -f $@ && $(AR) rcs $@ $(PTHREAD_OBJS)
ALL += $(PTHREAD_LIB)
