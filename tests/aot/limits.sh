# tests/aot/limits.sh — sourced by tests/aot/run.sh (needs $AOT, $W, pass/fail): hostile but
# valid modules from tests/aot/hostile.py. Each implementation limit of aot/limits.h is refused
# one past it with `FILE:0xOFF: ... exceeds the limit of N`, and accepted at it; compile time and
# memory stay bounded (ulimit -v, timeout) and grow about linearly below the limits; a huge
# frame at the stack limit traps "call stack exhausted", hosted and in the VM.
GEN=tests/aot/hostile.py
MEM_KB=${KILN_AOT_MEM_KB:-2000000} # address space (ulimit -v): threads reserve more than they use
BUDGET_KB=1048576                  # peak RSS of kiln-aot and the linker it runs: README "Limits"

# aot_run NAME TIMEOUT ARGS...: kiln-aot under ulimit -v and timeout; sets rc, err, secs (CPU
# seconds, user+system: less noisy than wall time on a shared machine), rss (peak, KB).
aot_run() {
  local n=$1 t=$2 stat u s
  shift 2
  stat=$W/$n.time
  err=$( { /usr/bin/time -f "%U %S %M" -o $stat timeout $t bash -c 'ulimit -v '$MEM_KB'; exec "$@"' _ $AOT "$@"; } 2>&1); rc=$?
  read -r u s rss < <(tail -n1 $stat 2>/dev/null) || true
  secs=$(awk -v u=${u:-0} -v s=${s:-0} 'BEGIN { printf "%.2f", u + s }') rss=${rss:-0}
}

# limit KIND LIMIT [OPT [AT]]: KIND at LIMIT+1 is refused at once; at AT (default LIMIT) it
# compiles at OPT (default -O0).
limit() {
  local k=$1 lim=$2 over=$(($2 + 1)) opt=${3:--O0} at=${4:-$2}
  python3 $GEN $k $over $W/$k-over.wasm
  aot_run $k-over 60 $W/$k-over.wasm -o $W/$k-over.o
  if [ $rc != 1 ] || [[ $err != "$W/$k-over.wasm:0x"*": "*": $over"*"exceeds the limit of $lim" ]]; then
    fail "limit-$k" "$over: exit $rc, '$err'"
  elif [ -e $W/$k-over.o ]; then fail "limit-$k" "output file left behind"
  else pass "limit-$k ($over refused in ${secs}s)"; fi
  python3 $GEN $k $at $W/$k-at.wasm
  aot_run $k-at 900 $opt $W/$k-at.wasm -o $W/$k-at.o # a hang guard: a million functions take 45 s of CPU, 4x that in wall time at load 10
  if [ $rc = 0 ] && [ $rss -le $BUDGET_KB ]; then pass "accepted-$k ($at$opt: ${secs}s CPU, $((rss / 1024)) MiB)"
  elif [ $rc = 0 ]; then fail "accepted-$k" "$at at $opt: peak RSS $((rss / 1024)) MiB, over the budget of $((BUDGET_KB / 1024)) MiB"
  else fail "accepted-$k" "$at at $opt: exit $rc (124: timeout, memory over ${MEM_KB} KB?) $(tail -c 200 <<<"$err")"; fi
}
limit params 1000 -O2
limit results 1000 -O2
limit locals 50000
limit body 7654321
limit types 1000000
limit funcs 1000000 -O0 # compiled in chunks (aot/emit.c): a million functions fit the budget
limit globals 1000000
limit imports 100000
limit exports 100000
limit data 100000
limit table 10000000

# linear KIND N OPT: compiling KIND at 2N must take < 3.5x the CPU time and < 3x the memory of N
# (ratios, since the machine is shared and noisy: quadratic cost would be 4x; times under 0.5 s
# count as 0.5 s). A ratio over the bound is measured once more, both sizes again, and each
# size's best counts: a burst of load on the shared machine (4.7x once, 2.3x alone) does not
# fail the check, a cost that grows quadratically fails both rounds.
linear() {
  local k=$1 n=$2 opt=$3 s1 r1 s2 r2 round
  python3 $GEN $k $n $W/$k-1.wasm
  python3 $GEN $k $((2 * n)) $W/$k-2.wasm
  for round in 1 2; do
    aot_run $k-1 300 $opt $W/$k-1.wasm -o $W/$k-1.o; [ $rc = 0 ] || { fail "linear-$k$opt" "$n: exit $rc $err"; return; }
    [ $round = 1 ] && s1=$secs r1=$rss || s1=$(awk -v a=$s1 -v b=$secs 'BEGIN { print (b < a ? b : a) }')
    aot_run $k-2 300 $opt $W/$k-2.wasm -o $W/$k-2.o; [ $rc = 0 ] || { fail "linear-$k$opt" "$((2 * n)): exit $rc $err"; return; }
    [ $round = 1 ] && s2=$secs r2=$rss || s2=$(awk -v a=$s2 -v b=$secs 'BEGIN { print (b < a ? b : a) }')
    if awk -v a=$s1 -v b=$s2 -v ra=$r1 -v rb=$r2 'BEGIN { if (a < 0.5) a = 0.5; if (b < 0.5) b = 0.5;
                                                          exit !(b < 3.5 * a && rb < 3 * ra) }'; then
      pass "linear-$k$opt ($n: ${s1}s $((r1 / 1024)) MiB; $((2 * n)): ${s2}s $((r2 / 1024)) MiB$([ $round = 2 ] && echo '; best of 2 rounds'))"
      return
    fi
  done
  fail "linear-$k$opt" "$n: ${s1}s $((r1 / 1024)) MiB; $((2 * n)): ${s2}s $((r2 / 1024)) MiB (best of 2 rounds)"
}
linear params 500 -O2
linear exports 50000 -O0
linear types 200000 -O0
linear ifs 20000 -O2 # past OPT_MAX_BLOCKS: compiled without optimisation
linear loads 5000 -O2
linear memops 20000 -O2
linear funcs 10000 -O2 # two chunks and four: 5000 fit one, where the whole call chain inlines away
linear nest 20000 -O2
linear brtable 20000 -O2

