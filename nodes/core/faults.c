/* faults — see faults.h. */
#include "faults.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void faults_init(struct faults *f, int n)
{
    memset(f, 0, sizeof *f);
    f->n = n;
}

void faults_heal(struct faults *f)
{
    faults_init(f, f->n);
}

int faults_active(const struct faults *f)
{
    static const struct link_fault zero;
    for (int a = 0; a < f->n; a++)
        for (int b = 0; b < f->n; b++)
            if (f->cut[a][b] || memcmp(&f->link[a][b], &zero, sizeof zero))
                return 1;
    return 0;
}

static void cut_groups(struct faults *f, const int *group)
{
    for (int a = 0; a < f->n; a++)
        for (int b = 0; b < f->n; b++)
            f->cut[a][b] = a != b && group[a] != group[b];
}

int faults_partition(struct faults *f, const char *spec, char *err, size_t errlen)
{
    int group[CL_MAXNODES];
    for (int i = 0; i < CL_MAXNODES; i++)
        group[i] = -1;
    int g = 0, in_group = 0;
    const char *p = spec;
    char tok[64];
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '|' || *p == 0) {
            if (!in_group) {
                snprintf(err, errlen, "empty group in partition \"%s\": expected e.g. n1,n2 | n3", spec);
                return CL_EINVAL;
            }
            if (*p == 0)
                break;
            g++;
            in_group = 0;
            p++;
            continue;
        }
        size_t n = 0;
        while (*p && *p != ',' && *p != '|' && *p != ' ' && *p != '\t') {
            if (n + 1 < sizeof tok)
                tok[n++] = *p;
            p++;
        }
        tok[n] = 0;
        int idx;
        if (parse_node_id(tok, f->n, &idx) < 0) {
            snprintf(err, errlen, "unknown node \"%s\" in partition: nodes are n1..n%d", tok, f->n);
            return CL_EINVAL;
        }
        if (group[idx] >= 0) {
            snprintf(err, errlen, "node %s appears twice in the partition", tok);
            return CL_EINVAL;
        }
        group[idx] = g;
        in_group = 1;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == ',')
            p++;
    }
    if (g == 0) {
        /* one group: the named nodes against the rest */
        int named = 0;
        for (int i = 0; i < f->n; i++)
            named += group[i] >= 0;
        if (named == f->n) {
            snprintf(err, errlen, "one group holding every node cuts nothing: expected e.g. n1 | n2,n3");
            return CL_EINVAL;
        }
        g = 1;
    }
    for (int i = 0; i < f->n; i++)
        if (group[i] < 0)
            group[i] = g;
    cut_groups(f, group);
    return 0;
}

