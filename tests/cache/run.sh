#!/usr/bin/env bash
# tests/cache/run.sh — the compile cache of `kiln build` and `kiln run --hosted` (driver/cache.c:
# compile_module, cache_get/cache_put): hits, misses on new content or options, corrupt entries
# rebuilt and never run, concurrent runs, KILN_CACHE=off, `kiln cache` and `kiln cache clean`;
# and modules using a feature kiln-aot lacks refused by kiln with the feature named.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
W=$PWD/build/tests/cache
rm -rf "$W"
mkdir -p "$W"
if ! make -s -j2 $KILN_DRIVER >/dev/null; then
  fail cache/build "make of kiln-aot, the hosted runtime or the kernel failed"; finish; exit 1
fi
export KILN_CACHE_DIR=$W/cache # never the user's own cache
unset KILN_CACHE
for v in 1 2; do
  if ! clang-19 --target=wasm32-wasi -O2 -DVERSION=$v tests/cache/args.c -o "$W/args$v.wasm" 2>"$W/cc.err"; then
    fail cache/cc "$(tail -n1 "$W/cc.err")"; finish; exit 1
  fi
done
cp "$W/args1.wasm" "$W/app.wasm"

entries() { find "$KILN_CACHE_DIR/$1" -type f ! -name '.tmp.*' 2>/dev/null | wc -l; }
# hosted NAME WANT-STDOUT [KILN-ARGS...]: kiln run --hosted $W/app.wasm must print WANT, exit 3.
hosted() {
  local n=$1 want=$2 out rc
  shift 2
  out=$(./kiln run --hosted "$W/app.wasm" "$@" 2>"$W/$n.err"); rc=$?
  if [ "$rc" = 3 ] && [ "$out" = "$want" ]; then return 0; fi
  fail "$n" "exit $rc, stdout '$out', expected '$want' ($(head -c 200 "$W/$n.err"))"
  return 1
}
now() { date +%s.%N; }
secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# --- a first run compiles and fills the cache; a second is served from it ---
t0=$(now)
if hosted cold "v1 app a b" --arg a --arg b; then
  t1=$(now)
  if [ "$(entries obj)" = 1 ] && [ "$(entries exe)" = 1 ]; then pass "cold-run (fills the cache, $(secs $t0 $t1) s)"
  else fail cold-run "cache holds $(entries obj) objects, $(entries exe) executables, expected 1 and 1"; fi
fi
exe=$(find "$KILN_CACHE_DIR/exe" -type f ! -name '.tmp.*' | head -n1)
before=$(stat -c '%i %Y' "$exe" 2>/dev/null)
t0=$(now)
if hosted warm "v1 app a b" --arg a --arg b; then
  t1=$(now)
  if [ "$(stat -c '%i %Y' "$exe" 2>/dev/null)" = "$before" ] && [ "$(entries obj)" = 1 ] && [ "$(entries exe)" = 1 ] &&
     awk -v t="$(secs $t0 $t1)" 'BEGIN { exit !(t < 1.0) }'; then pass "warm-run (argv[0] = app, $(secs $t0 $t1) s)"
  else fail warm-run "entry rewritten or extra entries or slow ($(secs $t0 $t1) s)"; fi
fi
# every entry's name ends with the sha256 of its content
bad=0
for f in $(find "$KILN_CACHE_DIR" -type f ! -name '.tmp.*'); do
  [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*.}" ] || bad=$((bad + 1))
done
if [ $bad = 0 ]; then pass entry-checksums; else fail entry-checksums "$bad entries do not match their checksum"; fi

# --- new content under the same name, or other options: a new entry, never the old code ---
cp "$W/args2.wasm" "$W/app.wasm"
hosted new-content "v2 app" && { [ "$(entries exe)" = 2 ] && pass new-content || fail new-content "$(entries exe) executables"; }
hosted new-options "v2 app" -O0 && { [ "$(entries obj)" = 3 ] && pass new-options || fail new-options "$(entries obj) objects"; }

