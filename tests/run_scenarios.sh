#!/bin/sh
# Real-process tests: every tests/scenarios/*.lab through `conlab script` (a first-line
# comment "# expect-exit: N" says which exit status is right; default 0), then every
# tests/proc/*.sh. Each is bounded by a timeout: 180 s, or what a "# timeout: SECONDS" comment
# in the file's first lines says. Prints "N passed, M failed".
bin=${CONLAB_BIN:-bin}
export CONLAB_BIN="$bin"
pass=0
fail=0
failed=""
limit() { t=$(head -n 8 "$1" | sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' | head -n 1); echo "${t:-180}"; }
for f in tests/scenarios/*.lab; do
  [ -e "$f" ] || continue
  want=$(sed -n 's/^# expect-exit: *\([0-9]\).*/\1/p' "$f" | head -n 1)
  want=${want:-0}
  out=$(timeout "$(limit "$f")" "$bin/conlab" script "$f" 2>&1)
  rc=$?
  if [ "$rc" = "$want" ]; then
    pass=$((pass + 1))
    echo "ok   $f"
  else
    fail=$((fail + 1))
    failed="$failed $f"
    echo "FAIL $f (exit $rc, wanted $want):"
    echo "$out" | tail -n 25 | sed 's/^/    /'
  fi
done
for f in tests/proc/*.sh; do
  [ -e "$f" ] || continue
  out=$(timeout "$(limit "$f")" sh "$f" 2>&1)
  rc=$?
  if [ "$rc" = 0 ]; then
    pass=$((pass + 1))
    echo "ok   $f"
  else
    fail=$((fail + 1))
    failed="$failed $f"
    echo "FAIL $f (exit $rc):"
    echo "$out" | tail -n 25 | sed 's/^/    /'
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
