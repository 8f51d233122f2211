#!/usr/bin/env bash
# tests/aot/run.sh — unit tests of kiln-aot: the binary reader (LEB128, sections, error
# offsets), validation errors, the CLI contract (no output left on error, --inspect, --name),
# and code generation of a real C program linked with the hosted runtime.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
AOT=build/kiln-aot
W=build/tests/aot
mkdir -p $W
if ! make -s -j2 $AOT >/dev/null; then fail aot/build "make $AOT failed"; finish; exit 1; fi

# bin NAME HEX...: writes $W/NAME.wasm from hex bytes (spaces ignored).
bin() { local n=$1; shift; echo "$*" | tr -d ' \n' | xxd -r -p >"$W/$n.wasm"; }
HDR="0061736d 01000000"

# expect_err NAME WANT-SUBSTRING: compiling $W/NAME.wasm must fail with exit 1, the message
# must be FILE:0xOFF: ... containing WANT, and no output file may remain.
expect_err() {
  local n=$1 want=$2 err rc
  rm -f $W/$n.o
  touch $W/$n.o # a stale output must be removed too
  err=$($AOT $W/$n.wasm -o $W/$n.o 2>&1); rc=$?
  if [ $rc != 1 ]; then fail "$n" "exit status $rc, expected 1 ($err)"
  elif [[ $want == 0x* && $err != "$W/$n.wasm:$want"* ]] ||
       [[ $want != 0x* && $err != "$W/$n.wasm:0x"*": "*"$want"* ]]; then fail "$n" "message '$err', expected '...$want'"
  elif [ -e $W/$n.o ]; then fail "$n" "output file left behind"
  else pass "$n"; fi
}

# --- reader: header ---
bin bad-magic "0061736e 01000000"
expect_err bad-magic "0x0: magic header not detected"
bin bad-version "$HDR" ; bin bad-version "0061736d 02000000"
expect_err bad-version "0x4: unknown binary version"
bin short-header "0061736d 0100"
expect_err short-header "unexpected end"
bin empty "$HDR"
check empty-module $AOT $W/empty.wasm -o $W/empty.o

# --- reader: LEB128 (type section with one type () -> ()) ---
bin leb-ok "$HDR 01 04 01 60 00 00"
check leb-ok $AOT $W/leb-ok.wasm -o $W/leb-ok.o
bin leb-padded "$HDR 01 84808080 00 01 60 00 00"  # section size 4 in 5 bytes: legal
check leb-padded $AOT $W/leb-padded.wasm -o $W/leb-padded.o
bin leb-too-long "$HDR 01 8480808080 00 01 60 00 00"
expect_err leb-too-long "0xd: integer representation too long"
bin leb-too-large "$HDR 01 84808080 70 01 60 00 00"
expect_err leb-too-large "0xd: integer too large"
bin leb-truncated "$HDR 01 84"
expect_err leb-truncated "0xa: unexpected end"
# i32.const with a 5-byte s32 whose unused bits are not the sign: malformed
bin s32-bad "$HDR 01 05 01 60 00 01 7f 03 02 01 00 0a 0a 01 08 00 41 ffffffff 4f 0b"
expect_err s32-bad "integer too large"
bin s32-ok "$HDR 01 05 01 60 00 01 7f 03 02 01 00 0a 0a 01 08 00 41 ffffffff 7f 0b"
check s32-ok $AOT $W/s32-ok.wasm -o $W/s32-ok.o

# --- reader: sections ---
bin sec-too-long "$HDR 01 09 01 60 00 00"
expect_err sec-too-long "section size mismatch"
bin sec-junk "$HDR 01 05 01 60 00 00 00"
expect_err sec-junk "0xe: section size mismatch"
bin sec-order "$HDR 03 01 00 01 04 01 60 00 00"
expect_err sec-order "0xb: unexpected content after last section"
bin sec-id "$HDR 0e 00"
expect_err sec-id "0x8: malformed section id"
# section 13 is the exception-handling proposal's tag section: after memory, before global
bin sec-tag "$HDR 01 04 01 60 00 00 0d 03 01 00 00"
check sec-tag $AOT $W/sec-tag.wasm -o $W/sec-tag.o
bin tag-attr "$HDR 01 04 01 60 00 00 0d 03 01 01 00"
expect_err tag-attr "0x11: malformed tag attribute"
bin tag-results "$HDR 01 05 01 60 00 01 7f 0d 03 01 00 00"
expect_err tag-results "non-empty tag result type"
bin tag-type "$HDR 01 04 01 60 00 00 0d 03 01 00 05"
expect_err tag-type "unknown type 5"
bin tag-order "$HDR 01 04 01 60 00 00 06 01 00 0d 03 01 00 00"
expect_err tag-order "unexpected content after last section"
bin func-no-code "$HDR 01 04 01 60 00 00 03 02 01 00"
expect_err func-no-code "function and code section have inconsistent lengths"
bin body-truncated "$HDR 01 04 01 60 00 00 03 02 01 00 0a 04 01 02 00 01"
expect_err body-truncated "unexpected end"
bin bad-utf8 "$HDR 00 03 02 c0 80"
expect_err bad-utf8 "malformed UTF-8 encoding"
bin two-memories "$HDR 05 05 02 00 01 00 01"
check two-memories $AOT $W/two-memories.wasm -o $W/two-memories.o
# --disable multi-memory: Wasm 2.0, as the spec harness runs the 2.0 suite
err=$($AOT --disable multi-memory $W/two-memories.wasm -o $W/two-memories.o 2>&1); rc=$?
if [ $rc = 1 ] && [ "$err" = "$W/two-memories.wasm:0xd: multi-memory is disabled (--disable multi-memory) (a second memory)" ]
then pass two-memories-disabled; else fail two-memories-disabled "exit $rc: $err"; fi
bin many-memories "$HDR 05 cb01 65 $(for i in $(seq 101); do printf '0000'; done)"
expect_err many-memories "0xb: memories: 101 exceeds the limit of 100"

