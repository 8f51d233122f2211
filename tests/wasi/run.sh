#!/usr/bin/env bash
# tests/wasi/run.sh — WASI: the unit tests of wasi/ (build/tests/wasi/unit, also under
# ASan/UBSan when gcc's libasan is there), then the WASI test suite (../shared/testsuite/wasi,
# C and AssemblyScript, wasm32-wasip1) in hosted mode and on the unikernel.
#
# Usage: tests/wasi/run.sh [--unit] [--hosted] [--kernel] [NAME-FILTER]
#   default: all three parts; a filter (substring) selects suite tests by name.
# Per the suite's doc/specification.md: args, env (only those), "root" preopened as "/"
# (copied to a temp dir first, since some tests write), expected exit_code and stdout.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh # KILN_DRIVER; this suite counts its cases itself (below)
top=$PWD
suite=${WASI_SUITE:-$top/../shared/testsuite/wasi}
parts=() filter=""
for a in "$@"; do
  case $a in
    --unit) parts+=(unit) ;;
    --hosted) parts+=(hosted) ;;
    --kernel) parts+=(kernel) ;;
    -*) echo "usage: $0 [--unit] [--hosted] [--kernel] [NAME-FILTER]" >&2; exit 2 ;;
    *) filter=$a ;;
  esac
