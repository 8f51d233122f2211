#!/usr/bin/env bash
# tests/fuzz/run.sh — the libFuzzer targets of kiln-aot (tests/fuzz/target.c, aot/fuzz.mk):
# first every reproducer in tests/fuzz/regress/ (inputs that once crashed; each must now run
# clean through both targets), then each fuzzer for FUZZ_SECONDS (default 20; `make fuzz`: 300)
# from a copy of the committed seed corpus tests/fuzz/corpus/. A crash, sanitizer report,
# timeout or out-of-memory is a FAIL naming the reproducer; copy it into tests/fuzz/regress/
# once fixed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
W=build/fuzz
SECS=${FUZZ_SECONDS:-20}
if ! make -s -j2 fuzz-build >$W.log 2>&1; then fail fuzz/build "make fuzz-build: $(tail -n1 $W.log)"; finish; exit 1; fi
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
OPTS=(-timeout=20 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1)

for t in read compile; do
  for f in tests/fuzz/regress/*; do
    [ -f "$f" ] || continue
    if timeout 120 $W/fuzz-$t "${OPTS[@]}" "$f" >$W/regress.log 2>&1; then pass "regress-$t $(basename "$f")"
    else fail "regress-$t $(basename "$f")" "$(grep -m1 -E 'ERROR|runtime error|SUMMARY' $W/regress.log)"; fi
  done
done

for t in read compile; do
  rm -rf $W/corpus-$t $W/artifacts-$t && mkdir -p $W/corpus-$t $W/artifacts-$t
  cp tests/fuzz/corpus/*.wasm $W/corpus-$t/
  timeout $((SECS + 120)) $W/fuzz-$t "${OPTS[@]}" -max_total_time=$SECS -artifact_prefix=$W/artifacts-$t/ \
    $W/corpus-$t >$W/fuzz-$t.log 2>&1; rc=$?
  runs=$(grep -m1 -o 'stat::number_of_executed_units: [0-9]*' $W/fuzz-$t.log | awk '{print $2}')
  cov=$(grep -o 'cov: [0-9]*' $W/fuzz-$t.log | tail -n1 | awk '{print $2}')
  art=$(ls $W/artifacts-$t/ 2>/dev/null | head -n1)
  if [ $rc = 0 ] && [ -z "$art" ] && [ "${runs:-0}" -gt 0 ]; then
    pass "fuzz-$t (${SECS}s, ${runs} runs, coverage ${cov:-?})"
  else
    fail "fuzz-$t" "exit $rc, reproducer ${art:+$W/artifacts-$t/$art}: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' $W/fuzz-$t.log) (log $W/fuzz-$t.log)"
  fi
done
finish