# --- validation ---
if command -v wat2wasm >/dev/null; then
  wat() { local n=$1; shift; echo "$*" >$W/$n.wat; wat2wasm --no-check $W/$n.wat -o $W/$n.wasm; }
  wat bad-add '(module (func (result i32) (i32.add (i32.const 1) (i64.const 2))))'
  expect_err bad-add "type mismatch"
  wat bad-label '(module (func (br 1)))'
  expect_err bad-label "unknown label"
  wat bad-global '(module (global i32 (i32.const 0)) (func (global.set 0 (i32.const 1))))'
  expect_err bad-global "global is immutable"
  wat bad-dead '(module (func (result i32) (unreachable) (i64.const 0)))'
  expect_err bad-dead "type mismatch"
  wat ok-dead '(module (func (result i32) (unreachable) (i32.add) (br 0)))'
  check ok-dead $AOT $W/ok-dead.wasm -o $W/ok-dead.o
else
  fail validation "wat2wasm not installed (tools/deps.sh installs wabt)"
fi

# --- unsupported features are named (aot/features.c), one module per feature ---
# feature NAME WAT2WASM-FLAGS ID MESSAGE BYTE WAT: compiling must fail with
# FILE:0xOFF: MESSAGE is not supported by kiln-aot (...), the byte at OFF must be BYTE (hex: the
# opcode, section id or limits flag that needs the feature), and --inspect must list ID at the
# same offset, marked as not supported.
feature() {
  local n=$1 flags=$2 id=$3 msg=$4 byte=$5 err rc off got ins
  echo "$6" >$W/$n.wat
  if ! wat2wasm $flags $W/$n.wat -o $W/$n.wasm 2>$W/$n.err; then fail "$n" "wat2wasm: $(head -n1 $W/$n.err)"; return; fi
  rm -f $W/$n.o
  err=$($AOT $W/$n.wasm -o $W/$n.o 2>&1); rc=$?
  if [ $rc != 1 ] || [[ $err != "$W/$n.wasm:0x"*": $msg is not supported by kiln-aot ("*")" ]]; then
    fail "$n" "exit $rc, message '$err', expected '...: $msg is not supported by kiln-aot (...)'"; return
  fi
  off=${err#"$W/$n.wasm:"}; off=${off%%:*}
  got=$(xxd -s $((off)) -l 1 -p $W/$n.wasm)
  ins=$($AOT --inspect $W/$n.wasm 2>/dev/null)
  if [ "$got" != "$byte" ]; then fail "$n" "offset $off holds byte $got, expected $byte"
  elif [ -e $W/$n.o ]; then fail "$n" "output file left behind"
  elif ! grep -q "^feature $id $off: .*\[NOT SUPPORTED by kiln-aot\]$" <<<"$ins"; then
    fail "$n" "--inspect does not list '$id $off' as unsupported: $(grep '^feature' <<<"$ins" | tr '\n' ';')"
  else pass "$n"; fi
}
# relaxed SIMD is refused at its instruction; inspect lists SIMD (the v128 type) as supported
feature feat-relaxed-simd --enable-relaxed-simd relaxed-simd "relaxed SIMD" fd \
  '(module (func (param v128) (result v128) (i32x4.relaxed_trunc_f32x4_s (local.get 0))))'
ins=$($AOT --inspect $W/feat-relaxed-simd.wasm 2>&1)
if grep -q "^feature simd 0xd: the v128 type$" <<<"$ins"; then pass feat-simd-inspect
else fail feat-simd-inspect "inspect: $(grep '^feature' <<<"$ins" | tr '\n' ';')"; fi
# threads are implemented: --inspect lists them unmarked, at the atomic opcode and the shared
# limits flag, and shows the memory as shared
echo '(module (memory 1 2 shared) (func (drop (i32.atomic.load (i32.const 0)))))' >$W/feat-threads.wat
if wat2wasm --enable-threads $W/feat-threads.wat -o $W/feat-threads.wasm && ins=$($AOT --inspect $W/feat-threads.wasm) &&
   grep -q "^feature threads 0x[0-9a-f]*: a shared memory$" <<<"$ins" && grep -q "^memory 1 2 shared$" <<<"$ins" &&
   ! grep -q "NOT SUPPORTED" <<<"$ins" && $AOT $W/feat-threads.wasm -o $W/feat-threads.o
then pass feat-threads; else fail feat-threads "inspect: $(tr '\n' ';' <<<"${ins-}")"; fi
# a shared memory needs a maximum (FILE:0xOFF at its limits flag)
echo '(module (memory 1 2 shared))' >$W/shared-nomax.wat
if wat2wasm --enable-threads $W/shared-nomax.wat -o $W/shared-nomax.wasm; then
  printf '\x02' | dd of=$W/shared-nomax.wasm bs=1 seek=$(($(stat -c %s $W/shared-nomax.wasm) - 3)) conv=notrunc 2>/dev/null
  err=$($AOT $W/shared-nomax.wasm -o $W/shared-nomax.o 2>&1)
  if [[ $err == "$W/shared-nomax.wasm:0x"*": shared memory must have maximum" ]]; then pass shared-nomax
  else fail shared-nomax "got '$err'"; fi
else fail shared-nomax "wat2wasm failed"; fi
# the exnref form of exception handling (try_table, throw_ref) is refused; the legacy one is not
bin feat-eh-exnref "$HDR 01 04 01 60 00 00 03 02 01 00 0a 08 01 06 00 1f 40 00 0b 0b"
expect_err feat-eh-exnref "0x17: exception handling with exnref (try_table, throw_ref) is not supported by kiln-aot (try_table)"
echo '(module (tag $e) (func (try (do (throw $e)) (catch_all))))' >$W/eh-legacy.wat
if wat2wasm --enable-exceptions $W/eh-legacy.wat -o $W/eh-legacy.wasm && ins=$($AOT --inspect $W/eh-legacy.wasm) &&
   grep -q "^feature exception-handling 0x[0-9a-f]*: a tag section$" <<<"$ins" && ! grep -q "NOT SUPPORTED" <<<"$ins"
then pass feat-eh-legacy; else fail feat-eh-legacy "inspect: $(tr '\n' ';' <<<"${ins-}")"; fi
feature feat-memory64 --enable-memory64 memory64 memory64 04 '(module (memory i64 1))'
feature feat-func-refs --enable-function-references function-references "typed function references" 6b \
  '(module (type $t (func)) (func (param (ref $t))))'
# multi-memory is listed, not marked, and compiles; --disable marks it
echo '(module (import "m" "m" (memory 1)) (memory 1) (func (drop (i32.load 1 (i32.const 0)))))' >$W/feat-memidx.wat
if wat2wasm --enable-multi-memory $W/feat-memidx.wat -o $W/feat-memidx.wasm; then
  check feat-memidx $AOT $W/feat-memidx.wasm -o $W/feat-memidx.o
  ins=$($AOT --inspect $W/feat-memidx.wasm 2>&1)
  if grep -qx "feature multi-memory 0x[0-9a-f]*: a second memory" <<<"$ins"; then pass feat-multi-memory-inspect
  else fail feat-multi-memory-inspect "$(grep '^feature' <<<"$ins" | tr '\n' ';')"; fi
  ins=$($AOT --disable multi-memory --inspect $W/feat-memidx.wasm 2>&1)
  if grep -qx "feature multi-memory 0x[0-9a-f]*: a second memory   \[DISABLED\]" <<<"$ins"; then pass feat-multi-memory-disabled
  else fail feat-multi-memory-disabled "$(grep '^feature' <<<"$ins" | tr '\n' ';')"; fi
else fail feat-memidx "wat2wasm failed"; fi
# a plain module lists the features it uses, none marked (an MVP funcref table is no reference type)
echo '(module (memory 1) (table 1 funcref) (func (export "f") (result i32 i32) (i32.extend8_s (i32.const 1)) (i32.const 2)))' >$W/mvp.wat
if wat2wasm $W/mvp.wat -o $W/mvp.wasm && ins=$($AOT --inspect $W/mvp.wasm) &&
   grep -q "^feature multi-value " <<<"$ins" && grep -q "^feature sign-extension " <<<"$ins" &&
   ! grep -q "NOT SUPPORTED" <<<"$ins" && ! grep -q "^feature reference-types" <<<"$ins"; then pass feat-none-unsupported
else fail feat-none-unsupported "inspect: $(tr '\n' ';' <<<"${ins-}")"; fi

# --- a C program: imports, descriptor, --inspect, --name, hosted run ---
if clang-19 --target=wasm32-wasi -O2 tests/aot/hello.c -o $W/hello.wasm 2>$W/cc.err; then
  check hello-compile $AOT $W/hello.wasm -o $W/hello.o
  syms=$(nm $W/hello.o 2>&1)
  if grep -q " D kiln_module$" <<<"$syms" && grep -q " w wasi_snapshot_preview1__fd_write__iiii_i$" <<<"$syms"
  then pass hello-symbols; else fail hello-symbols "kiln_module or the weak fd_write import missing"; fi
  # all defined symbols but the descriptor are local
  glob=$(nm -g --defined-only $W/hello.o | awk '{print $3}' | tr '\n' ' ')
  if [ "$glob" = "kiln_module " ]; then pass hello-local; else fail hello-local "global symbols: $glob"; fi
  ins=$($AOT --inspect $W/hello.wasm)
  if grep -qx "import func wasi_snapshot_preview1.fd_write (i32,i32,i32,i32)->i32 wasi_snapshot_preview1__fd_write__iiii_i" <<<"$ins" &&
     grep -qx "export func _start ()->()" <<<"$ins" && grep -q "^memory 2 none$" <<<"$ins"
  then pass inspect; else fail inspect "unexpected output: $(head -c 300 <<<"$ins")"; fi
  $AOT $W/hello.wasm -o $W/hello-named.o --name app -O0
  if nm $W/hello-named.o | grep -q " D kiln_module_app$"; then pass name-option; else fail name-option "no kiln_module_app"; fi
  if make -s -j2 build/host/libkiln-host.a >/dev/null 2>&1; then
    if clang-19 $W/hello.o build/host/libkiln-host.a -lm -o $W/hello.bin 2>$W/ld.err; then
      out=$($W/hello.bin x y); rc=$?
      if [ "$rc" = 7 ] && [ "$out" = "hello 6765 argc=3 y -2147483648 1.500000 sum=4950" ]; then pass hello-run
      else fail hello-run "exit $rc, output '$out'"; fi
    else fail hello-link "$(tail -n1 $W/ld.err)"; fi
  else skip hello-run "hosted runtime (build/host/libkiln-host.a) does not build"; fi
else
  fail hello-cc "$(tail -n1 $W/cc.err)"
fi

# --- traps: out-of-bounds access with the guard region and with explicit checks ---
if [ -e build/host/libkiln-host.a ] && clang-19 --target=wasm32-wasi -O2 tests/aot/oob.c -o $W/oob.wasm 2>$W/cc.err; then
  for mode in guard bounds-checks; do
    flag=""; [ $mode = bounds-checks ] && flag=--bounds-checks
    if $AOT $W/oob.wasm -o $W/oob-$mode.o $flag && clang-19 $W/oob-$mode.o build/host/libkiln-host.a -lm -o $W/oob-$mode.bin; then
      out=$($W/oob-$mode.bin 2>$W/oob.err); rc=$?
      if [ "$rc" = 134 ] && [ "$out" = before ] && grep -q "out of bounds memory access" $W/oob.err; then pass "oob-$mode"
      else fail "oob-$mode" "exit $rc, stdout '$out', stderr '$(head -c 200 $W/oob.err)'"; fi
    else fail "oob-$mode" "compile or link failed"; fi
  done
else
  fail oob "hosted runtime or the wasm C compiler unavailable"
fi

# --- exact semantics LLVM would optimise away (tests/aot/exact.wast, run by the spec harness) ---
if [ -x tests/spec/run.sh ] && command -v wast2json >/dev/null; then
  out=$(tests/spec/run.sh -j 1 tests/aot/exact.wast 2>&1) # run.sh builds the driver it links
  relay <<<"$(grep '^FAIL ' <<<"$out")"
  sum=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -n1)
  if [[ $sum =~ ^([0-9]+)\ passed,\ 0\ failed ]] && [ "${BASH_REMATCH[1]}" -ge 20 ]; then pass "exact.wast ($sum)"
  else fail exact.wast "spec harness: ${sum:-no result line}"; fi