static void shuffle(int *a, int n, struct rng *r)
{
    for (int i = n - 1; i > 0; i--) {
        int j = (int)rng_range(r, 0, (uint64_t)i);
        int t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}

int faults_shape(struct faults *f, const char *shape, struct rng *r, char *desc, size_t desclen,
                 char *err, size_t errlen)
{
    int n = f->n, perm[CL_MAXNODES], group[CL_MAXNODES];
    for (int i = 0; i < n; i++)
        perm[i] = i;
    shuffle(perm, n, r);
    if (n < 2) {
        snprintf(err, errlen, "a partition needs at least 2 nodes");
        return CL_EINVAL;
    }
    if (!strcmp(shape, "one") || !strcmp(shape, "halves") || !strcmp(shape, "majority") ||
        !strcmp(shape, "minority-third")) {
        int k; /* size of the first group */
        if (!strcmp(shape, "one"))
            k = 1;
        else if (!strcmp(shape, "halves"))
            k = n / 2;
        else if (!strcmp(shape, "majority"))
            k = n / 2 + 1;
        else
            k = n / 3 > 0 ? n / 3 : 1;
        for (int i = 0; i < n; i++)
            group[perm[i]] = i < k ? 0 : 1;
        cut_groups(f, group);
    } else if (!strcmp(shape, "majorities-ring") || !strcmp(shape, "bridge")) {
        /* majorities-ring: arrange nodes in a ring; each sees its nearest neighbours so that
         * it sees a majority, but no two nodes see the same majority (Jepsen). bridge: two
         * halves plus one node in the middle that sees both. */
        memset(f->cut, 0, sizeof f->cut);
        if (!strcmp(shape, "bridge")) {
            if (n < 3) {
                snprintf(err, errlen, "bridge needs at least 3 nodes");
                return CL_EINVAL;
            }
            int mid = perm[0];
            for (int i = 1; i < n; i++)
                group[perm[i]] = i <= (n - 1) / 2 ? 0 : 1;
            group[mid] = 2;
            for (int a = 0; a < n; a++)
                for (int b = 0; b < n; b++)
                    f->cut[a][b] = a != b && a != mid && b != mid && group[a] != group[b];
        } else {
            int m = n / 2 + 1; /* majority including self */
            int pos[CL_MAXNODES];
            for (int i = 0; i < n; i++)
                pos[perm[i]] = i;
            int reach = (m - 1 + 1) / 2; /* neighbours each side */
            for (int a = 0; a < n; a++)
                for (int b = 0; b < n; b++) {
                    if (a == b)
                        continue;
                    int d = pos[a] - pos[b];
                    if (d < 0)
                        d = -d;
                    if (n - d < d)
                        d = n - d;
                    f->cut[a][b] = d > reach;
                }
        }
    } else {
        snprintf(err, errlen,
                 "unknown partition shape \"%s\": expected one|halves|majority|minority-third|majorities-ring|bridge or groups like n1,n2 | n3",
                 shape);
        return CL_EINVAL;
    }
    struct sb b = {0};
    faults_describe(f, &b);
    str_copy(desc, b.s ? b.s : "", desclen);
    sb_free(&b);
    return 0;
}

void faults_isolate(struct faults *f, int idx)
{
    for (int i = 0; i < f->n; i++) {
        if (i == idx)
            continue;
        f->cut[idx][i] = 1;
        f->cut[i][idx] = 1;
    }
}

void faults_cut(struct faults *f, int src, int dst)
{
    f->cut[src][dst] = 1;
}

#define EACH_LINK(f, src, dst, body)                                         \
    for (int a_ = 0; a_ < (f)->n; a_++)                                      \
        for (int b_ = 0; b_ < (f)->n; b_++) {                                \
            if (a_ == b_ || ((src) >= 0 && a_ != (src)) || ((dst) >= 0 && b_ != (dst))) \
                continue;                                                    \
            struct link_fault *l = &(f)->link[a_][b_];                       \
            body;                                                            \
        }

int faults_check_delay(uint64_t delay_us, uint64_t jitter_us, char *err, size_t errlen)
{
    if (delay_us <= FAULTS_MAX_DELAY_US && jitter_us <= FAULTS_MAX_DELAY_US)
        return 0;
    snprintf(err, errlen, "%s of %llu ms is out of range: a delay and its jitter are each 0 to %llu ms",
             delay_us > FAULTS_MAX_DELAY_US ? "a delay" : "a jitter",
             (unsigned long long)((delay_us > FAULTS_MAX_DELAY_US ? delay_us : jitter_us) / 1000),
             FAULTS_MAX_DELAY_US / 1000);
    return CL_ERANGE;
}

void faults_set_delay(struct faults *f, int src, int dst, uint64_t delay_us, uint64_t jitter_us)
{
    if (delay_us > FAULTS_MAX_DELAY_US)
        delay_us = FAULTS_MAX_DELAY_US;
    if (jitter_us > FAULTS_MAX_DELAY_US)
        jitter_us = FAULTS_MAX_DELAY_US;
    EACH_LINK(f, src, dst, { l->delay_us = delay_us; l->jitter_us = jitter_us; });
}

void faults_set_loss(struct faults *f, int src, int dst, double p)
{
    EACH_LINK(f, src, dst, l->loss = p);
}

void faults_set_dup(struct faults *f, int src, int dst, double p)
{
    EACH_LINK(f, src, dst, l->dup = p);
}

void faults_set_reorder(struct faults *f, int src, int dst, double p)
{
    EACH_LINK(f, src, dst, l->reorder = p);
}

void faults_set_bandwidth(struct faults *f, int src, int dst, uint64_t kbps)
{
    if (kbps > FAULTS_MAX_KBPS)
        kbps = FAULTS_MAX_KBPS;
    EACH_LINK(f, src, dst, l->kbps = kbps);
}

void bwq_expire(struct bwq *q, uint64_t now)
{
    while (q->n && q->v[q->head].done <= now) {
        q->bytes -= q->v[q->head].bytes;
        q->head = (q->head + 1) % q->cap;
        q->n--;
    }
    if (!q->n)
        q->bytes = 0;
}

uint64_t bwq_push(struct bwq *q, uint64_t now, size_t len, uint64_t kbps)
{
    bwq_expire(q, now);
    if (q->n >= BWQ_MAX_FRAMES)
        return 0;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        struct bwq_frame *v = xmalloc(cap * sizeof *v);
        for (size_t i = 0; i < q->n; i++)
            v[i] = q->v[(q->head + i) % q->cap];
        free(q->v);
        q->v = v;
        q->cap = cap;
        q->head = 0;
    }
    if (kbps < FAULTS_MIN_KBPS)
        kbps = FAULTS_MIN_KBPS;
    /* bits / (kbit/s) = ms; in µs: len * 8 * 1000 / kbps */
    uint64_t tx = ((uint64_t)len * 8000 + kbps - 1) / kbps;
    uint64_t start = q->busy_until > now ? q->busy_until : now;
    q->busy_until = start + tx;
    q->v[(q->head + q->n) % q->cap] = (struct bwq_frame){q->busy_until, len};
    q->n++;
    q->bytes += len;
    return q->busy_until;
}

