#!/usr/bin/env bash
# tests/volume/run.sh — `kiln run --volume HOST:GUEST` (virtio-9p, 9P2000.L) under TCG.
#   1. Host unit tests of the 9P client against malformed replies (tests/volume/p9unit.c).
#   2. The app tests/volume/volcheck.c changes a volume in the VM; after the VM has exited, the
#      host checks the exact tree, every byte (cmp, sha256) and that nothing appeared outside
#      the volume. Both boot paths (.elf and .iso).
#      The same app hosted (--dir maps the host directory there) leaves the identical tree.
#   3. Bad --volume arguments are clear kiln errors.
#   4. sqlite3 (Debian's source package, built by tools/realprogs.sh) creates a database in a
#      volume, a second VM adds to it, and the host's sqlite3 reads the rows.
#   5. The WASI test suite's tests that need a preopened directory (../shared/testsuite/wasi),
#      with their root directory as a volume at "/" instead of packed into the image.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh

T=$(mktemp -d /tmp/kiln-volume.XXXXXX)
trap 'rm -rf "$T"' EXIT
W=build/tests/volume

# ---- 1. the client against a scripted, misbehaving server ----
if clang-19 -std=c11 -O1 -g -Wall -Wextra -Werror -Wno-unused-parameter -DKILN_HOST_TEST -I. \
    -fsanitize=undefined -fsanitize-trap=all -o "$T/p9unit" tests/volume/p9unit.c p9/client.c 2>"$T/p9unit.log"; then
  "$T/p9unit" >"$T/p9unit.out" 2>&1
  rc=$?
  relay "9p client: " <"$T/p9unit.out"
  grep -q '^[0-9]* passed, 0 failed$' "$T/p9unit.out" || fail "9p client unit tests" "exit status $rc: $(tail -n1 "$T/p9unit.out")"
else
  fail "9p client unit tests build" "$(head -n3 "$T/p9unit.log" | tr '\n' '|')"
fi

# ---- 2. a volume changed in the VM, checked on the host ----
if ! make -s all $W/volcheck.wasm >"$T/make.log" 2>&1; then
  fail build "$(grep -m1 -E 'error|Error' "$T/make.log")"
  finish
  exit 1
fi
if ! ./kiln build $W/volcheck.wasm -o $W/volcheck.iso >"$T/build.log" 2>&1; then
  fail "build volcheck" "$(tail -n1 "$T/build.log")"
  finish
  exit 1
fi

# The pattern volcheck.c writes (same LCG), to compare on the host.
python3 - "$T/big.expected" <<'PY'
import sys
x, out = 1, bytearray(3 * 1024 * 1024 + 123)
for i in range(len(out)):
    x = (x * 1103515245 + 12345) & 0xffffffff
    out[i] = (x >> 16) & 0xff
open(sys.argv[1], "wb").write(out)
PY

expected_tree='. d
./a d
./a/b d
./a/b/c d
./a/b/c/big.bin f
./a/b/t.txt f
./a/hard.txt f
./a/log.txt f
./a/seek.txt f
./a/trunc.txt f
./d2 d
./d2/in.txt f
./link l a/log.txt
./moved.txt f
./old.txt f'

# file_is NAME PATH PRINTF-FORMAT: the file holds exactly these bytes.
file_is() { cmp -s "$2" <(printf "$3") && pass "$1" || fail "$1" "$(od -c "$2" 2>&1 | head -n2 | tr '\n' '|')"; }

# prep_volume DIR: a fresh volume DIR/vol beside DIR/sentinel (which must stay empty), with two
# symlinks leading out of it, as a host could leave them (volcheck.c must not follow them).
prep_volume() {
  mkdir -p "$1/vol" && : >"$1/sentinel"
  ln -s /etc/hostname "$1/vol/hostabs" && ln -s ../sentinel "$1/vol/hostrel"
}