else
  fail exact.wast "tests/spec/run.sh or wast2json unavailable"
fi

# --- address widening: clang's wasm unrolls a[j], a[j+1] by two; LLVM must see them adjacent
# and vectorize the matmul inner loop again (<N x double> accesses in the optimized IR) ---
if clang-19 --target=wasm32-wasi -O2 examples/bench/matmul.c -o $W/matmul.wasm 2>$W/cc.err &&
   $AOT $W/matmul.wasm -o $W/matmul.o --emit-llvm $W/matmul.ll; then
  if grep -qE 'load <[0-9]+ x double>' $W/matmul.ll; then pass vectorized-matmul
  else fail vectorized-matmul "no vector loads of doubles in the optimized IR"; fi
  $AOT $W/matmul.wasm -O0 -o $W/matmul-O0.o --emit-llvm $W/matmul-O0.ll
  if ! grep -qE 'x double>' $W/matmul-O0.ll && ! grep -q 'add nuw nsw i64' $W/matmul-O0.ll; then pass o0-plain
  else fail o0-plain "-O0 output is optimized"; fi
else
  fail vectorized-matmul "compile failed: $(tail -n1 $W/cc.err)"
fi

# --- address widening through dominators: an access at x in the entry block proves x + 4
# after an if/else joins (no i32 add left for it before the -O pipeline) ---
cat >$W/dom.wat <<'EOF'
(module
  (memory 1)
  (func (export "dom") (param i32 i32) (result i32)
    (drop (i32.load (local.get 0)))
    (if (local.get 1) (then (i32.store (local.get 0) (i32.const 5))))
    (i32.load (i32.add (local.get 0) (i32.const 4)))))
