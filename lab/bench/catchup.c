/* catchup — see catchup.h. Runs any lin-kv mode in the simulator only. */
#include "catchup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim.h"

#define CLIENTS 64
#define TRIES 200
#define CLIENT_TIMEOUT_US 2000000ull
#define BACKOFF_US 50000ull     /* no leader known yet: ask again a little later */

struct client {
    int busy;
    long key;
    int node;
    int tries;
    uint64_t msg_id, sent_at;
    uint64_t retry_at;          /* > 0: resend then (a backoff) */
};

struct bench {
    struct sim *s;
    int nodes, cut;
    long next, acked, failed, keys;
    uint64_t msg_ids;
    struct client cl[CLIENTS];
    const char *events;          /* the mode's own event names */
    uint64_t messages;
    json_t *by_type, *mode_events;
};

static void send_key(struct bench *b, int c)
{
    struct client *k = &b->cl[c];
    char key[32], client[16];
    snprintf(key, sizeof key, "key%06ld", k->key);
    snprintf(client, sizeof client, "c%d", c + 1);
    k->msg_id = ++b->msg_ids;
    k->sent_at = sim_now(b->s);
    k->retry_at = 0;
    json_t *body = json_pack("{s:s,s:I,s:s,s:s}", "type", "write", "msg_id", (json_int_t)k->msg_id, "key", key,
                             "value", key);
    sim_client_send(b->s, k->node, client, body);
}

static void next_key(struct bench *b, int c)
{
    struct client *k = &b->cl[c];
    if (b->next >= b->keys) {
        k->busy = 0;
        return;
    }
    k->busy = 1;
    k->key = b->next++;
    k->tries = 0;
    k->node = (int)(k->key % b->cut); /* every node but the cut-off one */
    send_key(b, c);
}

/* Another try of the same write: at once to the node named, else to the next one on this
 * side after a backoff (an election may be under way). */
static void retry(struct bench *b, int c, int to)
{
    struct client *k = &b->cl[c];
    if (++k->tries > TRIES) {
        b->failed++;
        next_key(b, c);
        return;
    }
    if (to >= 0 && to < b->cut) {
        k->node = to;
        send_key(b, c);
        return;
    }
    k->node = (k->node + 1) % b->cut;
    k->retry_at = sim_now(b->s) + BACKOFF_US;
}

static void on_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    struct bench *b = ud;
    (void)node;
    int c = atoi(client + 1) - 1;
    if (c < 0 || c >= CLIENTS || !b->cl[c].busy ||
        json_integer_value(json_object_get(body, "in_reply_to")) != (json_int_t)b->cl[c].msg_id)
        return;
    const char *type = json_string_value(json_object_get(body, "type"));
    if (type && !strcmp(type, "write_ok")) {
        b->acked++;
        next_key(b, c);
        return;
    }
    int to = -1; /* a redirect to a leader on this side of the cut */
    const char *leader = json_string_value(json_object_get(body, "leader"));
    if (leader)
        parse_node_id(leader, b->nodes, &to);
    retry(b, c, to);
}

static void count(json_t *o, const char *k)
{
    json_object_set_new(o, k, json_integer(json_integer_value(json_object_get(o, k)) + 1));
}

static void on_event(void *ud, const json_t *j)
{
    struct bench *b = ud;
    struct event e;
    char err[64];
    if (event_decode(j, &e, err, sizeof err) < 0)
        return;
    int peer;
    if (e.kind == EV_SEND && e.msg.peer && parse_node_id(e.msg.peer, b->nodes, &peer) == 0) {
        b->messages++;
        count(b->by_type, e.msg.type[0] ? e.msg.type : "?");
    } else if (e.kind != EV_SEND && e.kind != EV_RECV && mode_listed(b->events, e.name)) {
        count(b->mode_events, e.name);
    }
}

static long held_by(struct sim *s, int idx)
{
    json_t *st = sim_status(s, idx);
    long n = (long)json_object_size(json_object_get(st, "data"));
    json_decref(st);
    return n;
}

int catchup_run(const struct mode *m, int nodes, const struct opts *o, long keys, uint64_t seed,
                struct catchup_result *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!m->workload || strcmp(m->workload, "lin-kv")) {
        snprintf(err, errlen, "the %s mode answers the %s workload, not lin-kv writes", m->name,
                 m->workload ? m->workload : "(no)");
        return CL_EINVAL;
    }
    if (keys < 1 || keys > 1000000 || nodes < 2 || nodes > 9) {
        snprintf(err, errlen, "keys is 1 to 1000000 and nodes 2 to 9");
        return CL_ERANGE;
    }
    struct bench b = {.nodes = nodes, .cut = nodes - 1, .keys = keys, .events = m->events};
    b.s = sim_new(m, nodes, o, seed, err, errlen);
    if (!b.s)
        return CL_EINVAL;
    long want = 0;
    for (long k = 0; k < keys; k++) {
        char key[32];
        int reps[CL_MAXNODES];
        snprintf(key, sizeof key, "key%06ld", k);
        int nr = mode_replicas(m, o, nodes, key, reps);
        for (int r = 0; r < nr; r++)
            want += reps[r] == b.cut;
    }
    sim_on_reply(b.s, on_reply, &b);
    faults_isolate(sim_faults(b.s), b.cut);
    for (int c = 0; c < CLIENTS; c++)
        next_key(&b, c);
    uint64_t t0 = sim_now(b.s);
    while (b.acked + b.failed < keys && sim_now(b.s) - t0 < 300000000ull) {
        sim_run_for(b.s, 1000);
        for (int c = 0; c < CLIENTS; c++) {
            struct client *k = &b.cl[c];
            if (k->busy && k->retry_at && sim_now(b.s) >= k->retry_at)
                send_key(&b, c);
            else if (k->busy && !k->retry_at && sim_now(b.s) - k->sent_at > CLIENT_TIMEOUT_US)
                retry(&b, c, -1); /* a lost request or reply: try again */
        }
    }
    if (b.acked < keys) {
        snprintf(err, errlen, "%ld of %ld writes were not acknowledged while n%d was cut off", keys - b.acked, keys,
                 b.cut + 1);
        sim_destroy(&b.s);
        return CL_ESTATE;
    }
    b.by_type = json_object();
    b.mode_events = json_object();
    sim_on_event(b.s, on_event, &b);
    faults_heal(sim_faults(b.s));
    uint64_t heal_at = sim_now(b.s), wall0 = mono_us();
    long have = held_by(b.s, b.cut);
    while (have < want && sim_now(b.s) - heal_at < 120000000ull) {
        sim_run_for(b.s, 10000);
        have = held_by(b.s, b.cut);
    }
    out->wall_us = mono_us() - wall0;
    out->keys = keys;
    out->want = want;
    out->held = have;
    out->virtual_us = sim_now(b.s) - heal_at;
    out->messages = b.messages;
    out->by_type = b.by_type;
    out->mode_events = b.mode_events;
    sim_destroy(&b.s);
    if (have < want) {
        snprintf(err, errlen, "n%d holds %ld of its %ld keys 120 s after the heal", b.cut + 1, have, want);
        json_decref(out->by_type);
        json_decref(out->mode_events);
        out->by_type = out->mode_events = NULL;
        return CL_ETIMEOUT;
    }
    return 0;
}

