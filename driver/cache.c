/* driver/cache.c — the compile cache of kiln build and kiln run --hosted, and `kiln cache`.
 * An entry is KIND/KEY.SUM (KIND obj: kiln-aot's objects, exe: linked hosted executables): KEY
 * is the sha256 of everything the output depends on, SUM the sha256 of the content. Writers
 * fill a temporary file in the same directory and rename it: one rename(2) publishes content
 * and checksum together, so concurrent runs never see a half-written entry, and a reader that
 * finds SUM wrong (truncated, flipped, stale) deletes it and rebuilds. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "driver/driver.h"

/* The LLVM library kiln-aot loads (from llvm-config-19 at build time: driver/driver.mk). */
#ifndef KILN_LIBLLVM
#error "KILN_LIBLLVM: the path of libLLVM-19.so, from driver/driver.mk"
#endif

static bool cache_off_by_env(void) {
  const char *v = getenv("KILN_CACHE");
  return v && (!strcmp(v, "0") || !strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"));
}

char *cache_dir(void) {
  const char *d = getenv("KILN_CACHE_DIR");
  if (d && *d) return xasprintf("%s", d);
  const char *x = getenv("XDG_CACHE_HOME");
  if (x && *x) return xasprintf("%s/kiln", x);
  const char *h = getenv("HOME");
  return xasprintf("%s/.cache/kiln", h && *h ? h : "/nonexistent");
}

/* Decided once per kiln: on unless KILN_CACHE says off, or the directory is not writable. */
bool cache_enabled(void) {
  static int enabled = -1;
  if (enabled >= 0) return enabled;
  enabled = 0;
  if (cache_off_by_env()) return false;
  char *dir = cache_dir(), *obj = xasprintf("%s/obj", dir), *exe = xasprintf("%s/exe", dir);
  if (make_dirs(obj) && make_dirs(exe) && access(obj, W_OK) == 0) enabled = 1;
  else fprintf(stderr, "kiln: note: cache directory %s is not writable; compiling without cache\n", dir);
  return enabled;
}

/* The sha256 of FILE's content, in hex ("" when it cannot be read). */
char *sum_of(const char *path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return xasprintf("%s", "");
  char *out, *argv[] = {"sha256sum", NULL};
  int rc = proc_capture(argv, fd, NULL, &out);
  close(fd);
  if (rc != 0) out[0] = 0;
  out[strcspn(out, " \n")] = 0;
  return out;
}

/* The sha256 of the parts, one per line. */
char *key_of(const Strv *parts) {
  char *lines = strv_join(parts, "\n"), *input = xasprintf("%s\n", lines), *out;
  char *argv[] = {"sha256sum", NULL};
  if (proc_capture(argv, -1, input, &out) != 0) die("sha256sum failed");
  out[strcspn(out, " \n")] = 0;
  free(lines);
  free(input);
  return out;
}

/* What identifies a big file we only depend on (name, size, time, inode), cheaper than its hash. */
char *file_id(const char *path) {
  struct stat st;
  if (stat(path, &st) != 0) return xasprintf("%s missing", path);
  return xasprintf("%s %lld %lld %llu", path, (long long)st.st_size, (long long)st.st_mtime,
                   (unsigned long long)st.st_ino);
}

/* The path of an entry KIND/KEY.* whose content matches its checksum, or NULL. */
char *cache_get(const char *kind, const char *key) {
  char *dir = xasprintf("%s/%s", cache_dir(), kind), *prefix = xasprintf("%s.", key);
  DIR *d = opendir(dir);
  if (!d) return NULL;
  char *found = NULL;
  struct dirent *e;
  while (!found && (e = readdir(d))) {
    if (strncmp(e->d_name, prefix, strlen(prefix))) continue;
    char *f = xasprintf("%s/%s", dir, e->d_name);
    if (!is_file(f)) continue;
    char *sum = sum_of(f);
    if (!strcmp(sum, e->d_name + strlen(prefix))) {
      found = f;
    } else {
      fprintf(stderr, "kiln: cache: %s does not match its checksum; rebuilding it\n", f);
      unlink(f);
    }
  }
  closedir(d);
  return found;
}

/* A new temporary file in KIND's directory, for cache_put. */
char *cache_temp(const char *kind) {
  char *t = xasprintf("%s/%s/.tmp.XXXXXX", cache_dir(), kind);
  int fd = mkstemp(t);
  if (fd < 0) die("cannot make a file in %s/%s: %s", cache_dir(), kind, strerror(errno));
  close(fd);
  return t;
}

/* Publishes TMP (made by cache_temp) as KIND/KEY.SUM and returns its path, or NULL. */
char *cache_put(const char *kind, const char *key, const char *tmp) {
  char *sum = sum_of(tmp);
  if (!*sum) return NULL;
  char *path = xasprintf("%s/%s/%s.%s", cache_dir(), kind, key, sum);
  if (rename(tmp, path) != 0) {
    fprintf(stderr, "kiln: cache: cannot publish %s: %s\n", path, strerror(errno));
    return NULL;
  }
  return path;
}

/* What kiln-aot's output depends on: the module, kiln-aot itself, the LLVM library it loads,
 * and the options. */
char *object_key(const char *wasm, const Strv *aot_opts) {
  Strv k = {0};
  strv_add(&k, "kiln-object-1");
  strv_add(&k, sum_of(wasm));
  strv_add(&k, sum_of(path_in_build("kiln-aot")));
  strv_add(&k, file_id(KILN_LIBLLVM));
  for (int i = 0; i < aot_opts->n; i++) strv_add(&k, aot_opts->v[i]);
  return key_of(&k);
}

/* The path of WASM's compiled object: from the cache when it has it, else compiled now (into
 * the cache, or into WORK when it is off); NULL when kiln-aot failed (it said why). */
char *compile_module(const char *wasm, const char *work, const Strv *aot_opts) {
  Strv a = {0};
  strv_add(&a, path_in_build("kiln-aot"));
  for (int i = 0; i < aot_opts->n; i++) strv_add(&a, aot_opts->v[i]);
  strv_add(&a, wasm);
  strv_add(&a, "-o");
  if (!cache_enabled()) {
    char *obj = xasprintf("%s/app.o", work);
    strv_add(&a, obj);
    return proc_run(a.v) == 0 ? obj : NULL;
  }
  char *key = object_key(wasm, aot_opts), *obj = cache_get("obj", key);
  if (obj) return obj;
  char *tmp = cache_temp("obj");
  strv_add(&a, tmp);
  if (proc_run(a.v) != 0 || !(obj = cache_put("obj", key, tmp))) {
    unlink(tmp);
    return NULL;
  }
  return obj;
}

static size_t count_entries(const char *dir) {
  DIR *d = opendir(dir);
  if (!d) return 0;
  size_t n = 0;
  struct dirent *e;
  while ((e = readdir(d))) {
    char *f = xasprintf("%s/%s", dir, e->d_name);
    if (strncmp(e->d_name, ".tmp.", 5) && is_file(f)) n++;
    free(f);
  }
  closedir(d);
  return n;
}

int cmd_cache(int argc, char **argv) {
  const char *what = argc > 0 ? argv[0] : "info";
  char *dir = cache_dir();
  if (!strcmp(what, "info")) {
    if (argc > 1) die("usage: kiln cache [info|clean]");
    size_t n = count_entries(xasprintf("%s/obj", dir)) + count_entries(xasprintf("%s/exe", dir));
    char *size = NULL;
    if (is_dir(dir)) {
      char *du[] = {"du", "-sh", dir, NULL};
      if (proc_capture(du, -1, NULL, &size) != 0) size = NULL;
      else size[strcspn(size, "\t\n")] = 0;
    }
    printf("cache: %s\n", dir);
    printf("entries: %zu (compiled objects and hosted executables), size %s\n", n,
           size && *size ? size : "0");
    if (cache_off_by_env()) printf("disabled by KILN_CACHE=%s\n", getenv("KILN_CACHE"));
    return 0;
  }
  if (!strcmp(what, "clean")) {
    if (argc != 1) die("usage: kiln cache clean");
    /* Only what kiln put there: KILN_CACHE_DIR may name a directory holding other things. */
    rm_rf(xasprintf("%s/obj", dir));
    rm_rf(xasprintf("%s/exe", dir));
    rmdir(dir);
    printf("cache: removed %s\n", dir);
    return 0;
  }
  die("usage: kiln cache [info|clean]");
}