uint64_t bwq_retime_at(uint64_t when, uint64_t tail, uint64_t now, double factor)
{
    uint64_t done = when > tail ? when - tail : 0;
    if (done <= now)
        return when;
    double left = (double)(done - now) * factor;
    return now + (left > 9e18 ? (uint64_t)9e18 : (uint64_t)left) + tail;
}

double bwq_rescale(struct bwq *q, uint64_t now, uint64_t old_kbps, uint64_t new_kbps)
{
    double factor = !new_kbps || !old_kbps ? 0 : (double)old_kbps / (double)new_kbps;
    bwq_expire(q, now);
    for (size_t i = 0; i < q->n; i++) {
        struct bwq_frame *fr = &q->v[(q->head + i) % q->cap];
        fr->done = bwq_retime_at(fr->done, 0, now, factor);
    }
    if (q->busy_until > now)
        q->busy_until = bwq_retime_at(q->busy_until, 0, now, factor);
    bwq_expire(q, now);
    return factor;
}

void bwq_free(struct bwq *q)
{
    free(q->v);
    memset(q, 0, sizeof *q);
}

static uint64_t draw_delay(const struct link_fault *l, struct rng *r)
{
    uint64_t d = l->delay_us;
    if (l->jitter_us) {
        uint64_t j = rng_range(r, 0, 2 * l->jitter_us);
        d = d + j >= l->jitter_us ? d + j - l->jitter_us : 0;
    }
    if (l->reorder > 0 && rng_double(r) < l->reorder)
        d += rng_range(r, 1000, 20000 + 2 * l->delay_us); /* overtaken by later messages */
    return d;
}

