# The dashboard works under TERM=xterm, xterm-16color, screen and tmux-256color (8 and 16
# colours), and in an 80x24 terminal from the start.
. tests/tui/lib.sh
for term in xterm xterm-16color screen tmux-256color; do
    infocmp "$term" >/dev/null 2>&1 || { echo "skip TERM=$term (no terminfo entry)"; continue; }
    start 80 24 "TERM=$term $BIN/conlab replay $TRACE"
    wait_for "Cluster raft"
    keys '>'
    wait_for "LEADER t2"
    screen | grep -qF "partition: n1 | n2,n3" || fail "TERM=$term: no partition line"
    keys q
    expect_restored
done
