/* repl — see repl.h. */
#include "repl.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
/* readline needs stdio first */
#include <readline/history.h>
#include <readline/readline.h>

#include "cmdline.h"

static struct lab *g_lab;
static volatile sig_atomic_t g_sigint, g_quit;

static void on_sig(int sig)
{
    if (sig == SIGINT)
        g_sigint = 1;
    else
        g_quit = 1;
    if (g_lab)
        g_lab->interrupted = 1;
}

void repl_complete_lab(struct lab *lab)
{
    g_lab = lab;
}

void repl_signals(struct lab *lab)
{
    g_lab = lab;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sig;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

const char *repl_history_path(void)
{
    static char path[1024];
    const char *x = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char dir[900];
    if (x && x[0] == '/')
        snprintf(dir, sizeof dir, "%s/conlab", x);
    else if (home && home[0] == '/')
        snprintf(dir, sizeof dir, "%s/.local/state/conlab", home);
    else
        return NULL;
    /* mkdir -p */
    char tmp[900];
    str_copy(tmp, dir, sizeof tmp);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            mkdir(tmp, 0700);
            *p = '/';
        }
    mkdir(tmp, 0700);
    snprintf(path, sizeof path, "%s/history", dir);
    return path;
}

/* ---- completion ---------------------------------------------------------------------------- */

static const char *const *g_words;

static char *gen(const char *text, int state)
{
    static int i;
    static size_t len;
    if (!state) {
        i = 0;
        len = strlen(text);
    }
    if (g_words)
        while (g_words[i]) {
            const char *w = g_words[i++];
            if (!strncmp(w, text, len))
                return strdup(w);
        }
    return NULL;
}

char **repl_complete(const char *text, int start, int end)
{
    (void)end;
    /* the running cluster's nodes only (and `leader`) */
    static char node_ids[CL_MAXNODES][CL_IDLEN];
    static const char *nodes[CL_MAXNODES + 2];
    int nn = g_lab && g_lab->cl ? g_lab->cl->n : 0, nk = 0;
    for (int i = 0; i < nn && i < CL_MAXNODES; i++) {
        node_name(i, node_ids[i]);
        nodes[nk++] = node_ids[i];
    }
    if (nn)
        nodes[nk++] = "leader";
    nodes[nk] = NULL;
    static const char *modes[16];
    static const char *opts[64];
    static const char *checks[16]; /* the lab's checker table (lab_check_names) */
    static const char *waits[] = {"leader", "converged", "500ms", "1s", "2s", NULL};
    static const char *shapes[] = {"one", "halves", "majority", "minority-third", "majorities-ring", "bridge", NULL};
    static const char *clockw[] = {"bump", "strobe", NULL};
    static const char *expects[] = {"leader", "converged", "linearizable", "not", "fail", "role", NULL};
    if (!checks[0]) {
        static char names[256];
        str_copy(names, lab_check_names(), sizeof names);
        int k = 0;
        for (char *save = NULL, *w = strtok_r(names, "|", &save); w && k < 15; w = strtok_r(NULL, "|", &save))
            checks[k++] = w;
    }
    if (!modes[0]) {
        int k = 0;
        for (int i = 0; mode_table[i] && k < 15; i++)
            modes[k++] = mode_table[i]->name;
        int o = 0;
        static char buf[64][40];
        for (int i = 0; mode_table[i]; i++)
            for (const struct mode_option *m = mode_table[i]->options; m && m->name && o < 50; m++) {
                snprintf(buf[o], sizeof buf[o], "%s=", m->name);
                opts[o] = buf[o];
                o++;
            }
        static const char *gen_opts[] = {"seed=", "speed=", "sim=on", "fsync=off", "bug=", "timeout=", NULL};
        for (int i = 0; gen_opts[i] && o < 63; i++)
            opts[o++] = gen_opts[i];
    }
    rl_attempted_completion_over = 1;
    /* which word is this? */
    char first[32] = "";
    int words_before = 0;
    const char *line = rl_line_buffer;
    int i = start;
    while (i > 0 && line[i - 1] != ';')
        i--;
    const char *p = line + i;
    while (p < line + start) {
        while (p < line + start && *p == ' ')
            p++;
        if (p >= line + start)
            break;
        const char *q = p;
        while (q < line + start && *q != ' ')
            q++;
        if (words_before == 0)
            str_copy(first, p, (size_t)(q - p) + 1 < sizeof first ? (size_t)(q - p) + 1 : sizeof first);
        words_before++;
        p = q;
    }
    if (words_before == 0)
        g_words = lab_command_names();
    else if (!strcmp(first, "start"))
        g_words = words_before == 1 ? modes : opts;
    else if (!strcmp(first, "check"))
        g_words = checks;
    else if (!strcmp(first, "wait"))
        g_words = waits;
    else if (!strcmp(first, "partition"))
        g_words = shapes;
    else if (!strcmp(first, "clock"))
        g_words = words_before == 1 ? clockw : nodes;
    else if (!strcmp(first, "expect"))
        g_words = expects;
    else if (!strcmp(first, "help"))
        g_words = lab_command_names();
    else
        g_words = nodes;
    return rl_completion_matches(text, gen);
}

