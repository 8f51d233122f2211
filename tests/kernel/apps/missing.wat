;; Imports a function no kernel provides: linked by hand (kiln build refuses it), the kernel
;; names the import and stops with the panic status.
(module
  (import "env" "frobnicate" (func $f (param i32) (result i32)))
  (memory 1)
  (func (export "_start") (drop (call $f (i32.const 1)))))
