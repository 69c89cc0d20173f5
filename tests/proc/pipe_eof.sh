#!/bin/sh
# The plain REPL on a pipe ends promptly at end of input, stopping its nodes.
bin=${CONLAB_BIN:-bin}
start=$(date +%s)
out=$(printf 'start leader 3\nstatus\n' | timeout 20 "$bin/conlab" --plain 2>&1)
rc=$?
took=$(( $(date +%s) - start ))
echo "$out" | grep -q '^n3 leader follower' || { echo "no status line for n3:"; echo "$out"; exit 1; }
[ "$rc" = 0 ] || { echo "exit $rc"; exit 1; }
[ "$took" -le 5 ] || { echo "took ${took}s to end after end of input"; exit 1; }
