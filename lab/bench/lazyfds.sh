#!/bin/sh
# lazyfds.sh — fds and RSS per node over a run of 100 gossip nodes with lazy peer connections
# (peers=lazy), with idle connections kept (peer_idle=0, as before) and closed after the
# default peer_idle=2s (or those given): sampled 3 s, 10 s and 25 s after the start. Prints
# figures; passes or fails nothing.
#   CONLAB_BIN=bin sh lab/bench/lazyfds.sh [N] [IDLES]
set -u
BIN=${CONLAB_BIN:-bin}
N=${1:-100}
IDLES=${2:-"0 2s"}
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM

sample() { # lab pid -> "fds kB" averaged over its nodes
  fds=0; rss=0; m=0
  for p in $(pgrep -P "$1" conlab-node); do
    f=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
    r=$(awk '/^VmRSS/ { print $2 }' "/proc/$p/status" 2>/dev/null)
    fds=$((fds + f)); rss=$((rss + ${r:-0})); m=$((m + 1))
  done
  [ "$m" -gt 0 ] || m=1
  echo "$((fds / m)) fds $((rss / m)) kB"
}

echo "== $N gossip nodes, peers=lazy, events=state auth=off: per node, at 3 s / 10 s / 25 s"
for idle in $IDLES; do
  printf 'start gossip %s events=state auth=off peers=lazy peer_idle=%s\nwait 30s\n' "$N" "$idle" > "$tmp/s.lab"
  "$BIN/conlab" script "$tmp/s.lab" > "$tmp/s.out" 2>&1 &
  lab=$!
  k=0
  while [ "$k" -lt 1200 ]; do
    grep -q '^started' "$tmp/s.out" && break
    sleep 0.1
    k=$((k + 1))
  done
  sleep 3; a=$(sample "$lab")
  sleep 7; b=$(sample "$lab")
  sleep 15; c=$(sample "$lab")
  wait "$lab"
  echo "peer_idle=$idle: $(grep '^started' "$tmp/s.out"); 3 s: $a; 10 s: $b; 25 s: $c"
done
