#!/usr/bin/env bash
# tests/lifecycle/run.sh — the instance's lifecycle (kernel/lifecycle.h), under TCG with QEMU
# user networking on 127.0.0.1:
#   1. kernel/restart_policy.c on the host: parsing, back-off, memory-ratio on synthetic patterns;
#      kernel/lifecycle_core.c over fake hooks: the restart point's timing, the decisions after
#      an instance's end, the log line, the metrics
#   2. on-failure: a trap and a non-zero exit restart the instance in place (fresh globals,
#      data segments, memory), each restart logged with its reason; metrics count them; past
#      the limit the VM stops with the trap's status
#   3. memory: after a restart the guest's free RAM is back and QEMU's resident set is within
#      10% of the freshly booted VM's (virtio-balloon free page reporting)
#   4. after:1s while a client loops: no request refused or failed across the restarts
#   5. memory-ratio: grows then idles -> restarted; a cache whose memory follows its outgoing
#      requests -> not restarted; the same cache leaking -> restarted
#   6. hosted (kiln run --hosted): the same restart in place after a trap, the process's
#      resident set back down, metrics; after:1s under a client loop
# The app is tests/lifecycle/apps/life.c.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

vm_setup
vm_make $KILN_DRIVER

# ---- 1. the policies on the host ----
if clang-19 -std=c11 -O1 -g -Wall -Wextra -Werror -I. -fsanitize=undefined,address -o "$T/unit" \
    tests/lifecycle/unit.c kernel/restart_policy.c 2>"$T/unit.log"; then
  "$T/unit" >"$T/unit.out" 2>&1
  relay "policy: " <"$T/unit.out"
  grep -q '^[0-9]* passed, 0 failed$' "$T/unit.out" || fail "policy unit tests" "$(tail -n2 "$T/unit.out" | tr '\n' '|')"
else
  fail "policy unit tests build" "$(head -n3 "$T/unit.log" | tr '\n' '|')"
fi
if clang-19 -std=c11 -O1 -g -Wall -Wextra -Werror -I. -fsanitize=undefined,address -o "$T/core_unit" \
    tests/lifecycle/core_unit.c kernel/lifecycle_core.c kernel/restart_policy.c kernel/metrics_text.c \
    2>"$T/core_unit.log"; then
  "$T/core_unit" >"$T/core_unit.out" 2>&1
  relay "core: " <"$T/core_unit.out"
  grep -q '^[0-9]* passed, 0 failed$' "$T/core_unit.out" ||
    fail "lifecycle core unit tests" "$(tail -n2 "$T/core_unit.out" | tr '\n' '|')"
else
  fail "lifecycle core unit tests build" "$(head -n3 "$T/core_unit.log" | tr '\n' '|')"
fi

if ! clang-19 --target=wasm32-wasi -O2 -Wl,--stack-first -Wl,-z,stack-size=65536 -o "$T/life.wasm" \
    tests/lifecycle/apps/life.c 2>"$T/app.log"; then
  fail "build the test app" "$(head -n2 "$T/app.log" | tr '\n' '|')"
  finish
  exit 1
fi

# image NAME [kiln build options]: T/NAME.elf serving on 80, metrics on 81
image() {
  local name=$1
  shift
  ./kiln build "$T/life.wasm" -o "$T/$name.iso" --listen tcp:80 --metrics 81 "$@" >"$T/$name.build" 2>&1 ||
    { fail "image $name" "$(tail -n1 "$T/$name.build")"; return 1; }
}
# boot NAME MEM: the VM in the background; HP and MP are its host ports for 80 and 81
boot() {
  HP=$(free_port) MP=$(free_port)
  vm_start "$1" ./kiln run "$T/$1.elf" --mem "$2" --fwd "$HP:80" --fwd "$MP:81" --timeout 300
  wait_line "$1" "net: metrics on" 120
}
get() { curl -s -m 30 "http://127.0.0.1:$HP$1"; }
# metric NAME: its value from the metrics endpoint (the whole sample name, labels included)
metric() { curl -s -m 30 "http://127.0.0.1:$MP/metrics" | awk -v n="$1" '$1 == n { print $2 }'; }
# in_group PGID NAME: the pid of the process of group PGID whose argv[0] ends with NAME (/proc: no ps)
in_group() {
  python3 - "$1" "$2" <<'PY'
import os, sys
for p in filter(str.isdigit, os.listdir("/proc")):
    try:
        stat = open("/proc/%s/stat" % p).read()
        argv0 = open("/proc/%s/cmdline" % p, "rb").read().split(b"\0")[0].decode(errors="replace")
    except OSError:
        continue
    if stat[stat.rindex(")") + 2:].split()[2] == sys.argv[1] and argv0.endswith(sys.argv[2]):
        print(p)
        break
PY
}
qemu_pid() { in_group "$(cat "$T/$1.pid")" qemu-system-x86_64; }
rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }

