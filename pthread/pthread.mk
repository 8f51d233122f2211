# pthread/: POSIX threads for C apps over wasi-threads (aot/abi.h §8). Debian's wasi-libc is
# built for one thread: it has no pthreads, no atomics (so wasm-ld refuses --shared-memory
# unless told not to check) and no locks in malloc and stdio. $(PTHREAD_LIB) adds the threads
# (pthread.c, sync.c) and locks around libc's malloc and stdio (libc_lock.c, through the
# linker's --wrap). An app compiles with $(PTHREAD_CFLAGS) and links with $(PTHREAD_LDFLAGS)
# (README: "Threads for C apps").
PTHREAD_LIB := $(B)/pthread/libkiln-pthread.a
PTHREAD_CFLAGS := -pthread -Ipthread/include
PTHREAD_LDFLAGS := -Wl,@pthread/kiln-pthread.rsp $(PTHREAD_LIB)
PTHREAD_OBJS := $(patsubst pthread/%.c,$(B)/pthread/%.o,$(wildcard pthread/*.c))
$(B)/pthread/%.o: pthread/%.c pthread/pthread_int.h $(wildcard pthread/include/*.h) pthread/pthread.mk $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) -O2 -Wall -Wextra -Wno-unused-parameter $(PTHREAD_CFLAGS) -I. -c $< -o $@
$(PTHREAD_LIB): $(PTHREAD_OBJS)
	rm -f $@ && $(AR) rcs $@ $^
ALL += $(PTHREAD_LIB)
