/* tests/threads/exit.c — proc_exit from a worker thread ends the whole instance with that
 * status: main waits in pthread_join, another worker sleeps in a condition variable; the
 * worker calls exit(7) after writing a line. Status 7, and main never prints "joined". */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;

static void *sleeper(void *arg) {
  pthread_mutex_lock(&lock);
  for (;;) pthread_cond_wait(&never, &lock);
  return arg;
}

static void *exiter(void *arg) {
  (void)arg;
  printf("worker exits with 7\n");
  exit(7);
}

int main(void) {
  pthread_t a, b;
  pthread_create(&b, NULL, sleeper, NULL);
  pthread_create(&a, NULL, exiter, NULL);
  pthread_join(a, NULL);
  puts("joined");
  return 0;
}
