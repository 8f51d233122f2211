;; Exceptions in a WASI app (aot/abi.h §5), the same in the VM and hosted: a throw 10,000
;; frames deep caught 100 times, rethrow, delegate to the caller, catch_all of a foreign
;; tag, and locals written in a try body read by its handler. Prints "eh: ok 12345" (the
;; sum of the checks) or "eh: FAILED" with exit status 1.
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "eh: ok 12345\n")
  (data (i32.const 32) "eh: FAILED\n")
  (tag $e (param i32))
  (tag $g)
  (func $down (param i32)
    (if (i32.eqz (local.get 0)) (then (throw $e (i32.const 5))))
    (call $down (i32.sub (local.get 0) (i32.const 1))))
  (func $deep (result i32)
    (local $n i32) (local $sum i32)
    (loop $l
      (try (do (call $down (i32.const 10000)))
        (catch $e (local.set $sum (i32.add (local.get $sum)))))
      (local.set $n (i32.add (local.get $n) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $n) (i32.const 100))))
    (local.get $sum)) ;; 500
  (func $rethrow (result i32)
    (try (result i32)
      (do (try (do (throw $e (i32.const 40))) (catch_all (rethrow 0))) (i32.const 0))
      (catch $e (i32.add (i32.const 2))))) ;; 42
  (func $delegated (try (do (throw $g)) (delegate 0)))
  (func $delegate (result i32)
    (try (result i32) (do (call $delegated) (i32.const 0)) (catch $g (i32.const 7000)))) ;; 7000
  (func $locals (result i32)
    (local $i i32)
    (try
      (do (loop $l
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (if (i32.eq (local.get $i) (i32.const 4803)) (then (throw $g)))
        (br $l)))
      (catch_all))
    (local.get $i)) ;; 4803
  (func $print (param i32 i32)
    (i32.store (i32.const 0) (local.get 0))
    (i32.store (i32.const 4) (local.get 1))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    (if (i32.eq (i32.add (i32.add (call $deep) (call $rethrow)) (i32.add (call $delegate) (call $locals)))
                (i32.const 12345))
      (then (call $print (i32.const 16) (i32.const 13)))
      (else (call $print (i32.const 32) (i32.const 11)) (call $exit (i32.const 1))))))
