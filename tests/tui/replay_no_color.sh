# H6: NO_COLOR and --no-color give no colour escapes (attributes only, ASCII glyphs) and the
# state stays readable; TERM=dumb and a pipe get a text summary without escapes.
. tests/tui/lib.sh
has_colour() {
    # every SGR parameter of the pane's escapes; colours are 30-37/38 and 40-47/48, 90-107
    T capture-pane -e -p | grep -o "$(printf '\033')\[[0-9;]*m" | tr -d '\033[m' | tr ';' '\n' |
        grep -qxE '3[0-8]|4[0-8]|9[0-7]|10[0-7]'
}
start 120 40 "$BIN/conlab replay $TRACE"
wait_for "Cluster raft"
keys '>'
wait_for "74/74"
has_colour || fail "the colour run shows no colour at all (test cannot tell)"
keys q
expect_restored
start 120 40 "NO_COLOR=1 $BIN/conlab replay $TRACE"
wait_for "Cluster raft"
keys '>'
wait_for "74/74"
screen | grep -qF "LEADER  term 2" || fail "leader not readable without colour"
screen | grep -qF "append_entries x partition" || fail "dropped message not readable"
has_colour && fail "NO_COLOR screen has colour escapes"
keys q
expect_restored
start 120 40 "$BIN/conlab replay --no-color $TRACE"
wait_for "Cluster raft"
has_colour && fail "--no-color screen has colour escapes"
keys q
expect_restored
start 120 40 "TERM=dumb $BIN/conlab replay $TRACE"
wait_for "EXIT=0"
screen | grep -qF "n2 leader term=2" || fail "TERM=dumb summary lacks the leader"
"$BIN/conlab" replay "$TRACE" | od -c | grep -qF '033' && fail "piped output has escapes"
"$BIN/conlab" replay "$TRACE" | grep -qF "partition: n1 | n2 n3" || fail "piped summary lacks the partition"
exit 0
