#!/bin/sh
# Terminal tests under tmux (tests/tui/*.sh). Prints "N passed, M failed".
bin=${CONLAB_BIN:-bin}
export CONLAB_BIN="$bin"
if ! command -v tmux >/dev/null 2>&1; then
  echo "tmux is not installed: terminal tests skipped"
  echo "0 passed, 0 failed"
  exit 0
fi
pass=0
fail=0
for f in tests/tui/*.sh; do
  [ -e "$f" ] || continue
  out=$(timeout 120 sh "$f" 2>&1)
  rc=$?
  if [ "$rc" = 0 ]; then
    pass=$((pass + 1)); echo "ok   $f"
  else
    fail=$((fail + 1)); echo "FAIL $f (exit $rc):"; echo "$out" | tail -n 30 | sed 's/^/    /'
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
