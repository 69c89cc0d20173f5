# The help overlay lists every key and any key closes it.
. tests/tui/lib.sh
start 120 40 "$BIN/conlab replay $TRACE"
wait_for "Cluster raft"
wait_for "PAUSED 1/74"
keys '?'
wait_for "Help: keys"
for k in "F1 or ?" "Tab" "PgUp/PgDn" "Space" "- and +" "q " "Left/Right"; do
    screen | grep -qF -- "$k" || fail "help does not list $k"
done
keys x
wait_gone "Help: keys"
keys F1
wait_for "Help: keys"
keys Escape
wait_gone "Help: keys"
keys q
expect_restored
