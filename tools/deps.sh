#!/usr/bin/env bash
# Installs every Debian package Kiln needs and fetches lwIP's sources from Debian's source
# package into build/. Does nothing (quickly) when everything is already there.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build="$top/build"

packages=(
  clang-19 lld-19 llvm-19-dev            # compiler, linker, LLVM C API for kiln-aot
  libclang-rt-19-dev                     # ASan/UBSan and libFuzzer runtimes (unit tests, fuzzers)
  wasi-libc libclang-rt-19-dev-wasm32    # the wasm32-wasi sysroot and compiler runtime
  wabt                                   # wast2json, wat2wasm, wasm-objdump, wasm2c
  qemu-system-x86                        # running images
  grub-pc-bin grub-common xorriso mtools # bootable ISO images
  dpkg-dev                               # apt-get source (lwIP)
  curl python3 iproute2 xxd              # tests and scripts
  nodejs                                 # node's WASI, a compute benchmark peer
  wrk nginx-light gnuplot-nox cpio kmod  # benchmarks (cpio, kmod: the Linux guest initramfs)
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

# lwIP from Debian's source package, through a private apt configuration whose deb-src line
# is derived from the Debian source the machine already uses.
lwip="$build/lwip"
if [ ! -f "$lwip/src/core/tcp.c" ]; then
  echo "deps: fetching lwIP sources (apt-get source lwip)"
  apt="$build/apt"
  rm -rf "$apt" && mkdir -p "$apt/lists/partial" "$apt/src"
  uri="" suite=""
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    u=$(awk '/^URIs:/{print $2; exit}' "$f"); s=$(awk '/^Suites:/{print $2; exit}' "$f")
    if [ -n "$u" ] && grep -q '^Components:.*main' "$f" && [[ "$u" == *debian* ]] && [[ "$s" != *security* ]]; then
      uri=$u suite=$s; break
    fi
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    read -r uri suite < <(awk '$1=="deb" && $0 ~ /debian/ && $0 !~ /security/ {print $2, $3; exit}' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || { echo "deps: cannot find the machine's Debian apt source" >&2; exit 1; }
  echo "deb-src $uri $suite main" > "$apt/sources.list"
  opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq
  (cd "$apt/src" && apt-get "${opts[@]}" source -qq lwip >/dev/null)
  d=$(find "$apt/src" -maxdepth 1 -mindepth 1 -type d -name 'lwip-*' | head -1)
  [ -f "$d/src/core/tcp.c" ] || { echo "deps: lwIP source package has no src/core/tcp.c" >&2; exit 1; }
  rm -rf "$lwip" && mv "$d" "$lwip"
  rm -rf "$apt/src"
fi
