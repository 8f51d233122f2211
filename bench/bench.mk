# bench/: `make bench` (the top-level Makefile) runs bench/run. Two quicker targets:
#   bench-quick     the whole of bench/run on tiny inputs and 2 s load runs (checks the pipeline)
#   bench-selftest  outputs of every compute program agree across native/wasm2c/node/kiln-aot
.PHONY: bench-quick bench-selftest
bench-quick: all
	@bench/run --quick
bench-selftest: all
	@bench/selftest
