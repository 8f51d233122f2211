;; proc_exit(N) with N from the first argument's length, so the status is not a constant
;; of the image: `arg=x arg=abcdefghijklmnopqrstuvwxyz` exits 26; no args exit 300 (> 255).
(module
  (import "wasi_snapshot_preview1" "args_sizes_get" (func $sizes (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "args_get" (func $args (param i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "_start") (local $n i32) (local $p i32)
    (drop (call $sizes (i32.const 0) (i32.const 4)))
    (if (i32.lt_u (i32.load (i32.const 0)) (i32.const 2)) (then (call $exit (i32.const 300))))
    (drop (call $args (i32.const 64) (i32.const 1024)))
    (local.set $p (i32.load (i32.const 68)))
    (block $done (loop $next
      (br_if $done (i32.eqz (i32.load8_u (i32.add (local.get $p) (local.get $n)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br $next)))
    (call $exit (local.get $n))))