# check_volume LABEL IMAGE: volcheck run on a fresh volume T/LABEL/vol, checked on the host.
check_volume() {
  local l=$1 image=$2 out=$T/$1 rc=0
  prep_volume "$out"
  local t0=$SECONDS
  ./kiln run "$image" --volume "$out/vol:/vol" --timeout 300 >"$out/log" 2>&1 || rc=$?
  echo "  ($l: VM ran $((SECONDS - t0)) s; $(grep -m1 '^throughput' "$out/log"))"
  relay "$l: vm: " <"$out/log"
  [ $rc = 0 ] && pass "$l: app exit 0" || fail "$l: app exit 0" "status $rc: $(tail -n2 "$out/log" | tr '\n' '|')"
  local tree
  tree=$(cd "$out/vol" && find . -printf '%p %y %l\n' | sed 's/ $//' | LC_ALL=C sort)
  [ "$tree" = "$expected_tree" ] && pass "$l: host tree exact" || fail "$l: host tree exact" "$(diff <(echo "$expected_tree") <(echo "$tree") | tr '\n' '|')"
  [ "$(sha256sum <"$out/vol/a/b/c/big.bin")" = "$(sha256sum <"$T/big.expected")" ] && pass "$l: 3 MiB file sha256" ||
    fail "$l: 3 MiB file sha256" "size $(stat -c %s "$out/vol/a/b/c/big.bin" 2>&1)"
  file_is "$l: appended" "$out/vol/a/log.txt" 'line1\nline2\n'
  file_is "$l: seek+overwrite+hole" "$out/vol/a/seek.txt" '012XYZ6789\0\0!!'
  file_is "$l: truncated down and up" "$out/vol/a/trunc.txt" 'abcd\0\0'
  file_is "$l: O_TRUNC" "$out/vol/a/b/t.txt" 'new'
  file_is "$l: renamed file" "$out/vol/moved.txt" 'moved\n'
  file_is "$l: renamed dir's file" "$out/vol/d2/in.txt" 'inside\n'
  file_is "$l: renamed over" "$out/vol/old.txt" 'new\n'
  [ "$(stat -c %i "$out/vol/moved.txt")" = "$(stat -c %i "$out/vol/a/hard.txt" 2>&1)" ] && pass "$l: hard link on host" ||
    fail "$l: hard link on host" "different inodes"
  [ "$(stat -c %a "$out/vol/a/log.txt") $(stat -c %a "$out/vol/a/b")" = "644 755" ] && pass "$l: modes 644/755" ||
    fail "$l: modes 644/755" "$(stat -c %a "$out/vol/a/log.txt" "$out/vol/a/b" | tr '\n' ' ')"
  [ "$(ls -A "$out")" = "$(printf 'log\nsentinel\nvol')" ] && [ ! -s "$out/sentinel" ] && pass "$l: nothing outside the volume" ||
    fail "$l: nothing outside the volume" "$(ls -A "$out" | tr '\n' ' '), sentinel $(stat -c %s "$out/sentinel") bytes"
}

check_volume elf $W/volcheck.elf
check_volume iso $W/volcheck.iso
# The same app hosted, on --dir (the host directory itself there): the same tree, byte for byte.
prep_volume "$T/hosted"
if ./kiln run --hosted $W/volcheck.wasm --dir "$T/hosted/vol:/vol" >"$T/hosted/log" 2>&1 &&
    diff -r --no-dereference "$T/elf/vol" "$T/hosted/vol" >"$T/hosted/diff" 2>&1; then
  pass "VM volume and hosted --dir end identical"
else
  fail "VM volume and hosted --dir end identical" "$(head -n3 "$T/hosted/diff" "$T/hosted/log" | tr '\n' '|')"
fi

# The driver's other paths, with QEMU run directly: the non-transitional device (modern id
# 0x1049) without MSI-X vectors, so completions come through the INTx line.
prep_volume "$T/intx"
timeout 120 qemu-system-x86_64 -accel tcg -cpu max -m 128M -smp 1 -display none -monitor none -serial stdio \
  -no-reboot -device isa-debug-exit,iobase=0xf4,iosize=0x04 -kernel $W/volcheck.elf -nic none \
  -append "$(tr '\n' ' ' <$W/volcheck.cmdline 2>/dev/null)" -fsdev "local,id=v0,path=$T/intx/vol,security_model=none" \
  -device virtio-9p-pci-non-transitional,fsdev=v0,mount_tag=/vol,vectors=0 </dev/null >"$T/intx/log" 2>&1
if grep -q "tag '/vol', INTx" "$T/intx/log" && grep -q '^throughput' "$T/intx/log" && ! grep -q '^FAIL' "$T/intx/log" &&
    diff -r --no-dereference "$T/elf/vol" "$T/intx/vol" >/dev/null 2>&1; then
  pass "modern-only device on INTx: same tree"
else
  fail "modern-only device on INTx: same tree" "$(grep -m3 -E 'virtio-9p|FAIL|panic' "$T/intx/log" | tr '\n' '|')"
fi

# ---- 3. bad --volume arguments: clear errors from kiln, before any VM starts
bad() {
  local name=$1 want=$2 out rc=0
  shift 2
  out=$(./kiln run $W/volcheck.elf --timeout 60 "$@" 2>&1) || rc=$?
  [ $rc = 2 ] && grep -qF -- "$want" <<<"$out" && pass "$name" || fail "$name" "status $rc: $out"
}
bad "missing host dir is a kiln error" "does not exist" --volume "$T/nope:/vol"
bad "host file (not a dir) is a kiln error" "does not exist" --volume "$T/big.expected:/vol"
bad "no GUEST is a kiln error" "wants HOST:GUEST" --volume "$T"
bad "long GUEST is a kiln error" "longer than 31 bytes" --volume "$T:/$(printf 'x%.0s' {1..40})"

