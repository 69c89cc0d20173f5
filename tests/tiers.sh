#!/bin/sh
# tiers.sh "TIER TIER..." "TIER..." — `make check`'s test tiers in groups that run side by side:
# the tiers of one group one after another (stopping at the first that fails), the groups at
# the same time. `make check` pairs a group that mostly waits (real processes on timers and
# sockets, terminal tests) with one that mostly computes (valgrind, ASan), so a 2-core machine
# runs both in about the time of the longer. Each tier's output goes to a log, printed whole
# when its group ends; a line says at once when each tier starts and how long it took. Exits 1 when any
# tier failed, naming them.
make=${MAKE:-make}
logs=$(mktemp -d) || exit 2
trap 'rm -rf "$logs"' EXIT INT TERM
stamp() { date +%H:%M:%S; }

group() {  # N "TIERS"
  for t in $2; do
    echo "$(stamp) tier $t: started" >&3
    start=$(date +%s)
    if $make --no-print-directory "$t" > "$logs/$t.log" 2>&1; then
      msg="$(stamp) tier $t: passed in $(( $(date +%s) - start )) s"
      echo "$msg" >&3
      echo "$msg"
      sed "s/^/[$t] /" "$logs/$t.log" | tail -n 40
    else
      echo "$(stamp) tier $t: FAILED after $(( $(date +%s) - start )) s" >&3
      echo "$(stamp) tier $t: FAILED after $(( $(date +%s) - start )) s; its output:"
      sed "s/^/[$t] /" "$logs/$t.log"
      echo "$t" >> "$logs/failed"
      return 1
    fi
  done
}

exec 3>&1   # progress lines go straight to the terminal
n=0
pids=""
for g in "$@"; do
  n=$((n + 1))
  # each group's report is written whole to the terminal at its end, not interleaved
  ( group $n "$g" > "$logs/group.$n" 2>&1; cat "$logs/group.$n" ) &
  pids="$pids $!"
done
wait $pids
if [ -s "$logs/failed" ]; then
  echo "make check: these tiers failed: $(tr '\n' ' ' < "$logs/failed")"
  exit 1
fi
exit 0
