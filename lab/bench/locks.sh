#!/bin/sh
# locks.sh — issue 19's figures, measured in one run on real processes (fsync on):
#   1. redlock, 3 instances: acquire/release pairs per second with 16 contending clients
#      (`contend`: 6 on n1, 5 on n2, 5 on n3, closed loop, empty critical section);
#   2. redlock: the time a waiting client takes to get the lock after the holder's node is
#      crashed (the holder's lease must run out on the instances: LEASE, default 1 s);
#   3. beside them, the ZooKeeper-like lock's same two figures, from `conlab bench lock
#      --service zk --json` when this build has it (16 named clients, the holder's session
#      expires after 1 s); the ratios redlock/zk are printed;
#   4. the leader mode's automatic failover after the leader is cut off, without and with
#      stonith=on (the new leader has the lab power the old one off first): TRIALS each.
# Prints figures and ratios; passes or fails nothing.
#   sh lab/bench/locks.sh [SECONDS] [TRIALS] [LEASE_MS]
set -u
BIN=${CONLAB_BIN:-bin}
S=${1:-5}
T=${2:-3}
L=${3:-1000}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# the `after Nms` of the lines a script's `wait NODE ROLE` printed, one per line
afters() { sed -n 's/.* is [a-z]* .*after \([0-9]*\)ms.*/\1/p'; }
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)]; else print "" }'; }

# 1. pairs per second
cat > "$tmp/pairs.lab" <<EOF
start redlock 3 fsync=on
status
contend n1 orders 6 lease=${L}ms
contend n2 orders 5 lease=${L}ms
contend n3 orders 5 lease=${L}ms
wait 1s
status
wait ${S}s
status
contend n1 orders 0
contend n2 orders 0
contend n3 orders 0
EOF
"$BIN/conlab" script "$tmp/pairs.lab" > "$tmp/pairs.out" 2>&1
pairs_sum() { awk '/ redlock / { for (i = 1; i <= NF; i++) if ($i ~ /^pairs=/) { sub("pairs=", "", $i); s += $i } } END { print s + 0 }'; }
# the second and third `status` blocks: the pairs made during the S seconds between them
p1=$(awk '/^conlab> status/ { k++ } k == 2' "$tmp/pairs.out" | pairs_sum)
p2=$(awk '/^conlab> status/ { k++ } k == 3' "$tmp/pairs.out" | pairs_sum)
rl_pairs=$(awk -v a="$p1" -v b="$p2" -v s="$S" 'BEGIN { printf "%.0f", (b - a) / s }')
per_node=$(awk '/^conlab> status/ { k++ } k == 3 && / redlock / { for (i = 1; i <= NF; i++) if ($i ~ /^pairs=/) printf "%s %s  ", $1, $i }' "$tmp/pairs.out")
echo "redlock, 3 instances, 16 clients, fsync on: ${rl_pairs} acquire/release pairs/s  (${per_node}over ${S}s)"

# 2. takeover after the holder's crash
: > "$tmp/takeover.txt"
i=0
while [ "$i" -lt "$T" ]; do
  cat > "$tmp/take.lab" <<EOF
start redlock 3 fsync=on work=0
acquire n1 orders lease=${L}ms
wait n1 holder 30s
acquire n2 orders lease=${L}ms wait=60s
wait n2 acquiring 30s
crash n1
wait n2 holder 60s
EOF
  "$BIN/conlab" script "$tmp/take.lab" 2>&1 | afters | tail -n 1 >> "$tmp/takeover.txt"
  i=$((i + 1))
done
rl_take=$(median < "$tmp/takeover.txt")
echo "redlock, holder crashed: a waiting client takes the lock after ${rl_take:-?} ms (median of $T; lease ${L} ms; trials: $(tr '\n' ' ' < "$tmp/takeover.txt"))"

# 3. the ZooKeeper-like lock beside it (`conlab bench lock`, from the zab mode's service=zk)
if "$BIN/conlab" bench lock --help >/dev/null 2>&1; then
  zk=$("$BIN/conlab" bench lock --service zk --clients 16 --seconds "$S" --rounds "$T" --json 2>/dev/null | grep '^\[' | tail -n 1)
  zk_pairs=$(echo "$zk" | sed -n 's/.*"pairs_per_s":\([0-9.]*\).*/\1/p')
  zk_take=$(echo "$zk" | sed -n 's/.*"takeover_p50_ms":\([0-9.]*\).*/\1/p')
  zk_mutex=$(echo "$zk" | sed -n 's/.*"mutex_holds":\([a-z]*\).*/\1/p')
  echo "zk (zab service=zk), 3 nodes, 16 clients, fsync on: ${zk_pairs:-?} pairs/s; takeover after the holder's crash ${zk_take:-?} ms (session 1 s); check mutex holds: ${zk_mutex:-?}"
  if [ -n "$zk_pairs" ] && [ -n "$zk_take" ] && [ -n "$rl_take" ]; then
    awk -v a="$rl_pairs" -v b="$zk_pairs" -v c="$rl_take" -v d="$zk_take" 'BEGIN {
      printf "ratio redlock / zk: pairs/s %.2fx, takeover %.2fx\n", (b > 0 ? a / b : 0), (d > 0 ? c / d : 0) }'
  fi
else
  echo "zk: this build has no \`conlab bench lock\`: the ZooKeeper-like lock's figures are not in this run"
fi

# 4. failover without and with STONITH
for st in off on; do
  : > "$tmp/fo-$st.txt"
  i=0
  while [ "$i" -lt "$T" ]; do
    cat > "$tmp/fo.lab" <<EOF
start leader 3 failover=auto stonith=$st
put x 0
wait converged 30s
isolate n1
wait n2 leader 30s
EOF
    "$BIN/conlab" script "$tmp/fo.lab" 2>&1 | afters | tail -n 1 >> "$tmp/fo-$st.txt"
    i=$((i + 1))
  done
done
off=$(median < "$tmp/fo-off.txt")
on=$(median < "$tmp/fo-on.txt")
echo "leader failover after the leader is cut off, stonith=off: ${off:-?} ms (median of $T: $(tr '\n' ' ' < "$tmp/fo-off.txt"))"
echo "leader failover after the leader is cut off, stonith=on:  ${on:-?} ms (median of $T: $(tr '\n' ' ' < "$tmp/fo-on.txt")); the old leader is dead before the new one serves"
if [ -n "$off" ] && [ -n "$on" ]; then
  awk -v a="$on" -v b="$off" 'BEGIN { printf "ratio failover with / without STONITH: %.3fx (+%d ms for the power-off round trip through the lab)\n", (b > 0 ? a / b : 0), a - b }'
fi
