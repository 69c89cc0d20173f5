#!/bin/sh
# `conlab demo`: the cheat sheet of a fixed lesson is what tests/lessons/demo/demo-fixture.md
# says (the generator of docs/demo/, tested on a lesson no branch edits); the player runs the
# lesson's solution with its checks, waits for a key before each step, and q stops it.
bin=${CONLAB_BIN:-bin}
CONLAB_LESSONS=tests/lessons/demo
XDG_DATA_HOME=$(mktemp -d) || exit 2
export CONLAB_LESSONS XDG_DATA_HOME
trap 'rm -rf "$XDG_DATA_HOME"' EXIT INT TERM
fail() { echo "FAIL $*"; exit 1; }
"$bin/conlab" demo demo-fixture --sheet > "$XDG_DATA_HOME/sheet.md" || fail "demo --sheet exited $?"
cmp -s "$XDG_DATA_HOME/sheet.md" tests/lessons/demo/demo-fixture.md ||
  fail "the cheat sheet differs: $(diff tests/lessons/demo/demo-fixture.md "$XDG_DATA_HOME/sheet.md" | head -20)"
out=$(printf ' \n' | "$bin/conlab" demo demo-fixture 2>&1) || fail "demo exited $?: $out"
echo "$out" | grep -q "ok: every step of lesson demo-fixture passed" || fail "not every step passed: $out"
[ "$(echo "$out" | grep -c 'space or Enter')" = 2 ] || fail "expected two pauses: $out"
out=$(printf 'q' | "$bin/conlab" demo demo-fixture 2>&1) || fail "demo stopped by q exited $?"
echo "$out" | grep -q "conlab> send n1" && fail "q did not stop before step 1: $out"
out=$("$bin/conlab" demo demo-fixture --pace 0 2>&1) || fail "demo --pace 0 exited $?: $out"
echo "$out" | grep -q "space or Enter" && fail "--pace waited for a key: $out"
"$bin/conlab" demo no-such-lesson > /dev/null 2>&1
[ $? = 2 ] || fail "an unknown lesson is not exit 2"
exit 0
