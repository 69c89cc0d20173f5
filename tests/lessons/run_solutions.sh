#!/bin/sh
# run_solutions.sh — runs every shipped lesson's solution path against a real cluster:
# `conlab lesson script ID` writes the lesson as a conlab script (start, each step's solution,
# `lesson-check STEP TIMEOUT` after each), and `conlab script -` runs it. A lesson fails when
# any check does not pass in time. Meant to be called from tests/run_scenarios.sh (make check);
# needs the lab's `lesson-begin`, `lesson-check` and `lesson-end` script commands.
#
#   CONLAB_BIN=bin sh tests/lessons/run_solutions.sh [ID...]
set -u
BIN=${CONLAB_BIN:-bin}
CONLAB_LESSONS=${CONLAB_LESSONS:-lessons}
export CONLAB_LESSONS
XDG_DATA_HOME=$(mktemp -d) || exit 2
export XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT INT TERM
ids="$*"
if [ -z "$ids" ]; then
  ids=$("$BIN/conlab" lesson list --ids)
  if [ -z "$ids" ]; then
    echo "FAIL no lessons found in $CONLAB_LESSONS"
    exit 1
  fi
fi
fail=0
failed=""
for id in $ids; do
  start=$(date +%s)
  script="$XDG_DATA_HOME/$id.lab"
  if ! "$BIN/conlab" lesson script "$id" > "$script" 2> "$XDG_DATA_HOME/$id.log"; then
    echo "FAIL $id: no solution script"
    sed 's/^/    /' "$XDG_DATA_HOME/$id.log"
    fail=1
    failed="$failed $id"
    continue
  fi
  if timeout 240 "$BIN/conlab" script "$script" > "$XDG_DATA_HOME/$id.log" 2>&1; then
    echo "ok   $id ($(( $(date +%s) - start ))s)"
  else
    echo "FAIL $id: see below"
    sed 's/^/    /' "$XDG_DATA_HOME/$id.log" | tail -n 30
    fail=1
    failed="$failed $id"
  fi
done
[ -z "$failed" ] || echo "FAILED LESSONS:$failed"
exit $fail
