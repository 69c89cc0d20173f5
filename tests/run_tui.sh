#!/bin/sh
# run_tui — terminal tests: each tests/tui/*.sh drives conlab in a tmux pane (send-keys) and
# reads the screen back (capture-pane). Needs tmux; without it every test is skipped.
#   CONLAB_BIN   directory holding conlab (default: ./bin)
#   TUI_ONLY     run only tests whose name contains this
#   TUI_TIMEOUT  seconds per test (default 90)
# Live-cluster tests (tests/tui/live_*.sh, written against a running lab) are picked up by the
# same glob; set TUI_SKIP_LIVE=1 to leave them out.
# The last line printed is "N passed, M failed"; the exit status is 1 when any failed.
cd "$(dirname "$0")/.." || exit 2
CONLAB_BIN=${CONLAB_BIN:-$(pwd)/bin}
export CONLAB_BIN
if ! command -v tmux >/dev/null 2>&1; then
    echo "check-tui: skipped (tmux is not installed)"
    exit 0
fi
if [ ! -x "$CONLAB_BIN/conlab" ]; then
    echo "check-tui: $CONLAB_BIN/conlab not found (build first, or set CONLAB_BIN)"
    exit 2
fi
timeout_s=${TUI_TIMEOUT:-90}
pass=0
fail=0
failed=""
for t in tests/tui/*.sh; do
    [ -f "$t" ] || continue
    name=$(basename "$t" .sh)
    case "$name" in lib) continue ;; esac
    # hook: live-cluster tests, added by the lab's own test set
    case "$name" in live_*) [ -n "$TUI_SKIP_LIVE" ] && continue ;; esac
    if [ -n "$TUI_ONLY" ]; then
        case "$name" in *"$TUI_ONLY"*) ;; *) continue ;; esac
    fi
    log=$(mktemp)
    if timeout "$timeout_s" sh "$t" >"$log" 2>&1; then
        pass=$((pass + 1))
        echo "ok   $name"
    else
        fail=$((fail + 1))
        failed="$failed $name"
        echo "FAIL $name"
        sed 's/^/     /' "$log" | tail -60
    fi
    rm -f "$log"
done
[ -n "$failed" ] && echo "failed:$failed"
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
