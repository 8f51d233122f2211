#!/usr/bin/env bash
# Real third-party programs for tests/real (and later make bench): fetches Debian's source packages
# into build/real/src the way deps.sh fetches lwIP, applies the small patches in tools/patches/<pkg>/
# (each says why), and builds every program twice from the same sources and options:
#   build/real/native/PROG   clang-19 -O2 for the build machine
#   build/real/PROG.wasm     clang-19 -O2 --target=wasm32-wasi (Debian's wasi-libc)
# Programs: minigzip (zlib), bzip2, sqlite3 (the real shell.c over the amalgamation), jq 1.6.
# Not built: lua 5.4. Its errors and coroutines need setjmp/longjmp, which Debian's wasi-libc lacks.
# Each step's time goes to build/real/times.txt; its output to build/real/log/.
# Usage: tools/realprogs.sh [PROG...]   Exit status 3: the sources could not be fetched.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
R="$top/build/real"
SRC="$R/src"
progs=(minigzip bzip2 sqlite3 jq)
[ $# -gt 0 ] && progs=("$@")

CC=(clang-19 -O2 -w)
WCC=(clang-19 --target=wasm32-wasi -O2 -w)
# The stack first, so an overflow traps instead of corrupting data; 1 MiB, as deep recursions in
# sqlite3 and jq need more than wasm-ld's 64 KiB default.
WLD=(-Wl,--stack-first -Wl,-z,stack-size=1048576)

mkdir -p "$R/native" "$R/log"
times="$R/times.txt"
# step NAME COMMAND...: runs COMMAND with its output in log/NAME.log and its time in times.txt.
step() {
  local name=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  if ! "$@" >"$R/log/$name.log" 2>&1; then
    echo "realprogs: $name failed; the end of $R/log/$name.log:" >&2
    tail -n 20 "$R/log/$name.log" >&2
    exit 1
  fi
  t1=$(date +%s.%N)
  printf '%-24s %6.1f s\n' "$name" "$(awk "BEGIN{print $t1 - $t0}")" | tee -a "$times"
}

pkg_of() {
  case $1 in minigzip) echo zlib ;; *) echo "$1" ;; esac
}

# fetch PKG...: apt-get source into build/real/src/PKG, through a private apt configuration whose
# deb-src line is derived from the machine's own Debian source (as in deps.sh), then the patches.
fetch() {
  local apt="$R/apt" uri="" suite="" f u s p d
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
  [ -n "$uri" ] || { echo "realprogs: cannot find the machine's Debian apt source" >&2; exit 3; }
  rm -rf "$apt" && mkdir -p "$apt/lists/partial" "$apt/src"
  echo "deb-src $uri $suite main" >"$apt/sources.list"
  local opts=(-o Dir::Etc::SourceList="$apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$apt/lists" -o Dir::Cache="$apt/cache" -o APT::Sandbox::User=root)
  apt-get "${opts[@]}" update -qq && (cd "$apt/src" && apt-get "${opts[@]}" source -qq "$@" >"$R/log/fetch.log" 2>&1) || {
    echo "realprogs: apt-get source $* failed (no network, or no deb-src for $uri $suite)" >&2
    exit 3
  }
  for p in "$@"; do
    d=$(find "$apt/src" -maxdepth 1 -mindepth 1 -type d -name "$p-*" | head -1)
    [ -n "$d" ] || { echo "realprogs: apt-get source $p gave no $p-* directory" >&2; exit 3; }
    for f in "$top/tools/patches/$p"/*.patch; do
      [ -f "$f" ] || continue
      patch -s -p1 -d "$d" <"$f" || { echo "realprogs: $f does not apply to $d" >&2; exit 1; }
    done
    rm -rf "${SRC:?}/$p" && mkdir -p "$SRC" && mv "$d" "$SRC/$p"
    touch "$SRC/$p/.kiln-ready"
  done
  rm -rf "$apt/src"
}

# fresh OUT...: true when every OUT exists and is newer than this script and the package's patches.
fresh() {
  local o f
  for o in "$@"; do
    [ -f "$o" ] || return 1
    [ "$o" -nt "$0" ] && [ "$o" -nt "$SRC/$pkg/.kiln-ready" ] || return 1
  done
}

build_minigzip() {
  local z=(adler32.c compress.c crc32.c deflate.c gzclose.c gzlib.c gzread.c gzwrite.c infback.c
    inffast.c inflate.c inftrees.c trees.c uncompr.c zutil.c test/minigzip.c)
  # What zlib's configure finds on both (unistd.h, stdarg.h).
  local d=(-DHAVE_UNISTD_H -DHAVE_STDARG_H -I.)
  cd "$SRC/zlib"
  step minigzip.native "${CC[@]}" "${d[@]}" "${z[@]}" -o "$R/native/minigzip"
  step minigzip.wasm "${WCC[@]}" "${d[@]}" "${z[@]}" "${WLD[@]}" -o "$R/minigzip.wasm"
}

build_bzip2() {
  local b=(blocksort.c huffman.c crctable.c randtable.c compress.c decompress.c bzlib.c bzip2.c)
  cd "$SRC/bzip2"
  step bzip2.native "${CC[@]}" -D_FILE_OFFSET_BITS=64 "${b[@]}" -o "$R/native/bzip2"
  # bzip2 installs signal handlers and times itself: wasi-libc's emulations of both.
  step bzip2.wasm "${WCC[@]}" -D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS "${b[@]}" \
    -lwasi-emulated-signal -lwasi-emulated-process-clocks "${WLD[@]}" -o "$R/bzip2.wasm"
}

build_sqlite3() {
  # The same options for both builds, so both print the same thing: no threads, no extensions
  # loaded from files, no WAL and no mmap (WASI has no shared memory maps), no system()/popen().
  local o=(-DSQLITE_THREADSAFE=0 -DSQLITE_OMIT_LOAD_EXTENSION -DSQLITE_OMIT_WAL
    -DSQLITE_MAX_MMAP_SIZE=0 -DSQLITE_OMIT_POPEN -DSQLITE_NOHAVE_SYSTEM)
  local w=(-D_WASI_EMULATED_SIGNAL -D_WASI_EMULATED_PROCESS_CLOCKS -D_WASI_EMULATED_GETPID)
  local wl=(-lwasi-emulated-signal -lwasi-emulated-process-clocks -lwasi-emulated-getpid)
  mkdir -p "$SRC/sqlite3/bld" && cd "$SRC/sqlite3/bld"
  # The amalgamation (sqlite3.c) and shell.c are generated by tclsh scripts from the sources.
  [ -f Makefile ] || step sqlite3.configure env CC=clang-19 ../configure --disable-tcl
  step sqlite3.amalgamation make sqlite3.c shell.c
  step sqlite3.native "${CC[@]}" "${o[@]}" -I. shell.c sqlite3.c -lm -o "$R/native/sqlite3"
  step sqlite3.wasm "${WCC[@]}" "${o[@]}" "${w[@]}" -I. shell.c sqlite3.c "${wl[@]}" "${WLD[@]}" \
    -o "$R/sqlite3.wasm"
}

# jq_config: jq's configure, for what jq 1.6 asks: the math builtins that both libcs have (the
# same set on both sides, so a filter means the same thing), and fixed answers for the rest.
jq_config() {
  local f out=src/kiln-config.h
  echo "/* written by tools/realprogs.sh */" >$out.tmp
  for f in $(sed -n 's/^AC_CHECK_MATH_FUNC(\([a-z0-9_]*\)).*/\1/p' configure.ac); do
    printf '#define _GNU_SOURCE\n#include <math.h>\nvoid *p = (void *)&%s;\nint main(void) { return p == 0; }\n' "$f" >"$R/log/jqm.c"
    if clang-19 -w "$R/log/jqm.c" -lm -o "$R/log/jqm" 2>/dev/null &&
      clang-19 --target=wasm32-wasi -w "$R/log/jqm.c" -lm -o "$R/log/jqm.wasm" 2>/dev/null; then
      echo "#define HAVE_$(tr a-z A-Z <<<"$f") 1" >>$out.tmp
    else
      echo "/* no $f */" >>$out.tmp
    fi
  done
  rm -f "$R/log/jqm"*
  mv $out.tmp $out
}

