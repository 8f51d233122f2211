#!/usr/bin/env bash
# tests/real/run.sh — real third-party programs built from Debian's source packages
# (tools/realprogs.sh: minigzip, bzip2, the sqlite3 shell, jq, lua) run natively, hosted
# (`kiln run --hosted`) and in the VM (`kiln build` + `kiln run`). Every case compares the
# program's stdout (binary, byte for byte), its exit status, and the files it writes with the
# native run: compressed data to stdout and through files, input on stdin, a SQL script from a
# file and from stdin, a database created in a directory and read back by the host's sqlite3,
# jq filters, Lua scripts (among them bench/real's: strings, sort-closures, float-math). Files
# are written through --dir (hosted) and --volume (VM), which must reach the host. Lua's errors
# and coroutines are setjmp/longjmp, which its wasm build does with Wasm exceptions (Kiln's sjlj
# runtime). SKIPs everything, with the reason, when the Debian sources cannot be fetched. Ends
# with one informational line per program: native and hosted CPU time of a larger workload.
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
top=$PWD
R=$top/build/real

T=$(mktemp -d /tmp/kiln-real.XXXXXX)
trap 'rm -rf "$T"' EXIT

# ---- the programs ----
tools/realprogs.sh >"$T/realprogs.log" 2>&1
rc=$?
if [ $rc = 3 ]; then
  skip real "the Debian source packages could not be fetched ($(grep realprogs: "$T/realprogs.log" | tail -n1))"
  finish
  exit 0
elif [ $rc != 0 ]; then
  fail build "tools/realprogs.sh: $(grep 'realprogs:' "$T/realprogs.log" | tail -n1)"
  finish
  exit 1
fi
if ! make -s -j2 $KILN_DRIVER \
  build/examples/hello.wasm >"$T/make.log" 2>&1; then
  fail build "$(grep -m1 -E 'error|Error' "$T/make.log")"
  finish
  exit 1
fi
progs=(minigzip bzip2 sqlite3 jq lua)

# With a compile cache (`kiln cache clean` in kiln help), the suite runs kiln's own commands for
# every case and each module compiles once. Without one, it compiles each module once itself,
# exactly as kiln does (kiln-aot, then the hosted library or the kernel), and keeps the objects
# in build/real/aot, keyed by the module's and kiln-aot's hashes.
cached=0
./kiln help 2>&1 | grep -q 'cache clean' && cached=1
export XDG_CACHE_HOME=$R/cache
mkdir -p "$R/aot" "$T/bin"
for p in "${progs[@]}"; do
  # Imports the kernel lacks would fail every VM case the same way: say so once.
  if ./kiln inspect "$R/$p.wasm" 2>&1 | grep -q 'NOT PROVIDED'; then
    fail "$p imports" "$(./kiln inspect "$R/$p.wasm" | grep 'NOT PROVIDED' | awk '{print $3}' | tr '\n' ' ')"
  fi
  if [ $cached = 1 ]; then
    # Compiled into the cache now, so the cases' time limits do not include a compile (38 s
    # for sqlite3 at -O2 on an idle machine, minutes on a loaded one).
    echo "compiling $p.wasm (kiln build, into the cache)"
    mkdir -p "$T/warm"
    ./kiln build "$R/$p.wasm" -o "$T/warm/$p.iso" >"$T/$p.aot.log" 2>&1 || fail "$p compile" "$(tail -n1 "$T/$p.aot.log")"
    continue
  fi
  key=$(cat "$R/$p.wasm" build/kiln-aot | sha256sum | cut -c1-16)
  if [ "$(cat "$R/aot/$p.key" 2>/dev/null)" != "$key" ]; then
    echo "compiling $p.wasm (kiln-aot -O2)"
    if ! build/kiln-aot "$R/$p.wasm" -o "$R/aot/$p.o" >"$T/$p.aot.log" 2>&1; then
      fail "$p compile" "$(tail -n1 "$T/$p.aot.log")"
      continue
    fi
    echo "$key" >"$R/aot/$p.key"
  fi
  # Named after the program: argv[0] is the app's name, as with kiln run --hosted.
  mkdir -p "$T/bin/$p.d"
  clang-19 "$R/aot/$p.o" build/host/libkiln-host.a -lm -o "$T/bin/$p.d/$p" || fail "$p link" "hosted"
