#!/usr/bin/env bash
# tools/wasi-libc.sh DEST — Kiln's wasi-libc: Debian's source package (the same 0.0~git20220510
# as the installed wasi-libc, tools/apt-source.sh), with the patches of tools/patches/wasi-libc/
# (each says why), built twice:
#   DEST/sysroot          THREAD_MODEL=posix, for threaded apps; DEST/sysroot.mk names it for
#                         pthread/pthread.mk (which adds the pthread layer to it as libpthread.a)
#   DEST/sysroot-single   for one-thread apps, with bulk memory: qsort a merge sort,
#                         memcpy/memmove/memset one memory.copy/fill and memcmp by words
#                         (tools/realprogs.sh builds the real programs over it)
#
# Why threads need it: Debian built its wasi-libc for one thread, so libc's `_Thread_local int
# errno` (and the few other thread-locals) became plain globals, one for all threads. Compiled
# with -pthread (atomics, bulk memory) they are real Wasm TLS, which the pthread layer sets up
# per thread. The rest of libc stays the one-thread code Debian ships (-U_REENTRANT: wasi-libc
# 2022-05 has no pthreads or locks of its own, and its _REENTRANT code does not build); the
# layer's locks around malloc and stdio still make those safe (pthread/malloc.c, pthread/stdio_lock.c).
#
# When the sources cannot be fetched (no network, no deb-src), DEST/sysroot.mk says so: threaded
# apps then keep Debian's wasi-libc, with one errno for all threads (README "Threads for C
# apps"), and so do the real programs.
set -euo pipefail
[ $# = 1 ] || { echo "usage: $0 DEST" >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$1"
dest=$(cd "$1" && pwd)
src="$dest/wasi-libc" sysroot="$dest/sysroot" single="$dest/sysroot-single" log="$dest/build.log"
rm -rf "$sysroot" "$single" "$dest/obj" "$dest/obj-single" "$dest/sysroot.mk"

rc=0
"$top/tools/apt-source.sh" "$dest" wasi-libc 2>"$dest/fetch.log" || rc=$?
if [ $rc = 3 ]; then
  echo "wasi-libc: Debian's source package could not be fetched ($(tail -n1 "$dest/fetch.log"));" \
    "threaded apps keep Debian's wasi-libc, with one errno for all threads" >&2
  printf '# %s\nWASI_LIBC_SYSROOT :=\n' "no wasi-libc sources: $(tail -n1 "$dest/fetch.log")" >"$dest/sysroot.mk"
  exit 0
fi
[ $rc = 0 ] || { cat "$dest/fetch.log" >&2; exit 1; }

# build SYSROOT OBJDIR MAKE-ARGS...: the makefile's own targets, not `finish` (its symbol check
# compares with Debian's build); then the empty libraries clang links with (-lm, ...), as
# `finish` makes them.
build() {
  local root=$1 obj=$2
  shift 2
  if ! env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -C "$src" -j2 CC=clang-19 AR=llvm-ar-19 NM=llvm-nm-19 \
    SYSROOT="$root" OBJDIR="$obj" "$@" startup_files libc >>"$log" 2>&1; then
    echo "wasi-libc: the build of $root failed; the end of $log:" >&2
    tail -n 20 "$log" >&2
    exit 1
  fi
  for name in m rt crypt util xnet resolv dl; do llvm-ar-19 crs "$root/lib/wasm32-wasi/lib$name.a"; done
}
t0=$(date +%s)
: >"$log"
build "$single" "$dest/obj-single" EXTRA_CFLAGS="-O2 -DNDEBUG -mbulk-memory"
build "$sysroot" "$dest/obj" THREAD_MODEL=posix EXTRA_CFLAGS="-O2 -DNDEBUG -fno-stack-protector -U_REENTRANT"
# The headers are then Debian's: musl's pthread.h is the layer's (pthread/include), aio.h has
# no implementation.
rm -f "$sysroot/include/pthread.h" "$sysroot/include/aio.h"
# Tells pthread/include/errno.h that libc's errno is thread-local here.
cat >"$sysroot/include/kiln-libc.h" <<'EOF'
/* Written by Kiln's tools/wasi-libc.sh: this wasi-libc was built with -pthread, so errno is
 * thread-local (pthread/include/errno.h looks for this file). */
#define KILN_LIBC_TLS_ERRNO 1
EOF
echo "wasi-libc: built $single, and $sysroot with thread-local errno, in $(($(date +%s) - t0)) s" >&2
printf 'WASI_LIBC_SYSROOT := %s\n' "$sysroot" >"$dest/sysroot.mk"
