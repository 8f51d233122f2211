#!/usr/bin/env bash
# tests/spec/run.sh — the runtime self-test (full spec-suite harness follows).
set -uo pipefail
cd "$(dirname "$0")/../.."
. tests/lib.sh
make -s -j2 build/spec/selftest >/dev/null || { fail runtime/build "make build/spec/selftest failed"; finish; exit 1; }
while IFS= read -r line; do
  case $line in
    "PASS "*) pass "${line#PASS }" ;;
    "FAIL "*) r=${line#FAIL }; fail "${r%%: *}" "${r#*: }" ;;
  esac
done < <(build/spec/selftest 2>&1)
finish
