/* tests/wasi/unit.h — shared by the unit tests of wasi/ (unit.c, fs.c) and their fake
 * platform (fakeplat.c). */
#ifndef KILN_TESTS_WASI_UNIT_H
#define KILN_TESTS_WASI_UNIT_H

#include <setjmp.h>
#include <stdio.h>

#include "wasi/wasi_int.h"
#define W WASI_FN

/* fakeplat.c */
extern char fake_out[2][65536];
extern size_t fake_out_len[2];
extern const char *fake_in;
extern size_t fake_in_len;
extern jmp_buf fake_unwind;
extern uint32_t fake_unwind_code;
extern int fake_waits;

/* unit.c: a fresh instance with one page of guest memory (M) and WASI state (S) per case */
#define MEMSIZE 65536u
extern kiln_instance *C;
extern struct wasi_state *S;
extern uint8_t *M;
extern int case_failed;
#define CHECK(cond)                                                                  \
  do {                                                                               \
    if (!(cond) && !case_failed) {                                                   \
      printf("FAIL %s: %s:%d: %s\n", case_name, __FILE__, __LINE__, #cond);          \
      case_failed = 1;                                                               \
    }                                                                                \
  } while (0)
#define CHECK_EQ(a, b)                                                                            \
  do {                                                                                            \
    long long va_ = (long long)(a), vb_ = (long long)(b);                                         \
    if (va_ != vb_ && !case_failed) {                                                             \
      printf("FAIL %s: %s:%d: %s == %lld, expected %lld\n", case_name, __FILE__, __LINE__, #a, va_, vb_); \
      case_failed = 1;                                                                            \
    }                                                                                             \
  } while (0)
extern const char *case_name;
uint32_t gstr(uint32_t at, const char *s); /* copy s into guest memory at `at`; its length */
uint32_t giov(uint32_t at, uint32_t buf, uint32_t len); /* one iovec at `at`; returns at */
int gopen(int dirfd, const char *path, int oflags, uint64_t rights, int fdflags, uint32_t *fd);
int gwrite(uint32_t fd, const char *s);
int gread(uint32_t fd, char *out, uint32_t max, uint32_t *n);
void add_preopen(const char *name); /* an empty directory preopened as `name` */
extern int unit_hostfs;              /* the second pass: preopens are host directories (hostfs) */
extern struct wasi_vfs *unit_vfs;
extern char unit_tmp[8][64];         /* the host directories of the preopens, in order */

/* fs.c */
void fs_tests(void (*run)(const char *name, void (*fn)(void)));

#endif