EOF
if wat2wasm $W/dom.wat -o $W/dom.wasm && $AOT $W/dom.wasm -o $W/dom.o --emit-llvm-unoptimized $W/dom.ll; then
  if grep -q "^define" $W/dom.ll && ! grep -q "add i32" $W/dom.ll; then pass widen-dominated
  else fail widen-dominated "x + 4 after the join is still an i32 add"; fi
else
  fail widen-dominated "compile failed"
fi

# --- hoisted i32 address sums (opt_remat.c): a loop over 160 cases, 80 sums x + C.
# LICM hoists the sums out of the loop; they must not be spilled and reloaded (216 stack
# accesses without opt_remat.c), and wrap-around (x = -4) and traps stay exact ---
python3 - $W/remat.wast <<'EOF'
import sys
n = 160
L = ['(module (memory 1)',
     '  (func (export "f") (param $x i32) (param $count i32) (result i32) (local $i i32) (local $acc i32)',
     '    (loop $top (block $next ' + ''.join('(block $c%d ' % k for k in range(n)) +
     '(br_table ' + ' '.join('$c%d' % k for k in range(n)) + ' (i32.rem_u (local.get $i) (i32.const %d)))' % n]
for k in range(n):  # odd cases read what the case before stored
    if k % 2: L.append(') (local.set $acc (i32.add (local.get $acc) (i32.load (i32.add (local.get $x) (i32.const %d))))) (br $next)' % (8 * k - 4))
    else: L.append(') (i32.store (i32.add (local.get $x) (i32.const %d)) (local.get $i)) (br $next)' % (8 * k + 4))
L.append(') (br_if $top (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1))) (local.get $count))))')
L.append('    (local.get $acc)))')
L.append('(assert_return (invoke "f" (i32.const -4) (i32.const 320)) (i32.const 6400))')  # as wabt's spectest-interp
L.append('(assert_trap (invoke "f" (i32.const 65532) (i32.const 1)) "out of bounds memory access")')
open(sys.argv[1], 'w').write('\n'.join(L) + '\n')
EOF
sed -n '/^(module/,/^(assert/p' $W/remat.wast | grep -v '^(assert' >$W/remat.wat
if wat2wasm $W/remat.wat -o $W/remat.wasm && $AOT $W/remat.wasm -o $W/remat.o; then
  n=$(objdump -d --no-show-raw-insn $W/remat.o | grep -cE '\(%rsp\)')
  if [ "$n" -lt 20 ]; then pass "remat-address-sums ($n stack accesses)"
  else fail remat-address-sums "$n stack accesses: the hoisted sums were spilled"; fi
  out=$(tests/spec/run.sh -j 1 $W/remat.wast 2>&1)
  if grep -qx "3 passed, 0 failed" <<<"$out"; then pass remat-exact
  else fail remat-exact "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 3 | tr '\n' ';')"; fi
else
  fail remat-address-sums "compile failed"
fi

# --- --emit-llvm and -O levels ---
if $AOT $W/s32-ok.wasm -o $W/ll.o -O3 --cpu x86-64-v3 --emit-llvm $W/ll.ll && grep -q "^define internal" $W/ll.ll
then pass emit-llvm; else fail emit-llvm "no IR written"; fi

