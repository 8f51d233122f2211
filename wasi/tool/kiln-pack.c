/* kiln-pack — packs host directories (and optionally args and environment) into the archive
 * the kernel preopens at boot (format: wasi/fsimage.h).
 *
 *   kiln-pack [--arg A]... [--env K=V]... [HOSTDIR[:GUEST]]... -o fs.img
 *
 * GUEST defaults to HOSTDIR as written. Args are stored in order, so the first --arg is
 * the program's argv[0]. Exits 1 with a message on any error.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wasi/fsimage.h"
#include "wasi/hostwalk.h"

struct entry {
  uint8_t type;
  char *name, *extra, *host; /* host: FILE's source path */
  uint64_t size, mtime, off;
};
static struct entry *ents;
static size_t nents, capents;

static void die(const char *fmt, const char *a, const char *b) {
  fprintf(stderr, "kiln-pack: ");
  fprintf(stderr, fmt, a, b);
  fputc('\n', stderr);
  exit(1);
}

static char *dup(const char *s) {
  char *d = strdup(s ? s : "");
  if (!d) die("out of memory%s%s", "", "");
  return d;
}

static void push(uint8_t type, const char *name, const char *extra, const char *host, uint64_t size, uint64_t mtime) {
  if (strlen(name) > 0xffffffffu || (extra && strlen(extra) > 0xffffffffu)) die("name too long: %s%s", name, "");
  if (nents == capents) {
    capents = capents ? 2 * capents : 64;
    ents = realloc(ents, capents * sizeof *ents);
    if (!ents) die("out of memory%s%s", "", "");
  }
  ents[nents++] = (struct entry){type, dup(name), dup(extra), host ? dup(host) : NULL, size, mtime, 0};
}

static int add(void *ud, const struct hostwalk_item *it) {
  uint64_t mt = (uint64_t)it->st->st_mtim.tv_sec * 1000000000ull + (uint64_t)it->st->st_mtim.tv_nsec;
  switch (it->type) {
  case HOSTWALK_DIR: push(KILNFS_DIR, it->rel, NULL, NULL, 0, mt); break;
  case HOSTWALK_FILE: push(KILNFS_FILE, it->rel, NULL, it->host, (uint64_t)it->st->st_size, mt); break;
  case HOSTWALK_SYMLINK: push(KILNFS_SYMLINK, it->rel, it->target, NULL, 0, mt); break;
  case HOSTWALK_HARDLINK: push(KILNFS_HARDLINK, it->rel, it->target, NULL, 0, mt); break;
  }
  return 0;
}

static void put(FILE *f, const void *p, size_t n, const char *out) {
  if (n && fwrite(p, 1, n, f) != n) die("cannot write %s: %s", out, strerror(errno));
}
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }

int main(int argc, char **argv) {
  const char *out = NULL;
  char err[512];
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "-o") || !strcmp(a, "--arg") || !strcmp(a, "--env")) {
      if (i + 1 >= argc) die("%s needs a value%s", a, "");
      const char *v = argv[++i];
      if (!strcmp(a, "-o")) out = v;
      else if (!strcmp(a, "--arg")) push(KILNFS_ARG, v, NULL, NULL, 0, 0);
      else if (!strchr(v, '=')) die("--env %s: expected KEY=VALUE%s", v, "");
      else push(KILNFS_ENV, v, NULL, NULL, 0, 0);
    } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
      printf("usage: kiln-pack [--arg A]... [--env K=V]... [HOSTDIR[:GUEST]]... -o fs.img\n");
      return 0;
    } else if (a[0] == '-' && a[1]) {
      die("unknown option %s%s", a, "");
    } else {
      char *host = dup(a), *guest = strchr(host, ':');
      if (guest) *guest++ = 0;
      if (!*host || (guest && !*guest)) die("bad directory argument '%s'%s", a, "");
      push(KILNFS_PREOPEN, guest ? guest : host, NULL, NULL, 0, 0);
      if (hostwalk(host, add, NULL, err, sizeof err)) die("%s%s", err, "");
      free(host);
    }
  }
  if (!out) die("no output file (-o)%s%s", "", "");

  /* Layout: header, entries, then file contents 16-byte aligned. */
  uint64_t pos = KILNFS_HEADER_SIZE;
  for (size_t i = 0; i < nents; i++) pos += (KILNFS_ENTRY_SIZE + strlen(ents[i].name) + strlen(ents[i].extra) + 7) & ~7ull;
  for (size_t i = 0; i < nents; i++) {
    if (ents[i].type != KILNFS_FILE) continue;
    pos = (pos + KILNFS_DATA_ALIGN - 1) & ~(uint64_t)(KILNFS_DATA_ALIGN - 1);
    ents[i].off = pos;
    pos += ents[i].size;
  }
  FILE *f = fopen(out, "wb");
  if (!f) die("cannot create %s: %s", out, strerror(errno));
  uint8_t hdr[KILNFS_HEADER_SIZE] = {0};
  memcpy(hdr, KILNFS_MAGIC, 8);
  put32(hdr + 8, KILNFS_VERSION);
  if (nents > 0xffffffffu) die("too many entries%s%s", "", "");
  put32(hdr + 12, (uint32_t)nents);
  put64(hdr + 16, pos);
  put(f, hdr, sizeof hdr, out);
  uint64_t at = KILNFS_HEADER_SIZE;
  static const uint8_t zero[KILNFS_DATA_ALIGN];
  for (size_t i = 0; i < nents; i++) {
    uint8_t e[KILNFS_ENTRY_SIZE] = {0};
    size_t nl = strlen(ents[i].name), xl = strlen(ents[i].extra);
    e[0] = ents[i].type;
    put32(e + 4, (uint32_t)nl);
    put32(e + 8, (uint32_t)xl);
    put64(e + 16, ents[i].off);
    put64(e + 24, ents[i].size);
    put64(e + 32, ents[i].mtime);
    put(f, e, sizeof e, out);
    put(f, ents[i].name, nl, out);
    put(f, ents[i].extra, xl, out);
    size_t rec = KILNFS_ENTRY_SIZE + nl + xl, pad = ((rec + 7) & ~(size_t)7) - rec;
    put(f, zero, pad, out);
    at += rec + pad;
  }
  char buf[65536];
  for (size_t i = 0; i < nents; i++) {
    if (ents[i].type != KILNFS_FILE) continue;
    put(f, zero, (size_t)(ents[i].off - at), out);
    FILE *in = fopen(ents[i].host, "rb");
    if (!in) die("cannot open %s: %s", ents[i].host, strerror(errno));
    uint64_t left = ents[i].size;
    while (left) {
      size_t k = fread(buf, 1, left < sizeof buf ? (size_t)left : sizeof buf, in);
      if (k == 0) die("%s changed size while packing%s", ents[i].host, "");
      put(f, buf, k, out);
      left -= k;
    }
    fclose(in);
    at = ents[i].off + ents[i].size;
  }
  if (fclose(f) != 0) die("cannot write %s: %s", out, strerror(errno));
  return 0;
}
