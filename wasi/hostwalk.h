/* wasi/hostwalk.h — walking a host directory tree (hosted builds and build/kiln-pack only;
 * not part of the kernel). Defined in wasi/hostwalk.c. */
#ifndef KILN_WASI_HOSTWALK_H
#define KILN_WASI_HOSTWALK_H

#include <stddef.h>
#include <sys/stat.h>

enum { HOSTWALK_DIR = 1, HOSTWALK_FILE, HOSTWALK_SYMLINK, HOSTWALK_HARDLINK };

struct hostwalk_item {
  int type;              /* HOSTWALK_* */
  const char *rel;       /* path relative to the walked root, '/'-separated, NUL-terminated */
  const char *host;      /* full host path */
  const struct stat *st; /* lstat of it */
  const char *target;    /* SYMLINK: its target; HARDLINK: rel of the first link seen */
};

/* Calls fn for every entry below root (not root itself), parents before children, names in
 * sorted order. Sockets, fifos and devices are skipped. A nonzero return from fn stops the
 * walk and is returned. On a host error returns -1 with a message in err. */
typedef int (*hostwalk_fn)(void *ud, const struct hostwalk_item *it);
int hostwalk(const char *root, hostwalk_fn fn, void *ud, char *err, size_t errlen);

#endif
