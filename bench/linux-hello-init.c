/* bench/linux-hello-init.c — PID 1 of the Linux guest's hello (bench/linux-guest,
 * initrd-hello): runs examples/hello's main, compiled natively with -Dmain=hello_main, then
 * resets the machine, which ends QEMU under -no-reboot. The Linux counterpart of a Kiln hello
 * image leaving through isa-debug-exit, for bench/serve's "QEMU start to the exit of hello". */
#include <stdio.h>
#include <sys/reboot.h>
#include <unistd.h>

int hello_main(int argc, char **argv);

int main(int argc, char **argv) {
  int status = hello_main(argc, argv);
  printf("hello: exit status %d\n", status);
  fflush(stdout);
  sync();
  reboot(RB_AUTOBOOT); /* PID 1 may not simply exit: the kernel would panic */
  return status;
}
