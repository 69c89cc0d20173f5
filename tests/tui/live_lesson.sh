# The welcome lesson at 80x24, as a student who never saw the lab: the introduction, then
# step 1 in the Lesson pane with its commands in view; no step passes before its commands; the
# Output pane follows new output unless scrolled back (then it says new output came); F2
# switches to the cluster view and back; - slows the cluster and the title shows it; at the
# end the quiz waits to be asked for and never takes a command as an answer; the next lesson
# is named; quit restores the terminal.
. tests/tui/lib.sh
export XDG_RUNTIME_DIR="$TMPD/xdg"
export XDG_STATE_HOME="$TMPD/state"
export XDG_DATA_HOME="$TMPD/data"
export CONLAB_LESSONS="$(pwd)/lessons"
mkdir -p "$XDG_RUNTIME_DIR"
start 80 24 "$BIN/conlab --lesson welcome"
wait_for "Lesson welcome · introduction" 10
wait_for "introduction: \`next\` starts step 1" 5
keys "next" Enter
wait_for "Step 1 of 4: Who leads?" 5
wait_for "Try: wait leader · status" 5
wait_for "waiting for you: do the step" 5
# the cluster has its leader by now, and still the step waits for the student
sleep 2
screen | grep -qF "Step 1 done" && fail "step 1 passed before the student did it"
keys "wait leader" Enter
wait_for "Step 1 done: Who leads?" 10
wait_for "Step 2 of 4: Write once, read anywhere" 5
wait_for "Try: put x 1 · get x @n2" 5
screen | grep -qF "passed" && fail "the new step shows the old step's 'passed'"
# Output follows new output; scrolled back it stays and says what came
keys Tab Tab
keys PPage
keys -
wait_for "speed 0.5" 5
wait_for "new output (" 5
keys End
wait_gone "new output (" 5
screen | grep -qF "speed 0.5: protocol timers run slower" || fail "End did not show the new output"
keys Escape
keys "speed" Enter
wait_for "speed 0.5: protocol timers" 5
keys "speed 1" Enter
# F2: the whole cluster, then the lesson again
keys F2
wait_for "Messages (time" 5
wait_for "[lesson welcome · step 2 of 4" 5
keys F2
wait_for "Step 2 of 4: Write once, read anywhere" 5
keys "put x 1" Enter
keys "get x @n2" Enter
wait_for "Step 3 of 4: Crash a node" 10
keys "timeout n1 ; wait n1 leader ; crash n1 ; wait leader ; get x" Enter
wait_for "Step 4 of 4: Was it correct?" 20
keys "history" Enter
keys "check linearizable" Enter
wait_for "type \`quiz\`" 10
# the quiz waits: a command is a command, not an answer
keys "status" Enter
wait_for "n1 raft - down" 10
screen | grep -qF "is not a number" && fail "the quiz took a command as an answer"
keys "quiz" Enter
wait_for "Quiz 1 of 1" 5
keys "wait leader" Enter
wait_for "leader n" 10
screen | grep -qF "is not a number" && fail "the quiz took 'wait leader' as an answer"
keys "2" Enter
wait_for "Next in the course: \`lesson hello-node\`" 10
keys "quit" Enter
expect_restored
echo "live lesson: introduction, steps that wait, output that follows, F2, slow motion, quiz on request"
