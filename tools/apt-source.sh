#!/usr/bin/env bash
# tools/apt-source.sh DEST PKG... — Debian source packages for the build (lwIP for the kernel,
# the real programs of tests/real): `apt-get source` through a private apt configuration whose
# deb-src line is derived from the Debian source the machine already uses (read from
# /etc/apt/sources.list.d/*.sources or sources.list; no host name is written anywhere), then the
# patches in tools/patches/PKG/, each tree ending up as DEST/PKG.
# Exit status 3 when the sources cannot be had (no apt source, no network), 1 on other errors.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 DEST PKG..." >&2; exit 1; }
top=$(cd "$(dirname "$0")/.." && pwd)
dest=$1
shift
apt="$dest/.apt"
uri="" suite=""
for f in /etc/apt/sources.list.d/*.sources; do
  [ -f "$f" ] || continue
  u=$(awk '/^URIs:/{print $2; exit}' "$f"); s=$(awk '/^Suites:/{print $2; exit}' "$f")
  if [ -n "$u" ] && grep -q '^Components:.*main' "$f" && [[ "$u" == *debian* ]] && [[ "$s" != *security* ]]; then
    uri=$u suite=$s; break
  fi
done
if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
  read -r uri suite < <(awk '$1=="deb" && $0 ~ /debian/ && $0 !~ /security/ {print $2, $3; exit}' /etc/apt/sources.list) || true
fi
[ -n "$uri" ] || { echo "apt-source: cannot find the machine's Debian apt source" >&2; exit 3; }
rm -rf "$apt" && mkdir -p "$apt/lists/partial" "$apt/src"
echo "deb-src $uri $suite main" >"$apt/sources.list"
opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o APT::Sandbox::User=root)
if ! apt-get "${opts[@]}" update -qq || ! (cd "$apt/src" && apt-get "${opts[@]}" source -qq "$@" >"$apt/fetch.log" 2>&1); then
  echo "apt-source: apt-get source $* failed (no network, or no deb-src for $uri $suite)" >&2
  exit 3
fi
for p in "$@"; do
  d=$(find "$apt/src" -maxdepth 1 -mindepth 1 -type d -name "$p-*" | head -1)
  [ -n "$d" ] || { echo "apt-source: apt-get source $p gave no $p-* directory" >&2; exit 1; }
  for f in "$top/tools/patches/$p"/*.patch; do
    [ -f "$f" ] || continue
    patch -s -p1 -d "$d" <"$f" || { echo "apt-source: $f does not apply to $d" >&2; exit 1; }
  done
  rm -rf "${dest:?}/$p" && mv "$d" "$dest/$p"
done
rm -rf "$apt"
