;; Takes all the RAM memory.grow gives (1024 pages at a time, then 16, then 1, until it says
;; -1), then recurses without bound: the demand-paged Wasm stack finds no RAM left, and that
;; must be the trap "call stack exhausted", not a kernel panic.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "grown\n")
  (type $t (func (param i32) (result i32)))
  (table 1 funcref)
  (elem (i32.const 0) $deep)
  (func $deep (param i32) (result i32)
    (i32.add (call_indirect (type $t) (i32.add (local.get 0) (i32.const 1)) (i32.const 0)) (local.get 0)))
  (func $take (param $delta i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (local.get $delta)) (i32.const -1)))))
  (func (export "_start")
    (call $take (i32.const 1024))
    (call $take (i32.const 16))
    (call $take (i32.const 1))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 6))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (call $deep (i32.const 0)))))
