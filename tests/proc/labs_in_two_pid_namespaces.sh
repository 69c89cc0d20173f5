#!/bin/sh
# serial: builds network/PID namespaces; runs alone
# Two labs side by side in two PID namespaces (each is pid 1 in its own) sharing one run base:
# each gets its own run directory (mkdtemp, locked for its lifetime), keeps its own data, and
# neither's start-up sweep deletes the other's directory. With run directories named by pid
# both were <base>/1, and a lab swept away every directory whose pid it could not see: B read
# A's data, and A's restart failed. Then a lab killed with SIGKILL leaves its directory, and the
# next lab's sweep removes it (its lock is free), while a live lab's stays.
# Needs root and unshare --pid (util-linux); skipped with a message otherwise.
bin=${CONLAB_BIN:-bin}
if [ "$(id -u)" != 0 ] || ! unshare --pid --fork --mount-proc true 2>/dev/null; then
  echo "skipped: two PID namespaces need root and unshare --pid --mount-proc (util-linux)"
  exit 0
fi
tmp=$(mktemp -d /tmp/conlab-ns-XXXXXX)
mkdir "$tmp/xdg"
export XDG_RUNTIME_DIR="$tmp/xdg"   # a base of this test's own: no other lab on the machine meddles
base="$tmp/xdg/conlab"
pids=""
cleanup() {
  for p in $pids; do kill -9 "$p" 2>/dev/null; done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; for f in "$tmp"/*.out; do echo "--- $f"; cat "$f"; done; exit 1; }

# lab NAME: a lab in a new PID namespace, reading commands from the fifo NAME.in
lab() {
  mkfifo "$tmp/$1.in"
  unshare --pid --fork --kill-child --mount-proc "$bin/conlab" --plain <"$tmp/$1.in" >"$tmp/$1.out" 2>&1 &
  pids="$pids $!"
  eval "pid_$1=$!"
}
# wait_for NAME TEXT [COUNT]: until NAME's output holds TEXT COUNT times (default 1), 30 s at most
wait_for() {
  n=0
  while [ "$(grep -c -- "$2" "$tmp/$1.out" 2>/dev/null)" -lt "${3:-1}" ]; do
    n=$((n + 1))
    [ $n -le 300 ] || fail "$1 never printed '$2'"
    sleep 0.1
  done
}
lab_dirs() { find "$base" -mindepth 1 -maxdepth 1 -type d -name 'lab-*' 2>/dev/null | sort; }

lab a; exec 3>"$tmp/a.in"
lab b; exec 4>"$tmp/b.in"
echo "start raft 3" >&3; wait_for a "started 3 raft nodes"
echo "wait leader" >&3;  wait_for a "^leader n"
echo "put x fromA" >&3;  wait_for a "^ok"
echo "start raft 3" >&4; wait_for b "started 3 raft nodes"
echo "wait leader" >&4;  wait_for b "^leader n"
[ "$(lab_dirs | wc -l)" = 2 ] || fail "two live labs should hold two run directories: $(lab_dirs)"
for d in $(lab_dirs); do
  [ "$(cat "$d/pid")" = 1 ] || fail "$d: each lab is pid 1 in its own namespace, not $(cat "$d/pid")"
done
echo "get x" >&4;        wait_for b "^nil"
grep -q "fromA" "$tmp/b.out" && fail "lab B read lab A's data"
echo "crash n1" >&3;     wait_for a "crashed n1"
echo "restart n1" >&3;   wait_for a "restarted n1"
echo "wait converged" >&3; wait_for a "^converged"
echo "get x" >&3;        wait_for a "^fromA"
echo "put x fromB" >&4;  wait_for b "^ok"
echo "get x" >&3;        wait_for a "^fromA" 2

# a lab killed outright leaves its directory behind; the next lab's sweep takes it away
kill -9 "$pid_b"; wait "$pid_b" 2>/dev/null
exec 4>&-
[ "$(lab_dirs | wc -l)" = 2 ] || fail "a killed lab's directory should stay until a sweep: $(lab_dirs)"
# the kernel ends B's namespace (its nodes) after unshare has gone: wait until no process holds
# a lock but A's, so that C's sweep sees B's directory as dead (30 s at most)
held() { n=0; for d in $(lab_dirs); do flock -n -s "$d/lock" true 2>/dev/null || n=$((n + 1)); done; echo $n; }
n=0
while [ "$(held)" -gt 1 ]; do
  n=$((n + 1)); [ $n -le 300 ] || fail "B's lock is still held 30 s after it was killed"
  sleep 0.1
done
mkdir "$base/not-a-lab"   # no lock file: not a lab's, left alone
lab c; exec 5>"$tmp/c.in"
echo "start leader 3" >&5; wait_for c "started 3 leader nodes"
[ "$(lab_dirs | wc -l)" = 2 ] || fail "the sweep should leave exactly A's and C's directories: $(lab_dirs)"
[ -d "$base/not-a-lab" ] || fail "the sweep removed a directory without a lock"
echo "get x" >&3;        wait_for a "^fromA" 3
echo "quit" >&3; echo "quit" >&5
exec 3>&- 5>&-
wait "$pid_a" "$pid_c"
[ -z "$(lab_dirs)" ] || fail "labs that quit should remove their directories: $(lab_dirs)"
echo "two labs in two PID namespaces: separate directories and data; a dead lab's swept, a live one's kept"
