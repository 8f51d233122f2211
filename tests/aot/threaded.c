/* tests/aot/threaded.c — an interpreter built the way wasm3 is (its "meta machine"): every
 * operation is a C function with the same five arguments (code pointer, value stack, memory, an
 * integer and a float register) that ends by tail-calling the next operation through a pointer
 * read from the code, with `musttail`, so a program runs as one unbounded chain of
 * return_call_indirect carrying i32, i64 and f64 arguments. A call of the interpreted program is
 * an ordinary C call that starts a new chain (wasm3's op_Call), and one operation calls printf.
 * Built with clang -O2 -mtail-call; the output must equal the native build's. */
#include <stdint.h>
#include <stdio.h>

typedef union slot slot;
typedef int64_t (*op_t)(const slot *pc, int64_t *sp, uint8_t *mem, int64_t r0, double fp0);
union slot {
  op_t op;
  int64_t i;
  const slot *to;
  const char *s;
};

#define OP(name) static int64_t name(const slot *pc, int64_t *sp, uint8_t *mem, int64_t r0, double fp0)
#define NEXT(p) __attribute__((musttail)) return (p)->op((p) + 1, sp, mem, r0, fp0)

OP(op_end) { (void)pc; (void)sp; (void)mem; (void)fp0; return r0; }
OP(op_const) { r0 = pc->i; NEXT(pc + 1); }
OP(op_push) { *sp++ = r0; NEXT(pc); }
OP(op_drop) { sp--; NEXT(pc); }
OP(op_local) { r0 = sp[-pc->i]; NEXT(pc + 1); } /* the value i slots down */
OP(op_set_local) { sp[-pc->i] = r0; NEXT(pc + 1); }
OP(op_add) { r0 = *--sp + r0; NEXT(pc); }
OP(op_lt) { r0 = *--sp < r0; NEXT(pc); }
OP(op_addi) { r0 += pc->i; NEXT(pc + 1); }
OP(op_jump) { NEXT(pc->to); }
OP(op_jump_if_zero) {
  if (r0 == 0) NEXT(pc->to);
  NEXT(pc + 1);
}
OP(op_load8) { r0 = mem[r0]; NEXT(pc); }
OP(op_store8) { mem[*--sp] = (uint8_t)r0; NEXT(pc); }
OP(op_series) { fp0 += 1.0 / ((double)r0 * (double)r0); NEXT(pc); } /* the float register rides the chain */
OP(op_print) { printf("%s %lld %.12f\n", pc->s, (long long)r0, fp0); NEXT(pc + 1); }
OP(op_call) { /* a new chain on the same value stack, then on with this one */
  r0 = pc->to->op(pc->to + 1, sp, mem, r0, fp0);
  NEXT(pc + 1);
}
OP(op_return_if_below2) {
  if (r0 < 2) return r0;
  NEXT(pc);
}

/* a tiny assembler: ops, immediates, labels patched later */
static slot code[128];
static int ncode;
static void op(op_t f) { code[ncode++].op = f; }
static void imm(int64_t v) { code[ncode++].i = v; }
static int hole(void) { return ncode++; }
static void patch(int at, int target) { code[at].to = &code[target]; }

int main(int argc, char **argv) {
  static uint8_t mem[1 << 21];
  static int64_t stack[1 << 12];
  const int64_t n = 2000000 + argc - 1, fibn = 27;
  (void)argv;

  /* fib: r0 = n; if n < 2 return n; return fib(n - 1) + fib(n - 2) */
  int fib = ncode, h;
  op(op_return_if_below2); op(op_push);                          /* [n] */
  op(op_addi); imm(-1); op(op_call); h = hole(); patch(h, fib);  /* r0 = fib(n - 1) */
  op(op_push);                                                    /* [n, a] */
  op(op_local); imm(2); op(op_addi); imm(-2);
  op(op_call); h = hole(); patch(h, fib);                        /* r0 = fib(n - 2) */
  op(op_add); op(op_drop); op(op_end);                            /* a + r0; [] */

  /* sieve of Eratosthenes below n, counting primes; a float series over every i */
  int sieve = ncode, outer, done, prime, next, inner, inner_done;
  op(op_const); imm(0); op(op_push);                              /* [count] */
  op(op_const); imm(2); op(op_push);                              /* [count, i] */
  outer = ncode;
  op(op_local); imm(1); op(op_push); op(op_const); imm(n); op(op_lt);
  op(op_jump_if_zero); done = hole();                             /* i < n */
  op(op_local); imm(1); op(op_series);
  op(op_local); imm(1); op(op_load8);
  op(op_jump_if_zero); prime = hole();                            /* not crossed out */
  op(op_jump); next = hole();
  patch(prime, ncode);
  op(op_local); imm(2); op(op_addi); imm(1); op(op_set_local); imm(2); /* count++ */
  op(op_local); imm(1); op(op_push); op(op_local); imm(2); op(op_add); op(op_push); /* [c, i, j=2i] */
  inner = ncode;
  op(op_local); imm(1); op(op_push); op(op_const); imm(n); op(op_lt);
  op(op_jump_if_zero); inner_done = hole();                       /* j < n */
  op(op_local); imm(1); op(op_push); op(op_const); imm(1); op(op_store8); /* mem[j] = 1 */
  op(op_local); imm(1); op(op_push); op(op_local); imm(3); op(op_add);
  op(op_set_local); imm(1);                                       /* j += i */
  op(op_jump); h = hole(); patch(h, inner);
  patch(inner_done, ncode);
  op(op_drop);                                                    /* [c, i] */
  patch(next, ncode);
  op(op_local); imm(1); op(op_addi); imm(1); op(op_set_local); imm(1); /* i++ */
  op(op_jump); h = hole(); patch(h, outer);
  patch(done, ncode);
  op(op_local); imm(2); op(op_print); code[ncode++].s = "primes below 2000000, sum 1/i^2:";
  op(op_drop); op(op_drop); op(op_end);

  int64_t f = code[fib].op(&code[fib + 1], stack, mem, fibn, 0.0);
  printf("fib(%lld) = %lld\n", (long long)fibn, (long long)f);
  int64_t primes = code[sieve].op(&code[sieve + 1], stack, mem, 0, 0.0);
  printf("%lld primes, %d ops of code\n", (long long)primes, ncode);
  return 0;
}
