;; tests/threads/spawn_unshared.wat — wasi.thread-spawn in a module whose memory is not shared
;; cannot make a thread: it returns -ENOTSUP (-58), as aot/abi.h §8 says. Status 0 when so.
(module
  (import "wasi" "thread-spawn" (func $spawn (param i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory 1)
  (func (export "wasi_thread_start") (param i32 i32))
  (func (export "_start")
    (call $exit (i32.ne (call $spawn (i32.const 0)) (i32.const -58)))))