done
[ ${#parts[@]} -gt 0 ] || parts=(unit hosted kernel)
has() { [[ " ${parts[*]} " == *" $1 "* ]]; }

P=0 F=0 S=0
pass() { echo "PASS $1"; P=$((P + 1)); }
fail() { echo "FAIL $1: $2"; F=$((F + 1)); }
skip() { echo "SKIP $1: $2"; S=$((S + 1)); }

work=$(mktemp -d /tmp/kiln-wasi.XXXXXX)
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT
out=$top/build/tests/wasi
mkdir -p "$out/suite"

# ---- unit tests ----
if has unit; then
  if make -s -j2 build/tests/wasi/unit build/kiln-pack >"$work/make.log" 2>&1; then
    # A host tree with a file, a nested dir, a symlink, a hard link and an empty file.
    d=$work/tree
    mkdir -p "$d/sub/deep"
    printf 'hello from the host\n' >"$d/hello.txt"
    printf x >"$d/sub/deep/x"
    ln -s sub/deep/x "$d/link"
    : >"$d/empty"
    ln "$d/empty" "$d/hard"
    if build/kiln-pack --arg prog --arg a "$d:data" -o "$work/fs.img" 2>"$work/pack.log"; then
      pass kiln-pack
    else
      fail kiln-pack "$(head -c 300 "$work/pack.log")"
    fi
    # bad input to the packer is a clear error, not a crash
    if build/kiln-pack /nonexistent -o "$work/x.img" 2>"$work/pack.log"; then
      fail kiln-pack-bad-dir "accepted a missing directory"
    elif grep -q nonexistent "$work/pack.log"; then pass kiln-pack-bad-dir
    else fail kiln-pack-bad-dir "no message naming the directory"; fi

    # the hostdir case writes into the tree (hosted --dir is the host directory itself):
    # the sanitizer run gets its own copy
    cp -a "$d" "$work/tree2"
    build/tests/wasi/unit "$work/fs.img" "$d" >"$work/unit.log" 2>&1
    rc=$?
    grep -E '^(PASS|FAIL|SKIP) ' "$work/unit.log"
    up=$(grep -c '^PASS ' "$work/unit.log") uf=$(grep -c '^FAIL ' "$work/unit.log") us=$(grep -c '^SKIP ' "$work/unit.log")
    P=$((P + up)) F=$((F + uf)) S=$((S + us))
    if [ $rc != 0 ] && [ "$uf" = 0 ]; then fail unit "exit status $rc: $(tail -n 3 "$work/unit.log" | tr '\n' ' ')"; fi

    # The same tests under AddressSanitizer + UBSan (clang's runtimes: libclang-rt-19-dev,
    # which tools/deps.sh installs): memory errors in wasi/ show up as failures.
    if clang-19 -std=c11 -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -D_GNU_SOURCE -I. \
      $(ls wasi/*.c | grep -v wasi/socket_fd.c) host/hostfs.c tests/wasi/*.c -o "$out/unit-asan" >"$work/asan.log" 2>&1; then
      if "$out/unit-asan" "$work/fs.img" "$work/tree2" >"$work/asan.out" 2>&1; then pass unit-asan
      else fail unit-asan "$(grep -m3 -E 'ERROR|runtime error|^FAIL' "$work/asan.out" | tr '\n' ' ')"; fi
    else
      fail unit-asan "build failed: $(head -c 300 "$work/asan.log")"
    fi
  else
    fail unit-build "$(tail -n 5 "$work/make.log" | tr '\n' ' ')"
  fi
fi

# ---- the WASI test suite ----
# One line per test: name<TAB>wasm<TAB>json (or "").
list_tests() {
  local f
  for f in "$suite"/c/testsuite/wasm32-wasip1/*.wasm "$suite"/assemblyscript/testsuite/wasm32-wasip1/*.wasm; do
    [ -f "$f" ] || continue
    local lang=c
    [[ $f == */assemblyscript/* ]] && lang=as
    local name="$lang/$(basename "$f" .wasm)"
    [ -n "$filter" ] && [[ $name != *"$filter"* ]] && continue
    local j=${f%.wasm}.json
    [ -f "$j" ] || j=""
    printf '%s\t%s\t%s\n' "$name" "$f" "$j"
  done
}

# spec JSON -> shell-readable lines: "arg X", "env K=V", "root DIR", "exit N", and the
# expected stdout written to a file. Values are NUL-free strings; newlines inside args or
# env values are kept by writing each as its own file.
parse_spec() { # json outdir
  python3 - "$1" "$2" <<'PY'
import json, os, sys
src, outdir = sys.argv[1], sys.argv[2]
spec = json.load(open(src)) if src else {}
ops = spec.get("operations")
run = {"args": spec.get("args", []), "env": spec.get("env", {}), "root": spec.get("root")}
exit_code, stdout = spec.get("exit_code", 0), spec.get("stdout", "")
if ops:
    for op in ops:
        if op.get("type") == "run": run = {"args": op.get("args", []), "env": op.get("env", {}), "root": op.get("root")}
        elif op.get("type") == "wait": exit_code = op.get("exit_code", 0)
        elif op.get("type") == "read" and op.get("id", "stdout") == "stdout": stdout = op.get("payload", "")
unsupported = [p for p in spec.get("proposals", [])]
for i, a in enumerate(run["args"]):
    open(os.path.join(outdir, "arg%03d" % i), "w").write(a)
for i, (k, v) in enumerate(run["env"].items()):
    open(os.path.join(outdir, "env%03d" % i), "w").write(k + "=" + v)
open(os.path.join(outdir, "root"), "w").write(run["root"] or "")
open(os.path.join(outdir, "exit"), "w").write(str(exit_code))
open(os.path.join(outdir, "stdout"), "w").write(stdout)
open(os.path.join(outdir, "proposals"), "w").write(" ".join(unsupported))
PY
}

# Fills arrays ARGS ENVS from a parsed spec directory.
read_spec() {
  ARGS=() ENVS=()
  local f
  for f in "$1"/arg*; do [ -e "$f" ] && ARGS+=("$(cat "$f"; printf x)") && ARGS[-1]=${ARGS[-1]%x}; done
  for f in "$1"/env*; do [ -e "$f" ] && ENVS+=("$(cat "$f"; printf x)") && ENVS[-1]=${ENVS[-1]%x}; done
  ROOT=$(cat "$1/root") EXIT=$(cat "$1/exit") PROPOSALS=$(cat "$1/proposals")
}

# A fresh writable copy of the test's root directory (the suite is read-only).
fresh_root() { # testdir root -> prints the copy's path (or nothing)
  [ -n "$2" ] || return 0
  local dst=$work/root.$RANDOM$RANDOM
  cp -r "$1/$2" "$dst" && chmod -R u+w "$dst"
  find "$dst" -name '*.cleanup' -exec rm -rf {} + 2>/dev/null
  echo "$dst"
}

check_result() { # name mode rc expected_exit stdout_file expected_stdout_file stderr_file
  local name=$1 mode=$2 rc=$3 want=$4
  if [ "$rc" != "$want" ]; then
    fail "$mode $name" "exit status $rc, expected $want; stderr: $(tail -c 300 "$7" | tr '\n' ' ')"
  elif ! cmp -s "$5" "$6"; then
    fail "$mode $name" "stdout $(head -c 120 "$5" | od -An -c | tr -s ' \n' ' ' | head -c 200), expected $(head -c 120 "$6" | od -An -c | tr -s ' \n' ' ' | head -c 200)"
  else
    pass "$mode $name"
  fi
}

suite_ok=1
if has hosted || has kernel; then
  if [ ! -d "$suite" ]; then
    # A user's clone has no ../shared: the external suite is data we cannot ship (not a failure).
    skip wasi-testsuite "no WASI test suite at $suite; to run it, put a checkout of github.com/WebAssembly/wasi-testsuite (branch prod/testsuite-base, commit 9f80ca3) there, or set WASI_SUITE=DIR"
    suite_ok=0
  fi
fi

if [ $suite_ok = 1 ] && has hosted; then
  if ! make -s -j2 $KILN_DRIVER >"$work/make.log" 2>&1; then
    fail hosted "cannot build kiln-aot / libkiln-host.a: $(tail -n 3 "$work/make.log" | tr '\n' ' ')"
  else
    while IFS=$'\t' read -r name wasm json; do
      t=$work/spec.$RANDOM$RANDOM
      mkdir -p "$t"
      parse_spec "$json" "$t" && read_spec "$t"
      if [ -n "$PROPOSALS" ]; then skip "hosted $name" "needs proposals: $PROPOSALS"; continue; fi
      obj=$out/suite/${name//\//_}
      if [ ! -s "$obj.bin" ] || [ "$obj.bin" -ot "$wasm" ] || [ "$obj.bin" -ot build/kiln-aot ] ||
        [ "$obj.bin" -ot build/host/libkiln-host.a ]; then
        if ! build/kiln-aot "$wasm" -o "$obj.o" >"$t/aot.log" 2>&1; then
          fail "hosted $name" "kiln-aot: $(head -c 300 "$t/aot.log" | tr '\n' ' ')"; continue
        fi
        if ! clang-19 "$obj.o" build/host/libkiln-host.a -lm -o "$obj.bin" >"$t/ld.log" 2>&1; then
          fail "hosted $name" "link: $(grep -m3 -E 'undefined|error' "$t/ld.log" | tr '\n' ' ')"; continue
        fi
      fi
      root=$(fresh_root "$(dirname "$wasm")" "$ROOT")
      cmd=("$obj.bin")
      for e in "${ENVS[@]}"; do cmd+=(--env "$e"); done
      [ -n "$root" ] && cmd+=(--dir "$root:/")
      cmd+=(-- "${ARGS[@]}")
      rc=0
      (cd "$t" && env -i timeout 60 "${cmd[@]}" >"$t/out" 2>"$t/err" </dev/null) || rc=$?
      check_result "$name" hosted "$rc" "$EXIT" "$t/out" "$t/stdout" "$t/err"
    done < <(list_tests)
  fi
fi

if [ $suite_ok = 1 ] && has kernel; then
  if [ ! -x ./kiln ]; then
    fail kernel "no ./kiln"
  elif ! make -s -j2 $KILN_DRIVER >"$work/make.log" 2>&1; then
    fail kernel "cannot build kiln-aot / kernel.o: $(tail -n 3 "$work/make.log" | tr '\n' ' ')"
  else
    while IFS=$'\t' read -r name wasm json; do
      t=$work/spec.$RANDOM$RANDOM
      mkdir -p "$t"
      parse_spec "$json" "$t" && read_spec "$t"
      if [ -n "$PROPOSALS" ]; then skip "kernel $name" "needs proposals: $PROPOSALS"; continue; fi
      root=$(fresh_root "$(dirname "$wasm")" "$ROOT")
      cmd=(./kiln build "$wasm" -o "$t/app.iso")
      for a in "${ARGS[@]}"; do cmd+=(--arg "$a"); done
      for e in "${ENVS[@]}"; do cmd+=(--env "$e"); done
      [ -n "$root" ] && cmd+=(--dir "$root:/")
      if ! "${cmd[@]}" >"$t/build.log" 2>&1; then
        fail "kernel $name" "kiln build: $(tail -c 300 "$t/build.log" | tr '\n' ' ')"; continue
      fi
      rc=0
      # stdout is the app's alone, byte for byte; the kernel's notes go to stderr.
      ./kiln run "$t/app.iso" --timeout 120 >"$t/out" 2>"$t/err" </dev/null || rc=$?
      check_result "$name" kernel "$rc" "$EXIT" "$t/out" "$t/stdout" "$t/err"
    done < <(list_tests)
  fi
fi

if [ "$S" -gt 0 ]; then echo "$P passed, $F failed, $S skipped"; else echo "$P passed, $F failed"; fi
[ "$F" -eq 0 ]
