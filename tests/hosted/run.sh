#!/usr/bin/env bash
# tests/hosted/run.sh — the hosted runtime with real apps. First --dir (host/hostfs.c: the host
# directory itself, read-write, confined) and stdio types, with tests/hosted/fscheck.c: the tree
# the app builds is compared on the host, escapes are refused and leave the outside untouched,
# a 2 GiB hole costs no memory, the write quota answers, isatty/lseek follow redirection.
# Then network apps (host/net_plat.c: net/ksock.h over the host's sockets), 127.0.0.1 only: socket semantics seen from Wasm (tests/hosted/
# sockcheck.c), the http-server example serving build/examples/www byte-exact to curl with
# its error statuses, echo returning every byte (tests/net/client.py echo), the msg-send ->
# msg-recv pair, --listen's fd numbering, bind address and bad input, and an idle server
# using no CPU. Every process and client is bounded in time.
# Usage: tests/hosted/run.sh [fs]   (fs: only the --dir and stdio part)
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

T=$(mktemp -d /tmp/kiln-hosted.XXXXXX)
pids=()
cleanup() {
  for p in "${pids[@]-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
  rm -rf "$T"
}
trap cleanup EXIT

only_fs=0
[ "${1-}" = fs ] && only_fs=1
targets=(build/kiln-aot build/host/libkiln-host.a build/tests/hosted/fscheck.wasm)
[ $only_fs = 1 ] || targets+=(build/examples/www.stamp build/tests/hosted/sockcheck.wasm
  build/examples/http-server.wasm build/examples/echo.wasm build/examples/msg-send.wasm build/examples/msg-recv.wasm)
if ! make -s -j2 "${targets[@]}" >"$T/make.log" 2>&1; then
  fail build "$(grep -m1 -E 'error|Error' "$T/make.log")"
  finish
  exit 1
fi
# A private copy of the compiler and the library: others may rebuild them during the run.
cp build/kiln-aot "$T/kiln-aot" && cp build/host/libkiln-host.a "$T/libkiln-host.a"

# app NAME WASM: compiles and links T/NAME.bin as `kiln run --hosted` does.
app() {
  "$T/kiln-aot" "$2" -o "$T/$1.o" >"$T/$1.build" 2>&1 &&
    clang-19 "$T/$1.o" "$T/libkiln-host.a" -lm -o "$T/$1.bin" >>"$T/$1.build" 2>&1
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# start NAME ARGS...: runs T/NAME.bin in the background (killed at exit), output in T/NAME.log.
start() {
  local name=$1
  shift
  "$T/$name.bin" "$@" >"$T/$name.log" 2>&1 &
  echo $! >"$T/$name.pid"
  pids+=($!)
}
stop() { kill "$(cat "$T/$1.pid")" 2>/dev/null; wait "$(cat "$T/$1.pid")" 2>/dev/null; }
# CPU ticks (user + system) a process has used.
ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }

# ---- --dir: the host directory itself ----
app fscheck build/tests/hosted/fscheck.wasm || fail "build fscheck" "$(tail -n1 "$T/fscheck.build")"
if [ -x "$T/fscheck.bin" ]; then
  # fsrun NAME ARGS...: runs fscheck, relays its PASS/FAIL lines, fails on a bad status.
  fsrun() {
    local name=$1
    shift
    timeout 60 "$T/fscheck.bin" "$@" >"$T/$name.out" 2>&1
    local rc=$?
    relay "$name: " <"$T/$name.out"
    [ $rc = 0 ] || grep -q '^FAIL' "$T/$name.out" || fail "$name" "exit status $rc: $(tail -n2 "$T/$name.out" | tr '\n' ' ')"
  }
  # the tree: what the app made must be on the host, byte for byte
  R=$T/tree
  mkdir -p "$R" && printf 'from host' >"$R/in.txt"
  fsrun tree --dir "$R:/work" -- tree /work
  listing=$(cd "$R" && find . -mindepth 1 -path ./many -prune -o -printf '%y %p\n' | sort | tr '\n' ' ')
  want='d ./d d ./d/sub f ./c.bin f ./d/sub/b.txt f ./hl f ./in.txt l ./lnk '
  if [ "$listing" = "$want" ]; then pass "tree: the host sees exactly the tree the app made"
  else fail "tree: host listing" "$listing"; fi
  printf 'hello world\n' >"$T/want.b"
  printf '0123ab67' >"$T/want.c"
  if cmp -s "$R/d/sub/b.txt" "$T/want.b" && cmp -s "$R/c.bin" "$T/want.c"; then pass "tree: written, appended, renamed bytes reach the host"
  else fail "tree: file contents" "$(od -c "$R/d/sub/b.txt" "$R/c.bin" | head -n4 | tr '\n' ' ')"; fi
  if [ "$(readlink "$R/lnk")" = d/sub/b.txt ] && [ "$(stat -c '%i %h' "$R/hl")" = "$(stat -c '%i %h' "$R/c.bin")" ] &&
    [ "$(stat -c %h "$R/hl")" = 2 ] && [ "$(stat -c %Y "$R/c.bin")" = 1234567890 ]; then
    pass "tree: symlink, hard link and mtime are real on the host"
  else fail "tree: links/mtime" "$(readlink "$R/lnk") $(stat -c '%i %h %Y' "$R/hl" "$R/c.bin" | tr '\n' ' ')"; fi
  n=$(find "$R/many" -type f | wc -l)
  if [ "$n" = 300 ] && [ ! -e "$R/gone.txt" ] && [ ! -e "$R/tmpdir" ]; then pass "tree: 300 files made, deleted ones gone"
  else fail "tree: many/gone" "$n files in many, gone.txt $(ls "$R" | tr '\n' ' ')"; fi

  # escapes: "..", absolute paths, outward symlinks by the host and by the guest, loops
  E=$T/esc
  mkdir -p "$E/root" "$E/outside"
  printf secret >"$E/outside/secret.txt"
  ln -s "$E/outside/secret.txt" "$E/root/abslink"
  ln -s ../outside "$E/root/uplink"
  before=$(cd "$E/outside" && find . -printf '%p %s %T@\n' | sort; md5sum secret.txt)
  fsrun escape --dir "$E/root:/work" -- escape /work
  after=$(cd "$E/outside" && find . -printf '%p %s %T@\n' | sort; md5sum secret.txt)
  if [ "$before" = "$after" ] && [ "$(ls "$E")" = "$(printf 'outside\nroot')" ]; then pass "escape: nothing outside the --dir was touched"
  else fail "escape: outside changed" "$(diff <(echo "$before") <(echo "$after") | tr '\n' ' ')"; fi

  # sparse: 1 byte at 2 GiB is a hole on the host and no memory in the process
  S=$T/sparse
  mkdir -p "$S"
  out=$(timeout 60 python3 - "$T/fscheck.bin" "$S" <<'PY'
import resource, subprocess, sys
r = subprocess.run([sys.argv[1], "--dir", sys.argv[2] + ":/w", "--", "sparse", "/w"], capture_output=True, text=True)
sys.stdout.write(r.stdout)
print("rc %d maxrss_kb %d" % (r.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss))
PY
  )
  relay "sparse: " <<<"$out"
  rss=$(sed -n 's/^rc 0 maxrss_kb \([0-9]*\)$/\1/p' <<<"$out")
  if [ -n "$rss" ] && [ "$rss" -lt 102400 ]; then pass "sparse: process peak RSS $((rss / 1024)) MiB (< 100 MiB)"
  else fail "sparse: RSS" "$(tail -n1 <<<"$out")"; fi
  kb=$(du -k "$S/sparse.bin" | cut -f1)
  if [ "$(stat -c %s "$S/sparse.bin")" = 2147483649 ] && [ "$kb" -lt 1024 ]; then pass "sparse: 2 GiB + 1 file uses $kb KiB of disk"
  else fail "sparse: host file" "$(stat -c %s "$S/sparse.bin") bytes, $kb KiB"; fi

  # quota: per-file size (EFBIG) and bytes written in all (ENOSPC), and bad values refused
  Q=$T/quota
  mkdir -p "$Q"
  fsrun quota --max-file-size 1M --max-write 3M --dir "$Q:/w" -- quota /w
  timeout 10 "$T/fscheck.bin" --max-write lots --dir "$Q:/w" -- quota /w >"$T/bad.log" 2>&1
  if [ $? = 2 ] && grep -q "need a size" "$T/bad.log"; then pass "quota: a bad size is a usage error"
  else fail "quota: bad size" "$(head -n1 "$T/bad.log")"; fi
  timeout 10 "$T/fscheck.bin" --dir "$T/nonexistent:/w" -- tree /w >"$T/bad.log" 2>&1
  if [ $? = 1 ] && grep -q "nonexistent" "$T/bad.log"; then pass "--dir of a missing directory: a clear error"
  else fail "--dir missing" "$(head -n1 "$T/bad.log")"; fi

  # stdio: what it really is
  timeout 30 "$T/fscheck.bin" stdio >"$T/so.file" 2>"$T/so.err" </dev/null
  if grep -qx 'isatty 0 0 0' "$T/so.err"; then pass "stdio: isatty false on /dev/null and files"
  else fail "stdio: isatty redirected" "$(head -n1 "$T/so.err")"; fi
  if grep -qx 'lseek 0' "$T/so.err" && [ "$(cat "$T/so.file")" = BAAAAAAA ]; then pass "stdio: lseek on a file stdout rewrites its start"
  else fail "stdio: lseek on file stdout" "$(cat "$T/so.err" "$T/so.file" | tr '\n' ' ')"; fi
  timeout 30 "$T/fscheck.bin" stdio 2>&1 </dev/null | cat >"$T/so.pipe"
  if grep -qx 'isatty 0 0 0' "$T/so.pipe" && grep -q 'lseek -1 errno 70' "$T/so.pipe"; then
    pass "stdio: a pipe is no terminal and not seekable (ESPIPE)"
  else fail "stdio: pipe" "$(tr '\n' ' ' <"$T/so.pipe")"; fi
  timeout 30 script -qec "$T/fscheck.bin stdio" /dev/null </dev/null >"$T/so.pty" 2>&1
  if grep -q 'isatty 1 1 1' "$T/so.pty"; then pass "stdio: a terminal (pty) is a terminal"
  else fail "stdio: pty" "$(tr '\r\n' '  ' <"$T/so.pty")"; fi
