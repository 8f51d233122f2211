#!/usr/bin/env bash
# tests/spec/run.sh — the WebAssembly spec suite (../shared/testsuite/spec) and the proposal
# folders kiln-aot implements (../shared/testsuite/proposals, list in spec.py) on the hosted
# runtime, after the runtime's own self-test. Each command of each .wast is one case.
#   tests/spec/run.sh [-v] [-a] [-j N] [FILE.wast | NAME | FOLDER/NAME]...
#     FILE...  only these files (and no self-test); -v every failure with expected/actual;
#     -a every command. Work files go to build/spec/NAME/. Needs build/kiln-aot (make).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
files=0
for a in "$@"; do case $a in -*) ;; *) files=1 ;; esac; done

# kiln-aot is the compiler engineer's target; the rest are ours (host/host.mk).
make -s -j2 build/kiln-aot >/dev/null 2>&1 || echo "spec: note: 'make build/kiln-aot' failed; modules will not compile"
if ! make -s -j2 build/host/libkiln-rt.a build/spec/driver.o build/spec/selftest build/spec/driver-selftest build/spec/hostapp >/dev/null; then
  fail spec/build "make of the runtime library or the driver failed"
  finish; exit 1
fi

if [ $files = 0 ]; then
  out=$(build/spec/selftest 2>&1); rc=$?
  relay <<<"$out"
  [ $rc = 0 ] || [ $T_FAIL -gt 0 ] || fail runtime/selftest "exit status $rc: $(tail -n1 <<<"$out")"
  # The driver against hand-written modules: each command's result line must be as expected.
  n=0
  while IFS= read -r want && IFS= read -r got <&3; do
    n=$((n + 1))
    if [ "$want" = "$got" ]; then pass "driver/$n"; else fail "driver/$n" "got '$got', expected '$want'"; fi
  done <tests/spec/driver_selftest.expected 3< <(build/spec/driver-selftest tests/spec/driver_selftest.cmds 2>&1; echo "(end)")
  [ $n = $(wc -l <tests/spec/driver_selftest.expected) ] || fail driver/count "driver printed $n results"

  # The hosted runtime as apps link it (hand-written app): args, env, exit status, traps.
  host_case() { # NAME WANT-STATUS WANT-STDOUT WANT-STDERR-PREFIX ARGS...
    local name=$1 want_rc=$2 want_out=$3 want_err=$4 out err rc
    shift 4
    out=$(build/spec/hostapp "$@" 2>/tmp/kiln-spec-hostapp.$$); rc=$?
    err=$(head -c 300 /tmp/kiln-spec-hostapp.$$); rm -f /tmp/kiln-spec-hostapp.$$
    if [ "$rc" != "$want_rc" ]; then fail "host/$name" "exit status $rc, expected $want_rc ($err)"
    elif [ "$out" != "$want_out" ]; then fail "host/$name" "stdout '$out', expected '$want_out'"
    elif [[ $err != "$want_err"* ]]; then fail "host/$name" "stderr '$err', expected '$want_err...'"
    else pass "host/$name"; fi
  }
  host_case hello 0 "hello 1  " ""
  host_case args-env 0 "hello 3 a hi" "" --env GREETING=hi -- a b
  host_case proc-exit 3 "hello 2 exit3 " "" exit3
  host_case trap 134 "hello 2 trap " "kiln: trap: unreachable in " trap
  host_case oob-fault 134 "hello 2 oob " "kiln: trap: out of bounds memory access in _start" oob
  host_case bad-option 2 "" "kiln: unknown option --bogus" --bogus
fi

# spec.py prints its own cases and ends with "N passed, N failed, N skipped": add ours to it.
last=""
while IFS= read -r line; do
  if [[ $line =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed,\ ([0-9]+)\ skipped$ ]]; then
    last=$line
    T_PASS=$((T_PASS + BASH_REMATCH[1])) T_FAIL=$((T_FAIL + BASH_REMATCH[2])) T_SKIP=$((T_SKIP + BASH_REMATCH[3]))
  else
    echo "$line"
  fi
done < <(python3 tests/spec/spec.py "$@")
[ -n "$last" ] || fail spec/harness "spec.py ended without a result line"
finish
