#!/usr/bin/env bash
# tests/threads/run.sh — threads for apps (aot/abi.h §8), hosted: C programs built with Kiln's
# pthread layer (pthread/, README "Threads for C apps") and small .wat modules, run with
# `kiln run --hosted`. Deterministic results under contention (mutex, C11 atomics, condition
# variables, once, thread-specific data, join/detach), many rounds of racing threads, a trap
# and proc_exit in a worker ending the whole instance, and the runtime's wait/notify checks.
# Each run is bounded by `timeout`. In the VM (one core until the SMP kernel, whose --smp cases
# will run the same programs): the wait/notify checks.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
T=$(mktemp -d /tmp/kiln-threads.XXXXXX)
trap 'rm -rf "$T"' EXIT

if ! make -s -j2 $KILN_DRIVER build/pthread/libkiln-pthread.a >"$T/make.log" 2>&1; then
  fail build "$(grep -m1 -E 'error|Error' "$T/make.log")"
  finish
  exit 1
fi

# Every WASI function wasi/ defines is reached through the hosted WASI lock (host/wasi_lock.c),
# but proc_exit and proc_raise, which end the instance.
missing=$(grep -ho 'WASI_FN([a-z_0-9]*, [A-Za-z_]*)(' wasi/*.c | sort -u | sed 's/WASI_FN(\(.*\), \(.*\))(/\1 \2/' |
  while read -r name sig; do
    case $name in proc_exit | proc_raise) continue ;; esac
    grep -q "^LOCKED($name, $sig," host/wasi_lock.c || echo "$name/$sig"
  done)
if [ -z "$missing" ]; then pass wasi-lock/complete; else fail wasi-lock/complete "not locked: $missing"; fi

WASM=(clang-19 --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--stack-first -Wl,-z,stack-size=65536
  -pthread -Ipthread/include -Wl,--max-memory=67108864)
for p in sum condvar once_tsd race c11 trap exit; do
  check "build $p" "${WASM[@]}" -o "$T/$p.wasm" "tests/threads/$p.c" -Wl,@pthread/kiln-pthread.rsp build/pthread/libkiln-pthread.a
done
# The same with the memory imported (env.memory, wasm-ld --import-memory), as wasi-threads
# modules built for wasmtime have it: the hosted runtime provides it.
check "build sum (imported memory)" "${WASM[@]}" -Wl,--import-memory -o "$T/sum_imported.wasm" tests/threads/sum.c \
  -Wl,@pthread/kiln-pthread.rsp build/pthread/libkiln-pthread.a
for w in unshared_wait wait_notify spawn_unshared; do
  check "build $w" wat2wasm --enable-threads "tests/threads/$w.wat" -o "$T/$w.wasm"
done

# run NAME WASM [ARGS...]: hosted, at most 120 s; sets $rc, output in $T/NAME.out/.err
run() {
  local name=$1 wasm=$2 a args=()
  shift 2
  for a in "$@"; do args+=(--arg "$a"); done
  timeout 120 ./kiln run --hosted "$T/$wasm.wasm" "${args[@]}" >"$T/$name.out" 2>"$T/$name.err"
  rc=$?
}
# expect NAME STATUS [STDOUT-TEXT]: the run ended with STATUS (and printed the text)
expect() {
  if [ "$rc" != "$2" ]; then
    fail "$1" "exit $rc (expected $2): $(tail -n2 "$T/$1.err" "$T/$1.out" | tr '\n' ' ' | head -c 300)"
  elif [ -n "${3-}" ] && ! grep -qF -- "$3" "$T/$1.out"; then
    fail "$1" "no '$3' in: $(head -c 300 "$T/$1.out")"
  else
    pass "$1"
  fi
}

run sum sum; expect sum 0 "locked 1000000 atomic 1000000 want 1000000 results 60"
run sum-imported sum_imported; expect sum-imported 0 "locked 1000000 atomic 1000000 want 1000000 results 60"
run sum-16 sum 16 20000; expect sum-16 0 "locked 2720000 atomic 2720000 want 2720000"
run condvar condvar; expect condvar 0 "timedwait: ETIMEDOUT"
run condvar-1x8 condvar 1 8 5000; expect condvar-1x8 0 "taken 5000 items"
run once-tsd once_tsd; expect once-tsd 0 "ok"
run race race 500 4 1000; expect race 0 "500 rounds of 4 threads: no lost update"
run c11 c11; expect c11 0 "ok"
run race-wide race 50 16 500; expect race-wide 0 "50 rounds of 16 threads: no lost update"

# A trap in a worker ends everything, reported once, with the worker's function.
run trap trap
traps=$(grep -c '^kiln: trap:' "$T/trap.err")
if [ "$rc" != 134 ] || [ "$traps" != 1 ] || ! grep -q '^kiln: trap: unreachable in trapping_worker$' "$T/trap.err" ||
  grep -q joined "$T/trap.out"; then
  fail trap-in-worker "exit $rc, $traps trap lines: $(head -c 300 "$T/trap.err") $(head -c 100 "$T/trap.out")"
else
  pass trap-in-worker
fi
run exit exit; expect exit 7 "worker exits with 7"
if grep -q joined "$T/exit.out"; then fail exit-in-worker "main went on after exit(7) in a worker"; else pass exit-in-worker; fi

run unshared-wait unshared_wait
if [ "$rc" = 134 ] && grep -q 'trap: expected shared memory' "$T/unshared-wait.err"; then pass unshared-wait
else fail unshared-wait "exit $rc: $(head -c 200 "$T/unshared-wait.err")"; fi
run wait-notify wait_notify
if [ "$rc" = 134 ] && grep -q 'trap: unaligned atomic' "$T/wait-notify.err"; then pass wait-notify
else fail wait-notify "exit $rc (1-4: a check failed; 134 with 'unaligned atomic' expected): $(head -c 200 "$T/wait-notify.err")"; fi
run spawn-unshared spawn_unshared; expect spawn-unshared 0

# The kernel's runtime, the same checks: a wait that times out sleeps (hlt) to its deadline,
# and the traps are the same.
for w in wait_notify unshared_wait; do
  want=$([ $w = wait_notify ] && echo "unaligned atomic" || echo "expected shared memory")
  if ! ./kiln build "$T/$w.wasm" -o "$T/$w.iso" >"$T/$w.build" 2>&1; then
    fail "vm $w" "kiln build: $(tail -n1 "$T/$w.build")"
    continue
  fi
  timeout 150 ./kiln run "$T/$w.elf" --timeout 120 >"$T/$w.vm" 2>&1
  rc=$?
  if [ $rc = 134 ] && grep -q "trap: $want" "$T/$w.vm"; then pass "vm $w"
  else fail "vm $w" "exit $rc (134 with '$want' expected): $(tail -n2 "$T/$w.vm" | tr '\n' ' ')"; fi
done
finish