# --- tail calls: constant stack across signatures, tables, instances (spec harness) ---
out=$(python3 tests/spec/spec.py -v tests/aot/tailcall.wast 2>&1)
if grep -qx "18 passed, 0 failed, 0 skipped" <<<"$out"; then pass tailcall-wast
else fail tailcall-wast "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 4 | tr '\n' ';')"; fi
ins=$($AOT --inspect build/spec/tailcall/tailcall.0.wasm 2>&1)
if grep -q "^feature tail-call 0x[0-9a-f]*: return_call" <<<"$ins" && ! grep -q "NOT SUPPORTED" <<<"$ins"
then pass tailcall-inspect; else fail tailcall-inspect "$(grep '^feature' <<<"$ins" | tr '\n' ';')"; fi
# a C program (clang -mtail-call): 10,000,000 musttail hops, direct and through a pointer
if clang-19 --target=wasm32-wasi -mtail-call -O2 tests/aot/tailcall.c -o $W/tailcall.wasm 2>$W/cc.err &&
   clang-19 -O2 tests/aot/tailcall.c -o $W/tailcall.native 2>>$W/cc.err; then
  dis=$(wasm-objdump -d $W/tailcall.wasm)
  if ! grep -q "return_call_indirect" <<<"$dis" || [ "$(grep -c ' return_call [0-9]' <<<"$dis")" -lt 2 ]; then
    fail tailcall-c "clang emitted no return_call/return_call_indirect (is -mtail-call honoured?)"
  elif ! $AOT $W/tailcall.wasm -o $W/tailcall.o 2>$W/tc.err; then fail tailcall-c "kiln-aot: $(head -n1 $W/tc.err)"
  elif ! clang-19 $W/tailcall.o build/host/libkiln-host.a -lm -o $W/tailcall.bin 2>$W/tc.err; then
    fail tailcall-c "link: $(tail -n1 $W/tc.err)"
  else
    want=$($W/tailcall.native); out=$(timeout 60 $W/tailcall.bin 2>&1); rc=$?
    if [ $rc = 0 ] && [ "$out" = "$want" ] && [ -n "$want" ]; then pass tailcall-c
    else fail tailcall-c "exit $rc, output '$out', native '$want'"; fi
    # musttail survives -O0 (no optimizer) too
    if $AOT -O0 $W/tailcall.wasm -o $W/tailcall0.o 2>$W/tc.err &&
       clang-19 $W/tailcall0.o build/host/libkiln-host.a -lm -o $W/tailcall0.bin 2>>$W/tc.err; then
      out=$(timeout 60 $W/tailcall0.bin 2>&1); rc=$?
      if [ $rc = 0 ] && [ "$out" = "$want" ]; then pass tailcall-c-O0
      else fail tailcall-c-O0 "exit $rc, output '$out', native '$want'"; fi
    else fail tailcall-c-O0 "$(tail -n1 $W/tc.err)"; fi
  fi
else fail tailcall-c "clang: $(head -n1 $W/cc.err)"; fi
# an interpreter built as wasm3 is (-mtail-call: every operation tail-calls the next through a
# pointer in the code, i32/i64/f64 arguments; program calls are ordinary calls that start a new
# chain): the same output as natively, hosted and in the VM
if clang-19 --target=wasm32-wasi -mtail-call -O2 tests/aot/threaded.c -o $W/threaded.wasm 2>$W/cc.err &&
   clang-19 -O2 tests/aot/threaded.c -o $W/threaded.native 2>>$W/cc.err; then
  want=$($W/threaded.native)
  if [ "$(wasm-objdump -d $W/threaded.wasm | grep -c return_call_indirect)" -lt 10 ]; then
    fail threaded-c "clang emitted few return_call_indirect (is -mtail-call honoured?)"
  elif ! $AOT $W/threaded.wasm -o $W/threaded.o 2>$W/tc.err; then fail threaded-c "kiln-aot: $(head -n1 $W/tc.err)"
  elif ! clang-19 $W/threaded.o build/host/libkiln-host.a -lm -o $W/threaded.bin 2>$W/tc.err; then
    fail threaded-c "link: $(tail -n1 $W/tc.err)"
  else
    out=$(timeout 60 $W/threaded.bin 2>&1); rc=$?
    if [ $rc = 0 ] && [ "$out" = "$want" ] && [ -n "$want" ]; then pass threaded-c
    else fail threaded-c "exit $rc, output '$(tr '\n' ' ' <<<"$out")', native '$(tr '\n' ' ' <<<"$want")'"; fi
  fi
  vm_same $W threaded-c-vm $W/threaded.wasm "$want"
else fail threaded-c "clang: $(head -n1 $W/cc.err)"; fi

# --- the C stack's bound: __stack_pointer set below __kiln_stack_limit traps (stacklimit.wast) ---
out=$(python3 tests/spec/spec.py -v tests/aot/stacklimit.wast 2>&1)
if grep -qx "12 passed, 0 failed, 0 skipped" <<<"$out"; then pass stacklimit-wast
else fail stacklimit-wast "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 4 | tr '\n' ';')"; fi