/* "ae_push 16, ae_pull 16, …": the largest counts of o first, at most five. */
static void top(const json_t *o, struct sb *b)
{
    const char *used[5] = {0};
    for (int k = 0; k < 5; k++) {
        const char *best = NULL, *key;
        json_int_t bv = 0;
        json_t *v;
        json_object_foreach((json_t *)o, key, v) {
            int seen = 0;
            for (int j = 0; j < k; j++)
                seen |= used[j] && !strcmp(used[j], key);
            if (!seen && json_integer_value(v) > bv) {
                bv = json_integer_value(v);
                best = key;
            }
        }
        if (!best)
            break;
        used[k] = best;
        sb_printf(b, "%s%s %lld", k ? ", " : "", best, (long long)bv);
    }
}

int catchup_main(int argc, char **argv)
{
    const struct mode *m = NULL;
    int nodes = 3, json_out = 0;
    int64_t keys = 10000, seed = 42;
    struct opts o = {0};
    int rc = 2;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int64_t x;
        if (!strcmp(a, "--json")) {
            json_out = 1;
            continue;
        }
        if (!v) {
            fprintf(stderr, "conlab bench catchup: %s needs a value\n", a);
            goto out;
        }
        i++;
        if (!strcmp(a, "--mode") && (m = mode_find(v)))
            ;
        else if (!strcmp(a, "--nodes") && parse_i64(v, &x) == 0 && x >= 2 && x <= 9)
            nodes = (int)x;
        else if (!strcmp(a, "--keys") && parse_i64(v, &keys) == 0 && keys >= 1 && keys <= 1000000)
            ;
        else if (!strcmp(a, "--seed") && parse_i64(v, &seed) == 0 && seed >= 0)
            ;
        else if (!strcmp(a, "--opt") && strchr(v, '=')) {
            char *k = xstrndup(v, (size_t)(strchr(v, '=') - v));
            opts_set(&o, k, strchr(v, '=') + 1);
            free(k);
        } else {
            fprintf(stderr, "conlab bench catchup: bad %s %s (modes: %s)\n", a, v, mode_names());
            goto out;
        }
    }
    for (int i = 0; !m && mode_table[i]; i++)
        if (mode_table[i]->workload && !strcmp(mode_table[i]->workload, "lin-kv"))
            m = mode_table[i];
    char err[256];
    if (!m || mode_check_opts(m, &o, err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench catchup: %s\n", m ? err : "no lin-kv mode is built in");
        goto out;
    }
    struct catchup_result r;
    if (catchup_run(m, nodes, &o, (long)keys, (uint64_t)seed, &r, err, sizeof err) < 0) {
        fprintf(stderr, "conlab bench catchup: %s\n", err);
        rc = 1;
        goto out;
    }
    if (json_out) {
        json_t *j = json_pack("{s:s,s:i,s:I,s:I,s:f,s:f,s:I,s:O,s:O}", "mode", m->name, "nodes", nodes, "keys",
                              (json_int_t)r.keys, "held", (json_int_t)r.held, "virtual_ms", r.virtual_us / 1e3,
                              "wall_ms", r.wall_us / 1e3, "messages", (json_int_t)r.messages, "by_type", r.by_type,
                              "mode_events", r.mode_events);
        char *s = json_dumps(j, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(j);
    } else {
        struct sb t = {0}, ev = {0};
        top(r.by_type, &t);
        top(r.mode_events, &ev);
        printf("catch-up (simulator, %s, %d nodes): n%d was cut off while %ld keys were written; after the heal it "
               "held its %ld keys in %.0f ms of virtual time (%.0f ms of wall time)\n",
               m->name, nodes, nodes, r.keys, r.want, r.virtual_us / 1e3, r.wall_us / 1e3);
        printf("  %llu messages between nodes (%s)%s%s%s\n", (unsigned long long)r.messages, t.s ? t.s : "none",
               ev.s ? "; the mode's events: " : "", ev.s ? ev.s : "", "");
        sb_free(&t);
        sb_free(&ev);
    }
    json_decref(r.by_type);
    json_decref(r.mode_events);
    rc = 0;
out:
    opts_free(&o);
    return rc;
}