void faults_decide(const struct faults *f, int src, int dst, struct rng *r, struct fate *out)
{
    memset(out, 0, sizeof *out);
    if (src < 0 || dst < 0 || src >= f->n || dst >= f->n) {
        out->copies = 1;
        return;
    }
    if (f->cut[src][dst]) {
        out->why = "partition";
        return;
    }
    faults_decide_link(&f->link[src][dst], r, out);
}

void faults_decide_link(const struct link_fault *l, struct rng *r, struct fate *out)
{
    memset(out, 0, sizeof *out);
    if (l->loss > 0 && rng_double(r) < l->loss) {
        out->why = "loss";
        return;
    }
    out->copies = (l->dup > 0 && rng_double(r) < l->dup) ? 2 : 1;
    for (int i = 0; i < out->copies; i++)
        out->delay_us[i] = draw_delay(l, r);
}

int faults_connected(const struct faults *f, int a, int b)
{
    return !f->cut[a][b] && !f->cut[b][a];
}

void faults_describe(const struct faults *f, struct sb *out)
{
    int sym = 0, asym = 0;
    for (int a = 0; a < f->n; a++)
        for (int b = 0; b < f->n; b++) {
            sym |= f->cut[a][b] && f->cut[b][a];
            asym |= f->cut[a][b] && !f->cut[b][a];
        }
    if (!sym && !asym) {
        sb_addn(out, "", 0);
        return;
    }
    int transitive = 1;
    for (int a = 0; a < f->n && transitive; a++)
        for (int b = 0; b < f->n && transitive; b++)
            for (int c = 0; c < f->n && transitive; c++)
                if (a != c && !(f->cut[a][b] && f->cut[b][a]) && !(f->cut[b][c] && f->cut[c][b]) &&
                    f->cut[a][c] && f->cut[c][a])
                    transitive = 0;
    if (sym && !transitive) {
        /* no clean groups (majorities-ring, bridge): say what each node sees */
        for (int a = 0; a < f->n; a++) {
            sb_printf(out, "%sn%d sees ", a ? "; " : "", a + 1);
            int first = 1;
            for (int b = 0; b < f->n; b++)
                if (b != a && !(f->cut[a][b] && f->cut[b][a])) {
                    sb_printf(out, "%sn%d", first ? "" : ",", b + 1);
                    first = 0;
                }
            if (first)
                sb_add(out, "nobody");
        }
    } else if (sym) {
        /* groups: nodes with the same two-way reachability */
        int done[CL_MAXNODES] = {0};
        int first_group = 1;
        for (int a = 0; a < f->n; a++) {
            if (done[a])
                continue;
            if (!first_group)
                sb_add(out, " | ");
            first_group = 0;
            int first = 1;
            for (int b = a; b < f->n; b++) {
                if (done[b])
                    continue;
                int same = 1;
                for (int c = 0; c < f->n && same; c++) {
                    int ac = f->cut[a][c] && f->cut[c][a], bc = f->cut[b][c] && f->cut[c][b];
                    same = ac == bc;
                }
                if (b != a && (!same || (f->cut[a][b] && f->cut[b][a])))
                    continue;
                done[b] = 1;
                sb_printf(out, "%sn%d", first ? "" : ",", b + 1);
                first = 0;
            }
        }
    }
    if (asym) {
        sb_add(out, sym ? "; one-way cuts: " : "one-way cuts: ");
        int first = 1;
        for (int a = 0; a < f->n; a++)
            for (int b = 0; b < f->n; b++)
                if (f->cut[a][b] && !f->cut[b][a]) {
                    sb_printf(out, "%sn%d->n%d", first ? "" : ", ", a + 1, b + 1);
                    first = 0;
                }
    }
}

