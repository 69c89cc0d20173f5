#!/bin/sh
# The classroom's figures (issue 22), across real network stacks: three "hosts" in network
# namespaces on one bridge (and a fourth for an attached dashboard), addresses from
# 198.18.0.0/15 used only inside them. Prints:
#   - raft (5 nodes over 3 hosts) put throughput and latency p50/p99 with CURVE between the
#     nodes, then with auth=off: the cost of encryption (rounds alternate);
#   - how many of the lab's events an attached dashboard (conlab dash --attach, over CURVE,
#     across the bridge) received while the lab collected them, and at what rate.
# Needs root (network namespaces); says so and exits 0 elsewhere. Usage:
#   sh lab/bench/classroom.sh [SECONDS] [CLIENTS] [ROUNDS]
set -u
S=${1:-5}; C=${2:-8}; R=${3:-2}
bin=$(cd "${CONLAB_BIN:-bin}" && pwd)
[ "$(id -u)" = 0 ] || { echo "classroom bench: needs root for network namespaces; skipped"; exit 0; }
u="b$$$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')"
work=$(mktemp -d); made=""; pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  for ns in $made; do for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  for ns in $made; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
ip netns add "${u}h" 2>/dev/null || { echo "classroom bench: cannot create network namespaces here; skipped"; exit 0; }
made="${u}h"
ip -n "${u}h" link add br0 type bridge && ip -n "${u}h" link set br0 up
i=1
for h in a b c d; do
  ip netns add "$u$h"; made="$made $u$h"
  ip -n "${u}h" link add "v$h" type veth peer name eth0 netns "$u$h"
  ip -n "${u}h" link set "v$h" master br0 up
  ip -n "$u$h" addr add "198.18.0.$i/24" dev eth0
  ip -n "$u$h" link set eth0 up; ip -n "$u$h" link set lo up
  i=$((i + 1))
done
A=198.18.0.1
inns() { ns="$u$1"; shift; ip netns exec "$ns" "$@"; }
k() { "$bin/conlab" keygen "$work/$1.key"; }
LAB=$(k lab); KA=$(k a); KB=$(k b); KC=$(k c); KV=$(k v)
cat > "$work/class.yaml" <<Y
hosts:
  - {name: hostA, nodes: 2, key: "$KA"}
  - {name: hostB, nodes: 2, key: "$KB"}
  - {name: hostC, nodes: 1, key: "$KC"}
keys:
  - {name: viewer, key: "$KV"}
Y
for h in a b c; do
  ip netns exec "$u$h" "$bin/conlab" join $A:7400 --key "$work/$h.key" --server-key "$LAB" --quiet &
  pids="$pids $!"
done
: > "$work/run.lab"
r=0
while [ $r -lt "$R" ]; do
  for auth in curve off; do
    printf 'start raft auth=%s fsync=off\nwait leader\nload 1s %s\nload %ss %s\nstatus\nstop\n' "$auth" "$C" "$S" "$C" >> "$work/run.lab"
  done
  r=$((r + 1))
done
ip netns exec "${u}d" "$bin/conlab" dash --attach $A:7400 --key "$work/v.key" --server-key "$LAB" --plain \
  --seconds $((R * 2 * (S + 8) + 30)) > "$work/dash.out" 2>&1 &
dash=$!; pids="$pids $dash"
CONLAB_PLAINTEXT_PEERS=1 inns a "$bin/conlab" serve --bind $A:7400 --cluster "$work/class.yaml" \
  --key "$work/lab.key" "$work/run.lab" > "$work/out" 2>&1 || { echo "classroom bench: the lab failed:"; tail -20 "$work/out"; exit 1; }
sleep 1
kill "$dash" 2>/dev/null; wait "$dash" 2>/dev/null
echo "raft, 5 nodes over 3 network namespaces, $C closed-loop writers, ${S}s per round, fsync off:"
# the measured rounds are the second load after each start (the first warms up)
sed -n -e 's/^conlab> start raft auth=\([a-z]*\).*/auth \1/p' \
  -e 's/^load: .*(\([0-9.]*\)\/s).*p50 \([0-9.]*\) ms, p99 \([0-9.]*\) ms.*/load \1 \2 \3/p' "$work/out" |
awk '
  $1 == "auth" { auth = $2; n = 0 }
  $1 == "load" { n++; if (n == 2) { thr[auth] += $2; p50[auth] += $3; p99[auth] += $4; k[auth]++ } }
  END {
    for (a in k) printf "  auth=%-5s  %8.0f writes/s   p50 %6.2f ms   p99 %6.2f ms   (%d rounds)\n", a, thr[a] / k[a], p50[a] / k[a], p99[a] / k[a], k[a]
    if (k["curve"] && k["off"])
      printf "  CURVE between the nodes: %.1f%% of the plaintext throughput, %+.2f ms at p99\n", 100 * (thr["curve"] / k["curve"]) / (thr["off"] / k["off"]), p99["curve"] / k["curve"] - p99["off"] / k["off"]
  }'
total=$(sed -n 's/^history: .*events: \([0-9]*\).*/\1/p' "$work/out" | tail -n 1)
got=$(grep -c '' "$work/dash.out")
rate=$(sed -n 's/^load: .*; \([0-9]*\) events\/s collected/\1/p' "$work/out" | sort -n | tail -n 1)
echo "attached dashboard (CURVE, across the bridge, --plain): it printed $got events; the lab had"
echo "  collected ${total:-?} by its last status (the stop's few come after), at up to ${rate:-?} events/s under load"
