#!/usr/bin/env bash
# tests/threads/run.sh — threads for apps (aot/abi.h §8), hosted: C programs built with Kiln's
# pthread layer (pthread/, README "Threads for C apps") and small .wat modules, run with
# `kiln run --hosted`. Deterministic results under contention (mutex, C11 atomics, condition
# variables, once, thread-specific data, join/detach), many rounds of racing threads, errno
# and libc's path buffer per thread, a trap and proc_exit in a worker ending the whole
# instance, and the runtime's wait/notify checks.
# The same programs then run in the VM on two CPUs (kiln build --smp 2; kernel/sched.c), the
# deterministic sum and a threaded echo server on one, the wait/notify checks on one and two,
# and examples/broker under load, hosted and on two CPUs. Each run is bounded by `timeout`.
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

# Every WASI function wasi/ defines has an entry (wasi/wasi_locked.h, both runtimes'): locked, or
# unlocked where it touches no WASI state; but proc_exit and proc_raise, which end the instance.
missing=$(grep -ho 'WASI_FN([a-z_0-9]*, [A-Za-z_]*)(' wasi/*.c | sort -u | sed 's/WASI_FN(\(.*\), \(.*\))(/\1 \2/' |
  while read -r name sig; do
    case $name in proc_exit | proc_raise) continue ;; esac
    grep -q "^  X(wasi_snapshot_preview1, $name, $sig," wasi/wasi_locked.h || echo "$name/$sig"
  done)
if [ -z "$missing" ]; then pass wasi-lock/complete; else fail wasi-lock/complete "not locked: $missing"; fi

# The programs build as README says: over wasi-libc built with thread-local errno
# (tools/wasi-libc.sh), whose libpthread.a is the layer, or, where its sources could not be
# fetched (the reason is then the comment of sysroot.mk), over Debian's and the layer's
# libkiln-pthread.a. That second line, from before the sysroot, works alongside it.
sysroot=$(sed -n 's/^WASI_LIBC_SYSROOT := //p' build/wasi-libc/sysroot.mk)
WASM=(clang-19 --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,--stack-first -Wl,-z,stack-size=65536
  -pthread -Ipthread/include -Wl,--max-memory=67108864)
DEBIAN_LIBC=(-Wl,@pthread/kiln-pthread.rsp build/pthread/libkiln-pthread.a)
if [ -n "$sysroot" ]; then LIBC=(--sysroot="$sysroot" -Wl,@pthread/kiln-pthread.rsp); else LIBC=("${DEBIAN_LIBC[@]}"); fi
for p in sum condvar once_tsd race c11 malloc_mt api cancel pool trap exit echo_mt close_blocked errno_tls open_mt stack; do
  check "build $p" "${WASM[@]}" -o "$T/$p.wasm" "tests/threads/$p.c" "${LIBC[@]}"
done
# Without --stack-first and with a 1 MiB main stack, which threads then get by default.
check "build stack (1 MiB)" clang-19 --target=wasm32-wasi -O2 -Wall -Wextra -Werror -Wl,-z,stack-size=1048576 \
  -pthread -Ipthread/include -Wl,--max-memory=67108864 -o "$T/stack1m.wasm" tests/threads/stack.c "${LIBC[@]}"
# sum with the memory imported (env.memory, wasm-ld --import-memory), as wasi-threads
# modules built for wasmtime have it: the hosted runtime provides it.
check "build sum (imported memory)" "${WASM[@]}" -Wl,--import-memory -o "$T/sum_imported.wasm" tests/threads/sum.c "${LIBC[@]}"
if [ -n "$sysroot" ]; then
  for p in sum errno_tls; do
    check "build $p (Debian's wasi-libc)" "${WASM[@]}" -o "$T/${p}_debian.wasm" "tests/threads/$p.c" "${DEBIAN_LIBC[@]}"
  done
  # Not both: the layer for Debian's wasi-libc over the sysroot is refused, not linked to write
  # errno at its TLS offset (tools/patches/wasi-libc/errno-guard.patch).
  if out=$("${WASM[@]}" --sysroot="$sysroot" -o "$T/mixed.wasm" tests/threads/errno_tls.c "${DEBIAN_LIBC[@]}" 2>&1); then
    fail "build refused: sysroot with libkiln-pthread.a" "wasm-ld linked it"
  elif grep -q "duplicate symbol: __kiln_errno_location" <<<"$out"; then pass "build refused: sysroot with libkiln-pthread.a"
  else fail "build refused: sysroot with libkiln-pthread.a" "$(head -n1 <<<"$out")"; fi
fi
for w in unshared_wait wait_notify spawn_unshared; do
  check "build $w" wat2wasm --enable-threads "tests/threads/$w.wat" -o "$T/$w.wasm"
done

# app_args [ARGS...] [-- OPTIONS...]: sets $args to kiln's --arg for each of ARGS, then OPTIONS
app_args() {
  args=()
  while [ $# -gt 0 ] && [ "$1" != -- ]; do args+=(--arg "$1"); shift; done
  [ $# -gt 0 ] && shift
  args+=("$@")
}
# run NAME WASM [ARGS...] [-- OPTIONS...]: hosted, at most 120 s; sets $rc, output in $T/NAME.out/.err
run() {
  local name=$1 wasm=$2 args
  shift 2
  app_args "$@"
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
# malloc's per-thread caches (pthread/malloc.c): blocks freed by other threads than made them,
# checked, and no memory kept by threads that ended.
run malloc-mt malloc_mt; expect malloc-mt 0 "memory steady"
# The rest of the API (tests/threads/api.c): spin locks, timed lock waits, attributes.
run api api; expect api 0 "api: ok"
# pthread_cancel and cleanup handlers (tests/threads/cancel.c): each cancellation point, and
# 20 rounds of 8 threads canceled at once; stdout as its native build's.
check "build cancel (native)" clang-19 -O2 -Wall -Wextra -Werror -pthread -o "$T/cancel.native" tests/threads/cancel.c
timeout 60 "$T/cancel.native" 20 >"$T/cancel-native.out" 2>&1
# same_as_native NAME: the run ended with 0 and printed what the native build did
same_as_native() {
  if [ "$rc" != 0 ]; then fail "$1" "exit $rc: $(tail -n2 "$T/$1.err" "$T/$1.out" | tr '\n' ' ' | head -c 300)"
  elif ! grep -q "^cancel: ok" "$T/cancel-native.out"; then fail "$1" "the native build did not pass: $(tail -n1 "$T/cancel-native.out")"
  elif ! cmp -s "$T/cancel-native.out" "$T/$1.out"; then fail "$1" "stdout differs from native's: $(diff "$T/cancel-native.out" "$T/$1.out" | head -n3 | tr '\n' ' ')"
  else pass "$1"; fi
}
run cancel cancel 20; same_as_native cancel
# errno per thread: six threads fail calls with six errnos at once (a file in a preopened
# directory, tests/threads/errno_tls.c); over Debian's wasi-libc errno is shared and this fails.
# And libc's buffer for relative paths after a chdir() (tests/threads/open_mt.c): shared, threads
# open each other's files.
mkdir -p "$T/errdir" && echo f >"$T/errdir/f"
for f in t0 t11 t222 t3333; do printf %s $f >"$T/errdir/$f"; done
tls_skip=$(sed -n 's/^# //p' build/wasi-libc/sysroot.mk)
if [ -n "$sysroot" ]; then
  run errno-tls errno_tls /d 20000 -- --dir "$T/errdir:/d"
  expect errno-tls 0 "6 threads x 20000 failing calls: each saw its own errno; main kept ENOTDIR"
  run open-mt open_mt /d 5000 -- --dir "$T/errdir:/d"
  expect open-mt 0 "4 threads x 5000 opens: each read its own file"
  # Over Debian's wasi-libc the same threads see each other's errnos: the test can fail.
  run sum-debian sum_debian; expect sum-debian 0 "locked 1000000 atomic 1000000 want 1000000 results 60"
  run errno-shared errno_tls_debian /d 20000 -- --dir "$T/errdir:/d"
  if [ "$rc" = 1 ] && grep -q "thread: call [0-9]*: errno" "$T/errno-shared.out"; then pass errno-shared-debian-libc
  else fail errno-shared-debian-libc "exit $rc, expected 1 with a thread seeing another's errno: $(head -c 300 "$T/errno-shared.out")"; fi
else
  skip errno-tls "errno is one variable for all threads over Debian's wasi-libc ($tls_skip)"
  skip open-mt "libc's path buffer is one for all threads over Debian's wasi-libc ($tls_skip)"
fi

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
# The C stack in linear memory (tests/threads/stack.c): a thread's default size is the main
# thread's (at least 128 KiB) and pthread_attr_setstacksize's is honoured; running out of it is
# the trap "call stack exhausted" (aot/abi.h §4), in a thread or in main, not writes below it.
# stack_trap NAME WHERE: the run ended with that trap, once, in deep()
stack_trap() {
  if [ "$rc" = 134 ] && [ "$(grep -c '^kiln: trap:' "$T/$1.err")" = 1 ] &&
    grep -q '^kiln: trap: call stack exhausted in deep' "$T/$1.err" && ! grep -q "$2" "$T/$1.out"; then pass "$1"
  else fail "$1" "exit $rc (134 and 'call stack exhausted in deep' expected): $(tail -n2 "$T/$1.err" "$T/$1.out" | tr '\n' ' ' | head -c 300)"; fi
}
run stack-fit stack fit 100; expect stack-fit 0 "4 MiB: 3072 KiB on the stack, sum 49152"
run stack-fit-1m stack1m fit 768; expect stack-fit-1m 0 "default: 768 KiB on the stack, sum 12288"
run stack-thread stack thread; stack_trap stack-thread joined
run stack-main stack1m main; stack_trap stack-main returned
if grep -q joined "$T/exit.out"; then fail exit-in-worker "main went on after exit(7) in a worker"; else pass exit-in-worker; fi

run unshared-wait unshared_wait
if [ "$rc" = 134 ] && grep -q 'trap: expected shared memory' "$T/unshared-wait.err"; then pass unshared-wait
else fail unshared-wait "exit $rc: $(head -c 200 "$T/unshared-wait.err")"; fi
run wait-notify wait_notify
if [ "$rc" = 134 ] && grep -q 'trap: unaligned atomic' "$T/wait-notify.err"; then pass wait-notify
else fail wait-notify "exit $rc (1-4: a check failed; 134 with 'unaligned atomic' expected): $(head -c 200 "$T/wait-notify.err")"; fi
run spawn-unshared spawn_unshared; expect spawn-unshared 0

# close() while another thread is blocked in recv() on the socket: the receiver wakes with an
# error, and the fd number reused at once by the next connection (which sends "X") is that
# connection's alone (tests/threads/close_blocked.c).
# close_blocked_client PORT: one silent connection, then one that sends X; both held 3 s.
close_blocked_client() {
  timeout 60 python3 -c 'import socket, sys, time
t_end = time.time() + 50
while True:  # refused until the app (or the forwarder of kiln run) listens
    try:
        a = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
        break
    except ConnectionRefusedError:
        if time.time() > t_end:
            raise
        time.sleep(0.2)
time.sleep(0.5)
b = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=15)
b.sendall(b"X")
time.sleep(3)' "$1"
}
port=$(free_port)
timeout 60 ./kiln run --hosted "$T/close_blocked.wasm" --listen "tcp:$port" >"$T/close-blocked.out" 2>"$T/close-blocked.err" &
app=$!
close_blocked_client "$port"
wait "$app"
rc=$?
expect close-blocked 0 "the second connection read its X"

# ---- in the VM: kiln build --smp N with the arguments, kiln run (TCG, multi-threaded) ----
# vmrun NAME SMP WASM [ARGS...] [-- OPTIONS...]: sets $rc, output in $T/NAME.out/.err (at most 120 s);
# OPTIONS are kiln build's
vmrun() {
  local name=$1 smp=$2 wasm=$3 args
  shift 3
  app_args "$@"
  if ! ./kiln build "$T/$wasm.wasm" -o "$T/$name.iso" --smp "$smp" "${args[@]}" >"$T/$name.err" 2>&1; then
    rc=build-failed
    return
  fi
  timeout 120 ./kiln run "$T/$name.elf" --timeout 110 >"$T/$name.out" 2>"$T/$name.err"
  rc=$?
}
vmrun vm-smp2-sum 2 sum; expect vm-smp2-sum 0 "locked 1000000 atomic 1000000 want 1000000 results 60"
if grep -q '^kiln: 2 CPUs' "$T/vm-smp2-sum.err"; then pass vm-smp2-two-cpus
else fail vm-smp2-two-cpus "no 'kiln: 2 CPUs' note: $(head -c 300 "$T/vm-smp2-sum.err")"; fi
vmrun vm-smp1-sum 1 sum 8 20000; expect vm-smp1-sum 0 "locked 720000 atomic 720000 want 720000"
# kiln run --smp 2 overrides the image's default (through fw_cfg, so also through GRUB).
for img in elf iso; do
  timeout 120 ./kiln run "$T/vm-smp1-sum.$img" --smp 2 --timeout 110 >"$T/vm-run-smp2-$img.out" 2>"$T/vm-run-smp2-$img.err"
  rc=$?
  if ! grep -q '^kiln: 2 CPUs (smp=2' "$T/vm-run-smp2-$img.err"; then rc="$rc, no 'kiln: 2 CPUs (smp=2' note"; fi
  expect "vm-run-smp2-$img" 0 "locked 720000 atomic 720000 want 720000"
done
vmrun vm-smp2-sum-16 2 sum 16 20000; expect vm-smp2-sum-16 0 "locked 2720000 atomic 2720000 want 2720000"
vmrun vm-smp2-condvar 2 condvar; expect vm-smp2-condvar 0 "timedwait: ETIMEDOUT"
vmrun vm-smp2-once-tsd 2 once_tsd; expect vm-smp2-once-tsd 0 "ok"
vmrun vm-smp2-race 2 race 200 4 1000; expect vm-smp2-race 0 "200 rounds of 4 threads: no lost update"
vmrun vm-smp2-malloc-mt 2 malloc_mt 4 5000 100; expect vm-smp2-malloc-mt 0 "memory steady"
vmrun vm-smp2-api 2 api; expect vm-smp2-api 0 "api: ok"
vmrun vm-smp2-cancel 2 cancel 20; same_as_native vm-smp2-cancel
# A user's threaded program beside its native build (tests/threads/pool.c): stdout and the file
# it writes, hosted (--dir) and in the VM on two CPUs (--volume), as native's.
check "build pool (native)" clang-19 -O2 -Wall -Wextra -Werror -pthread -o "$T/pool.native" tests/threads/pool.c
mkdir -p "$T/pool-native" "$T/pool-hosted" "$T/pool-vm"
if "$T/pool.native" 4 "$T/pool-native" >"$T/pool-native.out" 2>/dev/null && grep -q '^done 64 chunks' "$T/pool-native.out"; then
  pass pool-native
else fail pool-native "the native build did not run: $(head -c 200 "$T/pool-native.out")"; fi
# pool_same NAME DIR: the run ended with 0 and wrote what native did
pool_same() {
  if [ "$rc" != 0 ]; then fail "$1" "exit $rc: $(tail -n2 "$T/$1.err" | tr '\n' ' ' | head -c 300)"
  elif ! cmp -s "$T/pool-native.out" "$T/$1.out"; then fail "$1" "stdout differs from native's: $(diff "$T/pool-native.out" "$T/$1.out" | head -n3 | tr '\n' ' ')"
  elif ! cmp -s "$T/pool-native/result.txt" "$2/result.txt"; then fail "$1" "result.txt differs from native's"
  else pass "$1"; fi
}
run pool-hosted pool 4 /out -- --dir "$T/pool-hosted:/out"; pool_same pool-hosted "$T/pool-hosted"
if ./kiln build "$T/pool.wasm" -o "$T/pool-vm.iso" --arg 4 --arg /out >"$T/vm-smp2-pool.err" 2>&1; then
  timeout 120 ./kiln run "$T/pool-vm.elf" --smp 2 --volume "$T/pool-vm:/out" --timeout 110 >"$T/vm-smp2-pool.out" 2>"$T/vm-smp2-pool.err"
  rc=$?
else rc=build-failed; fi
pool_same vm-smp2-pool "$T/pool-vm"
if [ -n "$sysroot" ]; then
  vmrun vm-smp2-errno-tls 2 errno_tls /d 20000 -- --dir "$T/errdir:/d"
  expect vm-smp2-errno-tls 0 "6 threads x 20000 failing calls: each saw its own errno; main kept ENOTDIR"
  vmrun vm-smp2-open-mt 2 open_mt /d 5000 -- --dir "$T/errdir:/d"
  expect vm-smp2-open-mt 0 "4 threads x 5000 opens: each read its own file"
else
  skip vm-smp2-errno-tls "errno is one variable for all threads over Debian's wasi-libc ($tls_skip)"
  skip vm-smp2-open-mt "libc's path buffer is one for all threads over Debian's wasi-libc ($tls_skip)"
fi
vmrun vm-smp2-trap 2 trap
traps=$(grep -c '^kiln: trap:' "$T/vm-smp2-trap.err")
if [ "$rc" != 134 ] || [ "$traps" != 1 ] || ! grep -q '^kiln: trap: unreachable in trapping_worker' "$T/vm-smp2-trap.err" ||
  grep -q joined "$T/vm-smp2-trap.out"; then
  fail vm-smp2-trap-in-worker "exit $rc, $traps trap lines: $(head -c 300 "$T/vm-smp2-trap.err") $(head -c 100 "$T/vm-smp2-trap.out")"
else
  pass vm-smp2-trap-in-worker
fi
vmrun vm-smp2-exit 2 exit; expect vm-smp2-exit 7 "worker exits with 7"
vmrun vm-smp2-stack-fit 2 stack1m fit 768; expect vm-smp2-stack-fit 0 "4 MiB: 3072 KiB on the stack, sum 49152"
vmrun vm-smp2-stack-thread 2 stack thread; stack_trap vm-smp2-stack-thread joined
if grep -q joined "$T/vm-smp2-exit.out"; then fail vm-smp2-exit-in-worker "main went on after exit(7) in a worker"
else pass vm-smp2-exit-in-worker; fi
# Concurrent socket calls: a thread per connection, 16 clients at once (lwIP under its lock).
for smp in 2 1; do
  port=$(free_port) name=vm-smp$smp-echo-exit
  if ./kiln build "$T/echo_mt.wasm" -o "$T/$name.iso" --smp "$smp" --arg 16 --listen tcp:7 >"$T/$name.err" 2>&1; then
    timeout 200 ./kiln run "$T/$name.elf" --fwd "$port:7" --timeout 190 </dev/null >"$T/$name.out" 2>"$T/$name.err" &
    vm=$!
    relay "vm-smp$smp-" < <(timeout 180 python3 tests/threads/echo_client.py "$port" 16 200)
    wait "$vm"
    rc=$?
    expect "$name" 0 "served 16 connections, 0 with errors"
  else
    fail "$name" "kiln build: $(tail -n1 "$T/$name.err")"
  fi
done
# close() while another thread is blocked in recv() on the socket: it wakes with an error, and a
# connection accepted right after gets its own byte (close_blocked_client, above).
port=$(free_port) name=vm-smp2-close-blocked
if ./kiln build "$T/close_blocked.wasm" -o "$T/$name.iso" --smp 2 --listen tcp:7 >"$T/$name.err" 2>&1; then
  timeout 60 ./kiln run "$T/$name.elf" --fwd "$port:7" --timeout 50 </dev/null >"$T/$name.out" 2>"$T/$name.err" &
  vm=$!
  close_blocked_client "$port"
  wait "$vm"
  rc=$?
  expect "$name" 0 "the second connection read its X"
else
  fail "$name" "kiln build: $(tail -n1 "$T/$name.err")"
fi
vmrun vm-smp2-wait-notify 2 wait_notify
if [ "$rc" = 134 ] && grep -q 'trap: unaligned atomic' "$T/vm-smp2-wait-notify.err"; then pass vm-smp2-wait-notify
else fail vm-smp2-wait-notify "exit $rc: $(head -c 200 "$T/vm-smp2-wait-notify.err")"; fi
# examples/broker (a thread per connection, queues under locks) under bench/broker-client's load,
# hosted and in the VM on two CPUs: every message arrives whole and in order, and the broker's
# counters are back to idle after.
check "build examples/broker" make -s $KILN_DRIVER build/examples/broker.wasm
check "build broker-client" clang-19 -O2 -pthread -o "$T/broker-client" bench/broker-client.c
# broker_load NAME PORT: the load, then the counters; passes or fails NAME
broker_load() {
  local name=$1 port=$2 i out= err=
  for i in $(seq 100); do "$T/broker-client" 127.0.0.1 "$port" stats >/dev/null 2>&1 && break; sleep 0.3; done
  for load in "transfer 10 2000 1024" "transfer 40 2000 256" "receive 8 4 2000 1024"; do
    out=$(timeout 120 "$T/broker-client" 127.0.0.1 "$port" $load 2>&1) || { err="$load: $out"; break; }
  done
  out=$("$T/broker-client" 127.0.0.1 "$port" stats 2>&1)
  if [ -n "$err" ]; then fail "$name" "$err"
  elif ! grep -q '^conns=0 queued=0 received=6000 delivered=6000 ' <<<"$out"; then fail "$name" "counters: $out"
  else pass "$name"; fi
}
port=$(free_port)
timeout 200 ./kiln run --hosted build/examples/broker.wasm --listen "tcp:$port" >"$T/broker-hosted.out" 2>&1 &
pid=$!
broker_load broker-hosted "$port"
kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
port=$(free_port)
if ./kiln build build/examples/broker.wasm -o "$T/broker.iso" --smp 2 --listen tcp:9000 >"$T/broker-vm.err" 2>&1; then
  timeout 200 ./kiln run "$T/broker.elf" --fwd "$port:9000" --mem 256M --timeout 190 </dev/null >"$T/broker-vm.out" 2>&1 &
  pid=$!
  broker_load vm-smp2-broker "$port"
  kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
else
  fail vm-smp2-broker "kiln build: $(tail -n1 "$T/broker-vm.err")"
fi
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
