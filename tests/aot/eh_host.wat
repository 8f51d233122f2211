;; tests/aot/eh_host.wat — exceptions and host frames (tests/aot/eh_host.c): a throw that
;; would cross a host function is a trap of the host's inner call, never a jump over it.
(module
  (import "host" "reenter" (func $reenter (param i32) (result i32)))
  (tag $e (param i32))
  (func (export "inner") (param i32) (result i32)
    (if (local.get 0) (then (throw $e (local.get 0))))
    (i32.const 100))
  ;; the host calls "inner" back and returns 1000 * its trap code (or its result)
  (func (export "outer") (param i32) (result i32)
    (try (result i32)
      (do (call $reenter (local.get 0)))
      (catch $e (drop) (i32.const -1))))
  ;; the chain of this call is intact afterwards: its own throw lands here
  (func (export "outer-then-throw") (param i32) (result i32)
    (local $r i32)
    (try (result i32)
      (do
        (local.set $r (call $reenter (local.get 0)))
        (throw $e (i32.add (local.get $r) (i32.const 1))))
      (catch $e)))
)
