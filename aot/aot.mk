# kiln-aot: the ahead-of-time compiler (host program, LLVM-C).
AOT_SRCS := $(wildcard aot/*.c)
AOT_OBJS := $(AOT_SRCS:%.c=$(B)/aot/%.o)
AOT_CFLAGS := $(HOST_CFLAGS) $(LLVM_CFLAGS)

$(B)/aot/%.o: %.c $(DEPS)
	@mkdir -p $(@D)
	$(CC) $(AOT_CFLAGS) -c $< -o $@

$(B)/kiln-aot: $(AOT_OBJS)
	$(CC) -o $@ $(AOT_OBJS) -L$$($(LLVM_CONFIG) --libdir) -lLLVM-19

ALL += $(B)/kiln-aot
-include $(wildcard $(B)/aot/aot/*.d)
