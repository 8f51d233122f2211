#!/usr/bin/env bash
# The benchmark programs agree across native, wasm2c, node and kiln-aot (bench/selftest); no timing.
cd "$(dirname "$0")/../.." && exec bench/selftest
