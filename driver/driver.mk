# driver/: `kiln`, the command users type, a C program (build/kiln) with one file per command;
# the top-level ./kiln runs it, making it first when it is missing or older than driver/.
DRIVER_OBJS := $(patsubst %.c,$(B)/h/%.o,$(wildcard driver/*.c))
# The LLVM library kiln-aot loads is part of every compile-cache key (driver/cache.c); asked of
# llvm-config when cache.o is compiled, as deps.mk may not exist when this file is read.
$(B)/h/driver/cache.o: HOST_CFLAGS += -DKILN_LIBLLVM="\"$$($(LLVM_CONFIG) --libdir)/libLLVM-19.so\""
$(B)/kiln: $(DRIVER_OBJS)
	$(CC) -o $@ $^
ALL += $(B)/kiln
