;; An exception that escapes _start (caught once by catch_all, then rethrown): the trap
;; "uncaught exception", exit status 134, like any trap; never a crash.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "before the throw\n")
  (tag $oops (export "oops") (param i32))
  (func $thrower (throw $oops (i32.const 1)))
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 17))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (try (do (call $thrower)) (catch_all (rethrow 0)))))
