# pthread/: POSIX threads for C apps over wasi-threads (aot/abi.h §8). Debian's wasi-libc is
# built for one thread: it has no pthreads, no atomics (so wasm-ld refuses --shared-memory
# unless told not to check), no locks in malloc and stdio, and one errno for all threads.
# $(PTHREAD_LIB) adds the threads (pthread.c, sync.c) and locks around libc's malloc and stdio
# (libc_lock.c, through the linker's --wrap). An app compiles with $(PTHREAD_CFLAGS) and links
# with $(PTHREAD_LDFLAGS) (README: "Threads for C apps").
#
# The libc under it: $(WASI_LIBC_SYSROOT), Debian's wasi-libc sources built with -pthread, so
# errno is thread-local (tools/wasi-libc.sh, once; make starts over after it). Where the sources
# could not be fetched it is empty and apps use Debian's wasi-libc, whose one errno the layer
# reaches through errno.c. (Not for `make clean` alone: it would build the libc to remove it.)
ifneq ($(MAKECMDGOALS),clean)
include $(B)/wasi-libc/sysroot.mk
endif
$(B)/wasi-libc/sysroot.mk: tools/wasi-libc.sh $(wildcard tools/patches/wasi-libc/*.patch) | $(DEPS)
	tools/wasi-libc.sh $(B)/wasi-libc

PTHREAD_LIB := $(B)/pthread/libkiln-pthread.a
PTHREAD_CFLAGS := -pthread -Ipthread/include $(if $(WASI_LIBC_SYSROOT),--sysroot=$(WASI_LIBC_SYSROOT))
PTHREAD_LDFLAGS := -Wl,@pthread/kiln-pthread.rsp $(PTHREAD_LIB)
PTHREAD_OBJS := $(patsubst pthread/%.c,$(B)/pthread/%.o,$(filter-out $(if $(WASI_LIBC_SYSROOT),pthread/errno.c),$(wildcard pthread/*.c)))
$(B)/pthread/%.o: pthread/%.c pthread/pthread_int.h $(wildcard pthread/include/*.h) pthread/pthread.mk $(B)/wasi-libc/sysroot.mk $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) -O2 -Wall -Wextra -Wno-unused-parameter $(PTHREAD_CFLAGS) -I. -c $< -o $@
$(PTHREAD_LIB): $(PTHREAD_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
ALL += $(PTHREAD_LIB)
