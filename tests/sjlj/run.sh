#!/usr/bin/env bash
# tests/sjlj/run.sh — setjmp/longjmp for apps: tests/sjlj/sjlj.c built natively (glibc's setjmp)
# and for wasm32-wasi with Kiln's sjlj runtime (build/sjlj/libkiln-sjlj.a, sjlj/include), then
# run under node (whose V8 runs Wasm exceptions), hosted and in the VM; each must print what the
# native build prints.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
T=$(mktemp -d /tmp/kiln-sjlj.XXXXXX)
trap 'rm -rf "$T"' EXIT

if ! make -s -j2 $KILN_DRIVER build/sjlj/libkiln-sjlj.a >"$T/make.log" 2>&1; then
  fail build "$(grep -m1 -E 'error|Error' "$T/make.log")"
  finish
  exit 1
fi
SJLJ=(-mllvm -wasm-enable-sjlj -Isjlj/include)
WASM=(clang-19 --target=wasm32-wasi -O2 -Wall -Wextra -Werror)
check "build native" clang-19 -O2 -Wall -Wextra -Werror tests/sjlj/sjlj.c -o "$T/sjlj.native"
check "build wasm" "${WASM[@]}" "${SJLJ[@]}" tests/sjlj/sjlj.c build/sjlj/libkiln-sjlj.a -o "$T/sjlj.wasm"
"$T/sjlj.native" >"$T/native.out"

# Without the flag, the setjmp.h stops the build and names it (rather than a link error).
if "${WASM[@]}" -Isjlj/include -c tests/sjlj/sjlj.c -o "$T/noflag.o" >"$T/noflag.log" 2>&1; then
  fail "without -wasm-enable-sjlj" "the build succeeded"
elif grep -q 'compile with -mllvm -wasm-enable-sjlj' "$T/noflag.log"; then
  pass "without -wasm-enable-sjlj"
else
  fail "without -wasm-enable-sjlj" "$(grep -m1 error "$T/noflag.log")"
fi

# compare NAME OUT RC ERR: PASS when the run exited 0 and printed what the native build printed.
compare() {
  if [ "$3" != 0 ]; then
    fail "$1" "exit $3: $(tail -n2 "$4" | tr '\n' ' ' | head -c 200)"
  elif ! cmp -s "$T/native.out" "$2"; then
    fail "$1" "output differs: $(diff "$T/native.out" "$2" | head -n3 | tr '\n' ' ')"
  else
    pass "$1"
  fi
}

if command -v node >/dev/null; then
  timeout 20 node --no-warnings bench/node-wasi.mjs "$T/sjlj.wasm" >"$T/node.out" 2>"$T/node.err"
  compare node "$T/node.out" $? "$T/node.err"
else
  skip node "no node on this machine"
fi

./kiln run --hosted "$T/sjlj.wasm" >"$T/hosted.out" 2>"$T/hosted.err"
compare hosted "$T/hosted.out" $? "$T/hosted.err"

if ! ./kiln build "$T/sjlj.wasm" -o "$T/sjlj.iso" >"$T/build.log" 2>&1; then
  fail vm "kiln build: $(tail -n1 "$T/build.log")"
else
  ./kiln run "$T/sjlj.iso" --timeout 120 >"$T/vm.out" 2>"$T/vm.err"
  compare vm "$T/vm.out" $? "$T/vm.err"
fi
finish
