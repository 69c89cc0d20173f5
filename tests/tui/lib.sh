# lib.sh — helpers for the terminal tests (sourced by tests/tui/*.sh).
# Each test gets its own tmux server (a private socket), so tests never touch the user's tmux.
set -u
BIN=${CONLAB_BIN:-$(pwd)/bin}
TRACE=${TRACE:-$(pwd)/tests/traces/raft3.jsonl}
SOCK="conlab-tui-$$"
NSOCK=0
TMPD=$(mktemp -d)
T() { tmux -u -L "$SOCK" "$@"; }
# the screens are checked for UTF-8 glyphs: run under a UTF-8 locale when there is one
if locale -a 2>/dev/null | grep -qix 'c\.utf-\?8'; then
    export LC_ALL=C.UTF-8
fi
export TERM=${TUI_TERM:-tmux-256color}
infocmp "$TERM" >/dev/null 2>&1 || export TERM=screen
cleanup() { T kill-server 2>/dev/null; rm -rf "$TMPD"; }
# a fresh tmux server for the next start (a server being killed may still hold the old socket)
fresh() { T kill-server 2>/dev/null; NSOCK=$((NSOCK + 1)); SOCK="conlab-tui-$$-$NSOCK"; }
trap cleanup EXIT INT TERM

fail() { echo "FAIL: $*"; echo "--- screen ---"; T capture-pane -p 2>/dev/null; exit 1; }

# start COLS ROWS COMMAND: runs COMMAND in a fresh pane; after it ends the pane prints the exit
# status and the terminal modes ("EXIT=0", "MODES icanon echo"), then stays open.
start() {
    cols=$1; rows=$2; shift 2
    fresh
    cat >"$TMPD/run.sh" <<EOS
ulimit -c 0
$*
echo "EXIT=\$?"
echo "MODES \$(stty -a | tr ' ;' '\n\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\n' ' ')"
sleep 600
EOS
    T -f /dev/null new-session -d -x "$cols" -y "$rows" "sh $TMPD/run.sh" || fail "tmux did not start"
    T set-option -g remain-on-exit on >/dev/null
}

# start_shell COLS ROWS: an interactive bash (for job control tests), prompt "$ ".
start_shell() {
    fresh
    T -f /dev/null new-session -d -x "$1" -y "$2" "env PS1='$ ' bash --norc --noprofile -i" || fail "tmux did not start"
    wait_for '$' 5
}

screen() { T capture-pane -p; }

# wait_for TEXT [SECONDS]: until TEXT (fixed string) is on screen
wait_for() {
    n=$(( ${2:-5} * 10 ))
    while [ "$n" -gt 0 ]; do
        screen | grep -qF -- "$1" && return 0
        sleep 0.1
        n=$((n - 1))
    done
    fail "did not see '$1'"
}

# wait_gone TEXT [SECONDS]: until TEXT is no longer on screen
wait_gone() {
    n=$(( ${2:-5} * 10 ))
    while [ "$n" -gt 0 ]; do
        screen | grep -qF -- "$1" || return 0
        sleep 0.1
        n=$((n - 1))
    done
    fail "'$1' is still on screen"
}

keys() { T send-keys "$@"; }

# expect_restored: the program has exited 0 and left the terminal in cooked mode with echo,
# and its screen is gone (the alternate screen was left).
expect_restored() {
    wait_for "EXIT=" 10
    screen | grep -qF "EXIT=${1:-0}" || fail "exit status is not ${1:-0}"
    wait_for "MODES" 5
    screen | grep "MODES" | grep -qw -- "icanon" || fail "terminal left without icanon"
    screen | grep "MODES" | grep -qw -- "echo" || fail "terminal left without echo"
    screen | grep -qF "Cluster raft" && fail "the dashboard is still on screen"
    return 0
}
