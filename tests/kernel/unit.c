/* tests/kernel/unit.c — host unit tests of the kernel's pure parts: command-line parsing and
 * percent-decoding, Multiboot1/2 boot-information parsing, the page allocator's bitmap logic,
 * kvsnprintf, ChaCha20 (RFC 8439 vector), the RTC date arithmetic. Built with
 * -DKILN_HOST_TEST against kernel/{cmdline,printf,multiboot,pmem,random,time}.c. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "boot/loaders.h"
#include "kernel/kernel.h"

/* Stubs for what the pure parts reach outside themselves. */
char __kernel_start[1], __kernel_end[1];
static jmp_buf panic_jmp;
static char panic_msg[256];
void console_note(const char *s, size_t n) { fwrite(s, 1, n, stdout); }
void panic(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  kvsnprintf(panic_msg, sizeof panic_msg, fmt, ap);
  va_end(ap);
  longjmp(panic_jmp, 1);
}

static int npass, nfail;
static const char *cur;
static int cur_ok;
#define CASE(name) for (cur = name, cur_ok = 1; cur; report(), cur = NULL)
#define CHECK(cond)                                                              \
  do {                                                                           \
    if (!(cond) && cur_ok) {                                                     \
      printf("FAIL %s: %s (line %d)\n", cur, #cond, __LINE__);                   \
      cur_ok = 0;                                                                \
    }                                                                            \
  } while (0)
static void report(void) {
  if (cur_ok) printf("PASS %s\n", cur), npass++;
  else nfail++;
}

static void test_cmdline(void) {
  char err[160];
  CASE("cmdline: args in order, argv[0] included, percent-decoded") {
    CHECK(cmdline_parse(NULL, "/boot/kernel.elf arg=hello arg=two%20words arg=100%25 env=WHO=kiln", err, sizeof err) == 0);
    CHECK(cmdline_argc() == 3);
    CHECK(cmdline_argv(0) && !strcmp(cmdline_argv(0), "hello"));
    CHECK(cmdline_argv(1) && !strcmp(cmdline_argv(1), "two words"));
    CHECK(cmdline_argv(2) && !strcmp(cmdline_argv(2), "100%"));
    CHECK(cmdline_argv(3) == NULL);
    CHECK(cmdline_envc() == 1 && !strcmp(cmdline_env(0), "WHO=kiln"));
  }
  CASE("cmdline: env values with '=' and encoded specials") {
    CHECK(cmdline_parse(NULL, "env=A=b=c env=PATH=%2Fbin%3A%2Fusr%2Fbin env=E=", err, sizeof err) == 0);
    CHECK(cmdline_envc() == 3);
    CHECK(!strcmp(cmdline_env(0), "A=b=c"));
    CHECK(!strcmp(cmdline_env(1), "PATH=/bin:/usr/bin"));
    CHECK(!strcmp(cmdline_env(2), "E="));
    CHECK(cmdline_argc() == 0);
  }
  CASE("cmdline: other keys kept for kernel_cmdline_get, last wins") {
    CHECK(cmdline_parse(NULL, "  ip=10.0.2.15  gw=10.0.2.2 mask=255.255.255.0\tip=10.0.2.16 name=a%20b", err, sizeof err) ==
          0);
    CHECK(kernel_cmdline_get("ip") && !strcmp(kernel_cmdline_get("ip"), "10.0.2.16"));
    CHECK(kernel_cmdline_get("gw") && !strcmp(kernel_cmdline_get("gw"), "10.0.2.2"));
    CHECK(kernel_cmdline_get("mask") && !strcmp(kernel_cmdline_get("mask"), "255.255.255.0"));
    CHECK(kernel_cmdline_get("name") && !strcmp(kernel_cmdline_get("name"), "a b"));
    CHECK(kernel_cmdline_get("dns") == NULL);
    CHECK(kernel_cmdline_get("arg") == NULL);
  }
  CASE("cmdline: repeatable keys in order (listen=)") {
    CHECK(cmdline_parse(NULL, "listen=tcp:80 ip=1.2.3.4 listen=tcp%3A8080", err, sizeof err) == 0);
    CHECK(kernel_cmdline_get_nth("listen", 0) && !strcmp(kernel_cmdline_get_nth("listen", 0), "tcp:80"));
    CHECK(kernel_cmdline_get_nth("listen", 1) && !strcmp(kernel_cmdline_get_nth("listen", 1), "tcp:8080"));
    CHECK(kernel_cmdline_get_nth("listen", 2) == NULL);
    CHECK(!strcmp(kernel_cmdline_get("listen"), "tcp:8080"));
  }
  CASE("cmdline: empty and NULL lines") {
    CHECK(cmdline_parse(NULL, "", err, sizeof err) == 0 && cmdline_argc() == 0 && cmdline_envc() == 0);
    CHECK(cmdline_parse(NULL, NULL, err, sizeof err) == 0 && cmdline_argc() == 0);
  }
  CASE("cmdline: malformed escape is an error, token kept raw, rest still parsed") {
    CHECK(cmdline_parse(NULL, "arg=a%2 arg=b%zz arg=ok", err, sizeof err) == -1);
    CHECK(strstr(err, "arg=a%2") != NULL);
    CHECK(cmdline_argc() == 3 && !strcmp(cmdline_argv(0), "a%2") && !strcmp(cmdline_argv(1), "b%zz"));
    CHECK(!strcmp(cmdline_argv(2), "ok"));
  }
  CASE("cmdline: env without NAME= is rejected") {
    CHECK(cmdline_parse(NULL, "env=novalue env==x env=OK=1", err, sizeof err) == -1);
    CHECK(strstr(err, "NAME=VALUE") != NULL);
    CHECK(cmdline_envc() == 1 && !strcmp(cmdline_env(0), "OK=1"));
  }
  CASE("cmdline: overlong line does not overflow") {
    static char line[3 * BOOT_CMDLINE_MAX];
    size_t o = 0;
    while (o + 8 < sizeof line) memcpy(line + o, "arg=xyz ", 8), o += 8;
    line[o] = 0;
    CHECK(cmdline_parse(NULL, line, err, sizeof err) == -1);
    CHECK(cmdline_argc() == 256);
  }
  CASE("cmdline: the loader's line alone keeps the image's settings (urunc's ip=/gateway=)") {
    const char *image = "arg=http-server arg=-v env=A=1 env=B=2 listen=tcp:80 listen=tcp:81 fs=1234 quiet=1";
    CHECK(cmdline_parse(image, "ip=10.0.0.2/24 gateway=10.0.0.1 ", err, sizeof err) == 0);
    CHECK(cmdline_argc() == 2 && !strcmp(cmdline_argv(0), "http-server") && !strcmp(cmdline_argv(1), "-v"));
    CHECK(cmdline_envc() == 2 && !strcmp(cmdline_env(0), "A=1") && !strcmp(cmdline_env(1), "B=2"));
    CHECK(!strcmp(kernel_cmdline_get_nth("listen", 1), "tcp:81") && !strcmp(kernel_cmdline_get("fs"), "1234"));
    CHECK(!strcmp(kernel_cmdline_get("ip"), "10.0.0.2/24") && !strcmp(kernel_cmdline_get("gateway"), "10.0.0.1"));
  }
  CASE("cmdline: the loader's line replaces the image's, key by key") {
    const char *image = "arg=app arg=x env=A=1 env=B=2 listen=tcp:80 listen=tcp:81 ip=1.1.1.1 quiet=1";
    CHECK(cmdline_parse(image, "arg=other env=B=3 listen=tcp:8080 ip=2.2.2.2", err, sizeof err) == 0);
    CHECK(cmdline_argc() == 1 && !strcmp(cmdline_argv(0), "other"));
    CHECK(cmdline_envc() == 2 && !strcmp(cmdline_env(0), "A=1") && !strcmp(cmdline_env(1), "B=3"));
    CHECK(!strcmp(kernel_cmdline_get_nth("listen", 0), "tcp:8080") && !kernel_cmdline_get_nth("listen", 1));
    CHECK(!strcmp(kernel_cmdline_get("ip"), "2.2.2.2") && !strcmp(kernel_cmdline_get("quiet"), "1"));
    /* kiln run passes the whole line again: the same result as the image's line alone */
    CHECK(cmdline_parse(image, image, err, sizeof err) == 0 && cmdline_argc() == 2 && cmdline_envc() == 2);
    CHECK(kernel_cmdline_get_nth("listen", 1) && !kernel_cmdline_get_nth("listen", 2));
  }
  CASE("cmdline: a bad token of the image's line is reported, the loader's still parsed") {
    CHECK(cmdline_parse("arg=a%zz", "arg=ok ip=3.3.3.3", err, sizeof err) == 0 && cmdline_argc() == 1);
    CHECK(cmdline_parse("env=bad arg=a", "ip=3.3.3.3", err, sizeof err) == -1 && strstr(err, "env=bad"));
    CHECK(cmdline_argc() == 1 && !strcmp(kernel_cmdline_get("ip"), "3.3.3.3"));
  }
  CASE("percent_decode") {
    char out[32];
    CHECK(percent_decode(out, "a%41%62c", 8) == 4 && !strcmp(out, "aAbc"));
    CHECK(percent_decode(out, "%", 1) == -1);
    CHECK(percent_decode(out, "%4", 2) == -1);
    CHECK(percent_decode(out, "%4g", 3) == -1);
    CHECK(percent_decode(out, "%00x", 4) == 2 && out[0] == 0 && out[1] == 'x');
    CHECK(percent_decode(out, "", 0) == 0 && out[0] == 0);
  }
}

/* Memory below 2 GiB, so 32-bit "physical addresses" of Multiboot1 work as pointers. */
static uint8_t *low_buf(size_t n) {
  void *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_32BIT, -1, 0);
  if (p == MAP_FAILED) {
    perror("mmap");
    exit(1);
  }
  return p;
}

