/* tests/net/glue.c — until kernel/ brings the network up itself (net_init() in kmain, and
 * wasi_sock_preopen_listen() for `listen=` in app.c), the network tests link the kernel with
 * `--wrap=kiln_instantiate` and this wrapper, which does both just before the app is
 * instantiated (after the WASI state holds stdio and the preopened directories). */
#include "kernel/instance.h"
#include "kernel/kernel.h"
#include "net/net.h"
#include "wasi/sockets.h"

kiln_instance *__real_kiln_instantiate(const kiln_module *m, kiln_resolve_fn resolve, void *ud, void *host, char *err,
                                       size_t errlen);

kiln_instance *__wrap_kiln_instantiate(const kiln_module *m, kiln_resolve_fn resolve, void *ud, void *host, char *err,
                                       size_t errlen) {
  static int done;
  if (!done && host) {
    done = 1;
    net_init();
    const char *l = kernel_cmdline_get("listen");
    uint32_t fd;
    int e;
    if (l && (e = wasi_sock_preopen_listen(host, l, &fd)) != 0) panic("listen=%s: WASI errno %d", l, e);
  }
  return __real_kiln_instantiate(m, resolve, ud, host, err, errlen);
}
