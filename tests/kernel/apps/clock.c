/* Clocks, sleeping and randomness through WASI on the kernel: a 30 ms sleep takes 30-1000 ms
 * of monotonic time, the realtime clock is past 2020, two random buffers differ and are not
 * all zero. Prints what it measured; exits 0 when all holds, else the number of the check. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int main(void) {
  struct timespec a, b, rt;
  clock_gettime(CLOCK_MONOTONIC, &a);
  struct timespec req = {0, 30 * 1000 * 1000};
  nanosleep(&req, NULL);
  clock_gettime(CLOCK_MONOTONIC, &b);
  clock_gettime(CLOCK_REALTIME, &rt);
  long long slept = (b.tv_sec - a.tv_sec) * 1000000000ll + (b.tv_nsec - a.tv_nsec);
  unsigned char r1[32], r2[32], zero[32] = {0};
  getentropy(r1, sizeof r1);
  getentropy(r2, sizeof r2);
  printf("slept %lld us, realtime %lld s\n", slept / 1000, (long long)rt.tv_sec);
  if (slept < 30000000 || slept > 1000000000) return 1;
  if (rt.tv_sec < 1577836800) return 2;
  if (!memcmp(r1, r2, sizeof r1) || !memcmp(r1, zero, sizeof r1)) return 3;
  puts("clocks ok");
  return 0;
}
