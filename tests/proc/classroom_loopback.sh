#!/bin/sh
# The classroom on one machine, without root (issue 22; the namespace test is
# classroom_netns.sh): an open room (no keys) binds loopback only and refuses any other
# address; a bad cluster file is refused with its line; two host agents on loopback run a
# 3-node raft cluster through which a host partition, a leader crash and a write go, the
# history linearizable; an attached dashboard sees the cluster and a second one is refused
# (viewers: 1); when the lab quits, the agents' nodes go.
set -u
bin=$(cd "${CONLAB_BIN:-bin}" && pwd)
work=$(mktemp -d)
export XDG_RUNTIME_DIR="$work/rt"
mkdir -p "$XDG_RUNTIME_DIR"
pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  for p in $pids; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT
status=0
fail() { echo "FAIL: $*"; status=1; }
wait_for() { n=0; while ! grep -q -- "$1" "$2" 2>/dev/null; do n=$((n + 1)); [ $n -gt $(($3 * 10)) ] && return 1; sleep 0.1; done; }

cat > "$work/open.yaml" <<Y
viewers: 1
timeout: 2s
heartbeat: 200ms
hosts:
  - {name: hostA, nodes: 1}
  - {name: hostB, nodes: 2}
Y
"$bin/conlab" serve --bind 0.0.0.0:7400 --cluster "$work/open.yaml" "$work/none.lab" > "$work/o" 2>&1
rc=$?
[ $rc = 2 ] && grep -q "refusing to bind 0.0.0.0:7400 without keys" "$work/o" ||
  fail "an open room bound a non-loopback address (exit $rc: $(cat "$work/o"))"
printf 'hosts:\n  - {name: hostA, nodes: 1}\n  - {name: n2, nodes: 1}\n' > "$work/bad.yaml"
"$bin/conlab" serve --bind 127.0.0.1:7400 --cluster "$work/bad.yaml" "$work/none.lab" > "$work/o" 2>&1
[ $? = 2 ] && grep -q "bad.yaml:3:.*not a node id" "$work/o" || fail "a host named n2 was not refused with its line: $(cat "$work/o")"

"$bin/conlab" keygen "$work/lab.key" > "$work/lab.pub" && "$bin/conlab" keygen "$work/v.key" > /dev/null || exit 1
LAB=$(cat "$work/lab.pub")
cat > "$work/run.lab" <<'S'
start raft
partition hostA | hostB
wait leader
put x 1
heal
wait leader
crash leader
wait leader
put x 2
expect x = 2
expect linearizable
hosts
S
# any free port (":*"): the lab says which
"$bin/conlab" serve --bind '127.0.0.1:*' --cluster "$work/open.yaml" --key "$work/lab.key" "$work/run.lab" \
  > "$work/lab.out" 2>&1 &
lab=$!
wait_for "classroom on" "$work/lab.out" 20 || fail "the lab did not bind: $(cat "$work/lab.out")"
port=$(sed -n 's/.*classroom on tcp:\/\/127.0.0.1:\([0-9]*\),.*/\1/p' "$work/lab.out" | head -n 1)
pids="$pids $lab"
"$bin/conlab" dash --attach 127.0.0.1:$port --key "$work/v.key" --server-key "$LAB" --plain --seconds 90 > "$work/dash1" 2>&1 &
dash=$!; pids="$pids $dash"
wait_for "dashboard attached" "$work/dash1" 20 || fail "the first dashboard was not welcomed"
"$bin/conlab" dash --attach 127.0.0.1:$port --key "$work/v.key" --server-key "$LAB" --plain --seconds 30 > "$work/dash2" 2>&1
rc=$?
[ $rc = 3 ] && grep -q "refused this dashboard.*limit" "$work/dash2" || fail "a second dashboard over viewers: 1 was not refused (exit $rc: $(cat "$work/dash2"))"
# the hosts join only now: `start` waits for them, so the lab is there for both dashboards
for h in hostA hostB; do
  "$bin/conlab" join 127.0.0.1:$port --server-key "$LAB" --host $h > "$work/agent_$h" 2>&1 &
  pids="$pids $!"; eval "agent_$h=$!"
done
wait "$lab"; rc=$?
[ $rc = 0 ] || { fail "the raft script over two loopback hosts exited $rc"; tail -30 "$work/lab.out"; }
grep -q "^ok: linearizable" "$work/lab.out" || fail "the history is not linearizable"
kill "$dash" 2>/dev/null
grep -q "cluster mode=raft" "$work/dash1" || fail "the attached dashboard did not show the cluster"
# the lab said bye: the agents' nodes are gone
n=0
for a in $agent_hostA $agent_hostB; do
  i=0; while [ "$(pgrep -P "$a" -x conlab-node | wc -l)" -gt 0 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
  n=$((n + $(pgrep -P "$a" -x conlab-node | wc -l)))
done
[ $n = 0 ] || fail "$n nodes outlived the lab that quit"
grep -q "the lab said bye: killed" "$work/agent_hostB" || fail "agent hostB did not hear the lab's bye"
[ $status = 0 ] && echo "classroom on loopback: open room, 2 agents, raft, a refused second dashboard, bye"
exit $status