# One body of 300 KB (25,000 ifs) at -O2: past the pipeline's bounds, a chunk of its own
# (CHUNK_ALONE_BYTES), emitted by the -O0 code generator: it must compute the right results
# and cost no more memory than at -O0 (the -O2 code generator took twice as much).
python3 -c '
import sys
n = 25000
step = "(if (local.get 0) (then (local.set 0 (i32.sub (local.get 0) (i32.const 1)))))"
print("(module (func (export \"f\") (param i32) (result i32) %s (local.get 0))" % (step * n))
print("  (func (export \"g\") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1))))")
for x, want in ((5, 0), (30000, 5000), (-1, -25001)):
    print("(assert_return (invoke \"f\" (i32.const %d)) (i32.const %d))" % (x, want))
print("(assert_return (invoke \"g\" (i32.const 1)) (i32.const 2))")
' >$W/bigbody.wast
out=$(python3 tests/spec/spec.py -v $W/bigbody.wast 2>&1)
if grep -qx "5 passed, 0 failed, 0 skipped" <<<"$out"; then pass "bigbody-O2-results"
else fail "bigbody-O2-results" "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 3 | tr '\n' ';')"; fi
aot_run bigbody-O0 300 -O0 build/spec/bigbody/bigbody.0.wasm -o $W/bigbody-O0.o; r0=$rss s0=$secs
aot_run bigbody-O2 300 -O2 build/spec/bigbody/bigbody.0.wasm -o $W/bigbody-O2.o
if [ $rc = 0 ] && [ $((rss * 4)) -le $((r0 * 5)) ]; then
  pass "bigbody-O2-memory (-O0: ${s0}s $((r0 / 1024)) MiB; -O2: ${secs}s $((rss / 1024)) MiB)"
else fail "bigbody-O2-memory" "exit $rc; -O0: $((r0 / 1024)) MiB; -O2: $((rss / 1024)) MiB (more than 1.25x)"; fi

# A frame far larger than the margin below stack_limit and the guard region under it, in a
# function called again and again until the stack runs out: its prologue must trap before
# anything is stored below the guard (-O0 stored into the frame first: SIGSEGV hosted, a kernel
# panic in the VM). The leaf variant has no call, so only its frame size gets it the check.
if [ -e build/host/libkiln-host.a ]; then
  for k in deep deepleaf; do
    python3 $GEN $k 60000 $W/$k.wasm
    for opt in -O0 -O2; do
      if $AOT $opt $W/$k.wasm -o $W/$k$opt.o 2>/dev/null && clang-19 $W/$k$opt.o build/host/libkiln-host.a -lm -o $W/$k$opt.bin; then
        timeout 60 $W/$k$opt.bin >/dev/null 2>$W/$k.err; rc=$?
        if [ $rc = 134 ] && grep -q "call stack exhausted" $W/$k.err; then pass "stack-$k$opt"
        else fail "stack-$k$opt" "exit $rc, $(head -c 200 $W/$k.err)"; fi
      else fail "stack-$k$opt" "compile or link failed"; fi
    done
  done
else fail stack-deep "build/host/libkiln-host.a missing"; fi
# In the VM the guard is 1 MiB and the margin 64 KiB: a 4 MiB frame.
python3 $GEN deep 250000 $W/deepvm.wasm
if KILN_CACHE=off ./kiln build $W/deepvm.wasm -O0 -o $W/deepvm.iso >$W/deepvm.log 2>&1; then
  ./kiln run $W/deepvm.elf --timeout 120 >$W/deepvm.out 2>&1; rc=$?
  if [ $rc = 134 ] && grep -q "call stack exhausted" $W/deepvm.out; then pass stack-deep-vm
  else fail stack-deep-vm "exit $rc, $(tail -n1 $W/deepvm.out)"; fi
else fail stack-deep-vm "kiln build: $(tail -n1 $W/deepvm.log)"; fi
