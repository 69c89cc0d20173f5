/* msgstats.c — `messages [NODE]`: what the protocol's messages cost, per message type.
 *
 * Fallacy 7 (transport cost is zero) made visible: from the `send` events the nodes report
 * since the running cluster started (each carries the message body), one row per message
 * type: how many were sent, their size as JSON on the wire (the envelope adds a few dozen
 * bytes), and what serializing one costs, measured here by encoding the same bodies again.
 */
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "util.h"

#define MS_MAX_TYPES 64

struct ms_row {
    char type[40];
    uint64_t count, bytes, max;
    double enc_us;
};

static int by_bytes(const void *a, const void *b)
{
    const struct ms_row *x = a, *y = b;
    return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : strcmp(x->type, y->type);
}

int cmd_messages(struct lab *lab, int argc, char **argv)
{
    if (!lab->cl) {
        lab_err(lab, "no cluster is running: start one first, e.g. 'start raft 3'");
        return 1;
    }
    int node = -1;
    if (argc > 1 && lab_parse_node(lab, argv[1], &node) < 0)
        return 2;
    /* from the newest "cluster" event: this cluster's messages only */
    uint64_t first = lab->ev_total - lab->ev_count, from = first;
    for (uint64_t g = lab->ev_total; g > first; g--) {
        const json_t *e = lab->events[(lab->ev_head + (g - 1 - first)) % LAB_MAX_EVENTS];
        const char *ev = json_string_value(json_object_get(e, "ev"));
        if (ev && !strcmp(ev, "cluster")) {
            from = g - 1;
            break;
        }
    }
    struct ms_row *rows = xcalloc(MS_MAX_TYPES, sizeof *rows);
    int n = 0;
    uint64_t total = 0, total_bytes = 0, other = 0;
    char id[CL_IDLEN] = "";
    if (node >= 0)
        node_name(node, id);
    for (uint64_t g = from; g < lab->ev_total; g++) {
        const json_t *e = lab->events[(lab->ev_head + (g - first)) % LAB_MAX_EVENTS];
        const char *ev = json_string_value(json_object_get(e, "ev"));
        if (!ev || strcmp(ev, "send"))
            continue;
        const char *src = json_string_value(json_object_get(e, "node"));
        if (node >= 0 && (!src || strcmp(src, id)))
            continue;
        const json_t *body = json_object_get(e, "body");
        const char *type = json_string_value(json_object_get(e, "type"));
        if (!body || !type)
            continue;
        uint64_t t0 = mono_us();
        char *txt = json_dumps(body, JSON_COMPACT);
        double us = (double)(mono_us() - t0);
        size_t len = txt ? strlen(txt) : 0;
        free(txt);
        int k = 0;
        while (k < n && strcmp(rows[k].type, type))
            k++;
        if (k == n) {
            if (n == MS_MAX_TYPES) {
                other++;
                continue;
            }
            str_copy(rows[n].type, type, sizeof rows[n].type);
            n++;
        }
        rows[k].count++;
        rows[k].bytes += len;
        if (len > rows[k].max)
            rows[k].max = len;
        rows[k].enc_us += us;
        total++;
        total_bytes += len;
    }
    qsort(rows, (size_t)n, sizeof *rows, by_bytes);
    struct sb b = {0};
    if (!total) {
        sb_printf(&b, "no messages sent%s%s since this cluster started", node >= 0 ? " by " : "", id);
    } else {
        sb_printf(&b, "messages sent%s%s since this cluster started, by type (JSON bytes; encode = what\n"
                      "serializing one costs, measured by the lab):\n",
                  node >= 0 ? " by " : "", id);
        sb_printf(&b, "%-24s %8s %10s %8s %8s %10s\n", "type", "count", "bytes", "mean", "max", "encode us");
        for (int k = 0; k < n; k++)
            sb_printf(&b, "%-24s %8llu %10llu %8.0f %8llu %10.2f\n", rows[k].type,
                      (unsigned long long)rows[k].count, (unsigned long long)rows[k].bytes,
                      (double)rows[k].bytes / (double)rows[k].count, (unsigned long long)rows[k].max,
                      rows[k].enc_us / (double)rows[k].count);
        sb_printf(&b, "%-24s %8llu %10llu %8.0f", "all", (unsigned long long)total,
                  (unsigned long long)total_bytes, (double)total_bytes / (double)total);
        if (other)
            sb_printf(&b, "\n(%llu more of types past the first %d not shown)", (unsigned long long)other,
                      MS_MAX_TYPES);
    }
    lab_out(lab, "%s", b.s);
    sb_free(&b);
    free(rows);
    return 0;
}
