# The Clocks pane (F4) and happened-before (F5) on the live lab, at 120x40 and at 80x24: a
# spanner cluster with n1's clock skewed beyond ε and n2's drifting; the pane shows every
# node's offset, drift, Lamport and vector clocks and TrueTime's interval against true time
# (n1's MISSES it); NTP on marks the clocks it syncs; F5 marks the messages that happened
# before / after the selected one.
. tests/tui/lib.sh
export XDG_RUNTIME_DIR="$TMPD/xdg"
export XDG_STATE_HOME="$TMPD/state"
mkdir -p "$XDG_RUNTIME_DIR"
for size in "120 40" "80 24"; do
    start $size "$BIN/conlab"
    wait_for "conlab>" 10
    keys "start spanner 3 epsilon=7ms" Enter
    wait_for "started 3 spanner nodes" 10
    keys "skew n1 +30" Enter
    wait_for "n1's clock now runs +30 ms" 5
    keys "clock drift n2 +500" Enter
    wait_for "(+500 ppm)" 5
    keys "put x 1" Enter
    wait_for "ok" 10
    keys F4
    wait_for "Clocks" 5
    # the statuses come twice a second: the skew and the drift show once one has arrived
    wait_for "+30.0ms" 10
    wait_for "MISSES" 10
    wait_for "+500ppm" 10
    screen | grep -F "n2" | grep -F "+500ppm" >/dev/null || fail "n2's drift is not on its line ($size)"
    keys "ntp on 1" Enter
    wait_for "NTP on" 5
    wait_for "ms*" 10
    wait_gone "MISSES" 10
    keys F5
    wait_for "< " 5
    screen | grep -qF "Messages (<" || fail "the Messages pane does not say what < and > mean ($size)"
    keys F5
    wait_gone "Messages (<" 5
    keys F4
    wait_gone "MISSES" 5
    keys "quit" Enter
    expect_restored
done
echo "live clocks: the Clocks pane at 120x40 and 80x24 (offsets, drift, TrueTime, NTP), F5 marks happened-before"
