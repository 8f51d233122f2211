(module
  ;; A worker calls proc_exit(7) while main waits forever: the VM exits with 7.
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1 1 shared)
  (func (export "wasi_thread_start") (param $tid i32) (param $arg i32)
    (call $exit (i32.const 7)))
  (func (export "_start")
    (if (i32.lt_s (call $spawn (i32.const 0)) (i32.const 0)) (then (call $exit (i32.const 99))))
    (drop (memory.atomic.wait32 (i32.const 4) (i32.const 0) (i64.const -1)))
    (call $exit (i32.const 98))))
