;; Two unsigned conversions of sign-extended comparisons side by side: LLVM 19's SLP vectorizer
;; made them one uitofp <2 x i1> (1.0 where Wasm gives 2^64 - 1 = 1.8446744073709552e19).
;; Found as tests/fuzz/gen_valid.py seed 111; kiln-aot runs without the SLP vectorizer (aot/emit.c).
;; Source of slp-uitofp-sext.wasm (wat2wasm slp-uitofp-sext.wat); prints the two doubles' bits.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global $g (mut i64) (i64.const 0))
  (func $conv (param i64) (result f64)
    (f64.convert_i64_u (i64.extend_i32_s (i32.sub (i32.const 0) (i64.le_s (local.get 0) (global.get $g))))))
  (func (export "_start")
    (f64.store (i32.const 16) (call $conv (i64.const -1)))
    (f64.store (i32.const 24) (call $conv (i64.const -2)))
    (i32.store (i32.const 0) (i32.const 16))
    (i32.store (i32.const 4) (i32.const 16))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8)))))