fi
if [ $only_fs = 1 ]; then
  finish
  exit
fi

for a in http-server echo msg-send msg-recv; do
  app "$a" "build/examples/$a.wasm" || fail "build $a" "$(tail -n1 "$T/$a.build")"
done
app sockcheck build/tests/hosted/sockcheck.wasm || fail "build sockcheck" "$(tail -n1 "$T/sockcheck.build")"

# ---- socket semantics from Wasm ----
if [ -x "$T/sockcheck.bin" ]; then
  timeout 60 "$T/sockcheck.bin" >"$T/sockcheck.out" 2>&1
  rc=$?
  relay "sockets: " <"$T/sockcheck.out"
  [ $rc = 0 ] || grep -q '^FAIL' "$T/sockcheck.out" || fail sockcheck "exit status $rc: $(tail -n1 "$T/sockcheck.out")"
fi

# ---- http-server: --listen given before --dir still comes after it (fd 4) ----
W=build/examples/www
HP=$(free_port)
if [ -x "$T/http-server.bin" ]; then
  start http-server --listen "tcp:$HP" --dir "$W:/"
  if ! wait_line http-server "http-server: serving" 10; then
    fail "http-server starts" "$(tail -n2 "$T/http-server.log" | tr '\n' ' ')"
  else
    if grep -q "serving / on fd 4" "$T/http-server.log"; then pass "listen fd after stdio and --dir (fd 4)"
    else fail "listen fd after stdio and --dir" "$(head -n1 "$T/http-server.log")"; fi
    # bound to 127.0.0.1 only (not the wildcard)
    if ss -Hltn "sport = :$HP" | grep -q "127.0.0.1:$HP"; then pass "--listen binds 127.0.0.1 by default"
    else fail "--listen binds 127.0.0.1 by default" "$(ss -Hltn "sport = :$HP")"; fi
    URL=http://127.0.0.1:$HP
    get() { curl -sS --max-time 30 -o "$T/body" -w '%{http_code}' "$@" 2>"$T/curl.err"; }
    while IFS= read -r f; do
      rel=${f#"$W"/}
      code=$(get "$URL/$rel")
      if [ "$code" = 200 ] && cmp -s "$T/body" "$f"; then pass "GET /$rel ($(stat -c %s "$f") B) byte-exact"
      else fail "GET /$rel" "status $code, $(stat -c %s "$T/body" 2>/dev/null) B $(cat "$T/curl.err")"; fi
    done < <(find "$W" -type f | sort)
    code=$(get "$URL/")
    if [ "$code" = 200 ] && cmp -s "$T/body" "$W/index.html"; then pass "GET / serves index.html"
    else fail "GET /" "status $code"; fi
    code=$(get "$URL/docs/")
    if [ "$code" = 200 ] && cmp -s "$T/body" "$W/docs/index.html"; then pass "GET /docs/ serves docs/index.html"
    else fail "GET /docs/" "status $code"; fi
    # status CODE NAME CURL-ARGS...
    status() {
      local want=$1 name=$2 code
      shift 2
      code=$(get "$@")
      if [ "$code" = "$want" ]; then pass "$name"; else fail "$name" "status $code, want $want $(cat "$T/curl.err")"; fi
    }
    status 404 "404 for a missing file" "$URL/missing.html"
    status 404 "404 for a missing directory" "$URL/no/such/dir/"
    status 400 "400 for a target without /" --request-target nope "$URL/"
    status 405 "405 for POST" -X POST -d x "$URL/hello.txt"
    status 414 "414 for a 9000-byte URI" "$URL/$(head -c 9000 /dev/zero | tr '\0' a)"
    # HEAD: the length of the file, no body
    hdr=$(curl -sS --max-time 30 -I "$URL/big.bin" 2>&1 | tr -d '\r')
    if grep -qi "^content-length: $(stat -c %s "$W/big.bin")$" <<<"$hdr"; then pass "HEAD big.bin"
    else fail "HEAD big.bin" "$(head -n3 <<<"$hdr" | tr '\n' ' ')"; fi
    # keep-alive: 20 requests, one connection
    urls=()
    for i in $(seq 20); do urls+=("$URL/hello.txt" -o /dev/null); done
    conns=$(curl -sS --max-time 30 -w '%{num_connects}\n' "${urls[@]}" 2>"$T/curl.err" | awk '{s += $1} END {print s}')
    if [ "$conns" = 1 ]; then pass "keep-alive: 20 requests on one connection"
    else fail "keep-alive" "$conns connections $(cat "$T/curl.err")"; fi
    # 64 concurrent connections fetching the 1 MiB file
    mkdir -p "$T/par"
    urls=()
    for i in $(seq 64); do urls+=("$URL/big.bin" -o "$T/par/$i"); done
    t0=$(date +%s.%N)
    curl -sS --max-time 60 -Z --parallel-max 64 "${urls[@]}" 2>"$T/curl.err"
    t1=$(date +%s.%N)
    bad=0
    for i in $(seq 64); do cmp -s "$T/par/$i" "$W/big.bin" || bad=$((bad + 1)); done
    if [ $bad = 0 ]; then pass "64 concurrent GET big.bin byte-exact ($(awk "BEGIN {printf \"%.2f\", $t1 - $t0}") s)"
    else fail "64 concurrent GET big.bin" "$bad of 64 differ $(head -c 200 "$T/curl.err")"; fi
    rm -rf "$T/par"
    # 2000 sequential connections, each closed by the server after one response
    out=$(timeout 120 python3 - "$HP" "$W/hello.txt" 2>&1 <<'PY'
import socket, sys, time
port, want = int(sys.argv[1]), open(sys.argv[2], "rb").read()
t0 = time.time()
for i in range(2000):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: k\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        c = s.recv(65536)
        if not c:
            break
        data += c
    s.close()
    if not data.startswith(b"HTTP/1.1 200") or not data.endswith(b"\r\n\r\n" + want):
        sys.exit(f"connection {i}: {data[:60]!r}")
print(f"{2000 / (time.time() - t0):.0f} connections/s")
PY
    )
    if [ $? = 0 ]; then pass "2000 sequential connections ($out)"; else fail "2000 sequential connections" "$(tail -n1 <<<"$out")"; fi
    # idle with an open connection: the server sleeps in poll_oneoff, it does not spin
    pid=$(cat "$T/http-server.pid")
    python3 -c "import socket, time; s = socket.create_connection(('127.0.0.1', $HP)); time.sleep(2)" &
    idle=$!
    sleep 0.3
    c0=$(ticks "$pid")
    sleep 1.5
    c1=$(ticks "$pid")
    wait $idle
    if [ $((c1 - c0)) -le 5 ]; then pass "idle server uses no CPU ($((c1 - c0)) ticks in 1.5 s)"
    else fail "idle server uses no CPU" "$((c1 - c0)) ticks in 1.5 s"; fi
    if kill -0 "$pid" 2>/dev/null; then pass "http-server still running"; else fail "http-server still running" "it exited"; fi
  fi
  stop http-server
