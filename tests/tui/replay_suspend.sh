# H5: Ctrl-Z suspends with the terminal restored; fg brings the dashboard back.
. tests/tui/lib.sh
start_shell 120 40
keys "$BIN/conlab replay $TRACE" Enter
wait_for "Cluster raft"
keys '>'
wait_for "74/74"
keys C-z
wait_for "Stopped"
wait_gone "Cluster raft"
keys "stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon | sed 's/^/MODE=/'" Enter
wait_for "MODE=icanon"
keys "fg" Enter
wait_for "Cluster raft"
wait_for "74/74"
keys q
wait_gone "Cluster raft"
keys 'echo "RC=$?"' Enter
wait_for "RC=0"
