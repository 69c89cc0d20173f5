# Time travel in a replay: jump to the end (leader, partition, a crossed-out message), step
# back and forth, play from the start.
. tests/tui/lib.sh
start 120 40 "$BIN/conlab replay $TRACE"
wait_for "PAUSED 1/74"
keys '>'
wait_for "PAUSED 74/74"
screen | grep -qF "LEADER  term 2" || fail "no leader marked"
screen | grep -qF "partition: n1 | n2,n3" || fail "partition groups not drawn"
screen | grep -F "append_entries ✗ partition" | grep -qF "╌" || fail "dropped message not crossed out"
keys Left
wait_for "PAUSED 73/74"
keys '<'
wait_for "PAUSED 0/74"
screen | grep -qF "partition:" && fail "partition shown before it happened"
keys ']'
wait_for "PAUSED 74/74"
keys '['
wait_for "PAUSED 0/74"
keys Right Right Right
wait_for "PAUSED 3/74"
keys '+'
wait_for "speed 2"
keys Space
wait_for "PAUSED 74/74" 15
keys q
expect_restored