# ---- 4. sqlite3 in the VM, its database read on the host ----
# One image for both runs: it runs the script /sql/run.sql (a second volume, read-only use) on
# /db/test.db. argv starts with "-batch", so the database is argv[1] whether --arg fills argv[0]
# or appends after the app's name.
sqlite_vm() { # sqlite_vm NAME SQL
  printf '%s\n' "$2" >"$T/sql/run.sql"
  ./kiln run "$T/sqlite3.elf" --volume "$T/db:/db" --volume "$T/sql:/sql" --timeout 120 >"$T/$1.log" 2>&1
}
if [ ! -f tools/realprogs.sh ]; then
  skip "sqlite3 database in a volume" "tools/realprogs.sh (sqlite3.wasm from Debian's source package) is not in this tree"
elif ! tools/realprogs.sh sqlite3 >"$T/real.log" 2>&1; then
  fail "sqlite3 build" "tools/realprogs.sh sqlite3: $(tail -n2 "$T/real.log" | tr '\n' '|')"
elif ! ./kiln build build/real/sqlite3.wasm -o "$T/sqlite3.iso" --arg -batch --arg /db/test.db \
    --arg ".read /sql/run.sql" >"$T/sqlite3.build" 2>&1; then
  fail "sqlite3 image" "$(tail -n2 "$T/sqlite3.build" | tr '\n' '|')"
else
  mkdir -p "$T/db" "$T/sql"
  if sqlite_vm create "create table t(a integer primary key, b text); insert into t values (1,'one'),(2,'two');
      create table big(i integer primary key, s text); create index bs on big(s);
      with recursive c(x) as (select 1 union all select x+1 from c where x<20000)
      insert into big select x, printf('row-%08d', x*7919 % 20000) from c;"; then
    pass "sqlite3 creates a database in the VM"
  else
    fail "sqlite3 creates a database in the VM" "$(tail -n2 "$T/create.log" | tr '\n' '|')"
  fi
  if sqlite_vm update "insert into t values (3,'three'); update t set b='TWO' where a=2; select count(*) from big;" &&
      tr -d '\r' <"$T/update.log" | grep -qx 20000; then
    pass "a second VM reads and changes it"
  else
    fail "a second VM reads and changes it" "$(tail -n2 "$T/update.log" | tr '\n' '|')"
  fi
  got=$(sqlite3 "$T/db/test.db" "pragma integrity_check; select * from t; select count(*), sum(i), min(s), max(s) from big;" 2>&1)
  want=$(printf 'ok\n1|one\n2|TWO\n3|three\n20000|200010000|row-00000000|row-00019999')
  [ "$got" = "$want" ] && pass "the host's sqlite3 reads the rows" || fail "the host's sqlite3 reads the rows" "$(tr '\n' '|' <<<"$got")"
  [ "$(ls -A "$T/db")" = test.db ] && pass "no journal left behind" || fail "no journal left behind" "$(ls -A "$T/db" | tr '\n' ' ')"
fi

# ---- 5. the WASI test suite's file-system tests on a volume ----
suite=${WASI_SUITE:-../shared/testsuite/wasi}/c/testsuite/wasm32-wasip1
if [ ! -d "$suite" ]; then
  skip "WASI test suite on a volume" "no suite at $suite (github.com/WebAssembly/wasi-testsuite, see tests/wasi)"
else
  for json in "$suite"/*.json; do
    name=$(basename "$json" .json) d=$T/wasi.$(basename "$json" .json)
    mkdir -p "$d"
    # root, exit code and stdout from the spec (doc/specification.md); tests without a root
    # directory are tests/wasi's only
    python3 -c 'import json, sys
s = json.load(open(sys.argv[1]))
if not isinstance(s, dict) or not s.get("root"): sys.exit(1)
d = sys.argv[2]
open(d + "/root.name", "w").write(s["root"])
open(d + "/exit", "w").write(str(s.get("exit_code", 0)))
open(d + "/stdout.want", "w").write(s.get("stdout", ""))' "$json" "$d" 2>/dev/null || continue
    cp -r "$suite/$(cat "$d/root.name")" "$d/root" && chmod -R u+w "$d/root"
    find "$d/root" -name '*.cleanup' -exec rm -rf {} + 2>/dev/null
    if ! ./kiln build "$suite/$name.wasm" -o "$d/app.iso" >"$d/build.log" 2>&1; then
      fail "wasi suite on a volume: $name" "kiln build: $(tail -n1 "$d/build.log")"
      continue
    fi
    rc=0
    ./kiln run "$d/app.elf" --volume "$d/root:/" --append quiet=1 --timeout 120 >"$d/out" 2>&1 || rc=$?
    sed 's/\r$//' "$d/out" >"$d/stdout"
    if [ $rc != "$(cat "$d/exit")" ]; then
      fail "wasi suite on a volume: $name" "exit status $rc, want $(cat "$d/exit"): $(tail -n2 "$d/out" | tr '\n' '|')"
    elif ! cmp -s "$d/stdout" "$d/stdout.want"; then
      fail "wasi suite on a volume: $name" "stdout: $(head -c 200 "$d/stdout" | tr '\n' '|')"
    else
      pass "wasi suite on a volume: $name"
    fi
  done
fi

finish
