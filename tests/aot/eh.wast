;; tests/aot/eh.wast — legacy exception handling beyond the proposal's own tests (aot/abi.h §5):
;; traps are not exceptions, locals written in a try body reach its handler at -O2, the
;; handler chain stays right after br/return/br_table out of try bodies and after deep
;; throws, payloads of every type, rethrow of an outer exception after an inner one was
;; caught, delegate, tag identity across instances, and an exception escaping the start
;; function.
(module $a
  (tag $e (export "e") (param i32))
  (tag $f (param i64 f32 f64 externref funcref i32))
  (tag $g)
  (memory 1)
  (table $t 3 funcref)
  (elem (table $t) (i32.const 0) func $payload)
  (func $throw-e (export "throw-e") (param i32) (throw $e (local.get 0)))

  ;; traps go past every catch_all to the caller
  (func (export "catch-unreachable") (result i32)
    (try (result i32) (do (unreachable)) (catch_all (i32.const 1))))
  (func (export "catch-oob") (result i32)
    (try (result i32) (do (i32.load (i32.const 70000))) (catch_all (i32.const 1))))
  (func (export "catch-div") (param i32) (result i32)
    (try (result i32) (do (i32.div_s (i32.const 1) (local.get 0))) (catch_all (i32.const 1))))
  (func (export "catch-null") (result i32)
    (try (result i32) (do (call_indirect $t (result i32) (i32.const 1))) (catch_all (i32.const 1))))
  (func $deep (param i32) (result i32)
    (try (result i32)
      (do (i32.add (i32.const 1) (call $deep (i32.add (local.get 0) (i32.const 1)))))
      (catch_all (i32.const -1))))
  (func (export "catch-exhaustion") (result i32) (call $deep (i32.const 0)))
  ;; after a trap the next call starts with a clean chain
  (func (export "after-trap") (result i32)
    (try (result i32) (do (call $throw-e (i32.const 7)) (i32.const 0)) (catch $e)))

  ;; locals written in the body, read by the handler
  (func (export "locals") (param i32) (result i64)
    (local $i i32) (local $acc i64) (local $x f64)
    (try
      (do
        (loop $l
          (local.set $acc (i64.add (local.get $acc) (i64.extend_i32_u (local.get $i))))
          (local.set $x (f64.add (local.get $x) (f64.const 0.5)))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (if (i32.eq (local.get $i) (local.get 0)) (then (call $throw-e (local.get $i))))
          (br $l)))
      (catch $e (drop)))
    (i64.add (local.get $acc) (i64.trunc_f64_s (local.get $x))))

  ;; 100000 times: leave a try body by br, br_table and return, then throw outside any try
  ;; of this function: a stale handler left in the chain would be jumped to.
  (func $leave-by-br (param i32) (result i32)
    (block $out (result i32)
      (try (do (br $out (local.get 0))) (catch_all))
      (i32.const -1)))
  (func $leave-by-table (param i32) (result i32)
    (block $a (block $b
      (try (do (br_table $a $b (local.get 0))) (catch_all)))
      (return (i32.const 2)))
    (i32.const 1))
  (func $leave-by-return (param i32) (result i32)
    (try (do (return (local.get 0))) (catch_all))
    (i32.const -1))
  (func $churn (param i32) (result i32)
    (local $n i32) (local $sum i32)
    (loop $l
      (local.set $sum (i32.add (local.get $sum)
        (i32.add (call $leave-by-br (i32.const 1))
          (i32.add (call $leave-by-table (i32.and (local.get $n) (i32.const 1)))
            (call $leave-by-return (i32.const 1))))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $n) (local.get 0))))
    (throw $e (local.get $sum)))
  (func (export "churn") (param i32) (result i32)
    (try (result i32) (do (call $churn (local.get 0))) (catch $e)))

  ;; a throw 10000 frames down, caught at the top, 100 times
  (func $down (param i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 5))))
    (call $down (i32.sub (local.get 0) (i32.const 1))))
  (func (export "deep-throw") (result i32)
    (local $n i32) (local $sum i32)
    (loop $l
      (try (do (call $down (i32.const 10000)))
        (catch $e (local.set $sum (i32.add (local.get $sum)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $n) (i32.const 100))))
    (local.get $sum))

;; a payload of every type survives (the funcref is called through the table)
  (func $payload (result i32) (i32.const 77))
  (func (export "payload") (result i64 f32 f64 i32 i32 i32)
    (local $er externref) (local $fr funcref) (local $k i32)
    (try (result i64 f32 f64)
      (do
        (throw $f (i64.const 0x123456789abcdef) (f32.const -1.5) (f64.const 2.25)
          (ref.null extern) (ref.func $payload) (i32.const 42)))
      (catch $f (local.set $k) (local.set $fr) (local.set $er)))
    (table.set $t (i32.const 2) (local.get $fr))
    (ref.is_null (local.get $er)) (ref.is_null (local.get $fr))
    (i32.add (local.get $k) (call_indirect $t (result i32) (i32.const 2))))

  ;; rethrow 1 of the outer exception after an inner one was caught and handled
  (func (export "rethrow-outer") (result i32)
    (try (result i32)
      (do
        (try
          (do (throw $e (i32.const 1)))
          (catch $e
            (drop)
            (try (do (throw $e (i32.const 2))) (catch $e (drop)))
            (rethrow 0)))
        (i32.const 0))
      (catch $e)))
  ;; rethrow from inside a nested try body goes to that try's own handlers first
  (func (export "rethrow-nested") (result i32)
    (try (result i32)
      (do
        (throw $e (i32.const 3)))
      (catch $e
        (drop)
        (try (result i32) (do (rethrow 1)) (catch $e (i32.add (i32.const 10)))))))

  ;; delegate to the function label: the caller catches; to a try in its handler: outward
  (func $delegate-out (try (do (throw $g)) (delegate 0)))
  (func (export "delegate-caller") (result i32)
    (try (result i32) (do (call $delegate-out) (i32.const 0)) (catch $g (i32.const 1))))
  (func (export "delegate-past-catch") (result i32)
    (try (result i32)
      (do
        (try (result i32)
          (do (throw $g))
          (catch_all
            ;; label 0 is the try in its catch_all: its handler is gone, so outward
            (try (do (throw $e (i32.const 9))) (delegate 0))
            (i32.const 0))))
      (catch $e)))
)
(register "a" $a)
(assert_trap (invoke "catch-unreachable") "unreachable")
(assert_trap (invoke "catch-oob") "out of bounds memory access")
(assert_trap (invoke "catch-div" (i32.const 0)) "integer divide by zero")
(assert_return (invoke "catch-div" (i32.const 1)) (i32.const 1))
(assert_trap (invoke "catch-null") "uninitialized element")
(assert_exhaustion (invoke "catch-exhaustion") "call stack exhausted")
(assert_return (invoke "after-trap") (i32.const 7))
(assert_return (invoke "locals" (i32.const 1000)) (i64.const 500000))
(assert_return (invoke "churn" (i32.const 100000)) (i32.const 350000))
(assert_return (invoke "deep-throw") (i32.const 500))
(assert_return (invoke "payload") (i64.const 0x123456789abcdef) (f32.const -1.5) (f64.const 2.25)
  (i32.const 1) (i32.const 0) (i32.const 119))
