;; tests/aot/multimem.wast — multi-memory: each memory its own reservation, bounds, size and
;; data; memory 0 unchanged. tests/aot/run.sh runs it with the guard region, with
;; --bounds-checks and with every function in a chunk of its own.

(module $a
  (memory $m0 (export "m0") 1)
  (memory $m1 (export "m1") 2 3)
  (memory $m2 (export "m2") 0 1)
  (data (memory $m0) (i32.const 0) "zero")
  (data (memory $m1) (i32.const 65536) "one")
  (data $p "passive")

  (func (export "load0") (param i32) (result i32) (i32.load8_u $m0 (local.get 0)))
  (func (export "load1") (param i32) (result i32) (i32.load8_u $m1 (local.get 0)))
  (func (export "load2") (param i32) (result i32) (i32.load8_u $m2 (local.get 0)))
  (func (export "load1-i64") (param i32) (result i64) (i64.load $m1 offset=8 (local.get 0)))
  (func (export "store1") (param i32 i32) (i32.store $m1 (local.get 0) (local.get 1)))
  (func (export "store2") (param i32 i32) (i32.store16 $m2 (local.get 0) (local.get 1)))
  ;; the same address in three memories, in one function: three bases
  (func (export "sum3") (param i32) (result i32)
    (i32.add (i32.load8_u $m0 (local.get 0))
      (i32.add (i32.load8_u $m1 (local.get 0)) (i32.load8_u $m2 (local.get 0)))))
  ;; a dropped load of memory 1 still traps
  (func (export "drop1") (param i32) (drop (i32.load $m1 (local.get 0))))
  (func (export "size") (result i32 i32 i32) (memory.size $m0) (memory.size $m1) (memory.size $m2))
  (func (export "grow1") (param i32) (result i32) (memory.grow $m1 (local.get 0)))
  (func (export "grow2") (param i32) (result i32) (memory.grow $m2 (local.get 0)))
  (func (export "fill2") (param i32 i32 i32) (memory.fill $m2 (local.get 0) (local.get 1) (local.get 2)))
  ;; memory 1 -> memory 2
  (func (export "copy12") (param i32 i32 i32) (memory.copy $m2 $m1 (local.get 0) (local.get 1) (local.get 2)))
  (func (export "init2") (param i32 i32 i32) (memory.init $m2 $p (local.get 0) (local.get 1) (local.get 2)))
  (func (export "v128-1") (param i32) (result i64) (i64x2.extract_lane 0 (v128.load $m1 (local.get 0))))
)
(register "a" $a)

(assert_return (invoke "load0" (i32.const 1)) (i32.const 0x65))
(assert_return (invoke "load1" (i32.const 1)) (i32.const 0))
(assert_return (invoke "load1" (i32.const 65537)) (i32.const 0x6e))
(assert_return (invoke "size") (i32.const 1) (i32.const 2) (i32.const 0))
(assert_trap (invoke "load2" (i32.const 0)) "out of bounds memory access")
(assert_trap (invoke "load0" (i32.const 65536)) "out of bounds memory access")
(assert_return (invoke "load1" (i32.const 131071)) (i32.const 0))
(assert_trap (invoke "load1" (i32.const 131072)) "out of bounds memory access")
(assert_trap (invoke "load1-i64" (i32.const 131063)) "out of bounds memory access")
(assert_trap (invoke "drop1" (i32.const 131069)) "out of bounds memory access")
(assert_return (invoke "drop1" (i32.const 131068)))
(assert_return (invoke "store1" (i32.const 8) (i32.const 0x01020304)))
(assert_return (invoke "load1-i64" (i32.const 0)) (i64.const 0x01020304))
(assert_return (invoke "load0" (i32.const 8)) (i32.const 0))
(assert_return (invoke "v128-1" (i32.const 8)) (i64.const 0x01020304))
(assert_trap (invoke "v128-1" (i32.const 131057)) "out of bounds memory access")

;; growing memory 2 maps it; memory 1 stops at its maximum
(assert_return (invoke "grow2" (i32.const 1)) (i32.const 0))
(assert_return (invoke "grow2" (i32.const 1)) (i32.const -1))
(assert_return (invoke "load2" (i32.const 65535)) (i32.const 0))
(assert_return (invoke "grow1" (i32.const 1)) (i32.const 2))
(assert_return (invoke "grow1" (i32.const 1)) (i32.const -1))
(assert_return (invoke "size") (i32.const 1) (i32.const 3) (i32.const 1))
(assert_return (invoke "load1" (i32.const 196607)) (i32.const 0))
(assert_trap (invoke "load1" (i32.const 196608)) "out of bounds memory access")
(assert_return (invoke "store2" (i32.const 0) (i32.const 0x0201)))
(assert_return (invoke "sum3" (i32.const 0)) (i32.const 0x7b))
(assert_trap (invoke "store2" (i32.const 65535) (i32.const 1)) "out of bounds memory access")

;; bulk operations name their memories
(assert_return (invoke "fill2" (i32.const 100) (i32.const 7) (i32.const 3)))
(assert_return (invoke "load2" (i32.const 102)) (i32.const 7))
(assert_return (invoke "load0" (i32.const 102)) (i32.const 0))
(assert_trap (invoke "fill2" (i32.const 65535) (i32.const 7) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "copy12" (i32.const 200) (i32.const 65536) (i32.const 3)))
(assert_return (invoke "load2" (i32.const 201)) (i32.const 0x6e))
(assert_trap (invoke "copy12" (i32.const 0) (i32.const 196607) (i32.const 2)) "out of bounds memory access")
(assert_return (invoke "init2" (i32.const 300) (i32.const 1) (i32.const 3)))
(assert_return (invoke "load2" (i32.const 300)) (i32.const 0x61))
(assert_trap (invoke "init2" (i32.const 65534) (i32.const 0) (i32.const 3)) "out of bounds memory access")

;; a second module imports two of them (in another order) and sees the same bytes
(module $b
  (import "a" "m2" (memory $x 1 1))
  (import "a" "m1" (memory $y 3))
  (memory $own 1)
  (func (export "x") (param i32) (result i32) (i32.load8_u $x (local.get 0)))
  (func (export "y") (param i32) (result i32) (i32.load8_u $y (local.get 0)))
  (func (export "own") (param i32) (result i32) (i32.load8_u $own (local.get 0)))
  (func (export "put-y") (param i32 i32) (i32.store8 $y (local.get 0) (local.get 1)))
  (func (export "size") (result i32 i32 i32) (memory.size $x) (memory.size $y) (memory.size $own))
)
(assert_return (invoke $b "x" (i32.const 201)) (i32.const 0x6e))
(assert_return (invoke $b "y" (i32.const 65537)) (i32.const 0x6e))
(assert_return (invoke $b "own" (i32.const 201)) (i32.const 0))
(assert_return (invoke $b "size") (i32.const 1) (i32.const 3) (i32.const 1))
(assert_trap (invoke $b "y" (i32.const 196608)) "out of bounds memory access")
(assert_return (invoke $b "put-y" (i32.const 5) (i32.const 0x55)))
(assert_return (invoke $a "load1" (i32.const 5)) (i32.const 0x55))

;; a memory of the wrong size does not link
(assert_unlinkable
  (module (import "a" "m1" (memory 4)) (import "a" "m2" (memory 0)))
  "incompatible import type")