static void test_bootinfo(void) {
  static struct boot_info bi;
  char err[160];
  CASE("PVH: memory map, cmdline, modules") {
    uint8_t *mem = low_buf(4096);
    struct pvh_start_info *si = (void *)mem;
    char *cmd = (char *)mem + 512;
    strcpy(cmd, "arg=x fs=4660");
    struct pvh_memmap_entry *e = (void *)(mem + 1024);
    e[0] = (struct pvh_memmap_entry){0, 0x9fc00, 1, 0};
    e[1] = (struct pvh_memmap_entry){0x9fc00, 0x400, 2, 0};
    e[2] = (struct pvh_memmap_entry){0x100000, 0x7ee0000, 1, 0};
    struct pvh_module *mods = (void *)(mem + 2048);
    mods[0] = (struct pvh_module){0x200000, 0x1234, 0, 0};
    *si = (struct pvh_start_info){.magic = PVH_START_MAGIC, .version = 1, .nr_modules = 1,
                                  .modlist_paddr = (uintptr_t)mods, .cmdline_paddr = (uintptr_t)cmd,
                                  .memmap_paddr = (uintptr_t)e, .memmap_entries = 3};
    CHECK(boot_parse(PVH_START_MAGIC, (uintptr_t)si, &bi, err, sizeof err) == 0);
    CHECK(!strcmp(bi.loader, "PVH"));
    CHECK(bi.nregions == 2 && bi.regions[1].addr == 0x100000 && bi.regions[1].len == 0x7ee0000);
    CHECK(!strcmp(bi.cmdline, "arg=x fs=4660"));
    CHECK(bi.nmodules == 1 && bi.modules[0].start == 0x200000 && bi.modules[0].end == 0x201234);
    CHECK(bi.modules[0].name[0] == 0);
  }
  CASE("PVH: version 0 (no memory map) is an error") {
    uint8_t *mem = low_buf(4096);
    *(struct pvh_start_info *)mem = (struct pvh_start_info){.magic = PVH_START_MAGIC, .version = 0};
    CHECK(boot_parse(PVH_START_MAGIC, (uintptr_t)mem, &bi, err, sizeof err) == -1);
    CHECK(strstr(err, "no memory map") != NULL);
  }
  CASE("PVH: a start_info without its magic is an error") {
    uint8_t *mem = low_buf(4096);
    CHECK(boot_parse(PVH_START_MAGIC, (uintptr_t)mem, &bi, err, sizeof err) == -1);
    CHECK(strstr(err, "magic") != NULL);
  }
  CASE("multiboot2: tags (cmdline, module, mmap with 24-byte entries)") {
    uint8_t *mem = low_buf(4096);
    uint32_t *w = (uint32_t *)mem;
    size_t o = 2; /* u32 words */
    w[o] = MB2_TAG_CMDLINE, w[o + 1] = 8 + 13, strcpy((char *)&w[o + 2], "arg=a ip=1.2");
    o += (8 + 13 + 7) / 8 * 2;
    w[o] = MB2_TAG_MODULE, w[o + 1] = 16 + 3, w[o + 2] = 0x300000, w[o + 3] = 0x380000;
    strcpy((char *)&w[o + 4], "fs");
    o += (16 + 3 + 7) / 8 * 2;
    w[o] = MB2_TAG_MMAP, w[o + 1] = 16 + 3 * 24, w[o + 2] = 24, w[o + 3] = 0;
    struct mb2_mmap_entry *e = (void *)&w[o + 4];
    e[0] = (struct mb2_mmap_entry){0, 0x9fc00, 1, 0};
    e[1] = (struct mb2_mmap_entry){0xf0000, 0x10000, 2, 0};
    e[2] = (struct mb2_mmap_entry){0x100000, 0x3ff00000, 1, 0};
    o += (16 + 3 * 24) / 4;
    w[o] = MB2_TAG_END, w[o + 1] = 8;
    o += 2;
    w[0] = (uint32_t)(o * 4), w[1] = 0;
    CHECK(boot_parse(MB2_BOOT_MAGIC, (uintptr_t)mem, &bi, err, sizeof err) == 0);
    CHECK(!strcmp(bi.loader, "multiboot2") && !strcmp(bi.cmdline, "arg=a ip=1.2"));
    CHECK(bi.nregions == 2 && bi.regions[1].addr == 0x100000 && bi.regions[1].len == 0x3ff00000);
    CHECK(bi.nmodules == 1 && bi.modules[0].start == 0x300000 && !strcmp(bi.modules[0].name, "fs"));
  }
  CASE("multiboot2: a tag running past the end is an error, not a crash") {
    uint8_t *mem = low_buf(4096);
    uint32_t *w = (uint32_t *)mem;
    w[0] = 32, w[1] = 0, w[2] = MB2_TAG_MMAP, w[3] = 4000;
    CHECK(boot_parse(MB2_BOOT_MAGIC, (uintptr_t)mem, &bi, err, sizeof err) == -1);
    CHECK(strstr(err, "malformed") != NULL);
  }
  CASE("boot: unknown magic is an error") {
    CHECK(boot_parse(0x12345678, 0, &bi, err, sizeof err) == -1 && strstr(err, "magic") != NULL);
  }
}

