;; tests/aot/stacklimit.wast — the C stack's bound (aot/abi.h §4): a module exporting the
;; mutable i32 globals __stack_pointer and __kiln_stack_limit traps "call stack exhausted" on
;; a global.set of __stack_pointer below the limit; a limit of 0 checks nothing.
(module
  (global $sp (export "__stack_pointer") (mut i32) (i32.const 1000))
  (global $lim (export "__kiln_stack_limit") (mut i32) (i32.const 0))
  (func (export "set_limit") (param i32) (global.set $lim (local.get 0)))
  (func (export "push") (param i32) (result i32)
    (global.set $sp (i32.sub (global.get $sp) (local.get 0)))
    (global.get $sp))
  (func (export "sp") (result i32) (global.get $sp)))
(assert_return (invoke "push" (i32.const 100)) (i32.const 900))
(assert_return (invoke "push" (i32.const 1000)) (i32.const -100))
(assert_return (invoke "push" (i32.const -600)) (i32.const 500))
(invoke "set_limit" (i32.const 400))
(assert_return (invoke "push" (i32.const 100)) (i32.const 400))
(assert_exhaustion (invoke "push" (i32.const 1)) "call stack exhausted")
(assert_return (invoke "sp") (i32.const 400))
(assert_exhaustion (invoke "push" (i32.const 101)) "call stack exhausted")
(assert_return (invoke "push" (i32.const -100)) (i32.const 500))

;; Only one of the two exported: nothing is checked.
(module
  (global $sp (export "__stack_pointer") (mut i32) (i32.const 10))
  (global $lim (mut i32) (i32.const 100))
  (func (export "push") (param i32) (result i32)
    (global.set $sp (i32.sub (global.get $sp) (local.get 0)))
    (global.get $lim) (drop)
    (global.get $sp)))
(assert_return (invoke "push" (i32.const 1)) (i32.const 9))
