#!/bin/sh
# compare.sh — Raft, Multi-Paxos and ZAB on one workload, in one run, one table (issue 14):
# the same closed-loop put load through the lab's gateway (`conlab bench`), then the same
# leader SIGKILL T times, for each protocol; the trials alternate between the protocols
# (raft, paxos, zab, raft, …) so that the machine's load hits them alike, and each figure is
# the median over the rounds.
#
#   lab/bench/compare.sh [--rounds R] [--seconds S] [--clients C] [--nodes N] [--elections T]
#
# Figures per protocol: throughput (ok ops/s), commit latency p50 and p99 (ms, client send
# to reply), messages between nodes per committed write and fsyncs per committed write (every
# node, heartbeats included: the nodes' own counters), time without a leader after the
# leader's SIGKILL (ms until a node announces itself leader in a newer term or epoch). The
# three run with comparable timeouts: heartbeat 50 ms, election 150 ms, fsync on.
set -u
BIN=${CONLAB_BIN:-bin}
rounds=3 seconds=5 clients=16 nodes=3 elections=3
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --clients) clients=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    --elections) elections=$2; shift 2 ;;
    *) echo "usage: $0 [--rounds R] [--seconds S] [--clients C] [--nodes N] [--elections T]" >&2; exit 2 ;;
  esac
done
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT INT TERM
run() { # name, then bench arguments
  name=$1; shift
  "$BIN/conlab" bench "$@" --nodes "$nodes" --clients "$clients" --seconds "$seconds" \
      --elections "$elections" --json 2>/dev/null | tail -n 1 >> "$tmp/$name"
}
r=1
while [ "$r" -le "$rounds" ]; do
  run raft --mode raft
  run multi-paxos --mode paxos --opt multi=on
  run zab --mode zab
  r=$((r + 1))
done
# field NAME FILE: one number per line (election_ms: every trial)
field() {
  if [ "$1" = election_ms ]; then
    sed -n 's/.*"election_ms":\[\([^]]*\)\].*/\1/p' "$2" | tr ',' '\n' | sed '/^$/d'
  else
    sed -n "s/.*\"$1\":\([0-9.]*\).*/\1/p" "$2"
  fi
}
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%s nodes, %s clients, %s s of puts per trial, %s rounds alternating, fsync on; medians\n' "$nodes" "$clients" "$seconds" "$rounds"
printf '%-12s %10s %9s %9s %11s %12s %13s\n' protocol "ops/s" "p50 ms" "p99 ms" "msgs/write" "fsyncs/write" "no leader ms"
for p in raft multi-paxos zab; do
  f="$tmp/$p"
  [ -s "$f" ] || { printf '%-12s (no result)\n' "$p"; continue; }
  printf '%-12s %10s %9s %9s %11s %12s %13s\n' "$p" "$(field throughput "$f" | median)" \
      "$(field p50_ms "$f" | median)" "$(field p99_ms "$f" | median)" "$(field msgs_per_op "$f" | median)" \
      "$(field fsyncs_per_op "$f" | median)" "$(field election_ms "$f" | median)"
done
raft_t=$(field throughput "$tmp/raft" | median)
for p in multi-paxos zab; do
  t=$(field throughput "$tmp/$p" | median)
  awk -v a="$t" -v b="$raft_t" -v p="$p" 'BEGIN { if (b > 0) printf "%s throughput / raft: %.2f\n", p, a / b }'
done
