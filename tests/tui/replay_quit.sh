# q, Ctrl-C, SIGTERM and a crash signal all leave the terminal restored.
. tests/tui/lib.sh
start 120 40 "$BIN/conlab replay $TRACE"
wait_for "Cluster raft"
keys q
expect_restored
start 120 40 "$BIN/conlab replay $TRACE"
wait_for "Cluster raft"
keys C-c
expect_restored
start 120 40 "sh -c 'echo \$\$ > $TMPD/pid; exec $BIN/conlab replay $TRACE'"
wait_for "Cluster raft"
kill -TERM "$(cat "$TMPD/pid")"
expect_restored
start 120 40 "sh -c 'echo \$\$ > $TMPD/pid; exec $BIN/conlab replay $TRACE'"
wait_for "Cluster raft"
kill -SEGV "$(cat "$TMPD/pid")"
wait_for "EXIT=139" 10
expect_restored 139
