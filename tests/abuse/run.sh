#!/usr/bin/env bash
# tests/abuse/run.sh — the VM's http-server against hostile clients, and the guest's network
# isolation. Under TCG, host side on 127.0.0.1 only (QEMU user networking, `kiln run --fwd`),
# every loop bounded in count and time (about 3 minutes in all).
#   1. tests/abuse/attack.py against two VMs: slowloris (800 connections), 700 silent
#      connections (more than the 512 TCP pcbs), resets mid-transfer and traversal URLs on the
#      server as `make run` builds it; the head timeout, 8 non-reading clients pipelining
#      requests for a 1 MiB file, malformed and huge requests with 4 s timeouts. After each,
#      every file is served byte-exact and the kernel's counters (netstat=) are back to idle.
#   2. Isolation: a service on the host's 127.0.0.1 is out of the guest's reach by default
#      (10.0.2.2 through QEMU's user network), and reachable with `kiln run --outbound`.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

vm_setup

vm_make $KILN_DRIVER build/examples/http-server.wasm build/examples/msg-send.wasm build/examples/www.stamp

# boot NAME MEM_MB [kiln run options]: the VM in the background (tests/lib.sh vm_start).
boot() {
  local name=$1 mem=$2
  shift 2
  vm_start "$name" ./kiln run "$T/$name.elf" --mem "${mem}M" "$@"
}

# ---- 1. the http-server under attack (examples/www: a few pages and big.bin, 1 MiB) ----
# attack NAME TIMEOUT_S CASES [kiln build options]: one VM, the cases of attack.py against it.
attack() {
  local name=$1 tmo=$2 cases=$3 hp sp
  shift 3
  hp=$(free_port) sp=$(free_port)
  if ! ./kiln build build/examples/http-server.wasm -o "$T/$name.iso" --dir build/examples/www:/ --listen tcp:80 \
    --cmdline netstat=81 "$@" >"$T/$name.build" 2>&1; then
    fail "$name: http image" "$(tail -n2 "$T/$name.build" | tr '\n' '|')"
    return
  fi
  boot "$name" $((24 + ($(stat -c %s "$T/$name.fs") >> 20))) --fwd "$hp:80" --fwd "$sp:81" --timeout 600
  if wait_line "$name" "http-server: serving" 120; then
    timeout 300 python3 tests/abuse/attack.py "$hp" "$sp" build/examples/www "$tmo" "$cases" >"$T/$name.out" 2>&1
    grep -v -e '^PASS ' -e '^FAIL ' "$T/$name.out"
    relay "$name: " <"$T/$name.out"
    grep -q -e '^PASS ' -e '^FAIL ' "$T/$name.out" || fail "$name: attack.py" "$(tail -n3 "$T/$name.out" | tr '\n' '|')"
    if kill -0 "$(cat "$T/$name.pid")" 2>/dev/null; then pass "$name: the VM is still running after the attacks"
    else fail "$name: the VM is still running after the attacks" "$(tail -n3 "$T/$name.log" | tr '\n' '|')"; fi
    if grep -qa -e 'kiln: trap' -e 'kiln: panic' -e 'kernel fault' "$T/$name.log"; then
      fail "$name: no trap or panic in the VM" "$(grep -a -m2 -e trap -e panic -e fault "$T/$name.log" | tr '\n' '|')"
    else pass "$name: no trap or panic in the VM"; fi
  else
    fail "$name: http-server boots" "$(tail -n3 "$T/$name.log" | tr '\n' '|')"
  fi
  stop "$name"
}
# The server as `make run` builds it (30 s timeouts), then with 4 s ones so the suite sees
# the timeouts act.
attack default 30 slowloris,pcbs,resets,traversal
attack short 4 timeouts,nonreaders,malformed --env HTTP_TIMEOUT_MS=4000

# ---- 2. isolation: msg-send in the guest connects to 10.0.2.2:PORT, a host-local service ----
# The service counts connections and bytes; it answers each with a secret, as a host-local
# service would.
LP=$(free_port)
python3 - "$LP" >"$T/svc.log" 2>&1 <<'EOF' &
import socket, sys, threading, time
l = socket.socket()
l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
l.bind(("127.0.0.1", int(sys.argv[1])))
l.listen(16)
l.settimeout(1)
t0 = time.time()
while time.time() - t0 < 120:
    try:
        c, _ = l.accept()
    except socket.timeout:
        continue
    c.settimeout(5)
    try:
        c.sendall(b"host-local secret\n")
        n = 0
        while True:
            d = c.recv(65536)
            if not d:
                break
            n += len(d)
    except OSError:
        pass
    print(f"connection: {n} bytes", flush=True)
    c.close()
EOF
svc=$!

if ./kiln build build/examples/msg-send.wasm -o "$T/send.iso" --arg 10.0.2.2 --arg "$LP" \
  --arg 3 --arg 100 >"$T/send.build" 2>&1; then
  ./kiln run "$T/send.elf" --mem 16M --net user --timeout 20 >"$T/iso.log" 2>&1; rc=$?
  if ! grep -q connection "$T/svc.log"; then
    pass "isolated by default: the guest cannot reach a host 127.0.0.1 service (msg-send status $rc)"
  else
    fail "isolated by default" "the host service saw: $(tr '\n' ' ' <"$T/svc.log"); guest: $(tail -n2 "$T/iso.log" | tr '\n' '|')"
  fi
  ./kiln run "$T/send.elf" --mem 16M --outbound --timeout 60 >"$T/out.log" 2>&1; rc=$?
  sleep 1
  if [ $rc = 0 ] && grep -q "connection: 300 bytes" "$T/svc.log"; then
    pass "kiln run --outbound: the guest reaches the host service (300 bytes)"
  else
    fail "kiln run --outbound: the guest reaches the host service" "status $rc; service: $(tr '\n' ' ' <"$T/svc.log"); guest: $(tail -n2 "$T/out.log" | tr '\n' '|')"
  fi
else
  fail "msg-send image" "$(tail -n2 "$T/send.build" | tr '\n' '|')"
fi
kill "$svc" 2>/dev/null
wait "$svc" 2>/dev/null

finish