(assert_return (invoke "rethrow-outer") (i32.const 1))
(assert_return (invoke "rethrow-nested") (i32.const 13))
(assert_return (invoke "delegate-caller") (i32.const 1))
(assert_return (invoke "delegate-past-catch") (i32.const 9))
(assert_exception (invoke "throw-e" (i32.const 1)))

;; tags are per instance: $a's e is caught by its importer; a second instance of the same
;; module text has a tag of its own, which catch $e of the first does not take
(module $b
  (tag $e (import "a" "e") (param i32))
  (func $throw-e (import "a" "throw-e") (param i32))
  (tag $own (export "own") (param i32))
  (func (export "catch-imported") (result i32)
    (try (result i32) (do (call $throw-e (i32.const 21)) (i32.const 0)) (catch $e)))
  (func (export "throw-own") (throw $own (i32.const 4)))
)
(register "b" $b)
(module $c
  (tag $own (export "own") (param i32))
  (func (export "throw-own") (throw $own (i32.const 4)))
)
(register "c" $c)
(module
  (tag $b-own (import "b" "own") (param i32))
  (func $b-throw (import "b" "throw-own"))
  (func $c-throw (import "c" "throw-own"))
  (func (export "same") (result i32)
    (try (result i32) (do (call $b-throw) (i32.const 0)) (catch $b-own)))
  (func (export "other") (result i32)
    (try (result i32) (do (call $c-throw) (i32.const 0)) (catch $b-own) (catch_all (i32.const -1))))
)
(assert_return (invoke $b "catch-imported") (i32.const 21))
(assert_return (invoke "same") (i32.const 4))
(assert_return (invoke "other") (i32.const -1))
(assert_unlinkable
  (module (tag (import "a" "e") (param i64)))
  "incompatible import type")

;; an exception escaping the start function fails the instantiation
(assert_trap
  (module (tag $e) (func $start (throw $e)) (start $start))
  "uncaught exception")
