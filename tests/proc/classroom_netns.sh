#!/bin/sh
# serial: builds network/PID namespaces; runs alone
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
  # whatever still runs in our namespaces is ours (an agent, a node, a lab): it goes too
  for ns in $made; do for p in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$p" 2>/dev/null; done; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  for ns in $made; do ip netns del "$ns" 2>/dev/null; done
  [ -n "${CLASSROOM_KEEP:-}" ] && echo "kept $work" || rm -rf "$work"
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

# wait_for PATTERN FILE SECONDS: until grep finds PATTERN in FILE (0), or the time is up (1)
wait_for() {
  n=0
  while ! grep -q -- "$1" "$2" 2>/dev/null; do
    n=$((n + 1)); [ $n -gt $(($3 * 10)) ] && return 1; sleep 0.1
  done
  return 0
}
wait_for_fixed() {
  n=0
  while ! grep -qF -- "$1" "$2" 2>/dev/null; do
    n=$((n + 1)); [ $n -gt $(($3 * 10)) ] && return 1; sleep 0.1
  done
  return 0
}
agent() { # agent NS KEYNAME: a host agent in namespace NS, its pid in agent_NS ($! is the agent:
  # `ip netns exec` execs it)
  ip netns exec "${u}$1" "$bin/conlab" join $A:7400 --key "$work/$2.key" --server-key "$LAB" >"$work/agent_$1_$2.log" 2>&1 &
  pids="$pids $!"
  eval "agent_$1=$!"
}
agent a hosta
agent b hostb
agent c hostc
# a host with a key the lab does not know (from the fourth namespace): refused
agent d stranger
stranger=$agent_d

# the lab in namespace A, fed line by line through a FIFO (the plain REPL)
mkfifo "$work/in"
ip netns exec "${u}a" "$bin/conlab" serve --bind $A:7400 --cluster "$work/class.yaml" --key "$work/lab.key" --plain \
  <"$work/in" >"$work/lab.out" 2>&1 &
lab=$!
pids="$pids $lab"
exec 3>"$work/in"
say() { printf '%s\n' "$@" >&3; }
# a dashboard from the fourth namespace, attached before the cluster starts
ip netns exec "${u}d" "$bin/conlab" dash --attach $A:7400 --key "$work/viewer.key" --server-key "$LAB" --plain --seconds 150 \
  >"$work/dash.out" 2>&1 &
dash=$!
pids="$pids $dash"

t0=$(date +%s)
say "trace $work/trace.jsonl" \
    "start raft" \
    "partition hostA | hostB,hostC" \
    "wait leader" \
    "hosts" \
    "endpoints" \
    "put x 1" \
    "put y 1" \
    "heal" \
    "wait leader" \
    "crash leader" \
    "wait leader" \
    "put x 2" \
    "expect x = 2" \
    "expect y = 1" \
    "expect linearizable"
if wait_for "linearizable" "$work/lab.out" 90; then
  grep -q "^ok: linearizable" "$work/lab.out" || fail "the history over three hosts is not linearizable"
  grep -q "^error\|^FAIL\|expect failed" "$work/lab.out" && fail "a command failed"
else
  fail "the raft run over three hosts did not finish in 90 s"
fi
echo "raft over three hosts: $(($(date +%s) - t0)) s"

# the stranger was refused, and the lab named its key
i=0; while kill -0 "$stranger" 2>/dev/null && [ $i -lt 200 ]; do sleep 0.1; i=$((i + 1)); done
wait "$stranger"; rc=$?
[ $rc = 3 ] || fail "an agent with an unknown key exited $rc, not 3 (refused)"
wait_for_fixed "$KX" "$work/trace.jsonl" 10 || fail "the lab's events do not name the refused key"

# every node up again (the crashed leader restarted)
crashed=$(sed -n 's/^crashed \(n[0-9]\).*/\1/p' "$work/lab.out" | head -n 1)
say "restart ${crashed:-n1}" "wait leader" "status"
wait_for "^n5 raft" "$work/lab.out" 30 || fail "no status after the restart"
# a spoofed peer message: from the fourth namespace, pose as n1 at n3's peer socket
peer=$(sed -n 's/^n3 .*peers at \(tcp:[^ ]*\).*/\1/p' "$work/lab.out" | head -n 1)
[ -n "$peer" ] || fail "endpoints did not print n3's peer endpoint"
if [ -n "$peer" ]; then
  inns d "$bin/conlab" poke "$peer" '{"src":"n1","dest":"n3","body":{"type":"append","term":99}}' --wait 3s \
    >"$work/poke.out" 2>&1 && fail "the node answered a spoofed peer"
  wait_for "unauthenticated peer" "$work/trace.jsonl" 20 || fail "the node did not report the refused impostor"
fi

# the attached dashboard saw the cluster
wait_for '"n5"\| n5 ' "$work/dash.out" 10 || fail "the attached dashboard did not show n5"
grep -q "cluster" "$work/dash.out" || fail "the attached dashboard did not show the cluster"