/* ---- the REPL ------------------------------------------------------------------------------- */

static int g_repl_done;

static void on_line(char *line)
{
    if (!line) { /* Ctrl-D */
        g_repl_done = 1;
        rl_callback_handler_remove();
        putchar('\n');
        return;
    }
    if (*line)
        add_history(line);
    lab_input(g_lab, line);
    free(line);
    if (g_lab->quit) {
        g_repl_done = 1;
        rl_callback_handler_remove();
    }
}

static int run_tty(struct lab *lab)
{
    const char *hist = repl_history_path();
    if (hist) {
        read_history(hist);
        stifle_history(2000);
    }
    rl_catch_signals = 0;
    rl_catch_sigwinch = 1;
    rl_readline_name = "conlab";
    rl_attempted_completion_function = repl_complete;
    rl_callback_handler_install("conlab> ", on_line);
    while (!g_repl_done && !g_quit) {
        lab->interrupted = 0;
        int ready = lab_pump(lab, 1000000, STDIN_FILENO);
        if (g_sigint) {
            g_sigint = 0;
            lab->interrupted = 0;
            rl_free_line_state();
            rl_crlf();
            rl_replace_line("", 0);
            rl_on_new_line();
            rl_redisplay();
            continue;
        }
        if (ready)
            rl_callback_read_char();
    }
    if (!g_repl_done)
        rl_callback_handler_remove();
    if (hist)
        write_history(hist);
    return 0;
}

static int run_pipe(struct lab *lab)
{
    struct sb buf = {0};
    char chunk[4096];
    int eof = 0;
    int discarding = 0; /* a line over the cap was refused: skip the rest of it, up to its newline */
    while (!lab->quit && !g_quit && !g_sigint) { /* no line to clear here: Ctrl-C quits */
        char *nl = buf.s ? memchr(buf.s, '\n', buf.len) : NULL;
        if (nl) {
            *nl = 0;
            lab_input(lab, buf.s);
            size_t used = (size_t)(nl - buf.s) + 1;
            memmove(buf.s, buf.s + used, buf.len - used);
            buf.len -= used;
            buf.s[buf.len] = 0;
            continue;
        }
        if (buf.len > CMDLINE_MAX_LINE) {
            /* refused whole: not one command of it runs, its tail after a ';' included */
            lab_err(lab, "line longer than %d bytes: refused whole (none of its commands ran)", CMDLINE_MAX_LINE);
            buf.len = 0;
            buf.s[0] = 0;
            discarding = 1;
            continue;
        }
        if (eof) {
            if (buf.len)
                lab_input(lab, buf.s);
            break;
        }
        if (!lab_pump(lab, 1000000, STDIN_FILENO))
            continue;
        ssize_t r = read(STDIN_FILENO, chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            eof = 1;
            continue;
        }
        const char *from = chunk;
        size_t n = (size_t)r;
        if (discarding) {
            const char *end = memchr(chunk, '\n', n);
            if (!end)
                continue;
            discarding = 0;
            n -= (size_t)(end + 1 - chunk);
            from = end + 1;
        }
        sb_addn(&buf, from, n);
    }
    sb_free(&buf);
    return 0;
}

