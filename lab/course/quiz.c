/* quiz — see quiz.h. The loader checks every question against its kind (a numeric question
 * has no choices, a choice question has a reason per choice and at least one right one); the
 * drill is a loop of render -> read a line -> grade -> feedback, with the Leitner update after
 * each answer so an interrupted session keeps what was answered. */
#include "quiz.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "progress.h"
#include "yamldoc.h"

#define QTEXT_MAX (8u * 1024u)

const char *quiz_kind_name(enum quiz_kind k)
{
    switch (k) {
    case QUIZ_CHOICE: return "choice";
    case QUIZ_NUMERIC: return "numeric";
    case QUIZ_ORDER: return "order";
    case QUIZ_OPEN: return "open";
    }
    return "?";
}

void quiz_question_clear(struct quiz_question *q)
{
    free(q->id);
    free(q->topic);
    for (int i = 0; i < q->ntags; i++)
        free(q->tags[i]);
    free(q->tags);
    free(q->question);
    free(q->explanation);
    for (int i = 0; i < q->nchoices; i++) {
        free(q->choices[i].text);
        free(q->choices[i].why);
    }
    free(q->unit);
    for (int i = 0; i < q->nitems; i++)
        free(q->items[i]);
    free(q->model_answer);
    for (int i = 0; i < q->npoints; i++)
        free(q->key_points[i]);
    free(q->file);
    memset(q, 0, sizeof *q);
}

static int text(const struct ydoc *d, const struct ydoc_node *map, const char *key,
                const char *what, bool required, char **out, char *err, size_t errlen)
{
    const struct ydoc_node *n = ydoc_get(map, key);
    if (!n) {
        if (required)
            return ydoc_error(d, map, err, errlen, "%s: missing required key \"%s\"", what, key);
        return 0;
    }
    char w[160];
    snprintf(w, sizeof w, "%s %s", what, key);
    const char *s;
    if (ydoc_str(d, n, w, QTEXT_MAX, &s, err, errlen) < 0)
        return CL_EINVAL;
    if (!*s)
        return ydoc_error(d, n, err, errlen, "%s: empty text", w);
    *out = xstrdup(s);
    return 0;
}

/* Keys that belong to one kind only. */
static int refuse_foreign(const struct ydoc *d, const struct ydoc_node *n, const char *what,
                          enum quiz_kind k, char *err, size_t errlen)
{
    static const struct {
        const char *key;
        enum quiz_kind kind;
    } own[] = {
        {"choices", QUIZ_CHOICE}, {"multiple", QUIZ_CHOICE}, {"answer", QUIZ_NUMERIC},
        {"tolerance", QUIZ_NUMERIC}, {"unit", QUIZ_NUMERIC}, {"order", QUIZ_ORDER},
        {"model_answer", QUIZ_OPEN}, {"key_points", QUIZ_OPEN},
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(own); i++) {
        const struct ydoc_node *v = ydoc_get(n, own[i].key);
        if (v && own[i].kind != k) {
            for (size_t j = 0; j < n->n; j++)
                if (n->items[j] == v)
                    return ydoc_error(d, n->keys[j], err, errlen,
                                      "%s: \"%s\" belongs to %s questions, this one is %s", what,
                                      own[i].key, quiz_kind_name(own[i].kind), quiz_kind_name(k));
        }
    }
    return 0;
}