# --- SIMD: v128 in globals, tables, imports, multi-value, blocks and tail calls (simd.wast) ---
out=$(python3 tests/spec/spec.py -v tests/aot/simd.wast 2>&1)
if grep -qx "21 passed, 0 failed, 0 skipped" <<<"$out"; then pass simd-wast
else fail simd-wast "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 4 | tr '\n' ';')"; fi
# validation of the 0xfd immediates
wat bad-lane '(module (func (param v128) (result i32) (i32x4.extract_lane 3 (local.get 0))))'
sed -i 's/\xfd\x1b\x03/\xfd\x1b\x04/' $W/bad-lane.wasm 2>/dev/null # lane 3 -> 4 (0xfd 27 is i32x4.extract_lane)
expect_err bad-lane "invalid lane index"
wat bad-simd-align '(module (memory 1) (func (drop (v128.load align=16 (i32.const 0)))))'
sed -i 's/\xfd\x00\x04/\xfd\x00\x05/' $W/bad-simd-align.wasm # 2^4 -> 2^5 bytes
expect_err bad-simd-align "alignment must not be larger than natural"
bin bad-simd-op "$HDR 01 04 01 60 00 00 03 02 01 00 0a 07 01 05 00 fd 9a 01 0b" # 0xfd 154: reserved
expect_err bad-simd-op "0x17: illegal opcode 0xfd 154"
# a C program built with -msimd128 (loops clang vectorizes, vector types through a function
# pointer) prints the same checksums as natively, at -O2, at -O0 and with AVX2 (--cpu x86-64-v3)
if clang-19 --target=wasm32-wasi -O2 -msimd128 -Wl,--stack-first tests/aot/simd.c -o $W/simd.wasm 2>$W/cc.err &&
   clang-19 -O2 -msse4.2 tests/aot/simd.c -o $W/simd.native 2>>$W/cc.err; then
  ops=$(wasm-objdump -d $W/simd.wasm | grep -cE "(i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\.")
  want=$($W/simd.native)
  for o in O2 O0 avx2; do
    flags=-$o; [ $o = avx2 ] && flags="--cpu x86-64-v3"
    if [ "$ops" -lt 20 ]; then fail simd-c-$o "clang emitted only $ops SIMD instructions (is -msimd128 honoured?)"
    elif [ $o = avx2 ] && ! grep -qw avx2 /proc/cpuinfo; then skip simd-c-$o "this CPU has no AVX2"
    elif ! $AOT $flags $W/simd.wasm -o $W/simd-$o.o 2>$W/simd.err; then fail simd-c-$o "kiln-aot: $(head -n1 $W/simd.err)"
    elif ! clang-19 $W/simd-$o.o build/host/libkiln-host.a -lm -o $W/simd-$o.bin 2>$W/simd.err; then
      fail simd-c-$o "link: $(tail -n1 $W/simd.err)"
    else
      out=$(timeout 60 $W/simd-$o.bin 2>&1); rc=$?
      if [ $rc = 0 ] && [ "$out" = "$want" ] && [ -n "$want" ]; then pass simd-c-$o
      else fail simd-c-$o "exit $rc, output '$(head -n2 <<<"$out" | tr '\n' ' ')', native '$(head -n2 <<<"$want" | tr '\n' ' ')'"; fi
    fi
  done
  # and inside the VM (the kernel runs the same SSE code; stdout is the app's, byte for byte)
  vm_same $W simd-c-vm $W/simd.wasm "$want"
else fail simd-c "clang: $(head -n1 $W/cc.err)"; fi
# --- exceptions (legacy encoding): traps are not exceptions, locals reach handlers, the
# handler chain after br/return/deep throws, payloads, rethrow, delegate, tags per instance ---
out=$(python3 tests/spec/spec.py -v tests/aot/eh.wast 2>&1)
if grep -qx "28 passed, 0 failed, 0 skipped" <<<"$out"; then pass eh-wast
else fail eh-wast "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 4 | tr '\n' ';')"; fi
ins=$($AOT --inspect build/spec/eh/eh.1.wasm 2>&1)
if grep -qx "import tag a.e (i32)" <<<"$ins" && grep -qx "export tag own (i32)" <<<"$ins"; then pass eh-inspect-tags
else fail eh-inspect-tags "$(tr '\n' ';' <<<"$ins")"; fi
# each tag once, its type once: imported, re-exported, defined, with 0 and 2 params
echo '(module (import "m" "t" (tag $t (param i32 f64))) (export "t2" (tag $t)) (tag $v (export "v")))' >$W/tags.wat
want='import tag m.t (i32,f64);export tag t2 (i32,f64);export tag v ();'
if wat2wasm --enable-exceptions $W/tags.wat -o $W/tags.wasm && ins=$($AOT --inspect $W/tags.wasm) &&
   [ "$(grep ' tag ' <<<"$ins" | tr '\n' ';')" = "$want" ]; then pass inspect-tag-types
else fail inspect-tag-types "$(grep ' tag ' <<<"${ins-}" | tr '\n' ';'), expected $want"; fi
# a throw that would cross a host frame (Wasm -> host -> Wasm) is a trap of the inner call
if wat2wasm --enable-exceptions tests/aot/eh_host.wat -o $W/eh_host.wasm 2>$W/eh.err &&
   $AOT --name m $W/eh_host.wasm -o $W/eh_host.o 2>>$W/eh.err && make -s build/host/libkiln-rt.a >/dev/null &&
   clang-19 -I. -o $W/eh_host.bin tests/aot/eh_host.c $W/eh_host.o build/host/libkiln-rt.a -lm 2>>$W/eh.err; then
  out=$($W/eh_host.bin 2>&1); rc=$?
  if [ $rc = 0 ] && [ "$(grep -c '^PASS' <<<"$out")" = 5 ]; then pass eh-host-frames
  else fail eh-host-frames "exit $rc: $(grep -v '^PASS' <<<"$out" | head -n 3 | tr '\n' ';')"; fi
else fail eh-host-frames "build: $(tail -n1 $W/eh.err)"; fi
# --- chunks (aot/emit.c): --chunk-bytes 1 puts every function in a chunk of its own, so every
# call, tail call and descriptor entry crosses chunks; the object must not depend on -j ---
out=$(KILN_AOT_FLAGS="--chunk-bytes 1" python3 tests/spec/spec.py -v tests/aot/tailcall.wast 2>&1)
if grep -qx "18 passed, 0 failed, 0 skipped" <<<"$out"; then pass chunked-tailcall-wast
else fail chunked-tailcall-wast "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 4 | tr '\n' ';')"; fi
if [ -e $W/tailcall.wasm ] && [ -e $W/tailcall.native ]; then
  want=$($W/tailcall.native)
  if $AOT --chunk-bytes 1 -j2 $W/tailcall.wasm -o $W/tailcall-chunked.o 2>$W/tc.err &&
     clang-19 $W/tailcall-chunked.o build/host/libkiln-host.a -lm -o $W/tailcall-chunked.bin 2>>$W/tc.err; then
    out=$(timeout 60 $W/tailcall-chunked.bin 2>&1); rc=$?
    if [ $rc = 0 ] && [ "$out" = "$want" ]; then pass chunked-tailcall-c
    else fail chunked-tailcall-c "exit $rc, output '$out', native '$want'"; fi
  else fail chunked-tailcall-c "$(tail -n1 $W/tc.err)"; fi
