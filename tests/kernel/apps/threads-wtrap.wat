(module
  ;; A worker traps while main waits forever: the whole VM ends with the trap, reported once.
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 1 shared)
  (func $worker_body (unreachable))
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $worker_body))
  (func (export "_start")
    (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 99))))
    (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1)))
    (call $exit (i32.const 98))))
