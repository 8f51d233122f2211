#!/usr/bin/env bash
# tests/fuzz/run.sh — the libFuzzer targets: kiln-aot's reader and compiler (tests/fuzz/target.c,
# aot/fuzz.mk) and every WASI call with hostile guest pointers (tests/fuzz/wasi.c, wasi/wasi.mk):
# first every reproducer in tests/fuzz/regress/ (inputs that once crashed; each must now run
# clean through both targets), then each fuzzer for FUZZ_SECONDS (default 20; `make fuzz`: 300)
# from a copy of the committed seed corpus tests/fuzz/corpus/ (plus the spec suite's modules
# when present), then the differential check (-O0, `kiln run --hosted -O2` and wasm2c). A crash, sanitizer report, timeout or
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
# Differential: random valid modules (tests/fuzz/gen_valid.py) run three ways must print the same
# bytes, exit alike and trap alike: kiln-aot -O0 linked with the hosted runtime, `kiln run
# --hosted -O2`, and wasm2c's C (wabt, clang-19 -O1) with bench/wasi-shim.c. DIFF_SEEDS modules
# from DIFF_SEED (fixed in `make test`, so a failure reproduces; `make fuzz` starts at a random
# one and runs more), after every module in tests/fuzz/regress-diff/ (differences once found).
NSEEDS=${DIFF_SEEDS:-15} SEED0=${DIFF_SEED:-1}
D=$W/diff W2C=/usr/share/wabt/wasm2c && mkdir -p $D
# trap_kind STDERR-FILE: the trap both runtimes name alike (wasm2c has one trap for every
# call_indirect failure, one for memory and table bounds), or "none".
trap_kind() {
  local t
  t=$(grep -m1 -E '^(kiln|wasm2c): trap' "$1") || { echo none; return; }
  case ${t,,} in
    *"out of bounds memory access"* | *"out of bounds table access"* | *"out-of-bounds access"*) echo oob ;;
    *"undefined element"* | *"uninitialized element"* | *"indirect call type mismatch"* | *"invalid call_indirect"*) echo call_indirect ;;
    *"divide by zero"*) echo divide-by-zero ;;
    *"integer overflow"*) echo integer-overflow ;;
    *"invalid conversion"* | *"conversion from nan"*) echo invalid-conversion ;;
    *unreachable*) echo unreachable ;;
    *"call stack exhausted"*) echo stack-exhausted ;;
    *) echo "unexpected: $t" ;;
  esac
}
# observe NAME COMMAND...: stdout into $D/NAME, then its exit status and trap kind
observe() {
  local n=$1; shift
  timeout 20 "$@" >$D/$n 2>$D/$n.err; printf "\nexit %d\n" $? >>$D/$n
  echo "trap $(trap_kind $D/$n.err)" >>$D/$n
}
# differ NAME WASM: runs WASM three ways; fails NAME on any difference
differ() {
  local n=$1 wasm=$2
  if build/kiln-aot -O0 $wasm -o $D/g0.o 2>$D/o0.err && clang-19 $D/g0.o build/host/libkiln-host.a -lm -o $D/g0.bin 2>>$D/o0.err
  then observe o0 $D/g0.bin; else echo "compile failed: $(tail -n1 $D/o0.err)" >$D/o0; fi
  KILN_CACHE=off observe o2 ./kiln run --hosted -O2 $wasm
  if wasm2c -n prog $wasm -o $D/w2c-src/prog.c 2>$D/w2c.err &&
     clang-19 -O1 -I$D/w2c-src -I$W2C $D/w2c-src/prog.c bench/wasi-shim.c $D/w2c-src/rt.o -lm -o $D/w2c.bin 2>>$D/w2c.err
  then observe w2c $D/w2c.bin; else echo "wasm2c build failed: $(tail -n1 $D/w2c.err)" >$D/w2c; fi
  if grep -q "compile failed\|exit 124\|trap unexpected" $D/o0 $D/o2; then
    fail "$n" "$(grep -h "compile failed\|exit 124\|trap unexpected" $D/o0 $D/o2 | head -n1)"
  elif ! cmp -s $D/o0 $D/o2; then fail "$n" "-O0 and -O2 differ: $(tail -n2 $D/o0 | tr '\n' ' ')/ $(tail -n2 $D/o2 | tr '\n' ' ')"
  elif ! cmp -s $D/o2 $D/w2c; then
    fail "$n" "kiln (hosted) and wasm2c differ at byte $(cmp $D/o2 $D/w2c | awk '{print $5}' | tr -d ,): $(tail -n2 $D/o2 | tr '\n' ' ')/ $(tail -n2 $D/w2c | tr '\n' ' ')"
  else return 0; fi
  return 1
}
if make -s -j2 build/kiln-aot build/host/libkiln-host.a >$D.log 2>&1 && mkdir -p $D/w2c-src &&
   clang-19 -O1 -I$W2C -c $W2C/wasm-rt-impl.c -o $D/w2c-src/rt.o 2>>$D.log; then
  for f in tests/fuzz/regress-diff/*.wasm; do
    [ -f "$f" ] || continue
    differ "differential $(basename $f)" $f && pass "differential $(basename $f)"
  done
  bad=0 traps=0 deadline=$((SECONDS + 10 * NSEEDS + 60))
  for ((s = SEED0; s < SEED0 + NSEEDS && SECONDS < deadline; s++)); do
    python3 tests/fuzz/gen_valid.py $s $D/g.wasm
    differ "differential seed $s" $D/g.wasm || { bad=$((bad + 1)); echo "  reproduce: python3 tests/fuzz/gen_valid.py $s x.wasm"; continue; }
    grep -q "^trap none" $D/o2 || traps=$((traps + 1))
  done
  ran=$((s - SEED0))
  if [ $bad = 0 ] && [ $ran = $NSEEDS ]; then
    pass "differential -O0 / -O2 / wasm2c (seeds $SEED0..$((s - 1)), $traps of them trap)"
  elif [ $bad = 0 ]; then fail differential "only $ran of $NSEEDS seeds within the time bound"; fi
else fail differential "build: $(tail -n1 $D.log)"; fi
finish
