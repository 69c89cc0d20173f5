#!/bin/sh
# spread.sh — the gossip and swim benchmark (issue 18): rounds to full spread on real processes
# beside the simulator (the same mode hosted in the lab, sim=on) and log2 N + ln N; push-pull at
# 64; the simulated distribution up to 1,000 nodes (conlab bench spread); SWIM's time to detect
# a crash and its false positives at 100 members with 10 % loss; start-up time, open fds and RSS per node at 100 nodes. Prints figures; passes or fails nothing.
#
#   CONLAB_BIN=bin sh lab/bench/spread.sh [SIZES] [RUMORS]      (default "16 32 64 100", 5)
set -u
BIN=${CONLAB_BIN:-bin}
SIZES=${1:-16 32 64 100}
RUMORS=${2:-5}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# rounds N OPTS: the mean rounds over RUMORS rumors, each started on another node
rounds() {
  n=$1; shift
  {
    echo "start gossip $n $* events=state auth=off"
    i=1
    while [ "$i" -le "$RUMORS" ]; do
      echo "rumor n$(( (i * 7) % n + 1 )) r$i"
      echo "wait rumor r$i 300s"
      i=$((i + 1))
    done
  } > "$tmp/r.lab"
  "$BIN/conlab" script "$tmp/r.lab" 2>&1 | tee "$tmp/r.out" |
    awk '/^all [0-9]+ (live )?nodes after/ { for (i = 1; i <= NF; i++) if ($i == "after") { s += $(i+1); k++ } }
         END { if (k) printf "%.1f (%d rumors)", s / k, k; else printf "- (none spread)" }'
}

echo "== gossip: mean rounds to full spread, push fanout 1 (rounds counted along each rumor's path)"
printf '%-5s %-22s %-22s %-10s %s\n' N real simulator "log2N+lnN" "real/sim"
for n in $SIZES; do
  real=$(rounds "$n" "style=push")
  sim=$(rounds "$n" "style=push sim=on seed=$n")
  theory=$(awk -v n="$n" 'BEGIN { printf "%.1f", log(n) / log(2) + log(n) }')
  ratio=$(echo "$real $sim" | awk '{ if ($4 + 0 > 0) printf "%.2f", $1 / $4; else print "-" }')
  printf '%-5s %-22s %-22s %-10s %s\n' "$n" "$real" "$sim" "$theory" "$ratio"
done
echo "-- push-pull at 64"
printf '%-5s %-22s %-22s\n' 64 "$(rounds 64 style=push-pull)" "$(rounds 64 "style=push-pull sim=on seed=64")"

echo "== the simulator's distribution up to 1,000 nodes (conlab bench spread: no stop rule, no anti-entropy)"
"$BIN/conlab" bench spread --nodes "16,32,64,100,256,1000" --seeds 10

echo "== 100 nodes: start-up, fds and RSS per node (gossip, auth=off and auth=curve; peer sockets"
echo "   made up front, peers=eager, or at the first message to each peer, peers=lazy: the default"
echo "   above 16 nodes)"
for auth in off curve; do
 for peers in eager lazy; do
  printf 'start gossip 100 events=state auth=%s peers=%s\nwait 20s\n' "$auth" "$peers" > "$tmp/s.lab"
  "$BIN/conlab" script "$tmp/s.lab" > "$tmp/s.out" 2>&1 &
  lab=$!
  k=0
  while [ "$k" -lt 1200 ]; do
    c=$(pgrep -P "$lab" conlab-node 2>/dev/null | wc -l)
    [ "$c" -ge 100 ] && grep -q '^started' "$tmp/s.out" && break
    sleep 0.1
    k=$((k + 1))
  done
  sleep 3
  fds=0; rss=0; m=0
  for p in $(pgrep -P "$lab" conlab-node); do
    f=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
    r=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    fds=$((fds + f)); rss=$((rss + ${r:-0})); m=$((m + 1))
  done
  wait "$lab"
  echo "auth=$auth peers=$peers: $(grep '^started' "$tmp/s.out"); per node (of $m): $((fds / (m > 0 ? m : 1))) fds, $((rss / (m > 0 ? m : 1))) kB RSS"
 done
done

echo "== swim, 100 members, 10 % loss: time to detect a crash, false positives"
for lhm in off on; do
  cat > "$tmp/w.lab" <<EOF
start swim 100 events=state auth=off lhm=$lhm
wait 5s
loss 10
wait 30s
crash n42
wait dead n42 300s
EOF
  "$BIN/conlab" script "$tmp/w.lab" > "$tmp/w.out" 2>&1
  echo "lhm=$lhm: $(grep -E '^all [0-9]+ live members' "$tmp/w.out" || tail -n 2 "$tmp/w.out")"
done
echo "(false positives: suspect or dead declarations, one per member that makes one, about members"
echo " that were up and never paused; 30 s at 10 % loss before the crash)"
