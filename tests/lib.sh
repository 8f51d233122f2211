# tests/lib.sh — sourced by tests/<suite>/run.sh: counting cases and the closing line.
#   pass NAME | fail NAME WHY | skip NAME REASON | finish (prints "N passed, N failed[, N skipped]")
T_PASS=0 T_FAIL=0 T_SKIP=0
pass() { T_PASS=$((T_PASS + 1)); echo "PASS $1"; }
fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL $1: $2"; }
skip() { T_SKIP=$((T_SKIP + 1)); echo "SKIP $1: $2"; }
# check NAME COMMAND...: pass if the command succeeds, else fail with its last output line.
check() {
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then pass "$name"; else fail "$name" "$(tail -n1 <<<"$out")"; fi
}
# relay [PREFIX] < OUTPUT: counts the PASS/FAIL/SKIP lines another program printed
# ("FAIL name: why") as our own cases, names prefixed with PREFIX; other lines are ignored.
relay() {
  local prefix=${1-} line r
  while IFS= read -r line; do
    case $line in
      "PASS "*) pass "$prefix${line#PASS }" ;;
      "FAIL "*) r=${line#FAIL }; fail "$prefix${r%%: *}" "${r#*: }" ;;
      "SKIP "*) r=${line#SKIP }; skip "$prefix${r%%: *}" "${r#*: }" ;;
    esac
  done
}
# wait_line NAME TEXT SECONDS: until $T/NAME.log shows TEXT; fails at once if the process whose
# pid is in $T/NAME.pid has exited, and after SECONDS.
wait_line() {
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    grep -qsF "$2" "$T/$1.log" && return 0
    kill -0 "$(cat "$T/$1.pid")" 2>/dev/null || return 1
    sleep 0.05
  done
  return 1
}
finish() {
  if [ "$T_SKIP" -gt 0 ]; then echo "$T_PASS passed, $T_FAIL failed, $T_SKIP skipped"
  else echo "$T_PASS passed, $T_FAIL failed"; fi
  [ "$T_FAIL" -eq 0 ]
}
