/* binary-trees (the Computer Language Benchmarks Game), single-threaded, malloc/free per node
 * so it measures allocation and pointer chasing. Usage: binary-trees [max_depth] */
#include <stdio.h>
#include <stdlib.h>

typedef struct node {
  struct node *left, *right;
} node;

static node *make(int depth) {
  node *n = malloc(sizeof *n);
  if (!n) {
    fputs("out of memory\n", stderr);
    exit(1);
  }
  if (depth > 0) {
    n->left = make(depth - 1);
    n->right = make(depth - 1);
  } else {
    n->left = n->right = NULL;
  }
  return n;
}

static long check(const node *n) {
  return 1 + (n->left ? check(n->left) + check(n->right) : 0);
}

static void release(node *n) {
  if (n->left) {
    release(n->left);
    release(n->right);
  }
  free(n);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 18;
  int min_depth = 4, max_depth = n < min_depth + 2 ? min_depth + 2 : n;
  unsigned long sum = 0;

  node *stretch = make(max_depth + 1);
  long c = check(stretch);
  printf("stretch tree of depth %d\t check: %ld\n", max_depth + 1, c);
  sum += c;
  release(stretch);

  node *long_lived = make(max_depth);
  for (int d = min_depth; d <= max_depth; d += 2) {
    long iterations = 1L << (max_depth - d + min_depth), total = 0;
    for (long i = 0; i < iterations; i++) {
      node *t = make(d);
      total += check(t);
      release(t);
    }
    printf("%ld\t trees of depth %d\t check: %ld\n", iterations, d, total);
    sum += total;
  }
  c = check(long_lived);
  printf("long lived tree of depth %d\t check: %ld\n", max_depth, c);
  sum += c;
  release(long_lived);
  printf("checksum %lu\n", sum);
  return 0;
}
