/* driver/proc.c — the programs kiln runs (kiln-aot, ld.lld, grub-mkrescue, QEMU, umoci...):
 * fork/exec with an explicit argv, never a shell, so no argument is ever split or expanded.
 * Every fd kiln opens is close-on-exec; a child gets its stdio and at most one more fd. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "driver/driver.h"

void strv_add(Strv *s, const char *str) {
  if (s->n + 2 > s->cap) {
    s->cap = s->cap ? 2 * s->cap : 16;
    s->v = realloc(s->v, (size_t)s->cap * sizeof *s->v);
    if (!s->v) die("out of memory");
  }
  s->v[s->n++] = strdup(str);
  s->v[s->n] = NULL;
}

void strv_addf(Strv *s, const char *fmt, ...) {
  va_list ap;
  char *str;
  va_start(ap, fmt);
  if (vasprintf(&str, fmt, ap) < 0) die("out of memory");
  va_end(ap);
  strv_add(s, str);
  free(str);
}

/* Adds each string up to a NULL. */
void strv_addl(Strv *s, ...) {
  va_list ap;
  va_start(ap, s);
  for (const char *str; (str = va_arg(ap, const char *));) strv_add(s, str);
  va_end(ap);
}

/* The elements joined by SEP (the shell's "${a[*]}" with SEP a space). */
char *strv_join(const Strv *s, const char *sep) {
  size_t len = 1;
  for (int i = 0; i < s->n; i++) len += strlen(s->v[i]) + strlen(sep);
  char *r = malloc(len);
  if (!r) die("out of memory");
  r[0] = 0;
  for (int i = 0; i < s->n; i++) {
    if (i) strcat(r, sep);
    strcat(r, s->v[i]);
  }
  return r;
}

/* The signals that stop kiln (Ctrl-C, SIGTERM, a closed terminal) and SIGCHLD: blocked, so
 * that proc_supervise() takes them in turn and stops the child first. Children start with
 * them unblocked (proc_spawn). */
static void stop_signals(sigset_t *set) {
  sigemptyset(set);
  sigaddset(set, SIGCHLD);
  sigaddset(set, SIGINT);
  sigaddset(set, SIGTERM);
  sigaddset(set, SIGHUP);
}

void proc_block_stop_signals(void) {
  sigset_t set;
  stop_signals(&set);
  sigprocmask(SIG_BLOCK, &set, NULL);
}

/* After the child is stopped and everything cleaned up: kiln ends by SIG as well, as a shell
 * would report it. */
_Noreturn void proc_die_of(int sig) {
  fflush(NULL);
  exit_cleanup();
  signal(sig, SIG_DFL);
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, sig);
  sigprocmask(SIG_UNBLOCK, &set, NULL);
  raise(sig);
  _exit(128 + sig);
}

/* Waits for PID (started after proc_block_stop_signals): until it exits, stopping it (SIGTERM,
 * then SIGKILL 2 s later) at TIMEOUT seconds (0: never) or when kiln gets SIGINT, SIGTERM or
 * SIGHUP (*SIGNO). Returns its status as the shell's $?; *TIMED_OUT when the timeout stopped it. */
int proc_supervise(pid_t pid, double timeout, bool *timed_out, int *signo) {
  sigset_t set;
  stop_signals(&set);
  struct timespec now, deadline = {0};
  bool has_deadline = timeout > 0, stopping = false;
  clock_gettime(CLOCK_MONOTONIC, &now);
  if (has_deadline) {
    deadline.tv_sec = now.tv_sec + (time_t)timeout;
    deadline.tv_nsec = now.tv_nsec + (long)((timeout - (double)(time_t)timeout) * 1e9);
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
  }
  for (;;) {
    struct timespec left = {0};
    if (has_deadline) {
      clock_gettime(CLOCK_MONOTONIC, &now);
      long long ns = (deadline.tv_sec - now.tv_sec) * 1000000000LL + (deadline.tv_nsec - now.tv_nsec);
      if (ns < 0) ns = 0;
      left.tv_sec = (time_t)(ns / 1000000000LL);
      left.tv_nsec = (long)(ns % 1000000000LL);
    }
    int sig = sigtimedwait(&set, NULL, has_deadline ? &left : NULL);
    if (sig < 0 && errno == EINTR) continue;
    if (sig < 0 || sig == SIGINT || sig == SIGTERM || sig == SIGHUP) {
      if (sig < 0 && stopping) { /* it ignored SIGTERM for 2 s */
        kill(pid, SIGKILL);
        has_deadline = false;
        continue;
      }
      if (sig < 0) *timed_out = true;
      else *signo = sig;
      if (stopping) continue;
      stopping = true;
      kill(pid, SIGTERM);
      clock_gettime(CLOCK_MONOTONIC, &deadline);
      deadline.tv_sec += 2;
      has_deadline = true;
      continue;
    }
    int st;
    if (waitpid(pid, &st, WNOHANG) == pid) return proc_status(st);
  }
}

