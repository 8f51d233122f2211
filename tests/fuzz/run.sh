#!/usr/bin/env bash
# tests/fuzz/run.sh — the libFuzzer targets: kiln-aot's reader and compiler (tests/fuzz/target.c,
# aot/fuzz.mk) and every WASI call with hostile guest pointers (tests/fuzz/wasi.c, wasi/wasi.mk):
# first every reproducer in tests/fuzz/regress/ (inputs that once crashed; each must now run
# clean through both targets), then each fuzzer for FUZZ_SECONDS (default 20; `make fuzz`: 300)
# from a copy of the committed seed corpus tests/fuzz/corpus/ (plus the spec suite's modules
# when present), then the differential -O0/-O2 check. A crash, sanitizer report, timeout or
# out-of-memory is a FAIL naming the reproducer; copy it into tests/fuzz/regress/ once fixed.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
W=build/fuzz
SECS=${FUZZ_SECONDS:-20}
if ! make -s -j2 fuzz-build >$W.log 2>&1; then fail fuzz/build "make fuzz-build: $(tail -n1 $W.log)"; finish; exit 1; fi
export ASAN_OPTIONS=detect_leaks=0:allocator_may_return_null=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
OPTS=(-timeout=20 -rss_limit_mb=2048 -max_len=16384 -print_final_stats=1)

for t in read compile wasi; do
  regress=tests/fuzz/regress
  [ $t = wasi ] && regress=tests/fuzz/regress-wasi # sequences of WASI calls, not modules
  for f in $regress/*; do
    [ -f "$f" ] || continue
    if timeout 120 $W/fuzz-$t "${OPTS[@]}" "$f" >$W/regress.log 2>&1; then pass "regress-$t $(basename "$f")"
    else fail "regress-$t $(basename "$f")" "$(grep -m1 -E 'ERROR|runtime error|SUMMARY' $W/regress.log)"; fi
  done
done

# The committed corpus is our own (hostile.py, gen_valid.py, exact.wast, tests/aot/eh.wast,
# truncations); the spec suite's modules under 10 KB (and those of the exception-handling
# proposal) join it when ../shared/testsuite is there (never copied into the repo).
SPEC=../shared/testsuite/spec
rm -rf $W/spec-seeds && mkdir -p $W/spec-seeds
if [ -d $SPEC ] && command -v wast2json >/dev/null; then
  for f in $SPEC/*.wast; do
    n=$(basename $f .wast)
    wast2json $f -o $W/spec-seeds/$n.json >/dev/null 2>&1 || true
  done
  for f in $SPEC/../proposals/exception-handling-legacy/*.wast; do # try, catch, delegate, tags
    wast2json --enable-all $f -o $W/spec-seeds/eh-$(basename $f .wast).json >/dev/null 2>&1 || true
  done
  find $W/spec-seeds -name '*.wasm' -size +10k -delete
fi
nspec=$(find $W/spec-seeds -name '*.wasm' | wc -l)

for t in read compile wasi; do
  rm -rf $W/corpus-$t $W/artifacts-$t && mkdir -p $W/corpus-$t $W/artifacts-$t
  if [ $t = wasi ]; then
    cp tests/fuzz/corpus-wasi/* $W/corpus-$t/
    seeds="$(ls tests/fuzz/corpus-wasi | wc -l) committed"
  else
    cp tests/fuzz/corpus/*.wasm $W/corpus-$t/
    find $W/spec-seeds -name '*.wasm' -exec cp {} $W/corpus-$t/ \;
    seeds="$(ls tests/fuzz/corpus | wc -l) committed + $nspec spec"
  fi
  # Runs of at most 60 s, each a fresh process on the grown corpus: a rejected module's
  # allocations are leaked (see target.c), about 4 MB/s of RSS.
  rc=0 runs=0 left=$SECS
  : >$W/fuzz-$t.log
  while [ $rc = 0 ] && [ $left -gt 0 ]; do
    chunk=$((left < 60 ? left : 60))
    timeout $((chunk + 120)) $W/fuzz-$t "${OPTS[@]}" -max_total_time=$chunk -artifact_prefix=$W/artifacts-$t/ \
      $W/corpus-$t >>$W/fuzz-$t.log 2>&1; rc=$?
    n=$(grep -o 'stat::number_of_executed_units: [0-9]*' $W/fuzz-$t.log | tail -n1 | awk '{print $2}')
    runs=$((runs + ${n:-0}))
    left=$((left - chunk))
  done
  cov=$(grep -o 'cov: [0-9]*' $W/fuzz-$t.log | tail -n1 | awk '{print $2}')
  art=$(ls $W/artifacts-$t/ 2>/dev/null | head -n1)
  if [ $rc = 0 ] && [ -z "$art" ] && [ "${runs:-0}" -gt 0 ]; then
    pass "fuzz-$t (${SECS}s, ${runs} runs, coverage ${cov:-?}, seeds: $seeds)"
  else
    fail "fuzz-$t" "exit $rc, reproducer ${art:+$W/artifacts-$t/$art}: $(grep -m1 -E 'ERROR|runtime error|SUMMARY' $W/fuzz-$t.log) (log $W/fuzz-$t.log)"
  fi
done
# Differential: random valid modules (tests/fuzz/gen_valid.py) compiled at -O0 and -O2 and run
# hosted must print the same bytes and exit alike. DIFF_SEEDS modules from DIFF_SEED (fixed in
# `make test`, so a failure reproduces; `make fuzz` starts at a random one and runs more).
NSEEDS=${DIFF_SEEDS:-15} SEED0=${DIFF_SEED:-1}
D=$W/diff && mkdir -p $D
if make -s -j2 build/kiln-aot build/host/libkiln-host.a >$D.log 2>&1; then
  bad=0 deadline=$((SECONDS + 10 * NSEEDS + 60))
  for ((s = SEED0; s < SEED0 + NSEEDS && SECONDS < deadline; s++)); do
    python3 tests/fuzz/gen_valid.py $s $D/g.wasm
    for O in 0 2; do
      if build/kiln-aot -O$O $D/g.wasm -o $D/g$O.o 2>$D/err$O && clang-19 $D/g$O.o build/host/libkiln-host.a -lm -o $D/g$O.bin 2>>$D/err$O; then
        timeout 20 $D/g$O.bin >$D/out$O 2>>$D/err$O; echo "exit $?" >>$D/out$O
      else echo "compile failed: $(tail -n1 $D/err$O)" >$D/out$O; fi
    done
    if ! cmp -s $D/out0 $D/out2 || grep -q "compile failed\|exit 124" $D/out0; then
      fail "differential seed $s" "-O0 and -O2 differ or fail (python3 tests/fuzz/gen_valid.py $s x.wasm): $(tail -n1 $D/out0) / $(tail -n1 $D/out2)"
      bad=$((bad + 1))
    fi
  done
  ran=$((s - SEED0))
  if [ $bad = 0 ] && [ $ran = $NSEEDS ]; then pass "differential -O0/-O2 (seeds $SEED0..$((s - 1)))"
  elif [ $bad = 0 ]; then fail differential "only $ran of $NSEEDS seeds within the time bound"; fi
else fail differential "build: $(tail -n1 $D.log)"; fi
finish