done

# ---- inputs, shared by every case: /data in the guests, ./data natively ----
D=$T/data
mkdir -p "$D"
head -c 1048576 "$R/src/sqlite3/bld/sqlite3.c" >"$D/text.txt"                # 1 MiB of real C text
python3 -c 'import random,sys; r=random.Random(7); sys.stdout.buffer.write(bytes(r.getrandbits(8) for _ in range(200000)))' >"$D/random.bin"
"$R/native/minigzip" -9 -c "$D/text.txt" >"$D/text.txt.gz"
"$R/native/bzip2" -9 -c "$D/text.txt" >"$D/text.txt.bz2"
cat >"$D/q.sql" <<'EOF'
create table t(id integer primary key, name text, grp int, score real);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 5000)
  insert into t select i, 'name-' || (i * 7919 % 5000), i % 13, (i * 37 % 1000) / 10.0 from n;
create index t_grp on t(grp);
select grp, count(*), sum(score), printf('%.3f', avg(score)), min(name), max(name) from t group by grp order by grp;
select name, score from t where grp = 3 and score > 95 order by score desc, name limit 10;
select json_object('n', count(*), 'top', max(score)) from t;
select group_concat(id, ',') from (select id from t order by score desc, id limit 20);
.mode csv
.headers on
select * from t where id % 997 = 0;
.mode box
select grp, round(sum(score), 2) as total from t where grp < 4 group by grp;
EOF
cat >"$D/build.sql" <<'EOF'
create table kv(k text primary key, v blob);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 2000)
  insert into kv select 'key' || i, cast(printf('%0*d', i % 50, i) as blob) from n;
create table people(id integer primary key, name text, born int);
insert into people(name, born) values ('Ada', 1815), ('Grace', 1906), ('Edsger', 1930);
update kv set v = 'changed' where k like 'key1%';
delete from kv where k like 'key2%';
select count(*), sum(length(v)) from kv;
EOF
python3 - "$D/data.json" <<'EOF'
import json, random, sys
r = random.Random(11)
tags = ["alpha", "beta", "gamma", "delta", "epsilon"]
items = [{"id": i, "name": "item-%d" % (i * 7919 % 3000), "tag": r.choice(tags),
          "score": r.randint(0, 100), "ratio": round(r.random(), 6),
          "nested": {"a": [r.randint(0, 9) for _ in range(r.randint(0, 5))], "ok": r.random() < 0.5},
          "text": "line\twith \"quotes\" and \u00e9\u4e2d"} for i in range(3000)]
json.dump(items, open(sys.argv[1], "w"), indent=1)
EOF

# ---- one case in the three modes ----
# Every mode runs in its own directory T/c/CASE/MODE holding work/ (a copy of T/tpl/CASE if
# any, the directory the program may write: --dir natively and hosted, --volume in the VM).
# Arguments use relative paths (data/..., work/...): WASI's libc resolves them from "/" to the
# preopens /data and /work, and natively they resolve from the case's directory, so argv is the
# same everywhere.
ENV_HOME=/nonexistent-kiln-home # no ~/.sqliterc, the same in every mode

run_native() { # DIR STDIN PROG ARGS...
  local dir=$1 in=$2 p=$3
  shift 3
  ln -s "$D" "$dir/data"
  (cd "$dir" && env HOME=$ENV_HOME ${CASE_ENV-} timeout 60 "$R/native/$p" "$@" <"$in" >"$dir/out" 2>"$dir/err")
  echo $? >"$dir/rc"
}

