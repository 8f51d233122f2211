# tests/aot/sjlj/tag.s — the __c_longjmp tag clang's setjmp/longjmp lowering catches, and
# a function that throws it (rt.c).
.globl __c_longjmp
.tagtype __c_longjmp i32
__c_longjmp:

.globl sjlj_throw
.type sjlj_throw,@function
sjlj_throw:
.functype sjlj_throw (i32) -> ()
  local.get 0
  throw __c_longjmp
  unreachable
  end_function