# ---- 2. on-failure ----
if image fail --restart on-failure:2,backoff=50ms && boot fail 32M; then
  get /dirty >/dev/null
  b=$(get /info)
  get /trap >/dev/null
  a=$(get /info)
  if [ "$b" = "served=2 pages=2 gen=2" ] && [ "$a" = "served=1 pages=2 gen=1" ]; then
    pass "on-failure: a trap restarts the instance in place with fresh globals and data ($b -> $a)"
  else fail "on-failure: a trap restarts the instance in place" "before '$b', after '$a'"; fi
  if grep -q 'kiln: restart on-failure (trap: unreachable in [^)]*) after [0-9]* ms: [0-9]* us' "$T/fail.log"; then
    pass "on-failure: the restart is logged with its reason and time"
  else fail "on-failure: the restart is logged" "$(grep restart "$T/fail.log" | tr '\n' '|')"; fi
  get /grow/4 >/dev/null
  get /exit/3 >/dev/null
  a=$(get /info)
  [ "$a" = "served=1 pages=2 gen=1" ] && grep -q 'restart on-failure (exit 3)' "$T/fail.log" &&
    pass "on-failure: exit 3 restarts it too, memory back to its initial 2 pages" ||
    fail "on-failure: exit 3 restarts it" "after '$a'; $(grep restart "$T/fail.log" | tail -n1)"
  m=$(curl -s -m 30 "http://127.0.0.1:$MP/metrics")
  # Prometheus text format: every sample's family has HELP and TYPE, values are numbers.
  bad=$(awk '/^# (HELP|TYPE) / { seen[$3] = 1; next }
    { n = $1; sub(/\{.*/, "", n); if (!seen[n] || $2 !~ /^[0-9]+$/ || NF != 2) print }' <<<"$m")
  r=$(awk '$1 == "kiln_restarts_total{reason=\"on-failure\"}" { print $2 }' <<<"$m")
  tr_=$(awk '$1 == "kiln_traps_total" { print $2 }' <<<"$m")
  req=$(awk '$1 == "kiln_requests_total" { print $2 }' <<<"$m")
  if [ -z "$bad" ] && [ "$r" = 2 ] && [ "$tr_" = 1 ] && [ "${req:-0}" -ge 7 ]; then
    pass "metrics: Prometheus text; 2 restarts (on-failure), 1 trap, $req requests (the app's kiln.metric_add)"
  else fail "metrics" "restarts '$r' traps '$tr_' requests '$req'; malformed: $(head -n2 <<<"$bad" | tr '\n' '|')"; fi
  get /trap >/dev/null
  wait "$(cat "$T/fail.pid")" 2>/dev/null
  rc=$?
  [ $rc = 134 ] && pass "on-failure:2: the third failure stops the VM with the trap's status (134)" ||
    fail "on-failure:2: the third failure stops the VM" "exit status $rc"
  echo "note: restart guest time (us): $(grep -o 'restart .*: [0-9]* us' "$T/fail.log" | sed 's/.*: \([0-9]*\) us/\1/' | tr '\n' ' ')"
else
  fail "on-failure VM boots" "$(tail -n3 "$T/fail.log" 2>/dev/null | tr '\n' '|')"
fi

# ---- 3. memory back to the guest and to the host ----
if image mem --restart on-failure,backoff=0 && boot mem 96M; then
  get /info >/dev/null
  sleep 1
  qp=$(qemu_pid mem)
  fresh=$(rss_kib "$qp") free0=$(metric kiln_guest_free_bytes)
  g=$(get /grow/64)
  grown=$(rss_kib "$qp") free1=$(metric kiln_guest_free_bytes)
  get /trap >/dev/null
  a=$(get /info)
  sleep 1
  after=$(rss_kib "$qp") free2=$(metric kiln_guest_free_bytes) back=$(metric kiln_memory_returned_bytes_total)
  echo "note: QEMU RSS fresh $fresh KiB, grown $grown KiB, after the restart $after KiB; guest free $free0 -> $free1 -> $free2; returned $back bytes"
  if [[ $g != grew=1* ]] || [ $((grown - fresh)) -lt 50000 ]; then
    fail "memory: the app grows by 64 MiB" "'$g', RSS $fresh -> $grown KiB"
  else
    [ "$a" = "served=1 pages=2 gen=1" ] && [ "$free2" -ge $((free0 - (1 << 20))) ] && [ "$free1" -lt $((free0 - (60 << 20))) ] &&
      pass "memory: after the restart the guest's free RAM is back ($((free0 >> 20)) -> $((free1 >> 20)) -> $((free2 >> 20)) MiB)" ||
      fail "memory: the guest's free RAM is back" "free $free0 -> $free1 -> $free2, '$a'"
    [ "$after" -le $((fresh * 110 / 100)) ] && [ "${back:-0}" -ge $((64 << 20)) ] &&
      pass "memory: QEMU's resident set after the restart is within 10% of the fresh VM's ($fresh -> $grown -> $after KiB)" ||
      fail "memory: QEMU's resident set falls back" "$fresh -> $grown -> $after KiB, returned $back"
  fi
  stop mem
else
  fail "memory VM boots" "$(tail -n3 "$T/mem.log" 2>/dev/null | tr '\n' '|')"
fi

# ---- 4. after:1s while a client loops ----
if image after --restart after:1s && boot after 32M; then
  timeout 60 python3 tests/lifecycle/client.py loop "$HP" 6 3 >"$T/loop.out" 2>&1
  relay <"$T/loop.out"
  grep -q -e '^PASS ' -e '^FAIL ' "$T/loop.out" || fail "client loop" "$(tail -n2 "$T/loop.out" | tr '\n' '|')"
  n=$(grep -c 'restart after (lifetime reached) after [0-9]* ms' "$T/after.log")
  [ "$n" -ge 3 ] && pass "after:1s: $n restarts logged with their reason" || fail "after:1s: restarts logged" "$n"
  echo "note: restart guest time (us): $(grep -o 'restart .*: [0-9]* us' "$T/after.log" | sed 's/.*: \([0-9]*\) us/\1/' | tr '\n' ' ')"
  stop after
else
  fail "after VM boots" "$(tail -n3 "$T/after.log" 2>/dev/null | tr '\n' '|')"
fi

# ---- 5. memory-ratio ----
if image ratio --restart memory-ratio,measure=3s,window=2s,sample=250ms,min=1M && boot ratio 48M; then
  get /grow/8 >/dev/null
  wait_line ratio "restart memory-ratio (memory surplus)" 30
  a=$(get /info)
  grep -q "restart memory-ratio (memory surplus)" "$T/ratio.log" && [ "$a" = "served=1 pages=2 gen=1" ] &&
    pass "memory-ratio: grows 8 MiB then idles: restarted ($(grep -o 'after [0-9]* ms' "$T/ratio.log" | head -n1)), memory back to 2 pages" ||
    fail "memory-ratio: grows then idles: restarted" "'$a'; $(tail -n2 "$T/ratio.log" | tr '\n' '|')"
  stop ratio
else
  fail "memory-ratio VM boots" "$(tail -n3 "$T/ratio.log" 2>/dev/null | tr '\n' '|')"
fi
# The app keeps its last 20 entries: at one request every 150 ms they live 3 s, the window.
# (The rate must stay steady: a cache whose traffic falls holds memory for expired entries,
# which memory-ratio rightly reclaims.)
if image cache --restart memory-ratio,measure=4500ms,window=3s,sample=250ms,min=128K && boot cache 48M; then
  out=$(timeout 60 python3 tests/lifecycle/client.py every "$HP" /entry 150 10 2>&1)
  n=$(grep -c "restart memory-ratio" "$T/cache.log")
  o=$(metric kiln_outgoing_requests_total)
  [ "$n" = 0 ] && [ "${o:-0}" -ge 40 ] &&
    pass "memory-ratio: a cache whose memory follows its outgoing requests is not restarted in 10 s ($o outgoing; $out)" ||
    fail "memory-ratio: a steady cache is not restarted" "$n restarts, $o outgoing; $out"
  timeout 60 python3 tests/lifecycle/client.py every "$HP" /leak 150 12 >/dev/null 2>&1 &
  leaker=$!
  wait_line cache "restart memory-ratio (memory surplus)" 30 &&
    pass "memory-ratio: the same cache leaking its entries is restarted" ||
    fail "memory-ratio: a leaking cache is restarted" "$(tail -n2 "$T/cache.log" | tr '\n' '|')"
  wait "$leaker"
  stop cache
else
  fail "memory-ratio cache VM boots" "$(tail -n3 "$T/cache.log" 2>/dev/null | tr '\n' '|')"
fi

# ---- 6. hosted ----
hosted() { # NAME POLICY: the app as a Linux process, listening on HP, metrics on MP
  HP=$(free_port) MP=$(free_port)
  vm_start "$1" ./kiln run --hosted "$T/life.wasm" --listen "tcp:$HP" --metrics "$MP" --restart "$2"
  for _ in $(seq 200); do curl -s -m 2 "http://127.0.0.1:$HP/info" >/dev/null && return 0; sleep 0.1; done
  return 1
}
if hosted hfail on-failure,backoff=0; then
  hp=$(in_group "$(cat "$T/hfail.pid")" life)
  fresh=$(rss_kib "$hp")
  g=$(get /grow/64)
  grown=$(rss_kib "$hp")
  get /trap >/dev/null
  a=$(get /info)
  after=$(rss_kib "$hp")
  r=$(metric 'kiln_restarts_total{reason="on-failure"}') back=$(metric kiln_memory_returned_bytes_total)
  if [ "$a" = "served=1 pages=2 gen=1" ] && [[ $g == grew=1* ]] && [ "$r" = 1 ] &&
    grep -q 'restart on-failure (trap: unreachable in' "$T/hfail.log"; then
    pass "hosted on-failure: a trap restarts the instance in place ($a), logged, counted in the metrics"
  else fail "hosted on-failure: a trap restarts the instance" "'$g' '$a' restarts '$r'; $(tail -n2 "$T/hfail.log" | tr '\n' '|')"; fi
  [ $((grown - fresh)) -ge 50000 ] && [ "$after" -le $((fresh * 110 / 100)) ] && [ "${back:-0}" -ge $((64 << 20)) ] &&
    pass "hosted: the process's resident set falls back after the restart ($fresh -> $grown -> $after KiB)" ||
    fail "hosted: the resident set falls back" "$fresh -> $grown -> $after KiB, returned $back"
  stop hfail
else
  fail "hosted on-failure app starts" "$(tail -n3 "$T/hfail.log" 2>/dev/null | tr '\n' '|')"
fi
if hosted hafter after:1s; then
  timeout 60 python3 tests/lifecycle/client.py loop "$HP" 4 2 >"$T/hloop.out" 2>&1
  relay "hosted: " <"$T/hloop.out"
  grep -q -e '^PASS ' -e '^FAIL ' "$T/hloop.out" || fail "hosted client loop" "$(tail -n2 "$T/hloop.out" | tr '\n' '|')"
  stop hafter
else
  fail "hosted after:1s app starts" "$(tail -n3 "$T/hafter.log" 2>/dev/null | tr '\n' '|')"
fi

finish