run_hosted() { # DIR STDIN PROG ARGS...
  local dir=$1 in=$2 p=$3 a=() x e=()
  shift 3
  [ -n "${CASE_ENV-}" ] && e=(--env "$CASE_ENV")
  if [ $cached = 1 ]; then
    for x in "$@"; do a+=(--arg "$x"); done
    timeout 300 ./kiln run --hosted "$R/$p.wasm" --env HOME=$ENV_HOME "${e[@]}" --dir "$D:/data" \
      --dir "$dir/work:/work" "${a[@]}" <"$in" >"$dir/out" 2>"$dir/err"
  else
    (cd "$dir" && timeout 60 "$T/bin/$p.d/$p" --env HOME=$ENV_HOME "${e[@]}" --dir "$D:/data" \
      --dir "$dir/work:/work" -- "$@" <"$in" >"$dir/out" 2>"$dir/err")
  fi
  echo $? >"$dir/rc"
}

run_vm() { # DIR STDIN PROG ARGS...
  local dir=$1 in=$2 p=$3 a=() x wasm e=()
  shift 3
  [ -n "${CASE_ENV-}" ] && e=(--env "$CASE_ENV")
  for x in "$@"; do a+=(--arg "$x"); done
  wasm=$R/$p.wasm
  if [ $cached = 0 ]; then
    # kiln build itself writes the image's command line and packed files, from a stand-in
    # module of the same name (fast to compile); the ELF is then linked with the object
    # compiled once above, by the same ld.lld command kiln build uses.
    mkdir -p "$dir/standin" && cp build/examples/hello.wasm "$dir/standin/$p.wasm"
    wasm=$dir/standin/$p.wasm
  fi
  if ! ./kiln build "$wasm" -o "$dir/vm.iso" --env HOME=$ENV_HOME "${e[@]}" --dir "$D:/data" "${a[@]}" \
    >"$dir/build.log" 2>&1; then
    echo "kiln build: $(tail -n1 "$dir/build.log")" >"$dir/err"
    : >"$dir/out"
    echo 255 >"$dir/rc"
    return
  fi
  if [ $cached = 0 ]; then
    ld.lld-19 -T boot/linker.ld --gc-sections --strip-debug -o "$dir/vm.elf" build/kernel/kernel.o "$R/aot/$p.o"
  fi
  # Only cases that write files need the volume (so the others show what else they need).
  local vol=()
  [ -d "$T/tpl/$name" ] && vol=(--volume "$dir/work:/work")
  ./kiln run "$dir/vm.elf" --timeout 180 "${vol[@]}" <"$in" >"$dir/out" 2>"$dir/err"
  echo $? >"$dir/rc"
}

# first_diff A B: where two files differ, for the failure message.
first_diff() {
  local c
  c=$(cmp "$1" "$2" 2>&1 | head -n1 | sed -e 's/.* differ: /at /' -e 's/.*EOF on [^ ]*/output ends early/')
  echo "$c (native $(stat -c %s "$1") bytes, got $(stat -c %s "$2"))"
}

# case NAME PROG STDIN ARGS...: runs natively, hosted and in the VM; one PASS/FAIL per mode.
# STDIN is a file or - (none). With T/tpl/NAME, work/ starts as its copy and must end equal.
# With EXPECT_ERROR set, the native run may fail (the others must fail the same way); with
# CHECK=FUNCTION, FUNCTION NATIVE-DIR DIR is one more comparison (its reason in DIR/check);
# CASE_ENV=NAME=VALUE is one more environment variable in every mode.
case_() {
  local name=$1 p=$2 in=$3 m dir n why
  shift 3
  [ "$in" = - ] && in=/dev/null
  for m in native hosted vm; do
    dir=$T/c/$name/$m
    mkdir -p "$dir/work"
    [ -d "$T/tpl/$name" ] && cp -a "$T/tpl/$name/." "$dir/work/"
    "run_$m" "$dir" "$in" "$p" "$@"
  done
  n=$T/c/$name/native
  if [ "$(cat "$n/rc")" != 0 ] && [ -z "${EXPECT_ERROR-}" ]; then
    fail "$name native" "exit $(cat "$n/rc"): $(head -c 200 "$n/err")"
    return
  fi
  for m in hosted vm; do
    dir=$T/c/$name/$m
    why=""
    if [ "$(cat "$dir/rc")" != "$(cat "$n/rc")" ]; then
      # The VM's stderr may still share its stdout: then show the end of that.
      local e=$dir/err
      [ -s "$e" ] || e=$dir/out
      why="exit $(cat "$dir/rc") (native $(cat "$n/rc")): $(tail -c 300 "$e" | tr -d '\r' | tr '\n' ' ' | tail -c 200)"
    elif ! cmp -s "$n/out" "$dir/out"; then
      why="stdout differs: $(first_diff "$n/out" "$dir/out")"
    elif [ -d "$T/tpl/$name" ] && ! diff -r "$n/work" "$dir/work" >"$dir/diff" 2>&1; then
      why="files differ: $(head -n2 "$dir/diff" | sed "s|$T/c/$name/||g" | tr '\n' ' ' | head -c 200)"
    elif [ -n "${CHECK-}" ] && ! $CHECK "$n" "$dir"; then
      why="$(cat "$dir/check")"
    fi
    if [ -z "$why" ]; then pass "$name $m"; else fail "$name $m" "$why"; fi
  done
}
# tpl NAME FILE...: the starting content of the case's work/ directory.
tpl() {
  local name=$1
  shift
  mkdir -p "$T/tpl/$name" && cp "$@" "$T/tpl/$name/"
}