else fail chunked-tailcall-c "tests/aot/tailcall.c was not built"; fi
if [ -e $W/hello.wasm ]; then
  ok=1
  for j in 1 2 3; do $AOT --chunk-bytes 1 -j$j $W/hello.wasm -o $W/hello-chunked-j$j.o || ok=0; done
  glob=$(nm -g --defined-only $W/hello-chunked-j2.o | awk '{print $3}' | tr '\n' ' ')
  if [ $ok = 1 ] && cmp -s $W/hello-chunked-j1.o $W/hello-chunked-j2.o && cmp -s $W/hello-chunked-j1.o $W/hello-chunked-j3.o &&
     [ "$glob" = "kiln_module " ]; then pass chunked-identical
  else fail chunked-identical "objects of -j1, -j2, -j3 differ, or global symbols '$glob'"; fi
  if clang-19 $W/hello-chunked-j2.o build/host/libkiln-host.a -lm -o $W/hello-chunked.bin 2>$W/ld.err; then
    out=$($W/hello-chunked.bin x y); rc=$?
    if [ "$rc" = 7 ] && [ "$out" = "hello 6765 argc=3 y -2147483648 1.500000 sum=4950" ]; then pass chunked-hello-run
    else fail chunked-hello-run "exit $rc, output '$out'"; fi
  else fail chunked-hello-run "$(tail -n1 $W/ld.err)"; fi
fi
# two invalid bodies in different chunks: the first is reported, whatever thread finishes first
echo '(module (func) (func (result i32) (i64.const 1)) (func) (func (result i32) (f32.const 1)))' >$W/two-bad.wat
if wat2wasm --no-check $W/two-bad.wat -o $W/two-bad.wasm; then
  one=$($AOT -j1 $W/two-bad.wasm -o $W/two-bad.o 2>&1)
  ok=1
  for i in 1 2 3 4 5; do
    err=$($AOT --chunk-bytes 1 -j2 $W/two-bad.wasm -o $W/two-bad.o 2>&1); rc=$?
    [ $rc = 1 ] && [ "$err" = "$one" ] && [ ! -e $W/two-bad.o ] || ok=0
  done
  if [ $ok = 1 ] && [[ $one == *"type mismatch"* ]]; then pass chunked-first-error
  else fail chunked-first-error "one chunk: '$one'; chunked: exit $rc '$err'"; fi
else fail chunked-first-error "wat2wasm failed"; fi

# --- multi-memory: bounds, size, grow, bulk operations and data per memory, memories shared
# between instances; with the guard regions, with explicit checks, and chunked ---
for flags in "" "--bounds-checks" "--chunk-bytes 1"; do
  out=$(KILN_AOT_FLAGS="$flags" python3 tests/spec/spec.py -v tests/aot/multimem.wast 2>&1)
  if grep -qx "48 passed, 0 failed, 0 skipped" <<<"$out"; then pass "multimem-wast${flags:+ $flags}"
  else fail "multimem-wast${flags:+ $flags}" "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 4 | tr '\n' ';')"; fi
done
# memory 0 stays as fast as with one memory: its base is ctx->mem0 (one load, in the entry
# block), and a function that only touches memory 0 never reads the memories array
echo '(module (memory 1) (memory 1)
  (func (export "sum") (param i32 i32) (result i32) (local i32)
    (loop $l (local.set 2 (i32.add (local.get 2) (i32.load (local.get 0))))
      (local.set 0 (i32.add (local.get 0) (i32.const 4)))
      (br_if $l (local.tee 1 (i32.sub (local.get 1) (i32.const 1)))))
    (local.get 2)))' >$W/mem0.wat
if wat2wasm --enable-multi-memory $W/mem0.wat -o $W/mem0.wasm && $AOT $W/mem0.wasm -o $W/mem0.o --emit-llvm $W/mem0.ll; then
  body=$(sed -n '/^define internal i32 @f0(/,/^}/p' $W/mem0.ll)
  # ctx->mem0 is the pointer at offset 0 of ctx (%0); ctx->memories would be a GEP of 8 from it
  if [ "$(grep -c 'load ptr, ptr %0,' <<<"$body")" = 1 ] && ! grep -q 'getelementptr i8, ptr %0, i64 8' <<<"$body"
  then pass multimem-mem0-base; else fail multimem-mem0-base "memory 0 not reached through ctx->mem0 alone: $(tr '\n' ' ' <<<"$body" | head -c 300)"; fi
else fail multimem-mem0-base "wat2wasm or kiln-aot failed"; fi

# a WASI app with two memories, hosted and in the VM: memory.copy from memory 1 into memory 0
# (which WASI sees), then a load past the end of memory 1 traps
echo '(module
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (memory $m1 2)
  (data (memory $m1) (i32.const 65536) "hello from memory 1\n")
  (func (export "_start")
    (memory.copy 0 $m1 (i32.const 100) (i32.const 65536) (i32.const 20))
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 20))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (i32.load $m1 (i32.const 131070)))))' >$W/mmapp.wat
if wat2wasm --enable-multi-memory $W/mmapp.wat -o $W/mmapp.wasm; then
  out=$(KILN_CACHE=off ./kiln run --hosted $W/mmapp.wasm 2>$W/mmapp.err); rc=$?
  if [ $rc = 134 ] && [ "$out" = "hello from memory 1" ] && grep -q "out of bounds memory access" $W/mmapp.err
  then pass multimem-app-hosted; else fail multimem-app-hosted "exit $rc, '$out', $(tail -n1 $W/mmapp.err)"; fi
  if KILN_CACHE=off ./kiln build $W/mmapp.wasm -o $W/mmapp.iso >$W/mmapp.log 2>&1; then
    out=$(./kiln run $W/mmapp.elf --timeout 120 2>$W/mmapp.err); rc=$?
    if [ $rc = 134 ] && [ "$out" = "hello from memory 1" ] && grep -q "out of bounds memory access" $W/mmapp.err
    then pass multimem-app-vm; else fail multimem-app-vm "exit $rc, '$out', $(tail -n1 $W/mmapp.err)"; fi
  else fail multimem-app-vm "kiln build: $(tail -n1 $W/mmapp.log)"; fi
else fail multimem-app "wat2wasm failed"; fi

