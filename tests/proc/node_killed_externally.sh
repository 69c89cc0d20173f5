#!/bin/sh
# H1 and H2: nodes register quickly with unique endpoints; a node SIGKILLed from outside the
# lab shows as down, is reaped (no zombie), and restarts. Every wait is on the lab's output or
# the process table, bounded at 60 s (a busy machine); how long the lab took to notice the kill
# is printed (the node's heartbeat bound is a second).
set -u
bin=${CONLAB_BIN:-bin}
rt=$(mktemp -d)
export XDG_RUNTIME_DIR="$rt"
mkfifo "$rt/in"
"$bin/conlab" --plain < "$rt/in" > "$rt/out" 2>&1 &
lab=$!
exec 3> "$rt/in"
echo "start leader 3" >&3
echo "endpoints" >&3
# until: poll CONDITION (a shell command) every 0.1 s, 60 s at most
until_true() { i=0; while ! eval "$1"; do i=$((i + 1)); [ $i -le 600 ] || return 1; sleep 0.1; done; }
until_true '[ "$(grep -c "^n[0-9] tcp://" "$rt/out")" -ge 3 ]'
status=0
eps=$(grep '^n[0-9] tcp://' "$rt/out" | awk '{print $2}' | sort -u | wc -l)
[ "$eps" -eq 3 ] || { echo "endpoints not unique or missing"; cat "$rt/out"; status=1; }
until_true '[ -n "$(pgrep -P "$lab" -x conlab-node | head -n 1)" ]'
victim=$(pgrep -P "$lab" -x conlab-node | head -n 1)
[ -n "$victim" ] || { echo "no node process under the lab"; cat "$rt/out"; exit 1; }
t0=$(date +%s%N)
kill -9 "$victim"
# ask for the status until the lab shows the node down
shown() { echo "status" >&3; sleep 0.2; [ "$(grep -c ' - down' "$rt/out")" -ge 1 ]; }
if until_true shown; then
  echo "the killed node was shown as down after $(( ($(date +%s%N) - t0) / 1000000 )) ms"
else
  echo "the killed node is not shown as down"; cat "$rt/out"; status=1
fi
# reaped: no zombie child of the lab (it reaps on SIGCHLD; give it the same bound)
until_true '[ "$(ps -o stat= --ppid "$lab" | grep -c Z)" -eq 0 ]' ||
  { echo "zombie node processes: $(ps -o stat= --ppid "$lab" | grep -c Z)"; status=1; }
node=$(grep ' - down' "$rt/out" | head -n 1 | awk '{print $1}')
echo "restart $node" >&3
echo "status" >&3
echo "quit" >&3
exec 3>&-
wait "$lab"
grep -q "restarted $node" "$rt/out" || { echo "restart failed"; cat "$rt/out"; status=1; }
rm -rf "$rt"
exit $status