# ---- minigzip (zlib) ----
case_ gzip-stdout minigzip - -9 -c data/text.txt
case_ gunzip-stdout minigzip - -d -c data/text.txt.gz
case_ gzip-binary minigzip - -c data/random.bin
case_ gzip-stdin minigzip "$D/text.txt"
tpl gzip-files "$D/text.txt" "$D/random.bin"
case_ gzip-files minigzip - -6 work/text.txt work/random.bin # writes *.gz, removes the originals
tpl gunzip-files "$D/text.txt.gz"
case_ gunzip-files minigzip - -d work/text.txt.gz

# ---- bzip2 ----
case_ bzip2-stdout bzip2 - -9 -c data/text.txt
case_ bunzip2-stdout bzip2 - -d -c data/text.txt.bz2
case_ bzip2-stdin bzip2 "$D/random.bin"
tpl bzip2-files "$D/text.txt" "$D/random.bin"
case_ bzip2-files bzip2 - -k -9 work/text.txt work/random.bin # writes *.bz2, keeps the originals
tpl bunzip2-files "$D/text.txt.bz2"
case_ bunzip2-files bzip2 - -d work/text.txt.bz2
case_ bzip2-test bzip2 - -t -v data/text.txt.bz2

# ---- sqlite3 shell ----
case_ sqlite-script sqlite3 - -batch :memory: ".read data/q.sql"
echo 'select 1;' >"$T/select1.sql"
case_ sqlite-stdin-select1 sqlite3 "$T/select1.sql"
case_ sqlite-stdin-script sqlite3 "$D/q.sql"
# The database: created in work/, then read back on the host by Debian's sqlite3.
readback() { # NATIVE-DIR DIR: the host's sqlite3 reads both databases the same
  local q='select count(*), sum(length(v)) from kv; select * from people order by id; pragma integrity_check;'
  sqlite3 "$1/work/t.db" "$q" >"$2/rb.native" 2>&1
  if ! sqlite3 "$2/work/t.db" "$q" >"$2/rb" 2>&1 || ! cmp -s "$2/rb.native" "$2/rb"; then
    echo "host sqlite3 reads: $(head -c 150 "$2/rb" | tr '\n' ' ')" >"$2/check"
    return 1
  fi
}
mkdir -p "$T/tpl/sqlite-db-files"
CHECK=readback case_ sqlite-db-files sqlite3 - work/t.db ".read data/build.sql"

# Sorting 100,000 rows spills to temporary files, created and unlinked at once in $TMPDIR.
cat >"$D/sort.sql" <<'EOF'
create table t(a integer primary key, b text, c real);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 100000)
  insert into t select i, hex(i * 2654435761 % 1000003), (i * 7) % 1013 from n;
create index t_b on t(b);
select count(distinct b), sum(c), max(b) from t;
EOF
mkdir -p "$T/tpl/sqlite-tempfiles"
CASE_ENV=TMPDIR=work case_ sqlite-tempfiles sqlite3 - -batch :memory: ".read data/sort.sql"

