#!/bin/sh
# make bench: every benchmark, printed as figures (nothing here passes or fails).
set -u
BIN=${CONLAB_BIN:-bin}
S=${BENCH_SECONDS:-5}
echo "== the lab itself (5 nodes of the first mode with a leader)"
"$BIN/conlab" bench foundation
echo "== raft, 3 nodes, fsync on"
"$BIN/conlab" bench --mode raft --nodes 3 --clients 16 --seconds "$S"
"$BIN/conlab" bench --mode raft --nodes 3 --clients 1 --seconds "$S" --elections 20
echo "== raft, Multi-Paxos and ZAB side by side (same load, same leader crash, trials alternating)"
sh lab/bench/compare.sh --seconds "$S" --rounds 3 --elections 5
echo "== leader, 3 nodes, repl=sync"
"$BIN/conlab" bench --mode leader --nodes 3 --clients 16 --seconds "$S" --opt repl=sync
echo "== leaderless, 5 nodes, n=3, 50% reads"
for cl in one quorum all; do
  echo "-- cl=$cl"
  "$BIN/conlab" bench --mode leaderless --nodes 5 --clients 16 --seconds "$S" --reads 50 --cl "$cl" --opt n=3
done
echo "== transactions: bank transfers, 2PC vs 3PC vs saga, 4 nodes, fsync on"
"$BIN/conlab" bench txn --nodes 4 --clients 16 --seconds "$S"
echo "== locks: lock/unlock pairs per second, 16 contending clients, 3 nodes, fsync on; takeover after the holder's crash"
"$BIN/conlab" bench lock --clients 16 --seconds "$S" --rounds 5
echo "== catch-up after a partition (simulator)"
"$BIN/conlab" bench catchup --mode leaderless --keys 10000 --opt r=1 --opt read_repair=off --opt ae_interval=1s
"$BIN/conlab" bench catchup --mode raft --keys 10000
echo "== multi-leader across data centres: local writes vs leader repl=sync over the WAN"
sh "$(dirname "$0")/wan.sh" "$S"
echo "== TrueTime: spanner commit latency against epsilon, with and without commit-wait"
sh "$(dirname "$0")/truetime.sh" "$S" 4
echo "== crdt: bytes shipped and convergence, state vs delta vs op (simulator)"
"$BIN/bench_crdt"
echo "== crdt, 3 nodes, 16 clients: register writes and reads (LWW) through the lab"
"$BIN/conlab" bench --mode crdt --nodes 3 --clients 16 --seconds "$S" --reads 50
"$BIN/conlab" bench --mode crdt --nodes 5 --clients 16 --seconds "$S" --reads 50
echo "== locks: redlock pairs/s at 16 clients and takeover after a crash (beside the zk lock's, when its hook exists); leader failover without and with STONITH"
sh "$(dirname "$0")/locks.sh" "$S" 3
echo "== classroom: raft over three network namespaces, CURVE on vs off; an attached dashboard (root only)"
sh "$(dirname "$0")/classroom.sh" "$S"
echo "== checkers"
"$BIN/conlab" bench check tests/data/jepsen tests/data/kv
echo "== dashboard"
"$BIN/conlab" bench dash
echo "== the lab's memory under a steady load (check_soak: 200 writes/s for SOAK_SECONDS, default 600)"
if [ -x "$BIN/check_all" ]; then
  CONLAB_SOAK_SECONDS=${SOAK_SECONDS:-600} CONLAB_SUITE=soak CONLAB_BIN="$BIN" "$BIN/check_all" 2>&1 | grep -e '^soak:' -e 'Checks'
else
  echo "(bin/check_all not built: make bin/check_all first)"
fi
echo "== gossip and swim at up to 100 real nodes (lab/bench/spread.sh)"
sh lab/bench/spread.sh "16 32 64 100" 5
echo "== lazy peer connections closed when idle, 100 gossip nodes (lab/bench/lazyfds.sh)"
sh lab/bench/lazyfds.sh 100
echo "== the leaderless ring under SWIM: join and remove (lab/bench/ringconv.sh)"
sh lab/bench/ringconv.sh "4 8 15"
