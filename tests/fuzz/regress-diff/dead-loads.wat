;; Loads whose values reach nothing must still trap, at -O0 too (instruction selection skipped
;; them) and under intrinsics (taken for effects, so LLVM folded the loads away at -O2).
;; Source of dead-loads.wasm (wat2wasm dead-loads.wat).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "ok\n")
  (func (export "_start")
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 3))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))
    (drop (i64.add (i64.const 1) (i64.load (i32.const 0))))
    (drop (i64.popcnt (i64.load (i32.const 65536))))))
