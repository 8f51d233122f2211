;; tests/threads/wait_notify.wat — one thread's view of wait/notify on a shared memory: a wait
;; whose value matches times out (2) after at least its 50 ms, a wait64 on another value
;; returns 1 at once, notify with nobody waiting wakes 0; the status says which check failed
;; (0: all right). Then an unaligned notify must trap "unaligned atomic" (status 134).
(module
  (import "wasi_snapshot_preview1" "clock_time_get" (func $clock (param i32 i64 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1 1 shared)
  (func $now (result i64)
    (drop (call $clock (i32.const 1) (i64.const 1) (i32.const 64)))
    (i64.load (i32.const 64)))
  (func (export "_start") (local $t0 i64)
    (local.set $t0 (call $now))
    (if (i32.ne (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const 50000000)) (i32.const 2))
      (then (call $exit (i32.const 1))))
    (if (i64.lt_u (i64.sub (call $now) (local.get $t0)) (i64.const 50000000))
      (then (call $exit (i32.const 2))))
    (if (i32.ne (memory.atomic.wait64 (i32.const 8) (i64.const 1) (i64.const -1)) (i32.const 1))
      (then (call $exit (i32.const 3))))
    (if (i32.ne (memory.atomic.notify (i32.const 0) (i32.const 5)) (i32.const 0))
      (then (call $exit (i32.const 4))))
    (drop (memory.atomic.notify (i32.const 2) (i32.const 1)))))
