#!/usr/bin/env bash
# Boot tests under TCG: images built with `kiln build`, booted with `kiln run`, checked by their
# stdout, stderr and exit status. Both boot paths: GRUB ISO (multiboot2) and -kernel (PVH, qboot).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
make -s all >/dev/null || { fail build "make all failed"; finish; exit 1; }
W=build/tests/boot
mkdir -p "$W"

app() { # app NAME: compile tests/boot/apps/NAME.c (or assemble NAME.wat) to $W/NAME.wasm
  if [ -f "tests/boot/apps/$1.wat" ]; then wat2wasm --enable-exceptions --debug-names -o "$W/$1.wasm" "tests/boot/apps/$1.wat"
  else clang-19 --target=wasm32-wasi -O2 -o "$W/$1.wasm" "tests/boot/apps/$1.c"; fi
}
# boot NAME IMAGE WANT_STATUS PATTERN...: run IMAGE, expect the status and every pattern in the output.
# stdout and stderr are read apart and then joined: they are separate streams (COM1, and COM2
# through cat), so in one pipe their bytes may interleave anywhere, even inside a line.
boot() {
  local name=$1 image=$2 want=$3 out rc=0 p
  shift 3
  ./kiln run "$image" --timeout 60 >"$W/boot.out" 2>"$W/boot.err" || rc=$?
  out=$(cat "$W/boot.out" "$W/boot.err")
  if [ "$rc" != "$want" ]; then fail "$name" "exit status $rc, want $want; output: $(tail -n3 <<<"$out" | tr '\n' '|')"; return; fi
  for p in "$@"; do
    grep -qF -- "$p" <<<"$out" || { fail "$name" "output lacks '$p': $(tail -n3 <<<"$out" | tr '\n' '|')"; return; }
  done
  pass "$name"
}

# hello, both boot paths, with argv and environment from the kernel command line
if ./kiln build build/examples/hello.wasm -o $W/hello.iso --arg "two words" --env WHO=kiln >$W/build.log 2>&1; then
  hello_out=("Hello from Kiln!" "argv[0] = hello" "argv[1] = two words" "WHO = kiln" "sum = 1792")
  boot "hello (GRUB ISO, multiboot2)" $W/hello.iso 0 "${hello_out[@]}"
  boot "hello (-kernel, PVH)" $W/hello.elf 0 "${hello_out[@]}"
  # argv means the same in both modes: argv[0] is the app's name, each --arg appends
  vm=$(./kiln run $W/hello.elf --timeout 60 2>/dev/null | grep '^argv')
  hosted=$(./kiln run --hosted build/examples/hello.wasm --arg "two words" 2>&1 | grep '^argv')
  if [ -n "$vm" ] && [ "$vm" = "$hosted" ]; then pass "argv is the same in the VM and hosted"
  else fail "argv is the same in the VM and hosted" "VM: $(tr '\n' '|' <<<"$vm") hosted: $(tr '\n' '|' <<<"$hosted")"; fi
  # --append reaches the kernel from an ISO too (its command line is inside the image)
  out=$(./kiln run $W/hello.iso --append arg=appended --timeout 60 2>"$W/append.err")
  if grep -q '^argv\[2\] = appended' <<<"$out" && grep -q '^argv\[1\] = two words' <<<"$out"; then
    pass "kiln run IMAGE.iso --append TOKEN"
  else fail "kiln run IMAGE.iso --append TOKEN" "$(tail -n4 <<<"$out" | tr '\n' '|')"; fi
else
  fail "build hello" "$(tail -n3 $W/build.log | tr '\n' '|')"
fi

# exit status, traps; the kernel survives a trap to report it
for t in "exit3 3" "unreachable 134 before-the-trap kiln:-trap:-unreachable" \
         "oob 134 storing-out-of-bounds kiln:-trap:-out-of-bounds-memory-access" \
         "divzero 134 kiln:-trap:-integer-divide-by-zero" \
         "recurse 134 kiln:-trap:-call-stack-exhausted-in-depth" \
         "uncaught 134 before-the-throw kiln:-trap:-uncaught-exception-(tag-oops)-in-func[2]"; do
  set -- $t
  name=$1 want=$2; shift 2
  pats=(); for p in "$@"; do pats+=("${p//-/ }"); done
  if app "$name" && ./kiln build "$W/$name.wasm" -o "$W/$name.iso" >$W/build.log 2>&1; then
    boot "$name exits $want" "$W/$name.elf" "$want" "${pats[@]}"
  else
    fail "build $name" "$(tail -n3 $W/build.log | tr '\n' '|')"
  fi
done

