/* tests/sjlj/sjlj.c — setjmp/longjmp as C11 defines them, built natively (glibc) and for
 * wasm32-wasi with Kiln's sjlj runtime; tests/sjlj/run.sh compares what both print. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

static jmp_buf top;

static void jump_from(int depth, int val) {
  if (depth > 0) jump_from(depth - 1, val);
  longjmp(top, val);
}

/* A jmp_buf per recursion level: a longjmp must reach its own invocation's setjmp, not an
 * equal call site in a deeper or shallower invocation of the same function. */
static int levels(int n, jmp_buf *outer) {
  jmp_buf mine;
  int r = setjmp(mine);
  if (r != 0) {
    printf("level %d caught %d\n", n, r);
    if (n < 3) longjmp(*outer, 100 + n);
    return r;
  }
  if (n > 0) return levels(n - 1, &mine) + 1;
  longjmp(mine, 7);
}

/* Two setjmp sites in one function, one buffer each. */
static int two_sites(int which) {
  jmp_buf a, b;
  int ra = setjmp(a);
  if (ra) return ra;
  int rb = setjmp(b);
  if (rb) return -rb;
  longjmp(which ? b : a, 5);
}

/* Through frames of libc (qsort) compiled without any knowledge of exceptions. */
static jmp_buf cmp_escape;
static int cmp_calls;
static int cmp(const void *x, const void *y) {
  if (++cmp_calls == 4) longjmp(cmp_escape, 44);
  return *(const int *)x - *(const int *)y;
}

struct job {
  jmp_buf on_error;
  int step;
};
static void work(struct job *j, int fail_at) {
  for (j->step = 0; j->step < 10; j->step++)
    if (j->step == fail_at) longjmp(j->on_error, j->step + 1);
}

int main(void) {
  volatile int count = 0;
  int r = setjmp(top);
  printf("setjmp returned %d, count %d\n", r, count);
  if (count < 4) {
    count++;
    jump_from(count * 3, count * 10);
  }

  jmp_buf outer;
  r = setjmp(outer);
  if (r == 0) printf("levels returned %d\n", levels(6, &outer));
  else printf("outer caught %d\n", r);

  printf("two sites: %d %d\n", two_sites(0), two_sites(1));

  jmp_buf zero;
  if ((r = setjmp(zero)) == 0) longjmp(zero, 0);
  printf("longjmp(env, 0) makes setjmp return %d\n", r);

  int v[8] = {5, 3, 8, 1, 9, 2, 7, 4};
  if ((r = setjmp(cmp_escape)) == 0) qsort(v, 8, sizeof v[0], cmp);
  printf("out of qsort with %d after %d comparisons\n", r, cmp_calls);

  struct job *j = malloc(sizeof *j); /* a jmp_buf in the heap */
  for (int fail_at = 0; fail_at < 12; fail_at += 4) {
    if ((r = setjmp(j->on_error)) == 0) {
      work(j, fail_at);
      printf("job with fail_at %d finished at step %d\n", fail_at, j->step);
    } else {
      printf("job with fail_at %d failed: %d\n", fail_at, r);
    }
  }
  free(j);

  /* Many jumps: nothing may pile up per jump. */
  volatile long sum = 0;
  volatile int i = 0;
  jmp_buf loop;
  r = setjmp(loop);
  sum += r;
  if (i < 100000) {
    i++;
    longjmp(loop, i % 7 + 1);
  }
  printf("100000 jumps, sum %ld\n", sum);
  return 0;
}
