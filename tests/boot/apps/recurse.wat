;; Unbounded non-tail recursion on the native stack only (no linear-memory shadow stack), through
;; call_indirect so no optimizer can turn it into a loop: must become the trap
;; "call stack exhausted", not a crash or a hang.
(module
  (type $t (func (param i32) (result i32)))
  (memory (export "memory") 1)
  (table 1 funcref)
  (elem (i32.const 0) $depth)
  (func $depth (type $t) (param i32) (result i32)
    local.get 0
    i32.eqz
    if (result i32)
      i32.const 0
    else
      local.get 0
      i32.const 1
      i32.sub
      i32.const 0
      call_indirect (type $t)
      i32.const 1
      i32.add
    end)
  (func (export "_start")
    i32.const -1
    call $depth
    drop))