fi

# ---- echo: two --listen, in order: fd 3 and fd 4; serve the second ----
EP=$(free_port) EP2=$(free_port)
if [ -x "$T/echo.bin" ]; then
  start echo --listen "tcp:$EP2" --listen "tcp:127.0.0.1:$EP" -- 4
  if wait_line echo "echo: serving on fd 4" 10; then
    timeout 300 python3 tests/net/client.py echo "$EP" >"$T/echo.out" 2>&1
    relay <"$T/echo.out"
    grep -qE '^(PASS|FAIL) ' "$T/echo.out" || fail "echo client" "$(tail -n1 "$T/echo.out")"
  else
    fail "echo starts" "$(tail -n2 "$T/echo.log" | tr '\n' ' ')"
  fi
  stop echo
fi

# ---- msg-send -> msg-recv ----
MP=$(free_port)
N=100000 S=100
if [ -x "$T/msg-recv.bin" ] && [ -x "$T/msg-send.bin" ]; then
  start msg-recv --listen "tcp:$MP" -- "$S" "$N"
  if wait_line msg-recv "msg-recv: waiting" 10; then
    timeout 60 "$T/msg-send.bin" 127.0.0.1 "$MP" "$N" "$S" >"$T/send.log" 2>&1
    src=$?
    for i in $(seq 100); do kill -0 "$(cat "$T/msg-recv.pid")" 2>/dev/null || break; sleep 0.1; done
    wait "$(cat "$T/msg-recv.pid")"
    rrc=$?
    if [ $src = 0 ] && [ $rrc = 0 ]; then
      pass "msg-send -> msg-recv: $N messages of $S B ($(grep -o '[0-9]* msgs/s' "$T/msg-recv.log"))"
    else
      fail "msg-send -> msg-recv" "send exit $src, recv exit $rrc: $(cat "$T/send.log" "$T/msg-recv.log" | tr '\n' ' ')"
    fi
  else
    fail "msg-recv starts" "$(tail -n2 "$T/msg-recv.log" | tr '\n' ' ')"
  fi
  stop msg-recv
  timeout 10 "$T/msg-send.bin" 127.0.0.1 "$MP" 1 1 >"$T/send.log" 2>&1
  if [ $? = 1 ] && grep -q "WASI errno 14" "$T/send.log"; then pass "msg-send to a closed port: ECONNREFUSED"
  else fail "msg-send to a closed port" "$(cat "$T/send.log")"; fi