json_t *faults_to_json(const struct faults *f)
{
    json_t *cuts = json_array(), *links = json_array();
    static const struct link_fault zero;
    for (int a = 0; a < f->n; a++)
        for (int b = 0; b < f->n; b++) {
            if (f->cut[a][b])
                json_array_append_new(cuts, json_pack("[i,i]", a, b));
            const struct link_fault *l = &f->link[a][b];
            if (memcmp(l, &zero, sizeof zero))
                json_array_append_new(links, json_pack("{s:i,s:i,s:I,s:I,s:f,s:f,s:f,s:I}", "src", a,
                                                       "dst", b, "delay_us", (json_int_t)l->delay_us,
                                                       "jitter_us", (json_int_t)l->jitter_us,
                                                       "loss", l->loss, "dup", l->dup, "reorder", l->reorder,
                                                       "kbps", (json_int_t)l->kbps));
        }
    return json_pack("{s:i,s:o,s:o}", "n", f->n, "cuts", cuts, "links", links);
}

static double prob(const json_t *o, const char *k)
{
    double v = json_number_value(json_object_get(o, k));
    return v < 0 ? 0 : v > 1 ? 1 : v;
}

int faults_from_json(const json_t *j, struct faults *f, char *err, size_t errlen)
{
    json_t *n = json_object_get(j, "n"), *cuts = json_object_get(j, "cuts"),
           *links = json_object_get(j, "links");
    if (!json_is_integer(n) || json_integer_value(n) < 1 || json_integer_value(n) > CL_MAXNODES ||
        !json_is_array(cuts) || !json_is_array(links)) {
        snprintf(err, errlen, "fault rules need n (1..%d), cuts and links", CL_MAXNODES);
        return CL_EINVAL;
    }
    faults_init(f, (int)json_integer_value(n));
    size_t i;
    json_t *x;
    json_array_foreach(cuts, i, x) {
        json_t *ja = json_array_get(x, 0), *jb = json_array_get(x, 1);
        json_int_t a = json_integer_value(ja), b = json_integer_value(jb);
        if (!json_is_integer(ja) || !json_is_integer(jb) || json_array_size(x) != 2 || a < 0 ||
            b < 0 || a >= f->n || b >= f->n) {
            snprintf(err, errlen, "cut %zu is not a pair [src,dst] of nodes 0..%d", i, f->n - 1);
            return CL_EINVAL;
        }
        f->cut[a][b] = 1;
    }
    json_array_foreach(links, i, x) {
        json_t *ja = json_object_get(x, "src"), *jb = json_object_get(x, "dst");
        json_int_t a = json_integer_value(ja), b = json_integer_value(jb);
        if (!json_is_integer(ja) || !json_is_integer(jb) || a < 0 || b < 0 || a >= f->n || b >= f->n) {
            snprintf(err, errlen, "link %zu needs src and dst, nodes 0..%d", i, f->n - 1);
            return CL_EINVAL;
        }
        struct link_fault *l = &f->link[a][b];
        json_int_t d = json_integer_value(json_object_get(x, "delay_us")),
                   jt = json_integer_value(json_object_get(x, "jitter_us"));
        l->delay_us = d > 0 ? (uint64_t)d : 0;
        l->jitter_us = jt > 0 ? (uint64_t)jt : 0;
        char why[160];
        if (faults_check_delay(l->delay_us, l->jitter_us, why, sizeof why) < 0) {
            snprintf(err, errlen, "link %zu: %s", i, why);
            return CL_EINVAL;
        }
        l->loss = prob(x, "loss");
        l->dup = prob(x, "dup");
        l->reorder = prob(x, "reorder");
        json_t *jk = json_object_get(x, "kbps");
        if (jk && (!json_is_integer(jk) || json_integer_value(jk) < 0 ||
                   (uint64_t)json_integer_value(jk) > FAULTS_MAX_KBPS)) {
            snprintf(err, errlen, "link %zu: kbps must be an integer 0 (unlimited) to %llu", i, FAULTS_MAX_KBPS);
            return CL_EINVAL;
        }
        l->kbps = (uint64_t)json_integer_value(jk);
    }
    return 0;
}
