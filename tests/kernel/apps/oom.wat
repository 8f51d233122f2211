;; memory.grow past the machine's RAM (256 MiB with 128 MiB of RAM) fails with -1 instead of
;; crashing, leaves the size alone, and a later grow that fits (32 MiB) still works, zeroed.
;; Exits 0 when all holds, else the number of the failed check.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start")
    (if (i32.ne (memory.grow (i32.const 4096)) (i32.const -1)) (then (call $exit (i32.const 1))))
    (if (i32.ne (memory.size) (i32.const 1)) (then (call $exit (i32.const 2))))
    (if (i32.ne (memory.grow (i32.const 512)) (i32.const 1)) (then (call $exit (i32.const 3))))
    (if (i32.ne (i32.load (i32.const 33619964)) (i32.const 0)) (then (call $exit (i32.const 4)))) ;; 513*64K-4
    (i32.store (i32.const 33619964) (i32.const 5))
    (call $exit (i32.sub (i32.load (i32.const 33619964)) (i32.const 5)))))
