#!/bin/sh
# wan.sh — the course's latency argument for multi-leader, measured in one run (issue 15).
# Three data centres with 80 ms (dc1<->dc2) and 150 ms (dc1<->dc3) between them:
#   1. multileader, 6 nodes, dcs=3, no delay: a put inside one data centre (the baseline);
#   2. the same with the WAN delays: puts still go to the local leader (replication between
#      data centres is asynchronous), so p50 should stay within 1.5x of the baseline;
#   3. leader repl=sync, 3 nodes (one per data centre), the same delays: every put waits for
#      followers across the WAN.
# Then the catch-up of 10,000 divergent keys after heal (simulator). Prints figures and ratios.
#   sh lab/bench/wan.sh [SECONDS] [CLIENTS]
set -u
BIN=${CONLAB_BIN:-bin}
S=${1:-5}
C=${2:-8}
p50() { sed -n 's/.*"p50_ms":\([0-9.]*\).*/\1/p' | tail -n 1; }
run() { "$BIN/conlab" bench --seconds "$S" --clients "$C" --json "$@" 2>/dev/null | grep '^{' | tail -n 1; }
local_json=$(run --mode multileader --nodes 6 --opt dcs=3)
wan_json=$(run --mode multileader --nodes 6 --opt dcs=3 \
  --setup "delay dc1->dc2 80" --setup "delay dc2->dc1 80" --setup "delay dc1->dc3 150" --setup "delay dc3->dc1 150")
sync_json=$(run --mode leader --nodes 3 --opt repl=sync \
  --setup "delay n1->n2 80" --setup "delay n2->n1 80" --setup "delay n1->n3 150" --setup "delay n3->n1 150")
a=$(echo "$local_json" | p50); b=$(echo "$wan_json" | p50); c=$(echo "$sync_json" | p50)
echo "multileader, one data centre, no WAN delay:        p50 ${a:-?} ms   $local_json"
echo "multileader, 80/150 ms between data centres:       p50 ${b:-?} ms   $wan_json"
echo "leader repl=sync, the same 80/150 ms links:        p50 ${c:-?} ms   $sync_json"
if [ -n "$a" ] && [ -n "$b" ] && [ -n "$c" ]; then
  awk -v a="$a" -v b="$b" -v c="$c" 'BEGIN {
    printf "ratio multileader WAN / local: %.2fx (goal: at most 1.5x)\n", (a > 0 ? b / a : 0);
    printf "ratio leader sync WAN / multileader WAN: %.1fx (the WAN round trip a local write avoids)\n", (b > 0 ? c / b : 0) }'
fi
"$BIN/conlab" bench catchup --mode multileader --nodes 3 --keys 10000 --opt dcs=3 --opt conflict=siblings
