/* dash — the ncurses dashboard with the REPL's readline inside it (issue 6, docs/dashboard.md).
 *
 * The lab owns the one poll loop; the dashboard never blocks and never loops on its own:
 *
 *   struct dash *d = dash_new(&cfg, err, sizeof err);        // NULL: use the plain REPL
 *   poll set += dash_input_fd(d) (POLLIN)
 *   loop:
 *     timeout = min(lab timers, dash_before_sleep(d, mono_us()))   // coalesced redraw
 *     poll(...)
 *     if input fd readable:   dash_on_readable(d)      // keys; readline; may call on_line
 *     (POLLHUP/POLLERR on it: the terminal is gone; leave as for quit)
 *     for each event:         dash_feed(d, ev)         // cheap: folds into the model
 *     for each signal:        dash_on_signal(d, sig)   // SIGWINCH, SIGTSTP, SIGCONT
 *   dash_destroy(&d);                                  // restores the terminal
 *
 * Signals: install the lab's self-pipe handlers for SIGWINCH, SIGTSTP and SIGCONT before
 * dash_new (ncurses then leaves SIGWINCH alone) and pass them to dash_on_signal. The terminal
 * is in raw mode: Ctrl-C and Ctrl-Z arrive as keys (Ctrl-C clears the line, Ctrl-Z suspends),
 * so SIGINT never reaches the lab from the keyboard while the dashboard is open.
 *
 * The event stream (JSON objects, borrowed by dash_feed, which keeps its own reference):
 * every event of docs/protocol.md §3, plus what the lab makes itself:
 *   {"ev":"cluster","mode":"raft","nodes":["n1","n2","n3"],"options":{…}}   on start
 *   {"ev":"cluster","stopped":true}                                       on stop
 *   {"ev":"status","node":"n1","status":{…protocol.md §2…}}   every ~500 ms and after commands
 *   {"ev":"op","op":{…a history record, protocol.md §4…}}
 *   {"ev":"fault","what":"partition","groups":[["n1"],["n2","n3"]]}   {"ev":"fault","what":"heal"}
 *   {"ev":"fault","what":"delay","src":"n1","dst":"n2","ms":300}  (no src/dst: every link)
 *   {"ev":"fault","what":"loss","src":"n1","dst":"n2","pct":20}
 *   {"ev":"fault","what":"crash|restart|pause|resume","node":"n2"}
 *   {"ev":"fault","what":"skew","node":"n2","ms":-5}
 *   {"ev":"speed","factor":0.1}
 *   {"ev":"output","text":"…"}      command output lines (the lab should also echo each entered
 *                                   command as "> CMD", so attached viewers and traces see it)
 *   {"ev":"lesson","active":true,"title":"welcome · step 2 of 4 · hints 0/1",
 *    "text":"Step 2 of 4: …\n<the step's text>\n\nTry:\n    put x 1\n    get x @n2\n",
 *    "check":"waiting for you: do the step"}   the Lesson pane (lab/course/lessonhost.c)
 *   {"ev":"lesson","active":false}  when a lesson ends
 *   {"ev":"input","line":"put x 1"}  a command typed during a lesson (not drawn in Events)
 *   {"ev":"invariant"|"error"|"verdict",…} stand out as alerts.
 * Every event should carry "t" (µs since the start of the run); replay paces by it.
 *
 * Keys: one table in dash.c, from which the help overlay is made (docs/dashboard.md lists
 * them): F1/? help, F2 lesson/cluster view, F3 quiz, Tab/Shift-Tab focus, arrows and
 * PgUp/PgDn scroll, Space freeze/live (time travel with ←/→ [ ] < >), -/+ speed (1, 0.5,
 * 0.25, 0.1, 0.05), / filter events, Enter a message's JSON, q (on an empty line) or `quit`.
 */
#ifndef CONLAB_DASH_H
#define CONLAB_DASH_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "model.h"

enum dash_kind {
    DASH_LIVE,     /* the lab's own screen: command line with readline */
    DASH_READONLY, /* conlab dash: attached to a running lab, no command line */
    DASH_REPLAY,   /* conlab replay: a trace, with play/pause; a command line when on_line */
};

