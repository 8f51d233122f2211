# tests/lib.sh — sourced by tests/<suite>/run.sh: counting cases and the closing line.
#   pass NAME | fail NAME WHY | skip NAME REASON | finish (prints "N passed, N failed[, N skipped]")
T_PASS=0 T_FAIL=0 T_SKIP=0
pass() { T_PASS=$((T_PASS + 1)); echo "PASS $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: $2"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP $1: $2"; }
# check NAME COMMAND...: pass if the command succeeds, else fail with its last output line.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(tail -n1 <<<"$out")"; fi
}
# relay [PREFIX] < OUTPUT: counts the PASS/FAIL/SKIP lines another program printed
# ("FAIL name: why") as our own cases, names prefixed with PREFIX; other lines are ignored.
relay() {
  local prefix=${1-} line r
  while IFS= read -r line; do
    case $line in
      "PASS "*) pass "$prefix${line#PASS }" ;;
      "FAIL "*) r=${line#FAIL }; fail "$prefix${r%%: *}" "${r#*: }" ;;
      "SKIP "*) r=${line#SKIP }; skip "$prefix${r%%: *}" "${r#*: }" ;;
    esac
  done
}
# wait_line NAME TEXT SECONDS: until $T/NAME.log shows TEXT; fails at once if the process whose
# pid is in $T/NAME.pid has exited, and after SECONDS.
wait_line() {
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    grep -qsF "$2" "$T/$1.log" && return 0
    kill -0 "$(cat "$T/$1.pid")" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
# The kiln driver (build/kiln) and what it runs: suites that call ./kiln make these first
# (`make $KILN_DRIVER ...`), so that ./kiln need not make build/kiln itself mid-suite.
KILN_DRIVER="build/kiln build/kiln-aot build/kiln-pack build/kernel/kernel.o build/host/libkiln-host.a build/kiln-fwd build/kiln-stdin"

# ---- VMs in the background, for suites that talk to a guest over the network ----
# vm_setup: $T, a work directory removed at exit, when every VM vm_start began is killed too.
vm_setup() {
  T=$(mktemp -d)
  VM_PGIDS=()
  trap 'for g in "${VM_PGIDS[@]-}"; do [ -n "$g" ] && kill -- "-$g" 2>/dev/null; done; rm -rf "$T"' EXIT
}
# vm_start NAME COMMAND...: runs COMMAND in the background in its own process group (so stop
# ends QEMU too), output in $T/NAME.log, pid in $T/NAME.pid.
vm_start() {
  local name=$1
  shift
  setsid "$@" </dev/null >"$T/$name.log" 2>&1 &
  echo $! >"$T/$name.pid"
  VM_PGIDS+=($!)
}
# vm_make TARGET...: builds them into $T/make.log, or fails the suite with make's first error.
vm_make() {
  make -j2 "$@" >"$T/make.log" 2>&1 && return 0
  fail build "$(grep -m1 -E 'error|Error' "$T/make.log")"
  finish
  exit 1
}
stop() { kill -- "-$(cat "$T/$1.pid")" 2>/dev/null; wait "$(cat "$T/$1.pid")" 2>/dev/null; }
# free_port: a free TCP port on 127.0.0.1, never one this suite was given before (two calls in a
# row may get the same port from the kernel, as the first is free again once probed).
free_port() {
  local given=${TMPDIR:-/tmp}/kiln-ports.$$ p # $$: the suite's shell, also in $(...)
  while :; do
    p=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    grep -qx "$p" "$given" 2>/dev/null || break
  done
  echo "$p" >>"$given"
  echo "$p"
}
# vm_same DIR NAME WASM WANT: `kiln build` of WASM (compiled afresh, no cache) booted in the VM
# must print WANT (non-empty); the image and logs go to DIR/NAME.*.
vm_same() {
  local d=$1 n=$2 out rc
  if KILN_CACHE=off ./kiln build "$3" -o "$d/$n.iso" >"$d/$n.log" 2>&1; then
    out=$(./kiln run "$d/$n.elf" --timeout 120 2>"$d/$n.err"); rc=$?
    if [ $rc = 0 ] && [ "$out" = "$4" ] && [ -n "$4" ]; then pass "$n"
    else fail "$n" "exit $rc, output '$(head -n2 <<<"$out" | tr '\n' ' ')', $(tail -n1 "$d/$n.err")"; fi
  else fail "$n" "kiln build: $(tail -n1 "$d/$n.log")"; fi
}

finish() {
  rm -f "${TMPDIR:-/tmp}/kiln-ports.$$"
  if [ "$T_SKIP" -gt 0 ]; then echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
  else echo "$T_PASS passed, $T_FAIL failed"; fi
  [ "$T_FAIL" -eq 0 ]
}

# netns_add VAR: a network namespace of the suite's own, held by a sleeping process; VAR gets its
# handle (the holder's pid: netns_exec, netns_del, and `ip link ... netns HANDLE` take it).
# `ip netns add` is not used: it bind-mounts under /run, which fails where / is not a mount
# point (a chroot, as tools like debootstrap make).
netns_add() {
  local pid i
  unshare --net sleep 100000 </dev/null >/dev/null 2>&1 &
  pid=$!
  for i in $(seq 100); do
    [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" != "$(readlink /proc/$$/ns/net)" ] && break
    sleep 0.02
  done
  if [ "$(readlink "/proc/$pid/ns/net" 2>/dev/null)" = "$(readlink /proc/$$/ns/net)" ]; then
    kill "$pid" 2>/dev/null
    echo "unshare --net: no network namespace" >&2
    return 1
  fi
  printf -v "$1" %s "$pid"
}
netns_exec() { # netns_exec HANDLE CMD...: CMD inside the namespace
  local ns=$1
  shift
  nsenter --target "$ns" --net "$@"
}
netns_del() { [ -n "${1-}" ] && kill "$1" 2>/dev/null && wait "$1" 2>/dev/null; return 0; }
