#!/bin/sh
# ringconv.sh — how long the leaderless ring (membership=swim) takes to converge after a join
# and after a decommission, on real processes: N nodes, 100 keys written, then `join` one more node
# and `decommission n2`. For each: the stream (the joiner pulling its ranges in, the leaver pushing
# its ranges out) and the time until every other node's view holds the change (each node's
# `member` event), both from the change's first `stream` event. Prints figures; passes or
# fails nothing. The ring's nodes are at most 16 (the mode's per-node tables).
#   CONLAB_BIN=bin sh lab/bench/ringconv.sh [SIZES]
set -u
BIN=${CONLAB_BIN:-bin}
SIZES=${1:-"4 8 15"}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

# the event time (seconds, "0.586s") in the line after a wait
t_of() { awk -v pat="$1" 'found { for (i = 1; i <= NF; i++) if ($i ~ /^[0-9.]+s$/) { sub(/s$/, "", $i); print $i; exit } } index($0, pat) { found = 1 }' "$2"; }

echo "== leaderless membership=swim (swim_period=200ms), 100 keys, real processes, events=state"
printf '%-4s %-16s %-16s %-20s %-22s\n' N "join: stream" "join: all views" "decommission: stream" "decommission: all views"
for n in $SIZES; do
  j=$((n + 1)); jid="n$j"
  {
    echo "start leaderless $n membership=swim events=state auth=off"
    k=0
    while [ "$k" -lt 100 ]; do echo "put k$k v$k @n$((k % n + 1))"; k=$((k + 1)); done
    echo "join $jid"
    echo "wait event stream $jid what=start since=start 60s"
    echo "wait event stream $jid what=done state=normal since=start 60s"
    i=1
    while [ "$i" -le "$n" ]; do echo "wait event member n$i member=$jid status=joined since=start 60s"; i=$((i + 1)); done
    echo "decommission n2"
    echo "wait event stream n2 what=start state=leaving since=start 60s"
    echo "wait event stream n2 what=done state=left since=start 60s"
    i=1
    while [ "$i" -le "$j" ]; do
      [ "$i" = 2 ] || echo "wait event member n$i member=n2 status=left since=start 60s"
      i=$((i + 1))
    done
  } > "$tmp/r.lab"
  "$BIN/conlab" script "$tmp/r.lab" > "$tmp/r.out" 2>&1 || { echo "N=$n: the script failed:"; tail -5 "$tmp/r.out"; continue; }
  js=$(t_of "stream $jid what=start" "$tmp/r.out"); jd=$(t_of "stream $jid what=done" "$tmp/r.out")
  jv=$(grep -A1 "member=$jid status=joined" "$tmp/r.out" | grep -o ' [0-9.]*s ' | tr -d ' s' | sort -n | tail -1)
  rs=$(t_of "stream n2 what=start" "$tmp/r.out"); rd=$(t_of "stream n2 what=done" "$tmp/r.out")
  rv=$(grep -A1 "member=n2 status=left" "$tmp/r.out" | grep -o ' [0-9.]*s ' | tr -d ' s' | sort -n | tail -1)
  keys=$(grep -A1 "stream $jid what=done" "$tmp/r.out" | grep -o 'items=[0-9]*' | head -1)
  rkeys=$(grep -A1 "stream n2 what=done" "$tmp/r.out" | grep -o 'items=[0-9]*' | head -1)
  awk -v n="$n" -v js="$js" -v jd="$jd" -v jv="$jv" -v rs="$rs" -v rd="$rd" -v rv="$rv" -v k1="$keys" -v k2="$rkeys" 'BEGIN {
    printf "%-4s %-16s %-16s %-20s %-22s\n", n, sprintf("%.0f ms", (jd - js) * 1000) " " k1, sprintf("%.0f ms", (jv - js) * 1000),
           sprintf("%.0f ms", (rd - rs) * 1000) " " k2, sprintf("%.0f ms", (rv - rs) * 1000) }'
done