# ---- jq ----
case_ jq-identity jq - . data/data.json
case_ jq-select jq - -c '[.[] | select(.score > 90 and .nested.ok) | {id, name, score}]' data/data.json
case_ jq-raw jq - -r '.[] | select(.id % 50 == 0) | "\(.id)\t\(.name)\t\(.text)"' data/data.json
case_ jq-group jq - -S 'group_by(.tag) | map({tag: .[0].tag, n: length, total: (map(.score) | add), mean: ((map(.ratio) | add) / length)})' data/data.json
case_ jq-stdin jq "$D/data.json" -c '[.[:3][] | .nested] , (map(.score) | sort | .[length / 2])'
case_ jq-math jq - -n -c '[range(1; 30)] | map([., (. / 7), (. | sqrt), (. | log), pow(.; 0.5), (. * 1e15)])'
EXPECT_ERROR=1 case_ jq-error jq - '.[0] | .id | keys' data/data.json # exit status 5 natively

# ---- lua ----
cp tests/real/sjlj.lua "$D/sjlj.lua"
case_ lua-sjlj lua - data/sjlj.lua
case_ lua-stdin lua "$top/tests/real/sjlj.lua" -
# An error nobody catches: the message on stderr, exit status 1, what was printed before kept.
cat >"$D/uncaught.lua" <<'EOF'
local ok, e = pcall(error, { "caught" })
print("before", ok, e[1])
local co = coroutine.wrap(function() coroutine.yield(1) error(setmetatable({}, { __tostring = function() return "escaped" end })) end)
print("yielded", co())
co()
print("never")
EOF
EXPECT_ERROR=1 case_ lua-uncaught lua - data/uncaught.lua
# Files through the io library: written, appended, read back; errors of a missing file.
cat >"$D/files.lua" <<'EOF'
local counts, order = {}, {}
for line in io.lines("data/q.sql") do
  for w in line:gmatch("%a+") do
    w = w:lower()
    if not counts[w] then counts[w] = 0; order[#order + 1] = w end
    counts[w] = counts[w] + 1
  end
end
table.sort(order, function(a, b) return counts[a] > counts[b] or (counts[a] == counts[b] and a < b) end)
local f = assert(io.open("work/words.txt", "w"))
for i = 1, 15 do f:write(string.format("%-12s %d\n", order[i], counts[order[i]])) end
f:close()
f = assert(io.open("work/words.txt", "a"))
f:write("total ", #order, "\n")
f:close()
local n = 0
for _ in io.lines("work/words.txt") do n = n + 1 end
-- The message only: errno numbers differ between Linux and WASI.
local missing, why = io.open("work/missing.txt")
print("lines", n, missing, why)
print(pcall(io.lines, "work/missing.txt"))
EOF
mkdir -p "$T/tpl/lua-files"
case_ lua-files lua - data/files.lua
# bench/real's Lua workloads, small: the same output in every mode (patterns, sorting with
# closures, libm through math.sin/exp/log).
for s in strings:3000 sort-closures:5000 float-math:60; do
  cp "tests/real/${s%%:*}.lua" "$D/"
  case_ "lua-${s%%:*}" lua - "data/${s%%:*}.lua" "${s#*:}"
done
# ---- Kiln's wasi-libc (tools/wasi-libc.sh, tools/patches/wasi-libc/) ----
# The calls its patches change (qsort a merge sort, memcpy/memmove/memset one memory.copy or
# fill, memcmp by words), checked against their contracts natively, hosted and in the VM (tests/real/libc_check.c;
# over Debian's wasi-libc its qsort check fails: smoothsort is neither stable nor within the bound).
single=build/wasi-libc/sysroot-single
if [ ! -f $single/lib/wasm32-wasi/libc.a ]; then
  skip libc "Kiln's wasi-libc was not built: $(head -n1 build/wasi-libc/sysroot.mk 2>/dev/null)"
elif ! clang-19 -O2 tests/real/libc_check.c -o "$T/libc_check" 2>"$T/libc.err" ||
     ! clang-19 --target=wasm32-wasi --sysroot=$single -O2 -mbulk-memory tests/real/libc_check.c \
       -o "$T/libc_check.wasm" 2>>"$T/libc.err"; then
  fail libc "build: $(head -n1 "$T/libc.err")"
else
  want=$("$T/libc_check")
  out=$(timeout 120 ./kiln run --hosted "$T/libc_check.wasm" 2>&1); rc=$?
  if [ $rc = 0 ] && [ "$out" = "$want" ]; then pass libc-hosted; else fail libc-hosted "exit $rc: $(head -n1 <<<"$out")"; fi
  vm_same "$T" libc-vm "$T/libc_check.wasm" "$want"
fi

# ---- CPU time, native vs hosted (informational) ----
# A larger workload per program, best of 3 runs each; user + system seconds.
B=$T/bench
mkdir -p "$B"
for i in 1 2 3 4; do cat "$R/src/sqlite3/bld/sqlite3.c"; done | head -c 16000000 >"$B/big.txt"
python3 -c 'import json,sys; print(json.dumps([{"id": i, "v": [i % 7, str(i)], "s": "x" * (i % 30)} for i in range(120000)]))' >"$B/big.json"
# Temporary b-trees in memory: WASI gives the program no temporary directory.
cat >"$B/bench.sql" <<'EOF'
pragma temp_store = memory;
create table t(a integer primary key, b text, c real);
with recursive n(i) as (select 1 union all select i + 1 from n where i < 300000)
  insert into t select i, hex(i * 2654435761 % 1000003), (i * 7) % 1013 from n;
create index t_b on t(b);
select count(distinct b), sum(c), max(b) from t;
select c, count(*) from t group by c order by 2 desc, 1 limit 5;
EOF
cpu() { # OUT-NAME STDIN COMMAND...: best of 3 user+system seconds of COMMAND, or "failed"
  local i u s best=""
  for i in 1 2 3; do
    /usr/bin/time -f '%U %S' -o "$B/$1.time" "${@:3}" <"$2" >"$B/$1.out" 2>"$B/$1.err" || { echo failed; return; }
    read -r u s <"$B/$1.time"
    best=$(awk -v u="$u" -v s="$s" -v b="$best" 'BEGIN{t = u + s; if (b != "" && b < t) t = b; printf "%.2f", t}')
  done
  echo "$best"
}
bench() { # PROG INPUT ARGS...: native and hosted CPU time of one workload
  local p=$1 in=$2 n h
  shift 2
  n=$(cd "$B" && cpu "$p.native" "$in" "$R/native/$p" "$@")
  if [ $cached = 1 ]; then
    local a=() x
    for x in "$@"; do a+=(--arg "$x"); done
    ./kiln run --hosted "$R/$p.wasm" --dir "$B:/b" "${a[@]}" </dev/null >/dev/null 2>&1 # warm the cache
    h=$(cpu "$p.hosted" "$in" ./kiln run --hosted "$R/$p.wasm" --dir "$B:/b" "${a[@]}")
  else
    h=$(cd "$B" && cpu "$p.hosted" "$in" "$T/bin/$p.d/$p" --dir "$B:/b" -- "$@")
  fi
  local ratio="-"
  [[ $n != failed && $h != failed ]] && ratio=$(awk -v n="$n" -v h="$h" 'BEGIN{printf "%.2fx", (n > 0 ? h / n : 0)}')
  [[ $n == failed ]] || n="$n s"
  [[ $h == failed ]] && h="failed ($(tail -n1 "$B/$p.hosted.err" | head -c 100))" || h="$h s"
  echo "cpu $p ($*): native $n, hosted $h, $ratio"
}
( cd "$B" && ln -s . b )
bench minigzip /dev/null -9 -c b/big.txt
bench bzip2 /dev/null -9 -k -f b/big.txt # to a file: hosted stdout still claims a terminal, which bzip2 refuses
bench sqlite3 "$B/bench.sql" -batch :memory:
bench jq /dev/null -c 'map(select(.id % 3 == 0) | .v[1] + .s) | length' b/big.json
cp tests/real/binary-trees.lua "$B/"
bench lua /dev/null b/binary-trees.lua 16
finish