build_jq() {
  local j=(builtin bytecode compile execute jq_test jv jv_alloc jv_aux jv_dtoa jv_file jv_parse
    jv_print jv_unicode linker locfile util lexer parser main)
  j=("${j[@]/#/src/}") && j=("${j[@]/%/.c}")
  # What jq's configure would find on both: little-endian IEEE doubles, no oniguruma (so no regex
  # builtins), no threads.
  local d=(-D_GNU_SOURCE -DIEEE_8087 -DHAVE_GETENTROPY -DHAVE_ISATTY -DHAVE_MEMMEM -DHAVE_MKSTEMP
    -DHAVE_STRPTIME -DHAVE_STRFTIME -DHAVE_TIMEGM -DHAVE_GMTIME_R -DHAVE_GMTIME -DHAVE_LOCALTIME_R
    -DHAVE_GETTIMEOFDAY -include src/kiln-config.h -I. -Isrc)
  cd "$SRC/jq"
  # Generated as jq's Makefile.am does.
  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$/\\n"/' src/builtin.jq >src/builtin.inc
  echo '#define JQ_VERSION "1.6"' >src/version.h
  step jq.configure jq_config
  step jq.native "${CC[@]}" "${d[@]}" "${j[@]}" -lm -o "$R/native/jq"
  step jq.wasm "${WCC[@]}" "${d[@]}" -D_WASI_EMULATED_GETPID "${j[@]}" -lm -lwasi-emulated-getpid \
    "${WLD[@]}" -o "$R/jq.wasm"
}

need=()
for p in "${progs[@]}"; do
  pkg=$(pkg_of "$p")
  declare -F "build_$p" >/dev/null || { echo "realprogs: unknown program $p (known: minigzip bzip2 sqlite3 jq)" >&2; exit 2; }
  # Fetched again (pristine) when a patch changed since.
  if [ ! -f "$SRC/$pkg/.kiln-ready" ] || [ -n "$(find "$top/tools/patches/$pkg" -name '*.patch' -newer "$SRC/$pkg/.kiln-ready" 2>/dev/null)" ]; then
    need+=("$pkg")
  fi
done
if [ ${#need[@]} -gt 0 ]; then
  echo "realprogs: fetching ${need[*]} (apt-get source)"
  t0=$(date +%s.%N)
  fetch "${need[@]}"
  printf '%-24s %6.1f s\n' "fetch(${need[*]})" "$(awk "BEGIN{print $(date +%s.%N) - $t0}")" | tee -a "$times"
fi
for p in "${progs[@]}"; do
  pkg=$(pkg_of "$p")
  fresh "$R/native/$p" "$R/$p.wasm" && continue
  (build_"$p")
done
