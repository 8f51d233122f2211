/* driver/driver.h — `kiln`, the command users type (the top-level ./kiln runs build/kiln): one
 * file per command, and the few pieces they share. Errors of the user's making are
 * "kiln: message" and exit status 2 (die); a tool that fails passes its own status on. */
#ifndef KILN_DRIVER_H
#define KILN_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Growable NULL-terminated string vectors: argv of the programs kiln runs, lists of options. */
typedef struct {
  char **v;
  int n, cap;
} Strv;

/* main.c: where kiln lives, its built parts, errors */
extern const char *kiln_top;   /* the source tree: build/kiln's parent's parent */
extern const char *kiln_build; /* its build/ */
_Noreturn void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void need(const char *path); /* dies naming `make` when a built part is missing */
char *path_in_build(const char *name);
bool one_of(const char *s, const char *const list[]); /* LIST ends with NULL */
extern const char *const OPT_LEVELS[];                 /* -O0 to -O3, passed to kiln-aot */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* proc.c: programs run with fork/exec and an explicit argv, never through a shell */
void strv_add(Strv *s, const char *str);
void strv_addl(Strv *s, ...) __attribute__((sentinel));
void strv_addf(Strv *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
char *strv_join(const Strv *s, const char *sep);
pid_t proc_spawn(char *const argv[], int in, int out, int err, int keep_fd);
pid_t proc_spawn_as(const char *path, char *const argv[], int in, int out, int err, int keep_fd);
int proc_status(int wstatus);
int proc_wait(pid_t pid);
int proc_run(char *const argv[]);
void proc_must(char *const argv[]);
int proc_capture(char *const argv[], int in, const char *input, char **out);
bool proc_in_path(const char *name, char **path);
void proc_block_stop_signals(void);
int proc_supervise(pid_t pid, double timeout, bool *timed_out, int *signo);
_Noreturn void proc_die_of(int sig);

/* files.c: temporary directories removed at exit, copies, a first line */
char *temp_dir(void);
void exit_cleanup(void);
void rm_rf(const char *path);
bool make_dirs(const char *path);
bool dir_is_empty(const char *dir);
int copy_file(const char *from, const char *to);
char *read_file(const char *path, size_t *len);
bool write_file(const char *path, const char *data, size_t len);
char *first_line(const char *path);
bool is_file(const char *path);
bool is_dir(const char *path);
char *base_name(const char *path, const char *suffix);
bool ends_with(const char *s, const char *suffix);
char *strip_suffix(const char *s, const char *suffix);

/* cache.c: the compile cache (kiln build, kiln run --hosted) and `kiln cache` */
bool cache_enabled(void);
char *cache_dir(void);
char *sum_of(const char *path);
char *key_of(const Strv *parts);
char *file_id(const char *path);
char *cache_get(const char *kind, const char *key);
char *cache_put(const char *kind, const char *key, const char *tmp);
char *cache_temp(const char *kind);
char *object_key(const char *wasm, const Strv *aot_opts);
char *compile_module(const char *wasm, const char *work, const Strv *aot_opts);
int cmd_cache(int argc, char **argv);

/* inspect.c: kiln-aot's listing with the imports the kernel lacks marked */
extern const char *const NOT_PROVIDED;
char *inspect_marked(const char *wasm);
int cmd_inspect(int argc, char **argv);

/* build.c */
char *pct(const char *s);
unsigned long mem_need_mib(unsigned long long bytes);
int smp_value(const char *s);
int cmd_build(int argc, char **argv);

/* oci.c: OCI images for urunc (docs/deploy.md) */
void oci_need_tools(void);
void oci_image(const char *name, const char *elf, const char *fs, const char *cmdline,
               const char *dir, const char *archive, const char *work);

/* run.c: kiln run IMAGE, a VM under QEMU */
int cmd_run(int argc, char **argv);

/* hosted.c: kiln run --hosted APP.wasm, a Linux process */
int cmd_run_hosted(int argc, char **argv);

#endif