# --- stack checks after the -O pipeline (lower_control.c insert_stack_checks): $big, $mix
# inlined 400 times, is past LEAF_OPT_INSTRUCTIONS and keeps its check, which is then its only
# use of ctx: the pipeline must not pass poison for it; $small, $mix inlined once, calls
# nothing any more and is a small leaf: no check; _start calls and keeps one ---
{ echo '(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "\01\00\00\00\02\00\00\00\03\00\00\00")
  (func $mix (param i32) (result i32)
    (i32.rotl (i32.xor (i32.shl (local.get 0) (i32.const 5)) (local.get 0)) (i32.const 7)))
  (func $big (param i32) (result i32)'
  for i in $(seq 400); do echo '    (local.set 0 (call $mix (local.get 0)))'; done
  echo '    (local.get 0))
  (func $small (param i32) (result i32) (call $mix (local.get 0)))
  (func (export "_start")
    (call $exit (i32.or (i32.and (i32.add (i32.add (i32.add (call $big (i32.load (i32.const 0)))
      (call $big (i32.load (i32.const 4)))) (call $big (i32.load (i32.const 8))))
      (call $small (i32.load (i32.const 8)))) (i32.const 255)) (i32.const 1)))))'
} >$W/ctxarg.wat
want=$(python3 -c '
m = lambda x: (((((x << 5) ^ x) & 0xFFFFFFFF) << 7 | (((x << 5) ^ x) & 0xFFFFFFFF) >> 25) & 0xFFFFFFFF)
def big(x):
    for _ in range(400): x = m(x)
    return x
print(((big(1) + big(2) + big(3) + m(3)) & 255) | 1)')
if wat2wasm $W/ctxarg.wat -o $W/ctxarg.wasm && $AOT $W/ctxarg.wasm -o $W/ctxarg.o --emit-llvm $W/ctxarg.ll; then
  fn() { sed -n "/^define internal [a-z0-9]* @f$1(/,/^}/p" $W/ctxarg.ll; }
  big=$(fn 2) small=$(fn 3) start=$(fn 4) # (grep -q in a pipe: pipefail sees sed's SIGPIPE)
  calls=$(grep -c 'call i32 @f2(ptr' $W/ctxarg.ll)
  bad=$(grep -E 'call i32 @f2\(ptr (nonnull )?(poison|undef)' $W/ctxarg.ll | head -n 1)
  if [ "$calls" = 3 ] && [ -z "$bad" ] && grep -q '^stack_check:' <<<"$big"; then pass stack-check-ctx-arg
  else fail stack-check-ctx-arg "$calls calls of \$big, ctx not passed: $bad"; fi
  if ! grep -q '^stack_check:' <<<"$small" && grep -q '^stack_check:' <<<"$start" && ! grep -qE 'call [^@]*@f[0-9]' <<<"$small"; then
    pass stack-check-inlined-leaf
  else fail stack-check-inlined-leaf "\$small checked or _start not: $(head -n 4 <<<"$small" | tr '\n' ' ')"; fi
  out=$(KILN_CACHE=off ./kiln run --hosted $W/ctxarg.wasm 2>&1); rc=$?
  if [ $rc = "$want" ]; then pass stack-check-ctx-run; else fail stack-check-ctx-run "exit $rc ($want expected): $out"; fi
else fail stack-check-ctx-arg "wat2wasm or kiln-aot failed"; fi

# --- extended-const: arithmetic in constant expressions, evaluated at instantiation ---
out=$(python3 tests/spec/spec.py -v tests/aot/extconst.wast 2>&1)
if grep -qx "15 passed, 0 failed, 0 skipped" <<<"$out"; then pass extconst-wast
else fail extconst-wast "$(grep -E '^FAIL|passed,' <<<"$out" | head -n 4 | tr '\n' ';')"; fi
# deeper than the evaluation stack of abi.h (KILN_CONST_STACK): a clear error, not a crash
e="(i32.const 1)"; for i in $(seq 70); do e="(i32.add (i32.const $i) $e)"; done
echo "(module (global i32 $e))" >$W/deep-const.wat
if wat2wasm --enable-extended-const $W/deep-const.wat -o $W/deep-const.wasm; then
  expect_err deep-const "constant expression nested too deeply"
else fail deep-const "wat2wasm failed"; fi

# --- -o a pipe or a device (as -o /dev/null is): written into, never replaced or removed, also
# when the module is split in chunks (llvm-objcopy renames its output) or refused ---
if make -s build/examples/hello.wasm >/dev/null 2>&1; then
  mkfifo $W/out.fifo
  for flags in "" "--chunk-bytes 1" bad; do
    name="output to a FIFO (${flags:-one chunk})"
    if [ "$flags" = bad ]; then # refused before the output is opened: no reader needed
      timeout 60 $AOT $W/bad-simd-op.wasm -o $W/out.fifo 2>/dev/null; rc=$?
      if [ ! -p $W/out.fifo ]; then fail "$name" "the FIFO was removed"
      elif [ $rc = 1 ]; then pass "$name"; else fail "$name" "status $rc for a refused module"; fi
      continue
    fi
    $AOT build/examples/hello.wasm $flags -o $W/ref.o
    timeout 20 cat $W/out.fifo >$W/fifo.got & reader=$! # bounded: a replaced FIFO gets no writer
    timeout 60 $AOT build/examples/hello.wasm $flags -o $W/out.fifo 2>/dev/null; rc=$?
    wait $reader
    if [ ! -p $W/out.fifo ]; then fail "$name" "the FIFO was replaced or removed"
    elif [ $rc = 0 ] && cmp -s $W/fifo.got $W/ref.o; then pass "$name"
    else fail "$name" "status $rc, $(stat -c %s $W/fifo.got) bytes read, $(stat -c %s $W/ref.o) wanted"; fi
    [ -p $W/out.fifo ] || { rm -f $W/out.fifo; mkfifo $W/out.fifo; }
  done
else fail "output to a FIFO" "make build/examples/hello.wasm failed"; fi

# --- implementation limits, bounded cost, huge frames (tests/aot/limits.sh) ---
. tests/aot/limits.sh

finish
