;; A load far past the memory (address + offset near 8 GiB) lands in the reserved region's
;; unmapped part: the page fault becomes "out of bounds memory access" in $far_load.
(module
  (memory 1)
  (func $far_load (param i32) (result i32)
    (i32.load offset=0xfffffff0 (local.get 0)))
  ;; The value is stored, so the load cannot be optimized away.
  (func (export "_start")
    (i32.store (i32.const 0) (call $far_load (i32.const 0xfffffff0)))))
