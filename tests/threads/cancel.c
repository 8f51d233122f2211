/* tests/threads/cancel.c — pthread_cancel and cleanup handlers, as a portable program uses
 * them (it passes natively too). Threads are canceled while they sleep in each cancellation
 * point: a condition wait (its cleanup handler unlocks the mutex, which it holds again when
 * canceled), sleep() and nanosleep() of a minute, sem_wait, pthread_join of a thread that never
 * ends, and pthread_testcancel in a busy loop; cancellation disabled holds a request until it is
 * enabled again; a thread cancels itself; pthread_exit runs the handlers still pushed, the last
 * pushed first, and pop(1) runs one, pop(0) not. Then ROUNDS rounds of 8 threads canceled in
 * condition waits, sem waits and sleeps at once (a lost wake-up hangs the test). Prints one line
 * per check and "cancel: ok", or the first check that failed, and exits 1.
 * usage: cancel [ROUNDS] */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHECK(cond)                                                 \
  do {                                                              \
    if (!(cond)) {                                                  \
      printf("cancel: FAILED at line %d: %s\n", __LINE__, #cond);   \
      exit(1);                                                      \
    }                                                               \
  } while (0)

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static sem_t empty_sem;
static pthread_barrier_t ready;
static char trail[256]; /* what the cleanup handlers did, in order (under log_mu) */
static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;

static void note(const char *s) {
  pthread_mutex_lock(&log_mu);
  strncat(trail, s, sizeof trail - strlen(trail) - 1);
  pthread_mutex_unlock(&log_mu);
}
static void unlock_mu(void *arg) {
  (void)arg;
  note("unlock ");
  pthread_mutex_unlock(&mu);
}
static void say(void *arg) { note((const char *)arg); }

static void *in_cond_wait(void *arg) {
  (void)arg;
  pthread_barrier_wait(&ready);
  pthread_mutex_lock(&mu);
  pthread_cleanup_push(unlock_mu, NULL);
  for (;;) pthread_cond_wait(&never, &mu); /* nobody signals */
  pthread_cleanup_pop(1);
  return NULL;
}

static void *in_sleep(void *arg) {
  pthread_cleanup_push(say, "slept ");
  pthread_barrier_wait(&ready);
  if (arg) {
    struct timespec minute = {60, 0};
    nanosleep(&minute, NULL);
  } else {
    sleep(60);
  }
  pthread_cleanup_pop(0);
  return NULL;
}

static void *in_sem_wait(void *arg) {
  (void)arg;
  pthread_cleanup_push(say, "sem ");
  pthread_barrier_wait(&ready);
  sem_wait(&empty_sem); /* never posted */
  pthread_cleanup_pop(0);
  return NULL;
}

static void *forever(void *arg) {
  (void)arg;
  pthread_mutex_lock(&mu);
  pthread_cleanup_push(unlock_mu, NULL);
  for (;;) pthread_cond_wait(&never, &mu);
  pthread_cleanup_pop(1);
  return NULL;
}
static pthread_t forever_t;
static void *in_join(void *arg) {
  (void)arg;
  pthread_cleanup_push(say, "join ");
  pthread_barrier_wait(&ready);
  pthread_join(forever_t, NULL);
  pthread_cleanup_pop(0);
  return NULL;
}

static volatile int spins;
static void *busy(void *arg) {
  (void)arg;
  pthread_barrier_wait(&ready);
  for (;;) {
    spins++;
    pthread_testcancel();
  }
  return NULL;
}

/* Disables cancellation, is canceled, goes on (a sleep and a condition wait that times out are
 * no cancellation then), enables it and tests. */
static volatile int after_disabled;
static void *disabled(void *arg) {
  (void)arg;
  pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
  pthread_barrier_wait(&ready);
  pthread_barrier_wait(&ready); /* canceled meanwhile */
  usleep(20000);
  struct timespec soon;
  clock_gettime(CLOCK_REALTIME, &soon);
  soon.tv_nsec += 20000000;
  if (soon.tv_nsec >= 1000000000) soon.tv_sec++, soon.tv_nsec -= 1000000000;
  pthread_mutex_lock(&mu);
  int r = pthread_cond_timedwait(&never, &mu, &soon);
  pthread_mutex_unlock(&mu);
  after_disabled = r == 0 || r == ETIMEDOUT ? 1 : 2;
  pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, NULL);
  pthread_testcancel();
  after_disabled = 3; /* not reached */
  return NULL;
}

static void *self_cancel(void *arg) {
  (void)arg;
  pthread_cancel(pthread_self());
  note("self ");
  pthread_testcancel();
  note("not-reached ");
  return NULL;
}