static void test_pmem(void) {
  static uint64_t bm[1024];
  struct boot_region r[] = {{0, 0x9fc00}, {0x100000, 0x700000}}; /* 640K + 7 MiB at 1 MiB */
  CASE("pmem: regions become free whole pages only") {
    pmem_setup(bm, 0x800000, r, 2);
    CHECK(pmem_free_bytes() == 0x9f000 + 0x700000);
    pmem_reserve(0, 0x100000);
    CHECK(pmem_free_bytes() == 0x700000);
    pmem_reserve(0x100000, 0x180001); /* partial page at the end is reserved whole */
    CHECK(pmem_free_bytes() == 0x700000 - 0x81000);
  }
  CASE("pmem: allocation avoids reserved pages, runs are contiguous") {
    pmem_setup(bm, 0x800000, r, 2);
    pmem_reserve(0, 0x180000);
    uint64_t a = pmem_alloc_phys(1);
    CHECK(a >= 0x180000 && a < 0x800000 && a % PAGE_SIZE == 0);
    uint64_t b = pmem_alloc_phys(16);
    CHECK(b >= 0x180000 && (b + 16 * PAGE_SIZE <= a || b >= a + PAGE_SIZE));
    uint64_t before = pmem_free_bytes();
    pmem_free_phys(b, 16);
    CHECK(pmem_free_bytes() == before + 16 * PAGE_SIZE);
  }
  CASE("pmem: exhaustion returns 0, frees make room again") {
    pmem_setup(bm, 0x800000, r, 2);
    pmem_reserve(0, 0x100000);
    uint64_t n = pmem_free_bytes() / PAGE_SIZE, got = 0, first = 0;
    for (uint64_t a; (a = pmem_alloc_phys(1)); got++)
      if (!first) first = a;
    CHECK(got == n && pmem_free_bytes() == 0);
    CHECK(pmem_alloc_phys(1) == 0);
    pmem_free_phys(first, 1);
    CHECK(pmem_alloc_phys(1) == first);
  }
  CASE("pmem: a run too big for any hole fails; one across the hint succeeds") {
    pmem_setup(bm, 0x800000, r, 2);
    pmem_reserve(0, 0x100000);
    CHECK(pmem_alloc_phys(0x701) == 0);
    CHECK(pmem_alloc_phys(0x700) == 0x100000);
    pmem_free_phys(0x100000, 0x700);
    uint64_t a = pmem_alloc_phys(0x600); /* hint now sits past the middle */
    CHECK(a == 0x100000);
    pmem_free_phys(a, 0x100);
    pmem_free_phys(a + 0x200000, 0x400);
    CHECK(pmem_alloc_phys(0x500) == 0x300000); /* [0x300000, 0x800000) spans the hint */
  }
  CASE("pmem: allocation limit (before the identity map covers all RAM)") {
    pmem_setup(bm, 0x800000, r, 2);
    pmem_reserve(0, 0x100000);
    pmem_set_limit(0x200000);
    uint64_t got = 0;
    for (uint64_t a; (a = pmem_alloc_phys(1)); got++) CHECK(a < 0x200000);
    CHECK(got == 0x100);
    pmem_set_limit(0x800000);
    CHECK(pmem_alloc_phys(1) >= 0x200000);
  }
  CASE("pmem: double free is a panic") {
    pmem_setup(bm, 0x800000, r, 2);
    pmem_reserve(0, 0x100000);
    uint64_t a = pmem_alloc_phys(1);
    pmem_free_phys(a, 1);
    int panicked = 0;
    if (setjmp(panic_jmp)) panicked = 1;
    else pmem_free_phys(a, 1);
    CHECK(panicked && strstr(panic_msg, "double free"));
  }
}

