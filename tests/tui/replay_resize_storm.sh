# H4: 200 rapid resizes, including 20x5 and 1x1, never crash; too small says so.
. tests/tui/lib.sh
start 120 40 "$BIN/conlab replay $TRACE"
wait_for "Cluster raft"
keys '>'
wait_for "74/74"
T resize-window -x 20 -y 5
wait_for "too small"
T resize-window -x 1 -y 1
sleep 0.2
i=0
while [ $i -lt 200 ]; do
    case $((i % 8)) in
        0) T resize-window -x 20 -y 5 ;;
        1) T resize-window -x 1 -y 1 ;;
        2) T resize-window -x 80 -y 24 ;;
        3) T resize-window -x 200 -y 60 ;;
        4) T resize-window -x 39 -y 11 ;;
        5) T resize-window -x 41 -y 13 ;;
        6) T resize-window -x 120 -y 40 ;;
        7) T resize-window -x $((30 + i % 90)) -y $((8 + i % 40)) ;;
    esac
    i=$((i + 1))
done
T resize-window -x 80 -y 24
wait_for "Cluster raft"
wait_for "LEADER t2"
screen | grep -qF "EXIT=" && fail "conlab exited during the storm"
[ "$(screen | wc -L)" -le 80 ] || fail "screen wider than 80 columns"
keys q
expect_restored