/* Starts ARGV with IN, OUT, ERR as its fds 0, 1, 2 (-1: ours), KEEP_FD (>= 3, or -1) left
 * open across exec, and the default signal mask (run.c blocks signals to wait for them). */
pid_t proc_spawn(char *const argv[], int in, int out, int err, int keep_fd) {
  return proc_spawn_as(argv[0], argv, in, out, err, keep_fd);
}

/* proc_spawn of the program PATH, whatever ARGV[0] says. */
pid_t proc_spawn_as(const char *path, char *const argv[], int in, int out, int err, int keep_fd) {
  fflush(NULL);
  pid_t pid = fork();
  if (pid < 0) die("cannot start %s: %s", path, strerror(errno));
  if (pid > 0) return pid;
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  int fds[3] = {in, out, err};
  for (int i = 0; i < 3; i++)
    if (fds[i] >= 0 && fds[i] != i) dup2(fds[i], i);
    else if (fds[i] == i) fcntl(i, F_SETFD, 0);
  if (keep_fd >= 0) fcntl(keep_fd, F_SETFD, 0);
  execvp(path, argv);
  fprintf(stderr, "kiln: cannot run %s: %s\n", path, strerror(errno));
  _exit(127);
}

/* A wait status as the shell's $?: the exit status, or 128 + the signal. */
int proc_status(int wstatus) {
  if (WIFEXITED(wstatus)) return WEXITSTATUS(wstatus);
  if (WIFSIGNALED(wstatus)) return 128 + WTERMSIG(wstatus);
  return 255;
}

int proc_wait(pid_t pid) {
  int st;
  while (waitpid(pid, &st, 0) < 0)
    if (errno != EINTR) return 255;
  return proc_status(st);
}

int proc_run(char *const argv[]) { return proc_wait(proc_spawn(argv, -1, -1, -1, -1)); }

/* Runs ARGV; if it fails, kiln fails with its status (its own message said why). */
void proc_must(char *const argv[]) {
  int rc = proc_run(argv);
  if (rc != 0) exit(rc);
}

/* Runs ARGV with its stdout collected into *OUT (NUL-terminated) and returns its status. Its
 * stdin is INPUT when given (small, as a key's lines: written whole into the pipe before the
 * program reads), else the fd IN, else /dev/null. */
int proc_capture(char *const argv[], int in, const char *input, char **out) {
  int po[2], pi[2] = {-1, -1}, null = -1;
  if (pipe2(po, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
  if (input) {
    if (pipe2(pi, O_CLOEXEC) < 0) die("pipe: %s", strerror(errno));
    in = pi[0];
  } else if (in < 0) {
    in = null = open("/dev/null", O_RDONLY | O_CLOEXEC);
  }
  pid_t pid = proc_spawn(argv, in, po[1], -1, -1);
  close(po[1]);
  if (null >= 0) close(null);
  if (input) {
    close(pi[0]);
    size_t n = strlen(input), done = 0;
    while (done < n) {
      ssize_t w = write(pi[1], input + done, n - done);
      if (w < 0 && errno == EINTR) continue;
      if (w <= 0) break;
      done += (size_t)w;
    }
    close(pi[1]);
  }
  size_t len = 0, cap = 4096;
  char *buf = malloc(cap);
  for (;;) {
    if (buf && len + 1 >= cap) buf = realloc(buf, cap *= 2);
    if (!buf) die("out of memory");
    ssize_t r = read(po[0], buf + len, cap - len - 1);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    len += (size_t)r;
  }
  buf[len] = 0;
  close(po[0]);
  *out = buf;
  return proc_wait(pid);
}

/* The shell's `command -v NAME` for a program: its path in $PATH. */
bool proc_in_path(const char *name, char **path) {
  const char *p = getenv("PATH");
  if (!p) p = "/usr/local/bin:/usr/bin:/bin";
  while (*p) {
    size_t n = strcspn(p, ":");
    char *cand = xasprintf("%.*s%s%s", (int)n, p, n ? "/" : "", name);
    struct stat st;
    if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0) {
      if (path) *path = cand;
      else free(cand);
      return true;
    }
    free(cand);
    p += n;
    if (*p == ':') p++;
  }
  return false;
}
