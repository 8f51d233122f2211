;; tests/aot/tailcall.wast — constant-stack tail calls between functions of different
;; signatures (stack arguments beyond the registers, two results through the result
;; pointer), directly, through return_call_indirect and into another module's function.
;; 10,000,000 hops each: without real tail calls every one of these exhausts the stack. Also
;; tail calls into host functions and into a module compiled without tail calls.
(module $a
  (type $wide (func (param i64 i32 f64 i32 i32 i32 i32 i32 i64) (result i64)))
  (type $narrow (func (param i32 i64) (result i64)))
  (type $pair (func (param i32 i64) (result i64 i32)))
  (type $pair3 (func (param i64 i32 i32) (result i64 i32)))
  (table $t 4 funcref)
  (elem (table $t) (i32.const 0) func $narrow $wide $pair $pair3)
  (func $narrow (export "narrow") (type $narrow)
    (if (i32.eqz (local.get 0)) (then (return (local.get 1))))
    (return_call $wide (local.get 1) (i32.sub (local.get 0) (i32.const 1)) (f64.const 1)
      (i32.const 2) (i32.const 3) (i32.const 4) (i32.const 5) (i32.const 6) (i64.const 7)))
  (func $wide (type $wide)
    (return_call_indirect $t (type $narrow)
      (local.get 1)
      (i64.add (local.get 0) (i64.add (local.get 8) (i64.extend_i32_u (local.get 7))))
      (i32.const 0)))
  (func $pair (export "pair") (type $pair)
    (if (i32.eqz (local.get 0)) (then (return (local.get 1) (i32.const 42))))
    (return_call_indirect $t (type $pair3) (local.get 1) (local.get 0) (i32.const 3) (i32.const 3)))
  (func $pair3 (type $pair3)
    (return_call $pair (i32.sub (local.get 1) (i32.const 1)) (i64.add (local.get 0) (i64.const 1))))
  ;; one frame of real recursion per call: return_call never recurses, call does
  (func $deep (export "deep") (param i32) (result i32)
    (if (i32.eqz (local.get 0)) (then (return (i32.const 0))))
    (i32.add (i32.const 1) (call $deep (i32.sub (local.get 0) (i32.const 1)))))
)
(register "a" $a)
(assert_return (invoke "narrow" (i32.const 10000000) (i64.const 0)) (i64.const 130000000))
(assert_return (invoke "pair" (i32.const 10000000) (i64.const 0)) (i64.const 10000000) (i32.const 42))
(assert_exhaustion (invoke "deep" (i32.const 100000000)) "call stack exhausted")

(module
  (import "a" "narrow" (func $narrow (param i32 i64) (result i64)))
  (import "a" "pair" (func $pair (param i32 i64) (result i64 i32)))
  (import "spectest" "print_i32" (func $print (param i32)))
  ;; into another instance's function: its tailcc entry, so the chain stays flat
  (func $hop (export "hop") (param i32 i64) (result i64)
    (if (i32.eqz (local.get 0)) (then (return (local.get 1))))
    (if (i32.and (local.get 0) (i32.const 1))
      (then (return_call $hop (i32.sub (local.get 0) (i32.const 1)) (i64.add (local.get 1) (i64.const 1)))))
    (return_call $narrow (local.get 0) (local.get 1)))
  (func (export "pair2") (param i32) (result i64 i32) (return_call $pair (local.get 0) (i64.const 5)))
  ;; into a host function: an ordinary call, then return
  (func (export "host") (param i32) (return_call $print (local.get 0)))
)
(assert_return (invoke "hop" (i32.const 10000001) (i64.const 0)) (i64.const 130000001))
(assert_return (invoke "pair2" (i32.const 10000000)) (i64.const 10000005) (i32.const 42))
(assert_return (invoke "host" (i32.const 7)))

;; into a module compiled without tail calls (no tail_fn): an ordinary call, then return,
;; also with two results and through a table
(module $plain
  (func (export "inc") (param i32) (result i32) (i32.add (local.get 0) (i32.const 1)))
  (func (export "two") (param i32) (result i32 i64) (local.get 0) (i64.const -1)))
(register "plain" $plain)
(module
  (import "plain" "inc" (func $inc (param i32) (result i32)))
  (import "plain" "two" (func $two (param i32) (result i32 i64)))
  (table funcref (elem $inc $two))
  (type $t2 (func (param i32) (result i32 i64)))
  (func (export "inc") (param i32) (result i32) (return_call $inc (local.get 0)))
  (func (export "inc-ind") (param i32) (result i32) (return_call_indirect (param i32) (result i32) (local.get 0) (i32.const 0)))
  (func (export "two") (param i32) (result i32 i64) (return_call $two (local.get 0)))
  (func (export "two-ind") (param i32) (result i32 i64) (return_call_indirect (type $t2) (local.get 0) (i32.const 1))))
(assert_return (invoke "inc" (i32.const 41)) (i32.const 42))
(assert_return (invoke "inc-ind" (i32.const 1)) (i32.const 2))
(assert_return (invoke "two" (i32.const 3)) (i32.const 3) (i64.const -1))
(assert_return (invoke "two-ind" (i32.const 4)) (i32.const 4) (i64.const -1))

(assert_invalid
  (module (func $f (result i64) (i64.const 0)) (func (result i32) (return_call $f)))
  "type mismatch")
(assert_invalid
  (module (type $t (func (result i32 i32))) (table 1 funcref)
    (func (result i32) (return_call_indirect (type $t) (i32.const 0))))
  "type mismatch")
