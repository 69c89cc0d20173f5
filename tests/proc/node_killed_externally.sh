#!/bin/sh
# H1 and H2: nodes register quickly with unique endpoints; a node SIGKILLed from outside the
# lab shows as down within a second, is reaped (no zombie), and restarts.
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
i=0
while [ "$(grep -c '^n[0-9] tcp://' "$rt/out")" -lt 3 ] && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
status=0
eps=$(grep '^n[0-9] tcp://' "$rt/out" | awk '{print $2}' | sort -u | wc -l)
[ "$eps" -eq 3 ] || { echo "endpoints not unique or missing"; cat "$rt/out"; status=1; }
victim=$(pgrep -P "$lab" -x conlab-node | head -n 1)
kill -9 "$victim"
sleep 1
echo "status" >&3
sleep 0.5
down=$(grep -c ' - down' "$rt/out")
[ "$down" -ge 1 ] || { echo "the killed node is not shown as down"; cat "$rt/out"; status=1; }
zombies=$(ps -o stat= --ppid "$lab" | grep -c Z)
[ "$zombies" -eq 0 ] || { echo "zombie node processes: $zombies"; status=1; }
node=$(grep ' - down' "$rt/out" | head -n 1 | awk '{print $1}')
echo "restart $node" >&3
echo "status" >&3
echo "quit" >&3
exec 3>&-
wait "$lab"
grep -q "restarted $node" "$rt/out" || { echo "restart failed"; cat "$rt/out"; status=1; }
rm -rf "$rt"
exit $status
