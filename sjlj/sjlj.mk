# sjlj/: setjmp/longjmp for apps. Debian's wasi-libc has neither; clang lowers both to Wasm
# exceptions and calls a small runtime (sjlj/setjmp.c), shipped as $(SJLJ_LIB) with the
# setjmp.h of sjlj/include. An app compiles with $(SJLJ_CFLAGS) and links $(SJLJ_LIB).
SJLJ_LIB := $(B)/sjlj/libkiln-sjlj.a
SJLJ_CFLAGS := -mllvm -wasm-enable-sjlj -Isjlj/include
$(B)/sjlj/setjmp.o: sjlj/setjmp.c sjlj/include/setjmp.h sjlj/sjlj.mk $(DEPS)
	@mkdir -p $(@D)
	$(WASM_CC) -O2 -Wall -Wextra $(SJLJ_CFLAGS) -c $< -o $@
$(SJLJ_LIB): $(B)/sjlj/setjmp.o
	rm -f $@ && $(AR) rcs $@ $^
ALL += $(SJLJ_LIB)