int quiz_question_parse(const struct ydoc *d, const struct ydoc_node *n,
                        const char *default_topic, struct quiz_question *q, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"id", "topic", "tags", "kind", "question", "choices",
                                       "multiple", "answer", "tolerance", "unit", "order",
                                       "model_answer", "key_points", "explanation", NULL};
    static const char *const req[] = {"id", "kind", "question", "explanation", NULL};
    memset(q, 0, sizeof *q);
    if (ydoc_check_keys(d, n, "question", keys, req, err, errlen) < 0)
        return CL_EINVAL;
    const char *id;
    if (ydoc_ident(d, ydoc_get(n, "id"), "question id", 64, &id, err, errlen) < 0)
        return CL_EINVAL;
    q->id = xstrdup(id);
    q->file = xstrdup(d->name);
    q->line = n->line;
    char what[96];
    snprintf(what, sizeof what, "question \"%s\"", id);
    int rc = CL_EINVAL;
    const char *s;
    if (ydoc_get(n, "topic")) {
        if (ydoc_ident(d, ydoc_get(n, "topic"), "question topic", 32, &s, err, errlen) < 0)
            goto out;
        q->topic = xstrdup(s);
    } else if (default_topic) {
        q->topic = xstrdup(default_topic);
    } else {
        ydoc_error(d, n, err, errlen, "%s: missing \"topic\"", what);
        goto out;
    }
    const struct ydoc_node *t = ydoc_get(n, "tags");
    if (t) {
        if (ydoc_want(d, t, YDOC_LIST, "tags", err, errlen) < 0)
            goto out;
        if (t->n > 8) {
            ydoc_error(d, t, err, errlen, "%s: at most 8 tags", what);
            goto out;
        }
        q->tags = xcalloc(t->n ? t->n : 1, sizeof *q->tags);
        for (size_t i = 0; i < t->n; i++) {
            if (ydoc_ident(d, t->items[i], "tag", 32, &s, err, errlen) < 0)
                goto out;
            q->tags[q->ntags++] = xstrdup(s);
        }
    }
    int kind;
    if (ydoc_enum(d, ydoc_get(n, "kind"), "question kind", "choice|numeric|order|open", &kind,
                  err, errlen) < 0)
        goto out;
    q->kind = (enum quiz_kind)kind;
    if (refuse_foreign(d, n, what, q->kind, err, errlen) < 0)
        goto out;
    if (text(d, n, "question", what, true, &q->question, err, errlen) < 0 ||
        text(d, n, "explanation", what, true, &q->explanation, err, errlen) < 0)
        goto out;
    switch (q->kind) {
    case QUIZ_CHOICE: {
        const struct ydoc_node *c = ydoc_get(n, "choices");
        if (!c) {
            ydoc_error(d, n, err, errlen, "%s: a choice question needs \"choices\"", what);
            goto out;
        }
        if (ydoc_want(d, c, YDOC_LIST, "choices", err, errlen) < 0)
            goto out;
        if (c->n < 2 || c->n > QUIZ_MAX_CHOICES) {
            ydoc_error(d, c, err, errlen, "%s: between 2 and %d choices, found %zu", what,
                       QUIZ_MAX_CHOICES, c->n);
            goto out;
        }
        if (ydoc_get(n, "multiple") &&
            ydoc_bool(d, ydoc_get(n, "multiple"), "multiple", &q->multiple, err, errlen) < 0)
            goto out;
        int right = 0;
        for (size_t i = 0; i < c->n; i++) {
            static const char *const ckeys[] = {"text", "correct", "why", NULL};
            static const char *const creq[] = {"text", "why", NULL};
            char cw[128];
            snprintf(cw, sizeof cw, "%s choice %zu", what, i + 1);
            struct quiz_choice *ch = &q->choices[q->nchoices++];
            if (ydoc_check_keys(d, c->items[i], cw, ckeys, creq, err, errlen) < 0 ||
                text(d, c->items[i], "text", cw, true, &ch->text, err, errlen) < 0 ||
                text(d, c->items[i], "why", cw, true, &ch->why, err, errlen) < 0)
                goto out;
            if (ydoc_get(c->items[i], "correct") &&
                ydoc_bool(d, ydoc_get(c->items[i], "correct"), "correct", &ch->correct, err,
                          errlen) < 0)
                goto out;
            right += ch->correct;
            for (int j = 0; j + 1 < q->nchoices; j++)
                if (!strcmp(q->choices[j].text, ch->text)) {
                    ydoc_error(d, c->items[i], err, errlen, "%s: the same text as choice %d",
                               cw, j + 1);
                    goto out;
                }
        }
        if (right == 0) {
            ydoc_error(d, c, err, errlen, "%s: no choice is marked correct: true", what);
            goto out;
        }
        if (right > 1 && !q->multiple) {
            ydoc_error(d, c, err, errlen,
                       "%s: %d choices are correct; set multiple: true or mark only one", what,
                       right);
            goto out;
        }
        break;
    }
    case QUIZ_NUMERIC: {
        if (!ydoc_get(n, "answer")) {
            ydoc_error(d, n, err, errlen, "%s: a numeric question needs \"answer\"", what);
            goto out;
        }
        if (ydoc_num(d, ydoc_get(n, "answer"), "answer", -1e15, 1e15, &q->answer, err, errlen) <
            0)
            goto out;
        if (ydoc_get(n, "tolerance") &&
            ydoc_num(d, ydoc_get(n, "tolerance"), "tolerance", 0, 1e15, &q->tolerance, err,
                     errlen) < 0)
            goto out;
        if (ydoc_get(n, "unit")) {
            if (ydoc_str(d, ydoc_get(n, "unit"), "unit", 16, &s, err, errlen) < 0)
                goto out;
            q->unit = xstrdup(s);
        }
        break;
    }
    case QUIZ_ORDER: {
        const struct ydoc_node *o = ydoc_get(n, "order");
        if (!o) {
            ydoc_error(d, n, err, errlen,
                       "%s: an order question needs \"order\" (the items in the right order)",
                       what);
            goto out;
        }
        if (ydoc_want(d, o, YDOC_LIST, "order", err, errlen) < 0)
            goto out;
        if (o->n < 3 || o->n > QUIZ_MAX_ITEMS) {
            ydoc_error(d, o, err, errlen, "%s: between 3 and %d items to order, found %zu", what,
                       QUIZ_MAX_ITEMS, o->n);
            goto out;
        }
        for (size_t i = 0; i < o->n; i++) {
            if (ydoc_str(d, o->items[i], "order item", QTEXT_MAX, &s, err, errlen) < 0)
                goto out;
            q->items[q->nitems++] = xstrdup(s);
        }
        break;
    }
    case QUIZ_OPEN: {
        if (text(d, n, "model_answer", what, true, &q->model_answer, err, errlen) < 0)
            goto out;
        const struct ydoc_node *k = ydoc_get(n, "key_points");
        if (!k) {
            ydoc_error(d, n, err, errlen, "%s: an open question needs \"key_points\"", what);
            goto out;
        }
        if (ydoc_want(d, k, YDOC_LIST, "key_points", err, errlen) < 0)
            goto out;
        if (k->n < 1 || k->n > QUIZ_MAX_POINTS) {
            ydoc_error(d, k, err, errlen, "%s: between 1 and %d key points", what,
                       QUIZ_MAX_POINTS);
            goto out;
        }
        for (size_t i = 0; i < k->n; i++) {
            if (ydoc_str(d, k->items[i], "key point", QTEXT_MAX, &s, err, errlen) < 0)
                goto out;
            q->key_points[q->npoints++] = xstrdup(s);
        }
        break;
    }
    }
    rc = 0;
