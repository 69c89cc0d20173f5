# The live lab in a 120x40 terminal: start a cluster, see the leader marked; partition and see
# the groups; a dropped message crossed out; the help overlay; a resize to 80x24; `conlab dash`
# from a second terminal shows the same cluster; quit restores the terminal and stops every node.
. tests/tui/lib.sh
export XDG_RUNTIME_DIR="$TMPD/xdg"
export XDG_STATE_HOME="$TMPD/state"
mkdir -p "$XDG_RUNTIME_DIR"
start 120 40 "$BIN/conlab"
wait_for "conlab>" 10
keys "start leader 3 failover=manual" Enter
wait_for "started 3 leader nodes" 10
wait_for "LEADER" 5
screen | grep -qF "n1 ★" || fail "the leader n1 is not marked"
keys "partition n1 | n2,n3" Enter
wait_for "partition: n1 | n2,n3" 5
keys "put x 1" Enter
wait_for "✗ partition" 5
screen | grep -F "✗ partition" | grep -qF "╌" || fail "dropped message not crossed out"
# a second terminal attaches a read-only dashboard to this lab
LAB=$(ls "$XDG_RUNTIME_DIR/conlab" | head -n 1)
SOCK_LAB=$SOCK
# whatever happens below, both terminals and the lab go away with the test
trap 'tmux -L "$SOCK_LAB" kill-server 2>/dev/null; tmux -L "$SOCK_LAB-dash" kill-server 2>/dev/null; kill "$LAB" 2>/dev/null; cleanup' EXIT INT TERM
SOCK="$SOCK_LAB-dash"
T -f /dev/null new-session -d -x 100 -y 30 "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR $BIN/conlab dash --pid $LAB; sleep 30"
wait_for "read-only: lab $LAB" 10
wait_for "partition: n1 | n2,n3" 10
# the nodes' roles come in the status events that follow the network's shape in each snapshot
wait_for "LEADER" 5
T kill-server 2>/dev/null
SOCK=$SOCK_LAB
# help overlay
keys "?"
wait_for "Tab" 5
keys Escape
keys "heal" Enter
wait_gone "partition: n1 | n2,n3" 5
# resize to 80x24 and keep working
T resize-window -x 80 -y 24
sleep 0.5
keys "status" Enter
wait_for "history:" 5
nodes=$(pgrep -x conlab-node | wc -l)
[ "$nodes" -ge 3 ] || fail "expected 3 nodes running, saw $nodes"
keys "quit" Enter
expect_restored
sleep 0.5
left=$(pgrep -P "$LAB" -x conlab-node | wc -l)
[ "$left" -eq 0 ] || fail "$left nodes outlived the lab"
echo "live lab: leader marked, partition drawn, drop crossed out, help, resize, dash attach, quit"
