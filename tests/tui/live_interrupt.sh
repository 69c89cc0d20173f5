# Issue 13: in the live dashboard, Ctrl-C interrupts a command that waits — `wait 60s` and a
# simulator's `step 1000000` — within seconds, and the lab goes on (nodes untouched).
. tests/tui/lib.sh
export XDG_RUNTIME_DIR="$TMPD/xdg"
export XDG_STATE_HOME="$TMPD/state"
mkdir -p "$XDG_RUNTIME_DIR"
start_shell 120 40
keys "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR XDG_STATE_HOME=$XDG_STATE_HOME $BIN/conlab" Enter
wait_for "conlab>" 10
LAB=$(cat "$XDG_RUNTIME_DIR"/conlab/lab-*/pid | head -n 1)  # the lab's pid (lab/rundir.h)
trap 'kill "$LAB" 2>/dev/null; cleanup' EXIT INT TERM
keys "wait 60s" Enter
sleep 1
keys C-c
wait_for "wait 60s interrupted" 10
keys "start raft 3 sim=on" Enter
wait_for "started 3 raft nodes" 10
keys "freeze" Enter
sleep 0.5
keys "step 1000000" Enter
sleep 2
keys C-c
wait_for "step interrupted" 20
screen | grep -q "stepped 1000000 events" && fail "step ran to the end instead of stopping"
keys "status" Enter
wait_for "history:" 10
keys C-d
wait_for "$ " 10
echo "live interrupt: Ctrl-C stops wait 60s and step 1000000"