out:
    if (rc < 0)
        quiz_question_clear(q);
    return rc;
}

int quiz_bank_add_file(struct quiz_bank *bank, const char *path, char *err, size_t errlen)
{
    struct ydoc *d;
    int rc = ydoc_load_file(path, NULL, &d, err, errlen);
    if (rc < 0)
        return rc;
    static const char *const keys[] = {"schema", "topic", "title", "questions", NULL};
    static const char *const req[] = {"schema", "topic", "questions", NULL};
    struct quiz_question *got = NULL;
    int ngot = 0;
    long v;
    const char *topic;
    const struct ydoc_node *qs;
    rc = CL_EINVAL;
    if (ydoc_check_keys(d, d->root, "quiz file", keys, req, err, errlen) < 0 ||
        ydoc_int(d, ydoc_get(d->root, "schema"), "schema", 0, 1000000, &v, err, errlen) < 0)
        goto out;
    if (v != 1) {
        ydoc_error(d, ydoc_get(d->root, "schema"), err, errlen,
                   "schema %ld is not supported by this conlab (it reads schema 1)", v);
        goto out;
    }
    if (ydoc_ident(d, ydoc_get(d->root, "topic"), "topic", 32, &topic, err, errlen) < 0)
        goto out;
    if (ydoc_get(d->root, "title") &&
        ydoc_str(d, ydoc_get(d->root, "title"), "title", 200, &(const char *){NULL}, err,
                 errlen) < 0)
        goto out;
    qs = ydoc_get(d->root, "questions");
    if (ydoc_want(d, qs, YDOC_LIST, "questions", err, errlen) < 0)
        goto out;
    if (qs->n == 0 || qs->n > 1000) {
        ydoc_error(d, qs, err, errlen, "questions: between 1 and 1000");
        goto out;
    }
    got = xcalloc(qs->n, sizeof *got);
    for (size_t i = 0; i < qs->n; i++) {
        if (quiz_question_parse(d, qs->items[i], topic, &got[ngot], err, errlen) < 0)
            goto out;
        ngot++;
        const char *id = got[ngot - 1].id;
        const struct quiz_question *prev = quiz_bank_find(bank, id);
        for (int j = 0; j + 1 < ngot && !prev; j++)
            if (!strcmp(got[j].id, id))
                prev = &got[j];
        if (prev) {
            ydoc_error(d, ydoc_get(qs->items[i], "id"), err, errlen,
                       "question id \"%s\" is already used (%s:%d)", id, prev->file, prev->line);
            goto out;
        }
    }
    if (bank->n + ngot > bank->cap) {
        bank->cap = (bank->n + ngot) * 2;
        bank->q = xrealloc(bank->q, (size_t)bank->cap * sizeof *bank->q);
    }
    memcpy(bank->q + bank->n, got, (size_t)ngot * sizeof *got);
    bank->n += ngot;
    ngot = 0;
    rc = 0;
out:
    for (int i = 0; i < ngot; i++)
        quiz_question_clear(&got[i]);
    free(got);
    ydoc_free(&d);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int quiz_bank_load_dir(struct quiz_bank *bank, const char *dir, char *err, size_t errlen)
{
    DIR *dh = opendir(dir);
    if (!dh) {
        snprintf(err, errlen, "cannot read the quiz directory %s: %s", dir, strerror(errno));
        return CL_ENOENT;
    }
    char **names = NULL;
    int nn = 0;
    struct dirent *de;
    while ((de = readdir(dh)) && nn < 1000) {
        size_t len = strlen(de->d_name);
        if (de->d_name[0] == '.' || len < 6 || strcmp(de->d_name + len - 5, ".yaml"))
            continue;
        names = xrealloc(names, (size_t)(nn + 1) * sizeof *names);
        names[nn++] = xstrdup(de->d_name);
    }
    closedir(dh);
    if (nn)
        qsort(names, (size_t)nn, sizeof *names, cmp_str);
    /* a bad file is reported and skipped: the rest of the bank still works */
    struct sb bad = {0};
    int nbad = 0;
    for (int i = 0; i < nn; i++) {
        char *path = xasprintf("%s/%s", dir, names[i]);
        char one[1024];
        if (quiz_bank_add_file(bank, path, one, sizeof one) < 0) {
            if (bad.len)
                sb_addc(&bad, '\n');
            sb_add(&bad, one);
            nbad++;
        }
        free(path);
        free(names[i]);
    }
    free(names);
    int rc = 0;
    if (bank->n == 0) {
        if (bad.s)
            snprintf(err, errlen, "%s", bad.s);
        else
            snprintf(err, errlen, "no questions in %s", dir);
        rc = CL_ENOENT;
    } else if (nbad) {
        snprintf(err, errlen, "%s", bad.s);
        rc = nbad;
    } else if (errlen) {
        err[0] = 0;
    }
    sb_free(&bad);
    return rc;
}

void quiz_bank_free(struct quiz_bank *bank)
{
    for (int i = 0; i < bank->n; i++)
        quiz_question_clear(&bank->q[i]);
    free(bank->q);
    memset(bank, 0, sizeof *bank);
}

const struct quiz_question *quiz_bank_find(const struct quiz_bank *bank, const char *id)
{
    for (int i = 0; i < bank->n; i++)
        if (!strcmp(bank->q[i].id, id))
            return &bank->q[i];
    return NULL;
}

bool quiz_question_has_topic(const struct quiz_question *q, const char *topic)
{
    if (!strcmp(q->topic, topic))
        return true;
    for (int i = 0; i < q->ntags; i++)
        if (!strcmp(q->tags[i], topic))
            return true;
    return false;
}

char *quiz_bank_topics(const struct quiz_bank *bank)
{
    const char **t = xcalloc((size_t)bank->n + 1, sizeof *t);
    int n = 0;
    for (int i = 0; i < bank->n; i++) {
        bool seen = false;
        for (int j = 0; j < n && !seen; j++)
            seen = !strcmp(t[j], bank->q[i].topic);
        if (!seen)
            t[n++] = bank->q[i].topic;
    }
    if (n)
        qsort(t, (size_t)n, sizeof *t, cmp_str);
    struct sb b = {0};
    for (int i = 0; i < n; i++) {
        if (i)
            sb_addc(&b, '|');
        sb_add(&b, t[i]);
    }
    free(t);
    return b.s ? b.s : xstrdup("");
}

/* ---- asking and grading ------------------------------------------------------------- */

void quiz_render(const struct quiz_question *q, const int *perm, struct sb *out)
{
    sb_add(out, q->question);
    if (out->len && out->s[out->len - 1] != '\n')
        sb_addc(out, '\n');
    switch (q->kind) {
    case QUIZ_CHOICE:
        for (int i = 0; i < q->nchoices; i++)
            sb_printf(out, "  %c) %s\n", 'a' + i, q->choices[perm ? perm[i] : i].text);
        sb_printf(out, q->multiple ? "(several are right: answer with every letter, e.g. a,c)\n"
                                   : "(answer with one letter, a-%c)\n", 'a' + q->nchoices - 1);
        break;
    case QUIZ_NUMERIC:
        if (q->unit)
            sb_printf(out, "(answer with a number, in %s)\n", q->unit);
        else
            sb_add(out, "(answer with a number)\n");
        break;
    case QUIZ_ORDER:
        for (int i = 0; i < q->nitems; i++)
            sb_printf(out, "  %c) %s\n", 'a' + i, q->items[perm ? perm[i] : i]);
        sb_add(out, "(answer with every letter, in the right order, separated by spaces)\n");
        break;
    case QUIZ_OPEN:
        sb_add(out, "(interview question: answer in your own words, then compare)\n");
        break;
    }
}

/* Letters or 1-based numbers separated by spaces/commas, or letters run together ("ac").
 * Returns the count, or -1 when a token is not a label in 0..n-1. */
static int parse_labels(const char *s, int n, int *out, int max)
{
    int k = 0;
    while (*s) {
        if (*s == ' ' || *s == ',' || *s == '\t') {
            s++;
            continue;
        }
        int v;
        if (isalpha((unsigned char)*s)) {
            v = tolower((unsigned char)*s) - 'a';
            s++;
            if (*s == ')' || *s == '.')
                s++;
        } else if (isdigit((unsigned char)*s)) {
            v = 0;
            while (isdigit((unsigned char)*s) && v < 1000)
                v = v * 10 + (*s++ - '0');
            v--;
        } else {
            return -1;
        }
        if (v < 0 || v >= n || k >= max)
            return -1;
        out[k++] = v;
    }
    return k;
}

static void explain(const struct quiz_question *q, struct sb *out)
{
    sb_add(out, "Explanation: ");
    sb_add(out, q->explanation);
    if (out->len && out->s[out->len - 1] != '\n')
        sb_addc(out, '\n');
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = 0;
    size_t i = 0;
    while (s[i] && isspace((unsigned char)s[i]))
        i++;
    memmove(s, s + i, n - i + 1);
}

int quiz_grade(const struct quiz_question *q, const int *perm, const char *answer,
               struct sb *out)
{
    char buf[256];
    str_copy(buf, answer, sizeof buf);
    trim(buf);
    if (!buf[0]) {
        sb_add(out, "Type an answer (or `quit`).\n");
        return CL_EINVAL;
    }
    switch (q->kind) {
    case QUIZ_CHOICE: {
        int picked[64];
        int k = parse_labels(buf, q->nchoices, picked, 64);
        if (k <= 0) {
            sb_addc(out, '"');
            sb_add_escaped(out, buf, strlen(buf) > 40 ? 40 : strlen(buf));
            sb_printf(out, "\" is not one of the choices: answer with a letter a-%c.\n",
                      'a' + q->nchoices - 1);
            return CL_EINVAL;
        }
        bool chosen[QUIZ_MAX_CHOICES] = {false}; /* by choice index, not by label */
        for (int i = 0; i < k; i++)
            chosen[perm ? perm[picked[i]] : picked[i]] = true;
        int nchosen = 0;
        for (int i = 0; i < q->nchoices; i++)
            nchosen += chosen[i];
        if (!q->multiple && nchosen > 1) {
            sb_add(out, "Pick one letter only.\n");
            return CL_EINVAL;
        }
        bool right = true;
        for (int i = 0; i < q->nchoices; i++)
            right = right && chosen[i] == q->choices[i].correct;
        sb_add(out, right ? "Right.\n" : "Not quite. The answer is ");
        if (!right) {
            int c = 0;
            for (int i = 0; i < q->nchoices; i++)
                if (q->choices[perm ? perm[i] : i].correct)
                    sb_printf(out, "%s%c", c++ ? "," : "", 'a' + i);
            sb_add(out, ".\n");
        }
        for (int i = 0; i < q->nchoices; i++) {
            int ci = perm ? perm[i] : i;
            sb_printf(out, "  %c) %s%s: %s\n", 'a' + i, q->choices[ci].correct ? "right" : "wrong",
                      chosen[ci] ? " (yours)" : "", q->choices[ci].why);
        }
        explain(q, out);
        return right;
    }
    case QUIZ_NUMERIC: {
        char *end;
        errno = 0;
        double v = strtod(buf, &end);
        while (*end == ' ')
            end++;
        if (q->unit && *end && !strcmp(end, q->unit))
            end += strlen(end);
        if (end == buf || *end || errno || !isfinite(v)) {
            sb_addc(out, '"');
            sb_add_escaped(out, buf, strlen(buf) > 40 ? 40 : strlen(buf));
            sb_printf(out, "\" is not a number: answer with a number%s%s.\n",
                      q->unit ? " of " : "", q->unit ? q->unit : "");
            return CL_EINVAL;
        }
        bool right = fabs(v - q->answer) <= q->tolerance + 1e-9;
        if (right)
            sb_add(out, "Right.\n");
        else
            sb_printf(out, "Not quite. The answer is %g%s%s.\n", q->answer, q->unit ? " " : "",
                      q->unit ? q->unit : "");
        explain(q, out);
        return right;
    }
    case QUIZ_ORDER: {
        int seq[64];
        int k = parse_labels(buf, q->nitems, seq, 64);
        bool seen[QUIZ_MAX_ITEMS] = {false};
        bool perm_ok = k == q->nitems;
        for (int i = 0; perm_ok && i < k; i++) {
            perm_ok = !seen[seq[i]];
            seen[seq[i]] = true;
        }
        if (!perm_ok) {
            sb_printf(out, "Give every letter a-%c exactly once, in the order you think is "
                      "right, separated by spaces.\n", 'a' + q->nitems - 1);
            return CL_EINVAL;
        }
        bool right = true;
        for (int i = 0; i < k; i++)
            right = right && (perm ? perm[seq[i]] : seq[i]) == i;
        sb_add(out, right ? "Right.\n" : "Not quite. The right order is:\n");
        if (!right) {
            for (int i = 0; i < q->nitems; i++) {
                int label = i;
                for (int j = 0; perm && j < q->nitems; j++)
                    if (perm[j] == i)
                        label = j;
                sb_printf(out, "  %d. (%c) %s\n", i + 1, 'a' + label, q->items[i]);
            }
        }
        explain(q, out);
        return right;
    }
    case QUIZ_OPEN:
        sb_add(out, "Open questions are graded by you: compare with the model answer.\n");
        return CL_ESTATE;
    }
    return CL_EINVAL;
}

/* ---- the drill ------------------------------------------------------------------------ */

static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

struct pick {
    int q;
    int group;   /* 0 due review, 1 new, 2 not due */
    int box, last;
    uint64_t r;
};

static int cmp_pick(const void *a, const void *b)
{
    const struct pick *x = a, *y = b;
    if (x->group != y->group)
        return x->group - y->group;
    if (x->box != y->box)
        return x->box - y->box;
    if (x->group == 2 && x->last != y->last)
        return x->last - y->last;
    return x->r < y->r ? -1 : x->r > y->r;
}

struct topic_stat {
    const char *topic;
    int asked;
    double right;
};

/* Reads one line; returns NULL at EOF. The newline is removed. Overlong lines are cut. */
static char *read_line(FILE *in, char *buf, size_t n, bool echo, FILE *out)
{
    if (!fgets(buf, (int)n, in))
        return NULL;
    if (echo) {
        struct sb e = {0};
        size_t len = strcspn(buf, "\n");
        sb_add_escaped(&e, buf, len);
        fprintf(out, "%s\n", e.s ? e.s : "");
        sb_free(&e);
    }
    size_t len = strlen(buf);
    if (len && buf[len - 1] == '\n')
        buf[--len] = 0;
    else if (len == n - 1) {
        int c;
        while ((c = fgetc(in)) != EOF && c != '\n')
            ;
    }
    return buf;
}

static bool is_quit(const char *s)
{
    return !strcmp(s, "quit") || !strcmp(s, "q") || !strcmp(s, "exit");
}

static void put(FILE *out, struct sb *b)
{
    if (b->s)
        fputs(b->s, out);
    fflush(out);
    b->len = 0;
    if (b->s)
        b->s[0] = 0;
}

static void shuffle(int *perm, int n, uint64_t *rng)
{
    for (int i = 0; i < n; i++)
        perm[i] = i;
    for (int tries = 0; tries < 8; tries++) {
        for (int i = n - 1; i > 0; i--) {
            int j = (int)(rng_next(rng) % (uint64_t)(i + 1));
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        bool ident = true;
        for (int i = 0; i < n; i++)
            ident = ident && perm[i] == i;
        if (!ident)
            return;
    }
}

int quiz_run(const struct quiz_bank *bank, const struct quiz_opts *o, struct progress *p,
             FILE *in, FILE *out, struct quiz_result *res)
{
    memset(res, 0, sizeof *res);
    int count = o->count > 0 ? o->count : 10;
    uint64_t rng = o->seed ? (uint64_t)o->seed : (uint64_t)mono_us() ^ (uint64_t)time(NULL);
    rng = rng * 0x9e3779b97f4a7c15ull + 1;
    if (!rng)
        rng = 1;
    struct pick *picks = xcalloc((size_t)bank->n + 1, sizeof *picks);
    int np = 0;
    int session = p ? progress_quiz_sessions(p) + 1 : 1;
    for (int i = 0; i < bank->n; i++) {
        const struct quiz_question *q = &bank->q[i];
        if (o->topic && !quiz_question_has_topic(q, o->topic))
            continue;
        if ((q->kind == QUIZ_OPEN) != o->interview)
            continue;
        struct progress_card c = {0};
        if (p)
            progress_card_get(p, q->id, &c);
        struct pick *k = &picks[np++];
        k->q = i;
        k->box = c.box;
        k->last = c.last;
        k->r = rng_next(&rng);
        if (c.box == 0)
            k->group = 1;
        else
            k->group = session - c.last >= (1 << (c.box - 1)) ? 0 : 2;
    }
    if (np == 0) {
        char *topics = quiz_bank_topics(bank);
        if (o->topic) {
            char sug[64];
            if (ydoc_suggest(o->topic, topics, sug, sizeof sug))
                fprintf(out, "no %squestions on topic \"%s\"; did you mean \"%s\"?\n",
                        o->interview ? "interview " : "", o->topic, sug);
            else
                fprintf(out, "no %squestions on topic \"%s\"; topics: %s\n",
                        o->interview ? "interview " : "", o->topic, topics);
        } else {
            fprintf(out, "no %squestions in the bank\n", o->interview ? "interview " : "");
        }
        free(topics);
        free(picks);
        return CL_ENOENT;
    }
    qsort(picks, (size_t)np, sizeof *picks, cmp_pick);
    if (count > np)
        count = np;
    if (p)
        session = progress_quiz_begin_session(p);

    struct topic_stat *ts = xcalloc((size_t)count, sizeof *ts);
    int nts = 0;
    struct sb b = {0};
    char line[1024];
    bool stop = false;
    fprintf(out, "%s: %d question%s%s%s. Type `quit` to stop early.\n\n",
            o->interview ? "Interview drill" : "Quiz", count, count == 1 ? "" : "s",
            o->topic ? " on " : "", o->topic ? o->topic : "");
    for (int i = 0; i < count && !stop; i++) {
        const struct quiz_question *q = &bank->q[picks[i].q];
        int perm[QUIZ_MAX_CHOICES > QUIZ_MAX_ITEMS ? QUIZ_MAX_CHOICES : QUIZ_MAX_ITEMS];
        const int *pp = NULL;
        if (o->no_shuffle) {
            for (int k = 0; k < QUIZ_MAX_CHOICES; k++)
                perm[k] = k;
            pp = perm;
        } else if (q->kind == QUIZ_ORDER) {
            shuffle(perm, q->nitems, &rng);
            pp = perm;
        } else if (q->kind == QUIZ_CHOICE) {
            shuffle(perm, q->nchoices, &rng);
            pp = perm;
        }
        sb_printf(&b, "Question %d of %d  [%s]\n", i + 1, count, q->topic);
        quiz_render(q, pp, &b);
        put(out, &b);
        int verdict = -1; /* 1 right, 0 wrong, 2 partly */
        if (q->kind != QUIZ_OPEN) {
            for (;;) {
                fputs("> ", out);
                fflush(out);
                if (!read_line(in, line, sizeof line, o->echo, out)) {
                    stop = true;
                    break;
                }
                trim(line);
                if (is_quit(line)) {
                    stop = true;
                    break;
                }
                if (!strcmp(line, "skip") || !strcmp(line, "?")) {
                    sb_add(&b, "Skipped: counted as not known.\n");
                    if (q->kind == QUIZ_CHOICE) {
                        for (int c = 0; c < q->nchoices; c++)
                            sb_printf(&b, "  %c) %s: %s\n", 'a' + c,
                                      q->choices[pp[c]].correct ? "right" : "wrong",
                                      q->choices[pp[c]].why);
                    } else if (q->kind == QUIZ_NUMERIC) {
                        sb_printf(&b, "The answer is %g%s%s.\n", q->answer, q->unit ? " " : "",
                                  q->unit ? q->unit : "");
                    } else {
                        sb_add(&b, "The right order is:\n");
                        for (int k = 0; k < q->nitems; k++)
                            sb_printf(&b, "  %d. %s\n", k + 1, q->items[k]);
                    }
                    explain(q, &b);
                    verdict = 0;
                    break;
                }
                int r = quiz_grade(q, pp, line, &b);
                if (r < 0) {
                    put(out, &b);
                    continue;
                }
                verdict = r;
                break;
            }
        } else {
            fputs("Your answer (one line; `skip` to see the model answer)\n> ", out);
            fflush(out);
            if (!read_line(in, line, sizeof line, o->echo, out))
                stop = true;
            else {
                trim(line);
                if (is_quit(line))
                    stop = true;
            }
            if (!stop) {
                sb_add(&b, "\nModel answer:\n");
                sb_add(&b, q->model_answer);
                if (b.len && b.s[b.len - 1] != '\n')
                    sb_addc(&b, '\n');
                sb_add(&b, "Key points:\n");
                for (int k = 0; k < q->npoints; k++)
                    sb_printf(&b, "  - %s\n", q->key_points[k]);
                explain(q, &b);
                put(out, &b);
                for (;;) {
                    fputs("Did your answer cover the key points? [y]es, [p]artly, [n]o\n> ", out);
                    fflush(out);
                    if (!read_line(in, line, sizeof line, o->echo, out)) {
                        stop = true;
                        break;
                    }
                    trim(line);
                    if (is_quit(line)) {
                        stop = true;
                        break;
                    }
                    if (!strcmp(line, "y") || !strcmp(line, "yes")) { verdict = 1; break; }
                    if (!strcmp(line, "p") || !strcmp(line, "partly")) { verdict = 2; break; }
                    if (!strcmp(line, "n") || !strcmp(line, "no")) { verdict = 0; break; }
                    fputs("Answer y, p or n.\n", out);
                }
            }
        }
        if (verdict < 0) {
            res->skipped++;
            fputc('\n', out);
            break;
        }
        put(out, &b);
        fputc('\n', out);
        res->asked++;
        if (verdict == 1)
            res->right++;
        if (verdict == 2)
            res->partly++;
        int t = 0;
        while (t < nts && strcmp(ts[t].topic, q->topic))
            t++;
        if (t == nts) {
            ts[nts].topic = q->topic;
            nts++;
        }
        ts[t].asked++;
        ts[t].right += verdict == 1 ? 1.0 : verdict == 2 ? 0.5 : 0.0;
        if (p) {
            struct progress_card c;
            progress_card_get(p, q->id, &c);
            c.seen++;
            c.last = session;
            if (verdict == 1) {
                c.right++;
                c.box = (c.box < 1 ? 1 : c.box) + 1;
                if (c.box > QUIZ_BOXES)
                    c.box = QUIZ_BOXES;
            } else if (verdict == 2) {
                c.box = c.box < 1 ? 1 : c.box;
            } else {
                c.box = 1;
            }
            progress_card_set(p, q->id, &c);
            char err[512];
            if (progress_save(p, err, sizeof err) < 0)
                fprintf(out, "(progress not saved: %s)\n", err);
        }
    }
    sb_free(&b);
    fprintf(out, "Score: %d/%d", res->right, res->asked);
    if (res->partly)
        fprintf(out, " (and %d partly)", res->partly);
    if (res->asked)
        fprintf(out, " = %d%%", (int)((res->right + 0.5 * res->partly) * 100.0 / res->asked + 0.5));
    fputc('\n', out);
    bool weak = false;
    for (int t = 0; t < nts; t++) {
        if (ts[t].right / ts[t].asked >= 0.7)
            continue;
        if (!weak)
            fputs("Weak topics:", out);
        fprintf(out, " %s (%g/%d)", ts[t].topic, ts[t].right, ts[t].asked);
        weak = true;
    }
    if (weak) {
        for (int t = 0; t < nts; t++)
            if (ts[t].right / ts[t].asked < 0.7) {
                fprintf(out, "\nDrill them: conlab quiz --topic %s%s", ts[t].topic,
                        o->interview ? " --interview" : "");
                break;
            }
        fputc('\n', out);
    } else if (res->asked) {
        fputs("No weak topics this session.\n", out);
    }
    if (p) {
        int boxes[QUIZ_BOXES + 1] = {0};
        for (int i = 0; i < bank->n; i++) {
            struct progress_card c;
            progress_card_get(p, bank->q[i].id, &c);
            boxes[c.box]++;
        }
        fprintf(out, "Leitner boxes: new %d", boxes[0]);
        for (int k = 1; k <= QUIZ_BOXES; k++)
            fprintf(out, ", %d: %d", k, boxes[k]);
        fputc('\n', out);
    }
    fflush(out);
    free(ts);
    free(picks);
    return 0;
}
