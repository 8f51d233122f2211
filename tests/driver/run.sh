#!/usr/bin/env bash
# tests/driver/run.sh — the kiln driver itself (driver/, build/kiln, the ./kiln shim): what
# every other suite takes for granted. The shim remakes a stale build/kiln; kiln run stops QEMU,
# the forwarder and kiln-stdin when kiln alone gets SIGTERM or SIGINT, and ends by that signal;
# --timeout; closed stdio; a missing option value is a usage error. (Options, messages and
# statuses of each command are checked by the suites that use them: boot, cache, volume, net...)
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
vm_setup
vm_make $KILN_DRIVER build/examples/http-server.wasm build/examples/hello.wasm

# --- help, usage ---
out=$(./kiln help); rc=$?
if [ $rc = 0 ] && grep -q '^  kiln build APP.wasm' <<<"$out" && grep -q '^  kiln cache clean' <<<"$out"; then pass help
else fail help "exit $rc: $(head -n2 <<<"$out" | tr '\n' '|')"; fi
out=$(./kiln 2>&1 >/dev/null); rc=$?
if [ $rc = 2 ] && grep -q '^usage:' <<<"$out"; then pass "no command: usage on stderr, exit 2"
else fail "no command: usage on stderr, exit 2" "exit $rc"; fi
out=$(./kiln build build/examples/hello.wasm -o 2>&1); rc=$?
if [ $rc = 2 ] && [ "$out" = "kiln: build: -o wants a value" ]; then pass "a missing option value is a usage error"
else fail "a missing option value is a usage error" "exit $rc: $out"; fi

# --- the shim remakes build/kiln when a source in driver/ is newer ---
touch -d '2000-01-01' build/kiln
if ./kiln help >/dev/null 2>"$T/shim.err" && [ build/kiln -nt driver/main.c ]; then pass "./kiln remakes a stale build/kiln"
else fail "./kiln remakes a stale build/kiln" "$(tail -n1 "$T/shim.err")"; fi

if ! ./kiln build build/examples/hello.wasm -o "$T/hello.iso" >"$T/build.log" 2>&1 ||
   ! ./kiln build build/examples/http-server.wasm -o "$T/http.iso" --dir build/examples/www:/ --listen tcp:80 \
     >>"$T/build.log" 2>&1; then
  fail "kiln build" "$(tail -n1 "$T/build.log")"; finish; exit 1
fi

# --- closed stdio: each is /dev/null to the VM, never a file QEMU opens in its place ---
./kiln run "$T/hello.elf" --timeout 60 <&- >&- 2>"$T/closed.err"; rc=$?
if [ $rc = 0 ]; then pass "closed stdin and stdout"; else fail "closed stdin and stdout" "exit $rc: $(tail -n1 "$T/closed.err")"; fi

# --- --timeout stops a VM that does not end by itself ---
./kiln run "$T/http.elf" --net user --timeout 3 >/dev/null 2>"$T/timeout.err"; rc=$?
if [ $rc = 124 ] && grep -q '^kiln: timed out after 3s$' "$T/timeout.err"; then pass "--timeout: status 124"
else fail "--timeout: status 124" "exit $rc: $(tail -n1 "$T/timeout.err")"; fi

# --- a signal to kiln alone (not its process group) stops QEMU, kiln-fwd and kiln-stdin ---
# signal NAME SIG STATUS
signal() {
  local name=$1 sig=$2 want=$3 port pid kids i rc left
  port=$(free_port)
  # setsid: the signal reaches kiln only, as from a supervisor that knows its pid
  setsid ./kiln run "$T/http.elf" --fwd "$port:80" --timeout 120 </dev/null >"$T/$name.log" 2>&1 &
  pid=$!
  for ((i = 0; i < 600; i++)); do
    curl -s -m 2 -o /dev/null "http://127.0.0.1:$port/" && break
    sleep 0.1
  done
  # its children, from /proc (procps, pgrep's package, is not on every machine)
  kids=$(cat /proc/"$pid"/task/*/children 2>/dev/null)
  if [ $i = 600 ] || [ -z "$kids" ]; then fail "$name" "the VM never served ($(tail -n1 "$T/$name.log"))"; kill -9 $kids $pid 2>/dev/null; return; fi
  kill "-$sig" "$pid"
  wait "$pid"; rc=$?
  for ((i = 0; i < 50; i++)); do
    left=""
    for k in $kids; do kill -0 "$k" 2>/dev/null && left+="$(cat /proc/"$k"/comm 2>/dev/null) "; done
    [ -z "$left" ] && break
    sleep 0.1
  done
  if [ $rc = "$want" ] && [ -z "$left" ]; then pass "$name"
  else fail "$name" "kiln exit $rc (want $want), still running: ${left:-none}"; kill -9 $kids 2>/dev/null; fi
}
signal "SIGTERM to kiln run stops QEMU, kiln-fwd, kiln-stdin (status 143)" TERM 143
signal "SIGINT to kiln run stops QEMU, kiln-fwd, kiln-stdin (status 130)" INT 130
finish