# --- corrupt entries are detected, removed, rebuilt; the corrupt code never runs ---
exe=$(ls -t "$KILN_CACHE_DIR"/exe/* | head -n1) # the -O0 executable
printf '\xde\xad\xbe\xef' | dd of="$exe" bs=1 seek=64 conv=notrunc status=none # breaks the ELF header
if hosted flipped-exe "v2 app" -O0; then
  bad=0
  for f in "$KILN_CACHE_DIR"/exe/*; do [ "$(sha256sum <"$f" | cut -d' ' -f1)" = "${f##*.}" ] || bad=1; done
  if grep -q "does not match its checksum" "$W/flipped-exe.err" && [ "$(entries exe)" = 3 ] && [ $bad = 0 ]; then
    pass flipped-exe
  else fail flipped-exe "no rebuild reported or a bad entry kept: $(head -c 200 "$W/flipped-exe.err")"; fi
fi
obj=$(ls -t "$KILN_CACHE_DIR"/obj/* | head -n1)
truncate -s 100 "$obj"
rm -f "$KILN_CACHE_DIR"/exe/* # so that the object is needed
if hosted truncated-obj "v2 app" -O0; then
  if grep -q "does not match its checksum" "$W/truncated-obj.err" && [ "$(entries obj)" = 3 ]; then pass truncated-obj
  else fail truncated-obj "no rebuild reported: $(head -c 200 "$W/truncated-obj.err")"; fi
fi

# --- another kiln-aot or another hosted runtime: new entries (a copy of kiln in $W/tree uses them:
# build/kiln finds the tree from its own path) ---
mkdir -p "$W/tree/build/host"
cp kiln "$W/tree/kiln"
cp build/kiln "$W/tree/build/kiln"
cp build/kiln-aot "$W/tree/build/kiln-aot"
printf '\n' >>"$W/tree/build/kiln-aot" # still runs; its hash differs
cp build/host/libkiln-host.a "$W/tree/build/host/libkiln-host.a"
o=$(entries obj) e=$(entries exe)
out=$("$W/tree/kiln" run --hosted "$W/app.wasm" 2>&1)
if [ "$out" = "v2 app" ] && [ "$(entries obj)" = $((o + 1)) ] && [ "$(entries exe)" = $((e + 1)) ]; then pass new-compiler
else fail new-compiler "'$out', $(entries obj) objects (was $o), $(entries exe) executables (was $e)"; fi
cp build/kiln-aot "$W/tree/build/kiln-aot"
echo 'int kiln_cache_test_member;' >"$W/member.c"
clang-19 -c "$W/member.c" -o "$W/member.o" && llvm-ar-19 q "$W/tree/build/host/libkiln-host.a" "$W/member.o"
o=$(entries obj) e=$(entries exe)
out=$("$W/tree/kiln" run --hosted "$W/app.wasm" 2>&1)
if [ "$out" = "v2 app" ] && [ "$(entries obj)" = $o ] && [ "$(entries exe)" = $((e + 1)) ]; then pass new-runtime
else fail new-runtime "'$out', $(entries obj) objects (was $o), $(entries exe) executables (was $e)"; fi

# --- kiln build uses the same objects ---
cp "$W/args1.wasm" "$W/app.wasm"
n=$(entries obj)
if ./kiln build "$W/app.wasm" -o "$W/app.iso" >"$W/build.log" 2>&1 && [ "$(entries obj)" = "$n" ]; then
  pass build-hit
else fail build-hit "build failed or compiled again: $(tail -n1 "$W/build.log"), $(entries obj) objects (was $n)"; fi
if ./kiln build "$W/app.wasm" -O1 -o "$W/app.iso" >"$W/build.log" 2>&1 && [ "$(entries obj)" = $((n + 1)) ]; then
  pass build-miss
else fail build-miss "build failed or did not cache: $(tail -n1 "$W/build.log"), $(entries obj) objects"; fi
if timeout 60 ./kiln run "$W/app.elf" --accel tcg --timeout 50 --append quiet=1 >"$W/vm.out" 2>&1; then :; fi
if grep -q "^v1 app" "$W/vm.out"; then pass build-boots; else fail build-boots "$(tail -n2 "$W/vm.out" | tr '\n' ' ')"; fi

# --- concurrent cold runs on an empty cache: all correct, the cache consistent ---
rm -rf "$KILN_CACHE_DIR"
cp "$W/args2.wasm" "$W/app.wasm"
for i in 1 2 3; do
  (./kiln run --hosted "$W/app.wasm" --arg $i >"$W/par$i.out" 2>"$W/par$i.err"; echo $? >"$W/par$i.rc") &
done
wait
ok=1
for i in 1 2 3; do
  [ "$(cat "$W/par$i.rc")" = 3 ] && [ "$(cat "$W/par$i.out")" = "v2 app $i" ] || ok=0
done
left=$(find "$KILN_CACHE_DIR" -name '.tmp.*' | wc -l)
if [ $ok = 1 ] && [ "$(entries obj)" = 1 ] && [ "$(entries exe)" = 1 ] && [ "$left" = 0 ] && hosted par-after "v2 app"
then pass concurrent-runs
else fail concurrent-runs "outputs ok=$ok, $(entries obj) objects, $(entries exe) executables, $left temporary files"; fi

# --- KILN_CACHE=off, kiln cache, kiln cache clean ---
info=$(./kiln cache)
if grep -qx "cache: $KILN_CACHE_DIR" <<<"$info" && grep -q "^entries: 2 " <<<"$info"; then pass cache-info
else fail cache-info "$(tr '\n' ';' <<<"$info")"; fi
./kiln cache clean >/dev/null
if [ ! -e "$KILN_CACHE_DIR" ] && grep -q "^entries: 0 " <<<"$(./kiln cache)"; then pass cache-clean
else fail cache-clean "$KILN_CACHE_DIR still there: $(ls -A "$KILN_CACHE_DIR" | tr "\n" " ")"; fi
if KILN_CACHE=off hosted cache-off "v2 app" && [ ! -e "$KILN_CACHE_DIR" ]; then pass cache-off
else fail cache-off "the cache was written"; fi
mkdir -p "$W/keep" && touch "$W/keep/mine"
if KILN_CACHE_DIR=$W/keep ./kiln cache clean >/dev/null && [ -e "$W/keep/mine" ]; then pass clean-only-ours
else fail clean-only-ours "kiln cache clean removed a file it did not write"; fi

# --- a module using a feature kiln-aot lacks: refused by kiln, feature named ---
# (memory64: a proposal kiln-aot is not planned to implement soon)
echo '(module (memory (export "memory") i64 1) (func (export "_start")))' >"$W/m64.wat"
if wat2wasm --enable-memory64 "$W/m64.wat" -o "$W/m64.wasm"; then
  out=$(./kiln run --hosted "$W/m64.wasm" 2>&1); rc=$?
  if [ $rc != 0 ] && grep -q "m64.wasm:0x[0-9a-f]*: memory64 is not supported by kiln-aot" <<<"$out"; then pass refuse-hosted
  else fail refuse-hosted "exit $rc: $out"; fi
  out=$(./kiln build "$W/m64.wasm" -o "$W/m64.iso" 2>&1); rc=$?
  if [ $rc != 0 ] && grep -q "memory64 is not supported by kiln-aot" <<<"$out" && [ ! -e "$W/m64.iso" ]; then pass refuse-build
  else fail refuse-build "exit $rc: $out"; fi
  out=$(./kiln inspect "$W/m64.wasm" 2>&1)
  if grep -q "^feature memory64 0x[0-9a-f]*: .*NOT SUPPORTED" <<<"$out"; then pass inspect-feature
  else fail inspect-feature "$out"; fi
else
  fail refuse "wat2wasm failed"
fi
rm -rf "$KILN_CACHE_DIR"
finish
