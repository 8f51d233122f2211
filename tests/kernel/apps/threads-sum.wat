(module
  ;; Four threads (wasi.thread-spawn) add 100,000 each to one counter with atomic adds; main
  ;; waits for them with memory.atomic.wait32 and exits 0 when the sum is 400,000.
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 1 shared)
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (local $i i32)
    (loop $l
      (drop (i32.atomic.rmw.add (i32.const 0) (i32.const 1)))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 100000))))
    (drop (i32.atomic.rmw.add (i32.const 4) (i32.const 1)))
    (drop (memory.atomic.notify (i32.const 4) (i32.const 1))))
  (func (export "_start")
    (local $n i32) (local $done i32)
    (loop $s
      (if (i32.lt_s (call $spawn (local.get $n)) (i32.const 0)) (then (call $exit (i32.const 99))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $s (i32.lt_u (local.get $n) (i32.const 4))))
    (block $b (loop $w
      (local.set $done (i32.atomic.load (i32.const 4)))
      (br_if $b (i32.eq (local.get $done) (i32.const 4)))
      (drop (memory.atomic.wait32 (i32.const 4) (local.get $done) (i64.const -1)))
      (br $w)))
    (call $exit (i32.ne (i32.atomic.load (i32.const 0)) (i32.const 400000)))))
