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
#include "repl.h"

static volatile sig_atomic_t g_winch, g_tstp, g_cont, g_int, g_term;

static void on_sig(int sig)
{
    if (sig == SIGWINCH)
        g_winch = 1;
    else if (sig == SIGTSTP)
        g_tstp = 1;
    else if (sig == SIGCONT)
        g_cont = 1;
    else if (sig == SIGINT)
        g_int = 1;
    else
        g_term = 1;
}

struct live {
    struct lab *lab;
    struct dash *d;
    uint64_t last_status;
};

static void on_line(void *ud, const char *line)
{
    struct live *lv = ud;
    lab_event(lv->lab, "output", json_pack("{s:o}", "text", json_sprintf("> %s", line)));
    lab_exec(lv->lab, line);
}

static void on_event(void *ud, const json_t *ev)
{
    struct live *lv = ud;
    dash_feed(lv->d, (json_t *)ev);
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
}

static void feed_statuses(struct live *lv)
{
    struct lab *lab = lv->lab;
    if (!lab->cl)
        return;
    json_t *st[CL_MAXN] = {0};
    lab_refresh(lab, st);
    for (int i = 0; i < lab->cl->n; i++) {
        char id[CL_IDLEN];
        node_name(i, id);
        json_t *s = st[i] ? st[i] : json_pack("{s:s}", "state", node_state_name(lab->cl->state[i]));
        if (st[i] && lab->cl->state[i] == NODE_PAUSED)
            json_object_set_new(s, "state", json_string("paused"));
        json_t *e = json_pack("{s:I,s:s,s:s,s:o}", "t", (json_int_t)cluster_now(lab->cl), "ev", "status", "node", id,
                              "status", s);
        dash_feed(lv->d, e);
        json_decref(e);
    }
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
    const char *hist = repl_history_path();
    if (hist) {
        read_history(hist);
        stifle_history(2000);
    }
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
        if (mono_us() - lv.last_status > 500000) {
            lv.last_status = mono_us();
            feed_statuses(&lv);
        }
    }
    lab->nhooks = 0; /* the dashboard goes away before the lab */
    dash_destroy(&lv.d);
    if (hist)
        write_history(hist);
    return 0;
}