struct dash_config {
    enum dash_kind kind;
    bool no_color;           /* --no-color; NO_COLOR and TERM=dumb are checked by dash_new too */
    /* An entered command line (DASH_LIVE). Also called with "quit" for q on an empty line and
     * for Ctrl-D on an empty line, and with "speed F" for + and -. The line is borrowed. The
     * callback must not destroy the dashboard: set a flag and destroy after
     * dash_on_readable returns. Non-empty typed lines are added to readline's history here;
     * the lab loads and saves the history file. */
    void (*on_line)(void *ud, const char *line);
    void *ud;
    /* Readline's attempted-completion function (rl_attempted_completion_function), or NULL.
     * Lists of matches are shown in the Output pane. */
    char **(*complete)(const char *text, int start, int end);
    const char *prompt;      /* default "conlab> " */
    const char *source;      /* shown in the title bar ("trace run.jsonl", "lab 1234"), or NULL */
    size_t record_cap;       /* events kept for time travel, 0 = DM_DEFAULT_CAP */
    double replay_speed;     /* DASH_REPLAY: playback speed factor, 0 = 1 */
};

struct dash;

/* Opens the dashboard on the terminal (stdin/stdout) and installs crash-signal handlers that
 * restore the terminal. Returns NULL with a reason in err when the terminal cannot host it
 * (not a tty, TERM unset, dumb or unknown): the caller falls back to the plain REPL. */
struct dash *dash_new(const struct dash_config *c, char *err, size_t errlen);
/* Restores the terminal (also after a suspend), frees everything, NULLs *d. */
void dash_destroy(struct dash **d);

/* The descriptor to poll for input (the terminal). */
int dash_input_fd(const struct dash *d);
/* While a command runs (and the keys wait): 1 when Ctrl-C was typed, which interrupts it;
 * any other key is left for later. */
int dash_poll_interrupt(struct dash *d);
/* Reads every pending key: dashboard keys act at once, the rest go to readline. */
void dash_on_readable(struct dash *d);
/* Folds one event into the model (borrowed; a reference is kept for time travel). */
void dash_feed(struct dash *d, json_t *ev);
/* Redraws if something changed, at most ~30 times a second, and steps replay playback.
 * Returns µs until it wants to run again (UINT64_MAX: nothing scheduled). */
uint64_t dash_before_sleep(struct dash *d, uint64_t now_us);
/* SIGWINCH: resize; SIGTSTP: restore the terminal and stop (fg comes back redrawn); SIGCONT:
 * redraw. Call from the loop, not from a signal handler. */
void dash_on_signal(struct dash *d, int sig);
/* q in read-only or replay mode (or Ctrl-D there): the caller should leave. */
bool dash_quit_requested(const struct dash *d);

/* The model (borrowed): replay preloads it, the lab may save its recorded events. */
struct dm *dash_model(struct dash *d);
/* The dashboard's own commands, for a command line that wants them (replay uses them):
 *   seek N | play | pause | live | freeze | filter [WORDS] | speed F (replay only)
 * Returns 1 and a one-line reply in reply when line is one of them, 0 when it is not. */
int dash_command(struct dash *d, const char *line, char *reply, size_t n);
/* A one-line notice for the title bar (copied), or NULL to clear it. */
void dash_set_notice(struct dash *d, const char *text);
/* Replay: start playing (true) or stay paused at the cursor (false). */
void dash_set_playing(struct dash *d, bool playing);

/* Restores the terminal from a signal handler (async-signal-safe: write + tcsetattr). The
 * lab may call it from its own crash handlers; dash_new installs handlers for SIGSEGV,
 * SIGBUS, SIGFPE, SIGILL and SIGABRT that call it and then die of the signal. */
void dash_crash_restore(void);

/* The help overlay's lines: every key of the key table (the one place keys are bound) and
 * a legend of what the screen shows. NULL-terminated, static. */
const char *const *dash_help_lines(void);

/* Should a dashboard be drawn in colour? false when NO_COLOR is set (any value), TERM is
 * unset/dumb, or no_color_flag. */
bool dash_want_color(bool no_color_flag);

#endif