# faults=kernel: nftables rules in the hosts' namespaces
marks=0
mark() { marks=$((marks + 1)); say "help hosts"; wait_for_count "A classroom's hosts" "$work/lab.out" $marks "$1"; }
wait_for_count() { # PATTERN FILE N SECONDS
  n=0
  while [ "$(grep -c -- "$1" "$2" 2>/dev/null)" -lt "$3" ]; do
    n=$((n + 1)); [ $n -gt $(($4 * 10)) ] && return 1; sleep 0.1
  done
}
mark 10
if grep -q "^faults kernel\|cannot: " "$work/lab.out"; then :; fi
if ! command -v nft >/dev/null 2>&1; then
  echo "SKIP kernel faults: no nft here (apt-get install nftables)"
else
  lines=$(wc -l < "$work/lab.out")
  say "faults kernel" "partition hostA | hostB,hostC" "wait leader" "put z 1" "faults"
  mark 60 || fail "faults kernel and a partition did not finish"
  tail -n +"$((lines + 1))" "$work/lab.out" > "$work/kernel.out"
  grep -q "cannot:" "$work/kernel.out" && fail "faults kernel refused: $(grep 'cannot:' "$work/kernel.out")"
  grep -q "has no tc netem (.*qdisc kind is unknown" "$work/kernel.out" ||
    grep -q "has tc netem" "$work/kernel.out" || fail "faults kernel did not say whether the hosts have tc netem"
  sed -n 's/^  on \(host[A-C]\): \(host[A-C]->n[0-9]\) cut .*/\1 \2/p' "$work/kernel.out" | sort > "$work/rules.got"
  printf '%s\n' "hostA hostB->n1" "hostA hostB->n2" "hostA hostC->n1" "hostA hostC->n2" \
    "hostB hostA->n3" "hostB hostA->n4" "hostC hostA->n5" | sort > "$work/rules.want"
  cmp -s "$work/rules.got" "$work/rules.want" ||
    fail "the kernel partition's rules are not exactly the links between hostA and the others: $(tr '\n' ';' < "$work/rules.got")"
  grep -q "^ok" "$work/kernel.out" || fail "the majority side (hostB, hostC) did not take a write under the kernel partition"
  # the partition is the kernel's: the rules drop packets on the wire
  say "faults"
  mark 30
  drops=$(tail -n 30 "$work/lab.out" | sed -n 's/^  host[A-C] in all: [0-9]* packets seen by its rules, \([0-9]*\) dropped.*/\1/p' | awk '{s += $1} END {print s + 0}')
  [ "$drops" -gt 0 ] || fail "the kernel partition dropped no packet"
  # kernel loss, measured on the wire: 20% asked, within 5 points
  say "heal" "loss 20"
  seen=0; dropped=0; tries=0
  while [ "$seen" -lt 2000 ] && [ $tries -lt 30 ]; do
    sleep 1; tries=$((tries + 1))
    say "faults"; mark 30
    seen=$(tail -n 30 "$work/lab.out" | sed -n 's/^  host[A-C] in all: \([0-9]*\) packets.*/\1/p' | awk '{s += $1} END {print s + 0}')
    dropped=$(tail -n 30 "$work/lab.out" | sed -n 's/^  host[A-C] in all: [0-9]* packets seen by its rules, \([0-9]*\) dropped.*/\1/p' | awk '{s += $1} END {print s + 0}')
  done
  if [ "$seen" -lt 500 ]; then
    fail "too little traffic to measure the kernel's loss ($seen packets)"
  else
    pct=$((dropped * 1000 / seen))
    echo "kernel loss: asked 20%, measured $((pct / 10)).$((pct % 10))% of $seen packets on the wire"
    [ $pct -ge 150 ] && [ $pct -le 250 ] || fail "kernel loss measured $((pct / 10)).$((pct % 10))%, asked 20% (+-5)"
  fi
  say "heal" "faults shim"
  mark 30
fi

# kill -9 of the lab: within the heartbeat timeout (2 s) every host's nodes are gone
# `ip netns exec` may run the agent as its child: count the nodes under either
count_nodes() {
  c=0
  for a in $agent_a $agent_b $agent_c; do
    for p in $a $(pgrep -P "$a" -x conlab); do c=$((c + $(pgrep -P "$p" -x conlab-node | wc -l))); done
  done
  echo $c
}
before=$(count_nodes)
[ "$before" = 5 ] || fail "$before nodes running before the lab is killed, not 5"
for p in $lab $(pgrep -P "$lab" -x conlab); do kill -9 "$p" 2>/dev/null; done
t1=$(date +%s%N)
i=0
while [ "$(count_nodes)" -gt 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
left=$(count_nodes)
ms=$((($(date +%s%N) - t1) / 1000000))
[ "$left" = 0 ] || fail "$left nodes outlived the lab by 10 s"
[ "$ms" -le 7000 ] || fail "the nodes outlived the lab by $ms ms (timeout 2 s, and 5 s for a loaded machine)"
echo "kill -9 of the lab: $before nodes on three hosts, all gone after $ms ms (heartbeat timeout 2 s)"
# and the agents, their lab gone, exit (status 0)
for a in $agent_a $agent_b $agent_c; do
  i=0; while kill -0 "$a" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  kill -0 "$a" 2>/dev/null && fail "agent $a outlived its lab"
done
exec 3>&-
echo "--- dash (first lines)"; head -5 "$work/dash.out"
[ $status = 0 ] || { echo "--- lab"; tail -40 "$work/lab.out"; for f in "$work"/agent_*.log; do echo "--- $f"; tail -5 "$f"; done; }
exit $status
