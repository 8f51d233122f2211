# bench/: `make bench` (the top-level Makefile) runs bench/run; this adds the quick check.
.PHONY: bench-quick
bench-quick: all
	@bench/run --quick
