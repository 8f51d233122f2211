;; memory.grow maps zeroed pages; the byte past the new end still traps. Exits 0 when the
;; grown memory behaved (prints "grown ok"), 1-3 for each wrong result, before the trap.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1 200)
  (data (i32.const 16) "grown ok\n")
  (func $past_end (result i32) (i32.load8_u (i32.const 6619136))) ;; 101 * 65536
  (func (export "_start")
    (if (i32.ne (memory.grow (i32.const 100)) (i32.const 1)) (then (call $exit (i32.const 1))))
    (if (i32.ne (memory.size) (i32.const 101)) (then (call $exit (i32.const 2))))
    ;; last byte of the new memory: zero, then writable
    (if (i32.ne (i32.load8_u (i32.const 6619135)) (i32.const 0)) (then (call $exit (i32.const 3))))
    (i32.store8 (i32.const 6619135) (i32.const 7))
    (if (i32.ne (i32.load8_u (i32.const 6619135)) (i32.const 7)) (then (call $exit (i32.const 3))))
    (if (i32.ne (memory.grow (i32.const 100)) (i32.const -1)) (then (call $exit (i32.const 4))))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 9))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (i32.store (i32.const 0) (call $past_end))))
