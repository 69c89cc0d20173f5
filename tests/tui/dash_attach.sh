# conlab dash attaches a read-only dashboard to a running lab from another terminal and shows
# the same cluster; q leaves it with the terminal restored. The lab here is a stand-in that
# publishes the fixture trace (conlab bench dash --publish).
. tests/tui/lib.sh
export XDG_RUNTIME_DIR="$TMPD/xdg"
mkdir -p "$XDG_RUNTIME_DIR"
"$BIN/conlab" bench dash --publish "$TRACE" --seconds 60 >"$TMPD/pub.log" 2>&1 &
PUB=$!
trap 'kill $PUB 2>/dev/null; cleanup' EXIT INT TERM
n=0
until grep -q publishing "$TMPD/pub.log" || [ $n -ge 50 ]; do sleep 0.1; n=$((n + 1)); done
grep -q publishing "$TMPD/pub.log" || fail "the stand-in lab did not start: $(cat "$TMPD/pub.log")"
start 120 40 "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR $BIN/conlab dash"
wait_for "read-only: lab $PUB"
wait_for "LEADER  term 2"
wait_for "partition: n1 | n2,n3"
screen | grep -F "append_entries ✗ partition" | grep -qF "╌" || fail "dropped message not crossed out"
screen | grep -qF "conlab>" && fail "a read-only dashboard shows a command line"
keys q
expect_restored
# the same at 80x24, by pid
start 80 24 "XDG_RUNTIME_DIR=$XDG_RUNTIME_DIR $BIN/conlab dash --pid $PUB"
wait_for "LEADER t2"
kill $PUB
wait $PUB
wait_for "lab $PUB has exited"
keys q
expect_restored
