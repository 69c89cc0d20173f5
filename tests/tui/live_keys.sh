# H5 on the live lab: Ctrl-C clears the command line and stops nothing; Ctrl-Z suspends the
# lab with the terminal restored and fg brings the screen back with the cluster still running;
# Ctrl-D on an empty line leaves cleanly, nodes stopped, history saved.
. tests/tui/lib.sh
export XDG_RUNTIME_DIR="$TMPD/xdg"
export XDG_STATE_HOME="$TMPD/state"
mkdir -p "$XDG_RUNTIME_DIR"
start_shell 120 40
keys "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR XDG_STATE_HOME=$XDG_STATE_HOME $BIN/conlab" Enter
wait_for "conlab>" 10
keys "start leader 3" Enter
wait_for "started 3 leader nodes" 10
LAB=$(cat "$XDG_RUNTIME_DIR"/conlab/lab-*/pid | head -n 1)  # the lab's pid (lab/rundir.h)
trap 'kill "$LAB" 2>/dev/null; cleanup' EXIT INT TERM
keys "put half-typed"
wait_for "put half-typed" 5
keys C-c
wait_gone "put half-typed" 5
[ "$(pgrep -P "$LAB" -x conlab-node | wc -l)" -eq 3 ] || fail "Ctrl-C stopped nodes"
keys C-z
wait_for "$ " 5
screen | grep -qF "Cluster leader" && fail "the dashboard is still drawn after Ctrl-Z"
[ "$(pgrep -P "$LAB" -x conlab-node | wc -l)" -eq 3 ] || fail "Ctrl-Z stopped nodes"
keys "fg" Enter
wait_for "Cluster leader" 10
keys "status" Enter
wait_for "history:" 5
keys C-d
wait_for "$ " 10
sleep 0.5
kill -0 "$LAB" 2>/dev/null && fail "the lab is still running after Ctrl-D"
[ "$(pgrep -x conlab-node -P "$LAB" | wc -l)" -eq 0 ] || fail "nodes outlived the lab"
grep -q "start leader 3" "$XDG_STATE_HOME/conlab/history" || fail "the command history was not saved"
keys "stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e echo | tr '\n' ' '; echo" Enter
wait_for "icanon echo" 5
echo "live keys: Ctrl-C clears, Ctrl-Z/fg suspends and restores, Ctrl-D leaves, history saved"
