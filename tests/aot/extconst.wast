;; tests/aot/extconst.wast — extended constant expressions evaluated at instantiation: from an
;; imported global, in global initializers, data and element offsets, with i32 and i64
;; wrap-around.
(module $base
  (global (export "g32") i32 (i32.const 1000))
  (global (export "g64") i64 (i64.const 0x7fffffffffffffff)))
(register "base" $base)
(module
  (import "base" "g32" (global $g i32))
  (import "base" "g64" (global $h i64))
  (global $a (export "a") i32 (i32.sub (i32.mul (global.get $g) (i32.const 3)) (i32.const 1)))
  (global $w (export "w") i32 (i32.mul (i32.const 0x10000) (i32.const 0x10001)))
  (global $b (export "b") i64 (i64.add (global.get $h) (i64.mul (i64.const 2) (i64.sub (i64.const 5) (i64.const 4)))))
  (memory 1)
  (data (i32.add (global.get $g) (i32.mul (i32.const 2) (i32.const 12))) "kiln")
  (table 10 funcref)
  (elem (i32.sub (i32.const 10) (i32.add (i32.const 1) (i32.const 2))) $seven)
  (func $seven (result i32) (i32.const 7))
  (func (export "load") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "call") (param i32) (result i32) (call_indirect (result i32) (local.get 0))))
(assert_return (get "a") (i32.const 2999))
(assert_return (get "w") (i32.const 0x10000))
(assert_return (get "b") (i64.const 0x8000000000000001))
(assert_return (invoke "load" (i32.const 1024)) (i32.const 0x6b))
(assert_return (invoke "load" (i32.const 1027)) (i32.const 0x6e))
(assert_return (invoke "call" (i32.const 7)) (i32.const 7))
(assert_trap (invoke "call" (i32.const 6)) "uninitialized element")
;; an offset past the end, computed: the instance does not start
(assert_trap
  (module (memory 1) (data (i32.mul (i32.const 0x100) (i32.const 0x100)) "x"))
  "out of bounds memory access")
(assert_invalid (module (global i32 (i32.add (i32.const 1) (i64.const 2)))) "type mismatch")
(assert_invalid (module (global i32 (i32.add (i32.const 1)))) "type mismatch")
(assert_invalid (module (global i64 (i32.mul (i32.const 1) (i32.const 2)))) "type mismatch")
(assert_invalid (module (global i32 (i32.div_u (i32.const 1) (i32.const 2)))) "constant expression required")
