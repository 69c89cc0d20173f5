#!/bin/sh
# truetime.sh — commit latency against TrueTime's ε, measured in one run (issue 15, lesson 35).
# For each ε: the spanner mode with commit-wait, and the same mode with bug=no-commit-wait
# (identical replication: a majority round trip and an fsync), writes only. Prints the p50 of
# each, the commit-wait's share (with / without) and the expected 2ε; the wait should track 2ε.
#   sh lab/bench/truetime.sh [SECONDS] [CLIENTS] [EPSILONS...]
set -u
BIN=${CONLAB_BIN:-bin}
S=${1:-3}
C=${2:-4}
shift 2 2>/dev/null || shift $#
EPS=${*:-1ms 5ms 10ms 25ms 50ms}
p50() { sed -n 's/.*"p50_ms":\([0-9.]*\).*/\1/p' | tail -n 1; }
run() { "$BIN/conlab" bench --mode spanner --nodes 3 --seconds "$S" --clients "$C" --reads 0 --json "$@" 2>/dev/null | grep '^{' | tail -n 1; }
printf '%-8s %14s %17s %8s %14s\n' "epsilon" "p50 with wait" "p50 without wait" "ratio" "2*epsilon"
for e in $EPS; do
  w=$(run --opt "epsilon=$e" | p50)
  n=$(run --opt "epsilon=$e" --opt bug=no-commit-wait | p50)
  awk -v e="$e" -v w="${w:-0}" -v n="${n:-0}" 'BEGIN {
    ms = e; sub(/ms$/, "", ms); if (e ~ /us$/) { ms = e; sub(/us$/, "", ms); ms /= 1000 } else if (e ~ /[0-9]s$/) { ms = e; sub(/s$/, "", ms); ms *= 1000 }
    printf "%-8s %11.3f ms %14.3f ms %7.1fx %11.1f ms\n", e, w, n, (n > 0 ? w / n : 0), 2 * ms }'
done
