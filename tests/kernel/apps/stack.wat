;; Unbounded recursion (not a tail call): the prologue check or the guard page must turn it
;; into the trap "call stack exhausted", and the kernel must survive to report it. The call
;; goes through a table so no optimizer can turn the recursion into a loop.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "recursing\n")
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $deep)
  (func $deep (param i32) (result i32)
    (i32.add (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)) (local.get 0)))
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 10))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $deep (i32.const 0)))))