# a --dir larger than the guest's RAM: a clear error naming the --mem needed, on both boot paths
mkdir -p $W/big && head -c $((40 << 20)) /dev/zero >$W/big/zeros
if ./kiln build build/examples/hello.wasm -o $W/big.iso --dir $W/big:/big >$W/build.log 2>&1; then
  out=$(./kiln run $W/big.elf --mem 32M --timeout 60 2>&1); rc=$?
  need=$(grep -oE -- '--mem [0-9]+M or more' <<<"$out" | grep -oE '[0-9]+')
  if [ $rc = 2 ] && [ -n "$need" ]; then pass "--dir larger than --mem: kiln run names the --mem needed (.elf)"
  else fail "--dir larger than --mem (.elf)" "status $rc: $(tail -n2 <<<"$out" | tr '\n' '|')"; fi
  out=$(./kiln run $W/big.iso --mem 32M --timeout 60 2>&1); rc=$?
  if [ $rc = 135 ] && grep -q -- "run it with --mem ${need}M or more" <<<"$out"; then pass "--dir larger than --mem: the kernel names the --mem needed (.iso)"
  else fail "--dir larger than --mem (.iso)" "status $rc: $(tail -n2 <<<"$out" | tr '\n' '|')"; fi
  out=$(./kiln run $W/big.iso --mem "${need:-0}M" --timeout 60 2>"$W/big.err"); rc=$?
  if [ $rc = 0 ] && grep -q "Hello from Kiln" <<<"$out"; then pass "--dir of 40 MiB runs with the --mem named (${need}M)"
  else fail "--dir of 40 MiB runs with the --mem named" "status $rc: $(tail -n2 <<<"$out" | tr '\n' '|')"; fi
else
  fail "build with a 40 MiB --dir" "$(tail -n3 $W/build.log | tr '\n' '|')"
fi
rm -rf $W/big $W/big.*

# ---- the console streams: stdout byte-exact, stderr apart, stdin with its end, isatty ----
# stdout: 300 KiB of every byte value (LF, CR, 0xff...) through both boot paths, compared with
# the expected bytes; stderr carries the kernel's notes and the app's stderr, never stdout.
python3 -c 'import sys; sys.stdout.buffer.write(bytes((i ^ i >> 8 ^ i >> 16) & 0xff for i in range(300 * 1024)))' >"$W/bytes.expect"
if app bytes && ./kiln build "$W/bytes.wasm" -o "$W/bytes.iso" >$W/build.log 2>&1; then
  for img in iso elf; do
    name="binary stdout byte-exact, stderr apart (.$img)"
    rc=0
    ./kiln run "$W/bytes.$img" --timeout 120 >"$W/bytes.out" 2>"$W/bytes.err" </dev/null || rc=$?
    if [ $rc != 0 ]; then fail "$name" "exit status $rc: $(tail -n2 "$W/bytes.err" | tr '\n' '|')"
    elif ! cmp -s "$W/bytes.out" "$W/bytes.expect"; then
      fail "$name" "stdout differs: $(cmp "$W/bytes.out" "$W/bytes.expect" 2>&1 | head -n1), $(stat -c %s "$W/bytes.out") bytes"
    elif ! grep -q '^bytes: 307200 bytes written$' "$W/bytes.err" || ! grep -q -e '^kiln: PVH' -e '^kiln: multiboot2' "$W/bytes.err"; then
      fail "$name" "stderr lacks the app's line or the kernel's notes: $(head -c 300 "$W/bytes.err" | tr '\n' '|')"
    else pass "$name"; fi
  done
else
  fail "build bytes" "$(tail -n3 $W/build.log | tr '\n' '|')"
fi

