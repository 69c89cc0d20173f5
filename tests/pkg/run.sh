#!/bin/sh
# The packaging tier of `make check` (make check-pkg): every tests/pkg/*.sh but this one, each
# bounded by a timeout (300 s, or a "# timeout: SECONDS" line in its first lines). Prints
# "N passed, M failed". Needs CONLAB_BIN (the built programs) and BUILD (where `make` put the
# man pages).
pass=0
fail=0
for f in tests/pkg/*.sh; do
  [ "$f" = tests/pkg/run.sh ] && continue
  start=$(date +%s)
  t=$(head -n 8 "$f" | sed -n 's/^# timeout: *\([0-9][0-9]*\).*/\1/p' | head -n 1)
  out=$(timeout "${t:-300}" sh "$f" 2>&1)
  rc=$?
  secs=$(( $(date +%s) - start ))
  if [ "$rc" = 0 ]; then
    pass=$((pass + 1))
    echo "ok   $f (${secs}s)"
  else
    fail=$((fail + 1))
    echo "FAIL $f (exit $rc):"
    printf '%s\n' "$out" | tail -n 30 | sed 's/^/    /'
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