fi

# ---- bad --listen: a clear error and exit status 1, never a crash ----
if [ -x "$T/echo.bin" ]; then
  bad() {
    local name=$1 want=$2
    shift 2
    timeout 10 "$T/echo.bin" "$@" >"$T/bad.log" 2>&1
    local rc=$?
    if [ $rc = 1 ] && grep -q -- "$want" "$T/bad.log"; then pass "$name"
    else fail "$name" "exit $rc: $(head -n1 "$T/bad.log")"; fi
  }
  bad "--listen udp:PORT refused" "want tcp:PORT" --listen udp:9
  bad "--listen port 0 refused" "want tcp:PORT" --listen tcp:0
  bad "--listen port 70000 refused" "want tcp:PORT" --listen tcp:70000
  bad "--listen bad address refused" "want tcp:PORT" --listen tcp:1.2.3:80
  bad "--listen foreign address refused" "not an address" --listen tcp:192.0.2.1:$(free_port)
  BP=$(free_port)
  cp "$T/echo.bin" "$T/holder.bin"
  start holder --listen "tcp:$BP"
  if wait_line holder "echo: serving" 10; then bad "--listen port in use refused" "already in use" --listen "tcp:$BP"
  else fail "--listen port in use" "the first server did not start"; fi
  stop holder
  timeout 10 "$T/echo.bin" --listen >"$T/bad.log" 2>&1
  if [ $? = 2 ] && grep -q "missing value" "$T/bad.log"; then pass "--listen without a value: usage"
  else fail "--listen without a value" "$(head -n1 "$T/bad.log")"; fi
fi

finish