int repl_run(struct lab *lab, const char *first_command)
{
    repl_signals(lab);
    lab->snapshots = 1; /* so that `conlab dash` viewers see node states */
    if (first_command)
        lab_exec(lab, first_command);
    if (lab->quit)
        return 0;
    if (isatty(STDIN_FILENO))
        return run_tty(lab);
    return run_pipe(lab);
}

/* ---- scripts ------------------------------------------------------------------------------ */

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
    if (!f) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    struct sb b = {0};
    char chunk[65536];
    size_t r;
    while ((r = fread(chunk, 1, sizeof chunk, f)) > 0) {
        sb_addn(&b, chunk, r);
        if (b.len > 16u << 20) {
            snprintf(err, errlen, "%s is larger than 16 MiB", path);
            sb_free(&b);
            if (f != stdin)
                fclose(f);
            return NULL;
        }
    }
    if (f != stdin)
        fclose(f);
    if (!b.s)
        sb_addn(&b, "", 0);
    if (memchr(b.s, 0, b.len)) {
        snprintf(err, errlen, "%s contains a NUL byte: not a script", path);
        sb_free(&b);
        return NULL;
    }
    *len = b.len;
    return b.s;
}

int script_run(struct lab *lab, int nfiles, char **files)
{
    repl_signals(lab);
    char err[512];
    char *text[64];
    if (nfiles > 64)
        nfiles = 64;
    int bad = 0;
    for (int f = 0; f < nfiles; f++) {
        size_t len;
        text[f] = read_all(files[f], &len, err, sizeof err);
        if (!text[f]) {
            fprintf(stderr, "conlab script: %s\n", err);
            bad = 1;
            continue;
        }
        /* parse every line before running anything */
        int lineno = 0;
        for (char *p = text[f]; *p;) {
            char *nl = strchr(p, '\n');
            size_t l = nl ? (size_t)(nl - p) : strlen(p);
            char *line = xstrndup(p, l);
            lineno++;
            char msg[512];
            if (lab_validate(lab, line, msg, sizeof msg) != 0) {
                fprintf(stderr, "%s:%d: %s\n", files[f], lineno, msg);
                bad = 1;
            }
            free(line);
            p += l + (nl ? 1 : 0);
        }
    }
    if (bad) {
        for (int f = 0; f < nfiles; f++)
            free(text[f]);
        return 2;
    }
    int worst = 0;
    for (int f = 0; f < nfiles && !lab->quit && !g_quit; f++) {
        int lineno = 0;
        for (char *p = text[f]; *p && !lab->quit && !g_quit;) {
            char *nl = strchr(p, '\n');
            size_t l = nl ? (size_t)(nl - p) : strlen(p);
            char *line = xstrndup(p, l);
            lineno++;
            p += l + (nl ? 1 : 0);
            const char *s = line;
            while (*s == ' ' || *s == '\t')
                s++;
            if (*s && *s != '#') {
                lab->script_line = lineno;
                lab_out(lab, "conlab> %s", s);
                int rc = lab_exec(lab, s);
                if (rc > worst)
                    worst = rc;
            }
            free(line);
        }
        free(text[f]);
    }
    lab->script_line = 0;
    if (worst == 2)
        return 2;
    return lab->failed ? 1 : 0;
}
