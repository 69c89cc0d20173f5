# The command line is GNU readline inside curses: completion, history, Ctrl-C clears the line,
# q only quits on an empty line, Ctrl-D on an empty line leaves; Tab on an empty line moves
# the focus; the events filter; a message's JSON.
. tests/tui/lib.sh
start 120 40 "$BIN/conlab replay --repl $TRACE"
wait_for "replay>"
keys "se" Tab
wait_for "replay> seek"
keys "10" Enter
wait_for "PAUSED 10/74"
wait_for "at event 10 of 74"
keys Up
wait_for "replay> seek 10"
keys C-c
wait_gone "replay> seek 10"
keys "xyzzy" Enter
wait_for "unknown command 'xyzzy'"
keys "aq"
wait_for "replay> aq"
screen | grep -qF "EXIT=" && fail "q inside a word quit"
keys C-u
wait_gone "replay> aq"
# the events filter, through '/'
keys "live" Enter
wait_for "PAUSED 74/74"
keys "/"
wait_for "filter:"
keys "ev=drop" Enter
wait_for "Events [filter: ev=drop]"
n=$(screen | grep -c " drop ")
[ "$n" -eq 3 ] || fail "expected 3 drop events in the filtered pane, saw $n"
screen | grep -qF " commit " && fail "a commit event passed the drop filter"
# Tab on the empty line focuses Messages; Up selects the newest message; Enter shows its JSON
keys Tab Up Enter
wait_for "message n2 -> n1 in flight"
screen | grep -qF '"msg_id": 103' || fail "the message's JSON is not shown"
keys Escape
wait_gone "message n2 -> n1"
keys Escape C-d
expect_restored
