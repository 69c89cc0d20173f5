# The State pane (`watch KEY`) on the live lab, at 120x40 and at 80x24: a crdt cluster split
# n1 | n2,n3, an OR-Set updated on both sides. The pane draws every node's elements with their
# dots side by side, marks what differs (* and "- milk" where a node lacks an entry) and says
# DIFFER with the groups; after heal it says the replicas agree and when they CONVERGED. A
# PN-Counter shows its P and N vectors; watch off brings the messages back.
. tests/tui/lib.sh
# until_shown CONDITION: poll a shell condition on the screen every 0.1 s, 20 s at most
until_shown() { n=200; while ! eval "$1"; do n=$((n - 1)); [ "$n" -gt 0 ] || return 1; sleep 0.1; done; }
export XDG_RUNTIME_DIR="$TMPD/xdg"
export XDG_STATE_HOME="$TMPD/state"
mkdir -p "$XDG_RUNTIME_DIR"
for size in "120 40" "80 24"; do
    start $size "$BIN/conlab"
    wait_for "conlab>" 10
    keys "start crdt 3 sync=delta" Enter
    wait_for "started 3 crdt nodes" 20
    keys "watch cart" Enter
    wait_for "no node has reported its state of cart yet" 10
    keys "partition n1 | n2,n3" Enter
    wait_for "partition: n1 | n2,n3" 10
    keys "sadd cart milk @n1" Enter
    wait_for "[\"milk\"] on n1" 20
    keys "sadd cart eggs @n2" Enter
    wait_for "[\"eggs\"] on n2" 20
    wait_for "State of cart (orset)" 10
    # n1 holds milk (dot n1:1), n2 and n3 hold eggs (n2:1) once n3 merged it; each side marks
    # the other's entry it lacks
    wait_for "DIFFER: n1 | n2,n3" 20
    screen | grep -F "*milk n1:1" | grep -qF "*- milk" || fail "milk is not lined up across the columns ($size)"
    screen | grep -F "*- eggs" | grep -qF "*eggs n2:1" || fail "eggs is not lined up across the columns ($size)"
    keys "heal" Enter
    wait_for "CONVERGED" 30
    wait_gone "DIFFER" 20
    # a node's state table follows its value by up to one sync interval: wait for it (20 s)
    until_shown 'screen | grep -F "eggs n2:1" | grep -qv "\*"' || fail "a converged entry is still marked ($size)"
    until_shown 'screen | grep -qF "ctx n1:1,n2:1"' || fail "the causal context is not under each column ($size)"
    keys "incr hits 5 @n1" Enter
    wait_for "= 5 on n1" 20
    keys "decr hits 2 @n1" Enter
    wait_for "= 3 on n1" 20
    keys "watch hits" Enter
    wait_for "State of hits (pncounter)" 20
    wait_for "n1 = 3" 20
    until_shown 'screen | grep -qE " P +N"' || fail "the counter's P and N columns are not named ($size)"
    keys "watch off" Enter
    wait_gone "State of" 10
    wait_for "Messages" 10
    keys "quit" Enter
    expect_restored
done
echo "live crdt state: the State pane at 120x40 and 80x24 (dots side by side, DIFFER under a partition, CONVERGED after heal, counter vectors)"
