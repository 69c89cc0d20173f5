/* timeline — see timeline.h. Column layout: the invocation and completion events of the drawn
 * operations are sorted; each event gets the next column, pushed right far enough that every
 * bar can hold its label. */
#include "timeline.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

struct tev { int pos, op; bool ret; };

static int tev_cmp(const void *a, const void *b)
{
    const struct tev *x = a, *y = b;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

static int i64_cmp(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static bool closed(const struct hist_op *op)
{
    return op->completed && op->outcome != HO_INFO;
}

void timeline_draw(const struct history *h, const int *ops, int n, int marked, int width,
                   struct sb *out)
{
    if (n <= 0)
        return;
    char **label = xcalloc((size_t)n, sizeof *label);
    int *c_inv = xcalloc((size_t)n, sizeof *c_inv), *c_ret = xcalloc((size_t)n, sizeof *c_ret);
    int maxlab = width / 3 > 12 ? width / 3 : 12;
    for (int i = 0; i < n; i++) {
        struct sb b = {0};
        const struct hist_op *op = &h->ops[ops[i]];
        history_describe_op(h, op, &b);
        if (op->outcome == HO_FAIL)
            sb_add(&b, " fail");
        if (!closed(op))
            sb_add(&b, " ?");
        if ((int)b.len > maxlab) {
            b.s[maxlab - 2] = '.';
            b.s[maxlab - 1] = '.';
            b.s[maxlab] = 0;
            b.len = (size_t)maxlab;
        }
        label[i] = b.s;
    }
    struct tev *ev = xmalloc((size_t)(2 * n) * sizeof *ev);
    int ne = 0;
    for (int i = 0; i < n; i++) {
        const struct hist_op *op = &h->ops[ops[i]];
        ev[ne++] = (struct tev){op->inv_pos, i, false};
        if (closed(op))
            ev[ne++] = (struct tev){op->ret_pos, i, true};
    }
    qsort(ev, (size_t)ne, sizeof *ev, tev_cmp);
    int col = -2, right = 0;
    for (int e = 0; e < ne; e++) {
        col += 2;
        int i = ev[e].op;
        if (ev[e].ret) {
            int need = c_inv[i] + (int)strlen(label[i]) + 2;
            if (col < need)
                col = need;
            c_ret[i] = col;
        } else {
            c_inv[i] = col;
        }
        if (col > right)
            right = col;
    }
    for (int i = 0; i < n; i++)
        if (!closed(&h->ops[ops[i]])) {
            int need = c_inv[i] + (int)strlen(label[i]) + 4;
            if (need > right)
                right = need;
            c_ret[i] = -1;
        }
    right += 1;
    /* rows: processes in ascending order */
    int64_t *procs = xmalloc((size_t)n * sizeof *procs);
    for (int i = 0; i < n; i++)
        procs[i] = h->ops[ops[i]].process;
    qsort(procs, (size_t)n, sizeof *procs, i64_cmp);
    int np = 0;
    for (int i = 0; i < n; i++)
        if (np == 0 || procs[np - 1] != procs[i])
            procs[np++] = procs[i];
    char *row = xmalloc((size_t)right + 2);
    for (int p = 0; p < np; p++) {
        memset(row, ' ', (size_t)right);
        row[right] = 0;
        int mark_from = -1, mark_to = -1;
        for (int i = 0; i < n; i++) {
            const struct hist_op *op = &h->ops[ops[i]];
            if (op->process != procs[p])
                continue;
            int a = c_inv[i], b = c_ret[i] >= 0 ? c_ret[i] : right - 1;
            for (int c = a; c <= b; c++)
                row[c] = '-';
            row[a] = '[';
            row[b] = c_ret[i] >= 0 ? ']' : '>';
            size_t ll = strlen(label[i]);
            memcpy(row + a + 1, label[i], ll);
            if (ops[i] == marked) {
                mark_from = a;
                mark_to = b;
            }
        }
        int e = right;
        while (e > 0 && row[e - 1] == ' ')
            e--;
        row[e] = 0;
        sb_printf(out, "  p%-4" PRId64 " %s\n", procs[p], row);
        if (mark_from >= 0) {
            sb_add(out, "        ");
            for (int c = 0; c < mark_from; c++)
                sb_addc(out, ' ');
            for (int c = mark_from; c <= mark_to; c++)
                sb_addc(out, '^');
            sb_add(out, " cannot take effect\n");
        }
    }
    /* legend: times */
    sb_add(out, "  times:");
    for (int i = 0; i < n; i++) {
        const struct hist_op *op = &h->ops[ops[i]];
        sb_printf(out, "%s p%" PRId64 " %s [", i ? ";" : "", op->process, label[i]);
        history_describe_time(h, op->t_inv, out);
        sb_add(out, "..");
        if (closed(op))
            history_describe_time(h, op->t_ret, out);
        else
            sb_add(out, op->outcome == HO_FAIL ? "fail" : "?");
        sb_add(out, "]");
    }
    sb_add(out, "\n");
    for (int i = 0; i < n; i++)
        free(label[i]);
    free(label);
    free(c_inv);
    free(c_ret);
    free(ev);
    free(procs);
    free(row);
}
