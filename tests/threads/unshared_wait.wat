;; tests/threads/unshared_wait.wat — memory.atomic.wait32 on a memory that is not shared is
;; the trap "expected shared memory" (status 134).
(module
  (memory 1)
  (func $waiter (export "_start")
    (drop (memory.atomic.wait32 (i32.const 0) (i32.const 0) (i64.const -1)))))
