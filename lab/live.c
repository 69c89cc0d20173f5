/* live — see live.h. The loop, in phases: ask the dashboard when it next wants to draw; pump
 * the cluster until then or until a key arrives; hand signals (resize, suspend) and keys to
 * the dashboard; every half second fold fresh node statuses into it. */
#include "live.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <readline/history.h>
#include <readline/readline.h>

#include "dash.h"
#include "lessonhost.h"
#include "repl.h"

static volatile sig_atomic_t g_winch, g_tstp, g_cont, g_int, g_term;
static struct lab *g_live_lab; /* Ctrl-C also interrupts a command that waits (wait 5s, step N) */

static void on_sig(int sig)
{
    if (sig == SIGWINCH)
        g_winch = 1;
    else if (sig == SIGTSTP)
        g_tstp = 1;
    else if (sig == SIGCONT)
        g_cont = 1;
    else if (sig == SIGINT) {
        g_int = 1;
        if (g_live_lab)
            g_live_lab->interrupted = 1;
    } else
        g_term = 1;
}

struct live {
    struct lab *lab;
    struct dash *d;
    int in_command;     /* a command typed on the command line is running */
};

static void on_line(void *ud, const char *line)
{
    struct live *lv = ud;
    lab_event(lv->lab, "output", json_pack("{s:o}", "text", json_sprintf("> %s", line)));
    lv->in_command = 1;
    lab_input(lv->lab, line);
    lv->in_command = 0;
}

static void on_event(void *ud, const struct event *ev)
{
    struct live *lv = ud;
    dash_feed(lv->d, (json_t *)ev->json);
}

static void on_output(void *ud, const char *text)
{
    (void)ud;
    (void)text; /* the "output" event already carries it to the dashboard */
}

static void before_sleep(void *ud)
{
    struct live *lv = ud;
    dash_before_sleep(lv->d, mono_us());
    /* the keys are read between commands: a command that waits (wait 5s, step N) looks for
     * Ctrl-C each turn of the loop, so that it can be interrupted */
    if (lv->in_command && dash_poll_interrupt(lv->d))
        lv->lab->interrupted = 1;
}

int live_run(struct lab *lab, const char *first_command, int no_color, char *err, size_t errlen)
{
    struct live lv = {.lab = lab};
    struct dash_config cfg = {
        .kind = DASH_LIVE,
        .no_color = no_color,
        .on_line = on_line,
        .ud = &lv,
        .complete = repl_complete,
        .prompt = "conlab> ",
        .source = NULL,
    };
    lv.d = dash_new(&cfg, err, errlen);
    if (!lv.d)
        return -1;
    lessonhost_use_pane(1); /* lessons read in their pane; Output keeps command results */
    repl_complete_lab(lab); /* Tab offers the running cluster's nodes */
    const char *hist = repl_history_path();
    if (hist) {
        read_history(hist);
        stifle_history(2000);
    }
    g_live_lab = lab;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGWINCH, &sa, NULL);
    sigaction(SIGTSTP, &sa, NULL);
    sigaction(SIGCONT, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    struct lab_hooks h = {.ud = &lv, .on_event = on_event, .on_output = on_output, .before_sleep = before_sleep};
    lab_add_hooks(lab, &h);
    lab->snapshots = 1;
    /* the events so far (a first command may have run before the screen opened) */
    for (size_t i = 0; i < lab->ev_count; i++)
        dash_feed(lv.d, lab->events[(lab->ev_head + i) % LAB_MAX_EVENTS]);
    if (first_command)
        lab_exec(lab, first_command);
    while (!lab->quit && !dash_quit_requested(lv.d) && !g_term) {
        uint64_t wake = dash_before_sleep(lv.d, mono_us());
        if (wake > 200000)
            wake = 200000;
        lab->interrupted = 0;
        int ready = lab_pump(lab, wake, dash_input_fd(lv.d));
        if (g_winch) {
            g_winch = 0;
            dash_on_signal(lv.d, SIGWINCH);
        }
        if (g_tstp) {
            g_tstp = 0;
            dash_on_signal(lv.d, SIGTSTP);
        }
        if (g_cont) {
            g_cont = 0;
            dash_on_signal(lv.d, SIGCONT);
        }
        if (g_int) { /* Ctrl-C: clear the command line; never stops the nodes */
            g_int = 0;
            rl_replace_line("", 0);
            rl_point = rl_end = 0;
            dash_set_notice(lv.d, "Ctrl-C: line cleared (type quit to leave)");
        }
        if (ready == 1)
            dash_on_readable(lv.d);
    }
    g_live_lab = NULL;
    lab_remove_hooks(lab, &lv); /* the dashboard goes away before the lab */
    dash_destroy(&lv.d);
    if (hist)
        write_history(hist);
    return 0;
}
