#!/usr/bin/env bash
# Installs every Debian package Kiln needs and fetches lwIP's sources from Debian's source
# package into build/. Does nothing (quickly) when everything is already there.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"

packages=(
  clang-19 lld-19 llvm-19-dev llvm-19    # compiler, linker, LLVM C API; kiln-aot runs ld.lld-19, llvm-objcopy-19
  libclang-rt-19-dev                     # ASan/UBSan and libFuzzer runtimes (unit tests, fuzzers)
  wasi-libc libclang-rt-19-dev-wasm32    # the wasm32-wasi sysroot and compiler runtime
  wabt                                   # wast2json, wat2wasm, wasm-objdump, wasm2c
  qemu-system-x86                        # running images
  grub-pc-bin grub-common xorriso mtools # bootable ISO images
  dpkg-dev                               # apt-get source (lwIP)
  curl python3 iproute2 xxd time         # tests and scripts (time: /usr/bin/time for peak memory)
  tcl sqlite3                            # tools/realprogs.sh: sqlite3's amalgamation (tclsh); tests/real reads databases back
  nodejs                                 # node's WASI, a compute benchmark peer
  linux-perf                             # perf: profiling kiln-aot and the hosted runtime against native
  wrk nginx-light gnuplot-nox cpio kmod  # benchmarks (cpio, kmod: the Linux guest initramfs)
  umoci skopeo                           # kiln build --oci, --oci-archive (OCI images for urunc)
  podman                                 # tests/oci: podman load of such an image
)
missing=()
for p in "${packages[@]}"; do
  # node may come from another apt source already on the machine; any working node will do.
  [ "$p" = nodejs ] && command -v node >/dev/null && continue
  # dpkg-query is fast; a package counts as present only when fully installed.
  st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$st" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  sudo=""; [ "$(id -u)" = 0 ] || sudo=sudo
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# lwIP from Debian's source package (tools/apt-source.sh: a private apt configuration derived
# from the machine's own Debian source), with Kiln's patches (tools/patches/lwip/). A tree
# fetched with other patches than today's is fetched again: build/lwip/.kiln-patches records
# which.
patches=$(cat "$top"/tools/patches/lwip/*.patch 2>/dev/null | sha256sum | cut -c1-64)
if [ ! -f "$build/lwip/src/core/tcp.c" ] || [ "$(cat "$build/lwip/.kiln-patches" 2>/dev/null)" != "$patches" ]; then
  echo "deps: fetching lwIP sources (apt-get source lwip) and applying tools/patches/lwip/"
  mkdir -p "$build"
  "$top/tools/apt-source.sh" "$build" lwip
  [ -f "$build/lwip/src/core/tcp.c" ] || { echo "deps: lwIP source package has no src/core/tcp.c" >&2; exit 1; }
  echo "$patches" >"$build/lwip/.kiln-patches"
fi
