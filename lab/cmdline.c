/* cmdline — see cmdline.h. */
#include "cmdline.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int cmdline_split(const char *line, char **out, int max, char *err, size_t errlen)
{
    size_t n = strlen(line);
    if (n > CMDLINE_MAX_LINE) {
        snprintf(err, errlen, "line of %zu bytes is longer than the %d-byte limit", n, CMDLINE_MAX_LINE);
        return -1;
    }
    int count = 0;
    char q = 0;
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        char c = line[i];
        if (q) {
            if (c == '\\' && q == '"' && i + 1 < n) {
                i++;
                continue;
            }
            if (c == q)
                q = 0;
            else if (c == 0) {
                snprintf(err, errlen, "unbalanced %c quote", q);
                goto fail;
            }
            continue;
        }
        if (c == '\\' && i + 1 < n) {
            i++;
            continue;
        }
        if (c == '"' || c == '\'') {
            q = c;
            continue;
        }
        if (c == ';' || c == '#' || c == 0) {
            size_t a = start, b = i;
            while (a < b && (line[a] == ' ' || line[a] == '\t' || line[a] == '\r'))
                a++;
            while (b > a && (line[b - 1] == ' ' || line[b - 1] == '\t' || line[b - 1] == '\r' || line[b - 1] == '\n'))
                b--;
            if (b > a) {
                if (count >= max) {
                    snprintf(err, errlen, "more than %d commands on one line", max);
                    goto fail;
                }
                out[count++] = xstrndup(line + a, b - a);
            }
            start = i + 1;
            if (c == '#')
                break;
        }
    }
    return count;
fail:
    for (int i = 0; i < count; i++)
        free(out[i]);
    return -1;
}

int cmdline_words(const char *cmd, struct words *w, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    struct sb cur = {0};
    int in_word = 0;
    char q = 0;
    const char *start = cmd;
    for (const char *p = cmd;; p++) {
        char c = *p;
        if (c == 0) {
            if (q) {
                snprintf(err, errlen, "unbalanced %c quote", q);
                goto fail;
            }
            break;
        }
        if (q) {
            if (c == q) {
                q = 0;
            } else if (c == '\\' && q == '"') {
                if (!p[1]) {
                    snprintf(err, errlen, "trailing backslash");
                    goto fail;
                }
                sb_addc(&cur, *++p);
            } else {
                sb_addc(&cur, c);
            }
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            if (in_word) {
                if (w->argc >= CMDLINE_MAX_WORDS) {
                    snprintf(err, errlen, "more than %d words", CMDLINE_MAX_WORDS);
                    goto fail;
                }
                w->raw[w->argc] = xstrndup(start, (size_t)(p - start));
                w->argv[w->argc++] = cur.s ? cur.s : xstrdup("");
                memset(&cur, 0, sizeof cur);
                in_word = 0;
            }
            continue;
        }
        if (!in_word)
            start = p;
        in_word = 1;
        if (c == '"' || c == '\'') {
            q = c;
            if (!cur.s)
                sb_addn(&cur, "", 0);
        } else if (c == '\\') {
            if (!p[1]) {
                snprintf(err, errlen, "trailing backslash");
                goto fail;
            }
            sb_addc(&cur, *++p);
        } else {
            sb_addc(&cur, c);
        }
    }
    if (in_word) {
        if (w->argc >= CMDLINE_MAX_WORDS) {
            snprintf(err, errlen, "more than %d words", CMDLINE_MAX_WORDS);
            goto fail;
        }
        w->raw[w->argc] = xstrdup(start);
        w->argv[w->argc++] = cur.s ? cur.s : xstrdup("");
        memset(&cur, 0, sizeof cur);
    }
    sb_free(&cur);
    return 0;
fail:
    sb_free(&cur);
    words_free(w);
    return -1;
}

void words_free(struct words *w)
{
    for (int i = 0; i < w->argc; i++) {
        free(w->argv[i]);
        free(w->raw[i]);
        w->raw[i] = NULL;
    }
    w->argc = 0;
}
