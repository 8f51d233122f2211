#!/usr/bin/env bash
# Boot tests under TCG: images built with `kiln build`, booted with `kiln run`, checked by their
# serial output and exit status. Both boot paths: GRUB ISO (multiboot2) and -kernel (multiboot1).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
make -s all >/dev/null || { fail build "make all failed"; finish; exit 1; }
W=build/tests/boot
mkdir -p "$W"

app() { # app NAME: compile tests/boot/apps/NAME.c (or assemble NAME.wat) to $W/NAME.wasm
  if [ -f "tests/boot/apps/$1.wat" ]; then wat2wasm --debug-names -o "$W/$1.wasm" "tests/boot/apps/$1.wat"
  else clang-19 --target=wasm32-wasi -O2 -o "$W/$1.wasm" "tests/boot/apps/$1.c"; fi
}
# boot NAME IMAGE WANT_STATUS PATTERN...: run IMAGE, expect the status and every pattern in the output.
boot() {
  local name=$1 image=$2 want=$3 out rc=0 p
  shift 3
  out=$(./kiln run "$image" --timeout 60 2>&1) || rc=$?
  if [ "$rc" != "$want" ]; then fail "$name" "exit status $rc, want $want; output: $(tail -n3 <<<"$out" | tr '\n' '|')"; return; fi
  for p in "$@"; do
    grep -qF -- "$p" <<<"$out" || { fail "$name" "output lacks '$p': $(tail -n3 <<<"$out" | tr '\n' '|')"; return; }
  done
  pass "$name"
}

# hello, both boot paths, with argv and environment from the kernel command line
if ./kiln build build/examples/hello.wasm -o $W/hello.iso --arg hello --arg "two words" --env WHO=kiln >$W/build.log 2>&1; then
  hello_out=("Hello from Kiln!" "argv[0] = hello" "argv[1] = two words" "WHO = kiln" "sum = 1792")
  boot "hello (GRUB ISO, multiboot2)" $W/hello.iso 0 "${hello_out[@]}"
  boot "hello (-kernel, multiboot1)" $W/hello.elf 0 "${hello_out[@]}"
else
  fail "build hello" "$(tail -n3 $W/build.log | tr '\n' '|')"
fi

# exit status, traps; the kernel survives a trap to report it
for t in "exit3 3" "unreachable 134 before-the-trap kiln:-trap:-unreachable" \
         "oob 134 storing-out-of-bounds kiln:-trap:-out-of-bounds-memory-access" \
         "divzero 134 kiln:-trap:-integer-divide-by-zero" \
         "recurse 134 kiln:-trap:-call-stack-exhausted-in-depth"; do
  set -- $t
  name=$1 want=$2; shift 2
  pats=(); for p in "$@"; do pats+=("${p//-/ }"); done
  if app "$name" && ./kiln build "$W/$name.wasm" -o "$W/$name.iso" >$W/build.log 2>&1; then
    boot "$name exits $want" "$W/$name.elf" "$want" "${pats[@]}"
  else
    fail "build $name" "$(tail -n3 $W/build.log | tr '\n' '|')"
  fi
done

# a shadow-stack overflow traps instead of overwriting data, with the flags make gives apps
# (WASM_CFLAGS: --stack-first), in the VM and hosted; without the flag the same app finds its
# data overwritten (exit 3), which shows the check can fail
wasm_cflags=$(make -s -f Makefile -f <(echo 'print-%: ; @echo $($*)') print-WASM_CFLAGS)
if clang-19 --target=wasm32-wasi $wasm_cflags -o $W/bigstack.wasm tests/boot/apps/bigstack.c &&
  clang-19 --target=wasm32-wasi -O2 -o $W/bigstack-nofirst.wasm tests/boot/apps/bigstack.c &&
  ./kiln build $W/bigstack.wasm -o $W/bigstack.iso >$W/build.log 2>&1; then
  boot "shadow-stack overflow (WASM_CFLAGS) traps in the VM, exits 134" $W/bigstack.elf 134 \
    "recursing with big frames" "kiln: trap: out of bounds memory access"
  out=$(timeout 60 ./kiln run --hosted $W/bigstack.wasm 2>&1); rc=$?
  if [ $rc = 134 ] && grep -q "trap: out of bounds memory access" <<<"$out" && ! grep -q overwritten <<<"$out"; then
    pass "shadow-stack overflow (WASM_CFLAGS) traps hosted, exits 134"
  else fail "shadow-stack overflow (WASM_CFLAGS) traps hosted, exits 134" "status $rc: $(tr '\n' '|' <<<"$out")"; fi
  out=$(timeout 60 ./kiln run --hosted $W/bigstack-nofirst.wasm 2>&1); rc=$?
  if [ $rc = 3 ] && grep -q "data overwritten by the stack" <<<"$out"; then
    pass "control: without --stack-first the same overflow overwrites data (exit 3)"
  else fail "control: without --stack-first the same overflow overwrites data (exit 3)" "status $rc: $(tr '\n' '|' <<<"$out")"; fi
else
  fail "build bigstack" "$(tail -n3 $W/build.log | tr '\n' '|')"
fi

# inspect marks an import the kernel lacks; build refuses it with the same list
app noimport
out=$(./kiln inspect $W/noimport.wasm 2>&1)
if grep -q 'env.frobnicate.*NOT PROVIDED' <<<"$out" && ! grep -q 'fd_write.*NOT PROVIDED' <<<"$out"; then
  pass "inspect marks missing imports"
else fail "inspect marks missing imports" "$(tr '\n' '|' <<<"$out")"; fi
rm -f $W/noimport.iso
if out=$(./kiln build $W/noimport.wasm -o $W/noimport.iso 2>&1); then
  fail "build refuses missing imports" "build succeeded"
elif grep -q 'env.frobnicate' <<<"$out" && [ ! -e $W/noimport.iso ]; then
  pass "build refuses missing imports"
else fail "build refuses missing imports" "$(tr '\n' '|' <<<"$out")"; fi

# a malformed module is a clear error, never an image
printf '\0asm\1\0\0\0\1\5' >$W/bad.wasm
if out=$(./kiln build $W/bad.wasm -o $W/bad.iso 2>&1); then
  fail "malformed module rejected" "build succeeded"
elif grep -q 'bad.wasm:0x' <<<"$out" && [ ! -e $W/bad.iso ]; then
  pass "malformed module rejected"
else fail "malformed module rejected" "$(tr '\n' '|' <<<"$out")"; fi

finish
