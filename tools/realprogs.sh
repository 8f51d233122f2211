#!/usr/bin/env bash
# Real third-party programs for tests/real (and later make bench): fetches Debian's source packages
# into build/real/src the way deps.sh fetches lwIP, applies the small patches in tools/patches/<pkg>/
# (each says why), and builds every program twice from the same sources and options:
#   build/real/native/PROG   clang-19 -O2 for the build machine
#   build/real/PROG.wasm     clang-19 -O2 --target=wasm32-wasi over Kiln's one-thread wasi-libc
#                            (tools/wasi-libc.sh: Debian's source, qsort a merge sort, memcpy one
#                            memory.copy), or Debian's wasi-libc where its sources could not be had
# Programs: minigzip (zlib), bzip2, sqlite3 (the real shell.c over the amalgamation), jq 1.6,
# lua 5.4 (its errors and coroutines are setjmp/longjmp: Kiln's sjlj runtime, build/sjlj).
# Each step's time goes to build/real/times.txt; its output to build/real/log/.
# Usage: tools/realprogs.sh [PROG...]   Exit status 3: the sources could not be fetched.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
R="$top/build/real"
SRC="$R/src"
progs=(minigzip bzip2 sqlite3 jq lua)
[ $# -gt 0 ] && progs=("$@")

CC=(clang-19 -O2 -w)
# Bulk memory (Wasm 2.0; LLVM 20 enables it by default): the programs' own memcpy/memset calls
# become memory.copy/fill, which kiln-aot compiles to calls of memmove/memset (aot/lower_memory.c),
# instead of calls to wasi-libc's byte-and-word loops (bench/real's sqlite3 database file
# workload: 1.24x native without, 1.06x with, side by side).
WCC=(clang-19 --target=wasm32-wasi -O2 -mbulk-memory -w)
# The stack first, so an overflow traps instead of corrupting data; 1 MiB, as deep recursions in
# sqlite3 and jq need more than wasm-ld's 64 KiB default.
WLD=(-Wl,--stack-first -Wl,-z,stack-size=1048576)

mkdir -p "$R/native" "$R/log"
# Kiln's wasi-libc (make build/wasi-libc/sysroot.mk builds it with the threaded one): musl's
# smoothsort qsort made jq's sort_by and group_by 1.89x native (2.85 times glibc's comparisons).
LIBC=$top/build/wasi-libc/sysroot-single/lib/wasm32-wasi/libc.a
make -C "$top" -s build/wasi-libc/sysroot.mk >"$R/log/wasi-libc.log" 2>&1 || {
  echo "realprogs: building Kiln's wasi-libc failed:" >&2
  tail -n 20 "$R/log/wasi-libc.log" >&2
  exit 1
}
if [ -f "$LIBC" ]; then
  WCC+=(--sysroot="${LIBC%/lib/wasm32-wasi/libc.a}")
else
  echo "realprogs: Kiln's wasi-libc has no sources here ($(head -n1 "$top/build/wasi-libc/sysroot.mk")): Debian's wasi-libc" >&2
  LIBC=/usr/lib/wasm32-wasi/libc.a
fi
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
  case $1 in minigzip) echo zlib ;; lua) echo lua5.4 ;; *) echo "$1" ;; esac
}

# fetch PKG...: Debian's sources into build/real/src/PKG, patched (tools/apt-source.sh).
fetch() {
  local p rc=0
  mkdir -p "$SRC" "$R/log"
  "$top/tools/apt-source.sh" "$SRC" "$@" 2>"$R/log/fetch.log" || rc=$?
  [ $rc = 0 ] || { cat "$R/log/fetch.log" >&2; exit "$rc"; }
  for p in "$@"; do touch "$SRC/$p/.kiln-ready"; done
}

# fresh OUT...: true when every OUT exists and is newer than this script, the package's patches,
# the wasm32 libc and, for lua, the sjlj runtime.
fresh() {
  local o f
  for o in "$@"; do
    [ -f "$o" ] || return 1
    [ "$o" -nt "$0" ] && [ "$o" -nt "$SRC/$pkg/.kiln-ready" ] || return 1
    [[ "$o" != *.wasm ]] || [ "$o" -nt "$LIBC" ] || return 1
    [ "$pkg" != lua5.4 ] || [ "$o" -nt "$SJLJ_LIB" ] || return 1
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

build_lua() {
  # The interpreter: the core, the standard libraries and lua.c (not luac). No LUA_USE_LINUX on
  # either side: its popen, dlopen and readline do not exist in WASI, and both builds must be
  # the same Lua.
  local l=(lapi lcode lctype ldebug ldo ldump lfunc lgc llex lmem lobject lopcodes lparser lstate
    lstring ltable ltm lundump lvm lzio lauxlib lbaselib lcorolib ldblib liolib lmathlib loadlib
    loslib lstrlib ltablib lutf8lib linit lua)
  l=("${l[@]/%/.c}")
  cd "$SRC/lua5.4/src"
  # Debian's luaconf.h takes the multiarch part of package.cpath from a header its rules write.
  echo '#define DEB_HOST_MULTIARCH "kiln"' >lua5.4-deb-multiarch.h
  step lua.native "${CC[@]}" "${l[@]}" -lm -o "$R/native/lua"
  # setjmp/longjmp through Kiln's runtime (README: "setjmp/longjmp"); lua.c catches SIGINT.
  step lua.wasm "${WCC[@]}" -mllvm -wasm-enable-sjlj -I"$top/sjlj/include" -D_WASI_EMULATED_SIGNAL \
    -D_WASI_EMULATED_PROCESS_CLOCKS "${l[@]}" "$SJLJ_LIB" -lwasi-emulated-signal \
    -lwasi-emulated-process-clocks "${WLD[@]}" -o "$R/lua.wasm"
}

SJLJ_LIB=$top/build/sjlj/libkiln-sjlj.a
if [[ " ${progs[*]} " == *" lua "* ]]; then
  make -C "$top" -s "${SJLJ_LIB#$top/}" >"$R/log/sjlj.log" 2>&1 || {
    echo "realprogs: building the sjlj runtime failed:" >&2
    tail -n 20 "$R/log/sjlj.log" >&2
    exit 1
  }
fi
need=()
for p in "${progs[@]}"; do
  pkg=$(pkg_of "$p")
  declare -F "build_$p" >/dev/null || { echo "realprogs: unknown program $p (known: minigzip bzip2 sqlite3 jq lua)" >&2; exit 2; }
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