# stdin: what the host pipes in reaches the app exactly, then end of input (read returns 0);
# /dev/null is an immediate end; piped stdio are not terminals (isatty 0 0 0).
# cat_run NAME IMAGE WANT_FILE < INPUT
cat_run() {
  local name=$1 img=$2 want=$3 rc=0
  ./kiln run "$img" --timeout 120 >"$W/cat.out" 2>"$W/cat.err" || rc=$?
  local n
  n=$(stat -c %s "$want")
  if [ $rc != 0 ]; then fail "$name" "exit status $rc: $(tail -n2 "$W/cat.err" | tr '\n' '|')"
  elif ! cmp -s "$W/cat.out" "$want"; then fail "$name" "stdout differs: $(cmp "$W/cat.out" "$want" 2>&1 | head -n1)"
  elif ! grep -q "^cat: $n bytes, end of input; isatty 0 0 0\$" "$W/cat.err"; then
    fail "$name" "stderr: $(grep -a '^cat' "$W/cat.err" || tail -n1 "$W/cat.err")"
  else pass "$name"; fi
}
if app cat && ./kiln build "$W/cat.wasm" -o "$W/cat.iso" >$W/build.log 2>&1; then
  printf 'abc' >"$W/abc"
  printf 'abc' | cat_run "stdin from a pipe, then end of input (.iso)" "$W/cat.iso" "$W/abc"
  : >"$W/empty"
  cat_run "stdin /dev/null: end of input at once (.elf)" "$W/cat.elf" "$W/empty" </dev/null
  # Every byte value, 0xff runs (the framing's escape) included; 20 KiB keeps it short (TCG).
  python3 -c 'import sys; sys.stdout.buffer.write(bytes(range(256)) * 40 + b"\xff" * 5000 + bytes(range(255, -1, -1)) * 20)' >"$W/stdin.bin"
  cat_run "binary stdin byte-exact (.elf)" "$W/cat.elf" "$W/stdin.bin" <"$W/stdin.bin"
  # A reader that waits: input arriving 2 s after boot must be read (the read blocks, then ends).
  printf 'late' >"$W/late"
  { sleep 2; printf 'late'; } | cat_run "stdin read blocks until input arrives (.elf)" "$W/cat.elf" "$W/late"
  # On a terminal (a pty from script(1)): isatty is true for all three, the typed line reaches
  # the app, and ^D at the start of a line ends its input, as for a native program.
  if command -v script >/dev/null; then
    name="terminal: isatty 1 1 1, typed line in, ^D ends input"
    out=$( (printf 'typed line\n\004'; sleep 8) | timeout 60 script -qec "./kiln run $W/cat.elf --timeout 50" /dev/null | tr -d '\r')
    if grep -q '^cat: 11 bytes, end of input; isatty 1 1 1$' <<<"$out" && [ "$(grep -c '^typed line$' <<<"$out")" = 2 ]; then
      pass "$name"
    else fail "$name" "$(tr '\n' '|' <<<"$out" | head -c 300)"; fi
  else
    fail "terminal stdio" "script(1) (bsdutils) is missing"
  fi
else
  fail "build cat" "$(tail -n3 $W/build.log | tr '\n' '|')"
fi

# A trap is reported on stderr (stdout keeps only what the app wrote), with status 134.
if [ -f "$W/unreachable.elf" ]; then
  rc=0
  ./kiln run "$W/unreachable.elf" --timeout 60 >"$W/trap.out" 2>"$W/trap.err" </dev/null || rc=$?
  if [ $rc = 134 ] && grep -q '^kiln: trap: unreachable' "$W/trap.err" && ! grep -q 'kiln:' "$W/trap.out" &&
    grep -q 'before the trap' "$W/trap.out"; then pass "trap report on stderr, stdout untouched, status 134"
  else fail "trap report on stderr, stdout untouched, status 134" "status $rc; stdout: $(tr '\n' '|' <"$W/trap.out"); stderr: $(tail -n2 "$W/trap.err" | tr '\n' '|')"; fi
fi

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

# tail calls in the VM: 10,000,000 mutually recursive musttail hops (tests/aot/tailcall.c,
# clang -mtail-call) in constant stack, the same answer as native and hosted
if clang-19 --target=wasm32-wasi -mtail-call -O2 -o $W/tailcall.wasm tests/aot/tailcall.c &&
   clang-19 -O2 -o $W/tailcall.native tests/aot/tailcall.c &&
   ./kiln build $W/tailcall.wasm -o $W/tailcall.iso >$W/build.log 2>&1; then
  want=$($W/tailcall.native)
  boot "tail calls 10,000,000 deep (VM)" $W/tailcall.elf 0 "$want"
  out=$(./kiln run --hosted $W/tailcall.wasm 2>&1); rc=$?
  if [ $rc = 0 ] && [ "$out" = "$want" ]; then pass "tail calls 10,000,000 deep (hosted)"
  else fail "tail calls 10,000,000 deep (hosted)" "status $rc: $out (want $want)"; fi
else
  fail "build tailcall" "$(tail -n3 $W/build.log | tr '\n' '|')"
fi

# exceptions in the VM and hosted (tests/boot/apps/eh.wat): deep throws, rethrow, delegate,
# locals into a handler; an uncaught one is a trap (above)
if app eh && ./kiln build $W/eh.wasm -o $W/eh.iso >$W/build.log 2>&1; then
  boot "exceptions (VM)" $W/eh.elf 0 "eh: ok 12345"
  out=$(./kiln run --hosted $W/eh.wasm 2>&1); rc=$?
  if [ $rc = 0 ] && [ "$out" = "eh: ok 12345" ]; then pass "exceptions (hosted)"
  else fail "exceptions (hosted)" "status $rc: $out"; fi
  out=$(./kiln run --hosted $W/uncaught.wasm 2>&1); rc=$?
  if [ $rc = 134 ] && grep -q '^kiln: trap: uncaught exception (tag oops) in func\[2\]$' <<<"$out"; then
    pass "uncaught exception (hosted)"
  else fail "uncaught exception (hosted)" "status $rc: $(tr '\n' '|' <<<"$out")"; fi
else
  fail "build eh" "$(tail -n3 $W/build.log | tr '\n' '|')"
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