static void inner(void) {
  pthread_cleanup_push(say, "c ");
  pthread_exit((void *)42);
  pthread_cleanup_pop(0);
}
static void *exits(void *arg) {
  (void)arg;
  pthread_cleanup_push(say, "a ");
  pthread_cleanup_push(say, "popped ");
  pthread_cleanup_pop(1);
  pthread_cleanup_push(say, "not-run ");
  pthread_cleanup_pop(0);
  pthread_cleanup_push(say, "b ");
  inner();
  pthread_cleanup_pop(0);
  pthread_cleanup_pop(0);
  return NULL;
}

/* Starts one thread at start(arg), waits until it is about to sleep, lets it fall asleep,
 * cancels it and joins: it must end canceled. */
static void cancel_one(const char *what, void *(*start)(void *), void *arg) {
  pthread_t t;
  void *res = NULL;
  trail[0] = 0;
  CHECK(pthread_create(&t, NULL, start, arg) == 0);
  pthread_barrier_wait(&ready);
  usleep(20000);
  CHECK(pthread_cancel(t) == 0);
  CHECK(pthread_join(t, &res) == 0);
  CHECK(res == PTHREAD_CANCELED);
  printf("%s: canceled; handlers: %s\n", what, trail);
}

int main(int argc, char **argv) {
  int rounds = argc > 1 ? atoi(argv[1]) : 20;
  sem_init(&empty_sem, 0, 0);
  pthread_barrier_init(&ready, NULL, 2);

  pthread_t t;
  void *res = NULL;
  cancel_one("cond_wait", in_cond_wait, NULL);
  CHECK(pthread_mutex_trylock(&mu) == 0); /* the handler let it go */
  pthread_mutex_unlock(&mu);
  cancel_one("sleep", in_sleep, NULL);
  cancel_one("nanosleep", in_sleep, (void *)1);
  cancel_one("sem_wait", in_sem_wait, NULL);
  CHECK(pthread_create(&forever_t, NULL, forever, NULL) == 0);
  cancel_one("join", in_join, NULL);
  trail[0] = 0;
  CHECK(pthread_cancel(forever_t) == 0 && pthread_join(forever_t, &res) == 0 && res == PTHREAD_CANCELED);
  printf("joined thread: canceled; handlers: %s\n", trail);
  CHECK(pthread_mutex_trylock(&mu) == 0);
  pthread_mutex_unlock(&mu);
  cancel_one("testcancel", busy, NULL);

  CHECK(pthread_create(&t, NULL, disabled, NULL) == 0);
  pthread_barrier_wait(&ready);
  CHECK(pthread_cancel(t) == 0);
  pthread_barrier_wait(&ready);
  CHECK(pthread_join(t, &res) == 0);
  CHECK(res == PTHREAD_CANCELED && after_disabled == 1);
  printf("disabled: held until enabled\n");

  trail[0] = 0;
  CHECK(pthread_create(&t, NULL, self_cancel, NULL) == 0);
  CHECK(pthread_join(t, &res) == 0 && res == PTHREAD_CANCELED);
  printf("self: %s\n", trail);

  trail[0] = 0;
  CHECK(pthread_create(&t, NULL, exits, NULL) == 0);
  CHECK(pthread_join(t, &res) == 0 && res == (void *)42);
  printf("pthread_exit: 42; handlers: %s\n", trail);

  /* Many at once: every request must wake its thread. */
  pthread_barrier_destroy(&ready);
  pthread_barrier_init(&ready, NULL, 9);
  for (int r = 0; r < rounds; r++) {
    pthread_t ts[8];
    for (int i = 0; i < 8; i++) {
      void *(*f)(void *) = i % 3 == 0 ? in_cond_wait : i % 3 == 1 ? in_sem_wait : in_sleep;
      CHECK(pthread_create(&ts[i], NULL, f, NULL) == 0);
    }
    pthread_barrier_wait(&ready);
    if (r % 2) usleep(1000); /* half the rounds cancel before they sleep, half after */
    for (int i = 0; i < 8; i++) CHECK(pthread_cancel(ts[i]) == 0);
    for (int i = 0; i < 8; i++) {
      CHECK(pthread_join(ts[i], &res) == 0);
      CHECK(res == PTHREAD_CANCELED);
    }
    CHECK(pthread_mutex_trylock(&mu) == 0);
    pthread_mutex_unlock(&mu);
  }
  printf("%d rounds of 8 canceled at once\n", rounds);
  printf("cancel: ok\n");
  return 0;
}