static void test_printf(void) {
  char b[64];
  CASE("kvsnprintf: conversions, widths, truncation") {
    ksnprintf(b, sizeof b, "%d|%5d|%-4d|%05d|%u|%x|%#x|%lx", -42, 7, 3, -12, 4000000000u, 255, 255,
              (uint64_t)0xdeadbeefcafeull);
    CHECK(!strcmp(b, "-42|    7|3   |-0012|4000000000|ff|0xff|deadbeefcafe"));
    ksnprintf(b, sizeof b, "%s|%.*s|%c|%%|%p|%s", "ab", 2, "xyz", 'q', (void *)0x10, (char *)NULL);
    CHECK(!strcmp(b, "ab|xy|q|%|0x10|(null)"));
    CHECK(ksnprintf(b, 4, "%s", "abcdef") == 6 && !strcmp(b, "abc"));
    ksnprintf(b, sizeof b, "%ld %lu", (int64_t)-9223372036854775807 - 1, (uint64_t)18446744073709551615ull);
    CHECK(!strcmp(b, "-9223372036854775808 18446744073709551615"));
  }
}

static void test_chacha_and_dates(void) {
  CASE("chacha20 block: RFC 8439 section 2.3.2 test vector") {
    uint32_t key[8], nonce[3] = {0x09000000, 0x4a000000, 0x00000000};
    for (int i = 0; i < 8; i++)
      key[i] = (uint32_t)(4 * i) | (uint32_t)(4 * i + 1) << 8 | (uint32_t)(4 * i + 2) << 16 | (uint32_t)(4 * i + 3) << 24;
    uint8_t out[64];
    chacha20_block(key, 1, nonce, out);
    static const uint8_t want[16] = {0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15,
                                     0x50, 0x0f, 0xdd, 0x1f, 0xa3, 0x20, 0x71, 0xc4};
    CHECK(!memcmp(out, want, 16));
    CHECK(out[63] == 0x4e);
  }
  CASE("days_from_civil (RTC date to Unix days)") {
    CHECK(days_from_civil(1970, 1, 1) == 0);
    CHECK(days_from_civil(2000, 3, 1) == 11017);
    CHECK(days_from_civil(2024, 2, 29) == 19782);
    CHECK(days_from_civil(2038, 1, 19) == 24855);
  }
}

int main(void) {
  test_cmdline();
  test_bootinfo();
  test_pmem();
  test_printf();
  test_chacha_and_dates();
  printf("%d passed, %d failed\n", npass, nfail);
  return nfail != 0;
}
