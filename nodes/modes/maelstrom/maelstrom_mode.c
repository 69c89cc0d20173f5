/* maelstrom — any program that speaks Maelstrom's node protocol runs as a conlab node.
 *
 *   client/peer ──ZeroMQ──▶ conlab-node ──stdin (one JSON line)──▶ program
 *   client/peer ◀─ZeroMQ── conlab-node ◀─stdout (one JSON line)─── program
 *                                         stderr ──▶ the node's log
 *
 * The node is a bridge: every message that reaches it (from a client of the lab, another
 * node or any outside program) goes to the program's stdin as {"src","dest","body"}, and
 * every line the program writes goes out through the runtime, so faults (partitions, delay,
 * loss, duplication, pause, crash and restart), the dashboard, the history and the checkers
 * work on it unchanged. Maelstrom's doc: jepsen-io/maelstrom doc/protocol.md.
 *
 * States: `starting` from the program's start until it answers init with init_ok; `node`
 * while it runs; `exited` once it ended (the node stays up and answers clients error 13).
 *
 *   start ─▶ send init{node_id,node_ids} ─▶ starting ──init_ok──▶ node ──exit──▶ exited
 *
 * Invariants (the bridge's, not the program's: the program's own correctness is what the
 * lab's checkers judge):
 *   - every body is passed on unchanged, in the order received, with its msg_id and
 *     in_reply_to, so the program's replies reach the client that asked;
 *   - a line the program writes that is not a Maelstrom message is refused with an `error`
 *     event naming what is wrong, and the node goes on;
 *   - Maelstrom's services (lin-kv, seq-kv, lww-kv, lin-tso) are provided by the lab: they live
 *     in the bridge of the first node (n1), one store for the cluster, durable (a blob, fsynced
 *     before the reply). A program on n1 reaches them at once; a program elsewhere through
 *     the network (`mael_svc` to n1, `mael_svc_ok` back), so a fault on the link to n1, or
 *     n1 down, makes them unreachable from that node (Maelstrom keeps its services out of the
 *     nemesis). Each service its own store, with Maelstrom's consistency: lin-kv linearizable;
 *     seq-kv sequentially consistent (a read returns the state as its reader last saw it, then
 *     the reader catches up: seq_handle); lww-kv last-write-wins over independent replicas
 *     merged every lww_sync (lww_handle). Operations: read, write, cas (with
 *     create_if_not_exists), any JSON key and value; lin-tso's ts. Event `service`.
 * The simulator cannot host a program: there the node answers every request error 10.
 *
 * The probe (probe=, default for the counters, g-set and broadcast): every 500 ms, and at
 * once after each acknowledged add or broadcast, the bridge sends the program its own `read`
 * (from `lab`) and shows the answer as the node's data, so the lab's `wait converged` compares
 * what the programs hold.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "maelstrom.h"
#include "mode.h"

#define INIT_CLIENT "lab"       /* init comes from the lab (Maelstrom: c0); its reply is ours */
#define MAX_ARGS 16

#define PROBE_BASE 1000000000  /* the probes' msg_ids: far from init's */
#define ASKED 64                /* client requests remembered, to count what was acknowledged */

enum prog_state { P_NONE, P_STARTING, P_RUNNING, P_EXITED };
enum { T_PROBE = 1, T_LWW = 2 };

struct asked {
    char client[CL_IDLEN];
    json_int_t msg_id;
    json_t *what;               /* add: the delta; broadcast: the message (owned) */
};

#define SVC_BLOB "maelstrom.svc"

struct mael {
    struct env *e;
    json_t *svc;                /* n1: service -> {key as JSON text -> value}; "lin-tso" -> {"ts":N} */
    uint64_t svc_ops;
    char bin[512];
    char args[512];
    char workload[32];
    enum prog_state ps;
    char why[256];              /* how the program ended */
    uint64_t to_prog, from_prog, refused;
    /* the probe: the bridge's own read, every probe_us, so that the lab sees what the program
     * holds (status "data": `wait converged`, the dashboard) */
    uint64_t probe_us;
    json_int_t probe_seq;
    json_t *data;               /* {"value": …} or {"messages": […]}, sorted; owned */
    struct asked asked[ASKED];
    int asked_next;
    uint64_t acked;             /* add_ok / broadcast_ok answered through this node */
    json_int_t acked_sum;       /* the deltas of the acknowledged adds */
    /* lww-kv on n1: its replicas are merged every lww_sync_us while they differ */
    uint64_t lww_sync_us;
    int lww_replicas;
    int lww_armed;
};

static const char *role_of(const struct mael *st)
{
    switch (st->ps) {
    case P_NONE: return st->bin[0] ? "starting" : "node";
    case P_STARTING: return "starting";
    case P_EXITED: return "exited";
    default: return "node";
    }
}

static void say_state(struct mael *st)
{
    env_event(st->e, "state", json_pack("{s:s}", "role", role_of(st)));
}

static void to_program(struct mael *st, const char *src, const json_t *body)
{
    size_t len;
    char *line = maelstrom_encode(src, st->e->self, body, &len);
    if (!line)
        return;
    line = xrealloc(line, len + 2);
    line[len] = '\n';
    if (st->e->ops->prog_write(st->e, line, len + 1) == 0)
        st->to_prog++;
    free(line);
}

/* Remembers a client's add or broadcast, to count it once the program acknowledges it. */
static void remember(struct mael *st, const char *src, const json_t *body)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    const json_t *mid = json_object_get(body, "msg_id");
    const json_t *what = NULL;
    if (type && !strcmp(type, "add"))
        what = json_object_get(body, "delta");
    else if (type && !strcmp(type, "broadcast"))
        what = json_object_get(body, "message");
    if (!what || !json_is_integer(mid) || env_node_index(st->e, src) >= 0 || strlen(src) >= CL_IDLEN)
        return;
    struct asked *a = &st->asked[st->asked_next];
    st->asked_next = (st->asked_next + 1) % ASKED;
    json_decref(a->what);
    memcpy(a->client, src, strlen(src) + 1);
    a->msg_id = json_integer_value(mid);
    a->what = json_deep_copy(what);
}

static void probe(struct mael *st)
{
    st->probe_seq = st->probe_seq ? st->probe_seq + 1 : PROBE_BASE;
    json_t *rd = json_pack("{s:s,s:I}", "type", "read", "msg_id", st->probe_seq);
    to_program(st, INIT_CLIENT, rd);
    json_decref(rd);
}

/* The program answered a client: an acknowledged add or broadcast counts, and what the node
 * showed is stale until the next probe (asked at once), so `wait converged` cannot pass on
 * data from before the write. */
static void acknowledged(struct mael *st, const char *dest, const json_t *body)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    const json_t *irt = json_object_get(body, "in_reply_to");
    if (!type || (strcmp(type, "add_ok") && strcmp(type, "broadcast_ok")) || !json_is_integer(irt))
        return;
    for (int i = 0; i < ASKED; i++) {
        struct asked *a = &st->asked[i];
        if (a->what && a->msg_id == json_integer_value(irt) && !strcmp(a->client, dest)) {
            st->acked++;
            if (json_is_integer(a->what))
                st->acked_sum += json_integer_value(a->what);
            json_decref(a->what);
            a->what = NULL;
            if (st->probe_us) {
                json_decref(st->data);
                st->data = NULL;
                probe(st);
            }
            return;
        }
    }
}

static int by_text(const void *a, const void *b)
{
    char *const *x = a, *const *y = b;
    return strcmp(*x, *y);
}

/* A copy of v with arrays sorted (by each element's JSON text): a set, whatever its order. */
static json_t *normalised(const json_t *v)
{
    if (!json_is_array(v))
        return json_deep_copy(v);
    size_t n = json_array_size(v);
    char **text = xcalloc(n + 1, sizeof *text);
    for (size_t i = 0; i < n; i++) {
        text[i] = json_dumps(json_array_get(v, i), JSON_COMPACT | JSON_ENCODE_ANY | JSON_SORT_KEYS);
        if (!text[i])
            text[i] = xstrdup("null");
    }
    qsort(text, n, sizeof *text, by_text);
    json_t *out = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *e = json_loads(text[i], JSON_DECODE_ANY, NULL);
        json_array_append_new(out, e ? e : json_null());
        free(text[i]);
    }
    free(text);
    return out;
}

/* The answer to a probe: what the program holds, as the node's data. */
static void probed(struct mael *st, const json_t *body)
{
    const char *type = json_string_value(json_object_get(body, "type"));
    const json_t *irt = json_object_get(body, "in_reply_to");
    if (!type || strcmp(type, "read_ok") || !json_is_integer(irt) || json_integer_value(irt) != st->probe_seq)
        return;
    const char *field = json_object_get(body, "messages") ? "messages" : "value";
    const json_t *v = json_object_get(body, field);
    if (!v)
        return;
    json_decref(st->data);
    st->data = json_object();
    json_object_set_new(st->data, field, normalised(v));
}

/* Every body, whatever its type: to the program. */
static void on_any(void *vst, const char *src, const json_t *body)
{
    struct mael *st = vst;
    if (st->ps == P_STARTING || st->ps == P_RUNNING) {
        remember(st, src, body);
        to_program(st, src, body);
        return;
    }
    if (env_node_index(st->e, src) >= 0 || !json_object_get(body, "msg_id"))
        return; /* a peer's message or a reply: nobody waits for an answer */
    if (st->ps == P_EXITED) {
        char text[400];
        snprintf(text, sizeof text, "this node's program %s (its stderr is in the node's log)", st->why);
        env_reply_error(st->e, src, body, ERR_CRASH, text, NULL);
    } else {
        env_reply_error(st->e, src, body, ERR_NOT_SUPPORTED,
                        "no program runs here: the simulator cannot host one; start maelstrom N bin=PATH "
                        "without sim=on", NULL);
    }
}

static int is_service(const char *id)
{
    return !strcmp(id, "lin-kv") || !strcmp(id, "seq-kv") || !strcmp(id, "lww-kv") || !strcmp(id, "lin-tso");
}

static json_t *svc_error(const json_t *mid, int code, const char *text)
{
    return json_pack("{s:s,s:O,s:i,s:s}", "type", "error", "in_reply_to", mid ? mid : json_null(), "code", code, "text",
                     text);
}

/* A kv request (read, write, cas) against the value cur (NULL: the key does not exist): the
 * reply, and in *nv (owned) the key's new value when the request changes it. */
static json_t *kv_apply(const char *svc, const char *type, const json_t *body, const json_t *cur, json_t **nv)
{
    const json_t *mid = json_object_get(body, "msg_id");
    *nv = NULL;
    if (!strcmp(type, "read"))
        return cur ? json_pack("{s:s,s:O,s:O}", "type", "read_ok", "in_reply_to", mid, "value", cur)
                   : svc_error(mid, ERR_KEY_DOES_NOT_EXIST, "key does not exist");
    if (!strcmp(type, "write")) {
        const json_t *v = json_object_get(body, "value");
        if (!v)
            return svc_error(mid, ERR_MALFORMED_REQUEST, "write needs a \"value\"");
        *nv = json_deep_copy(v);
        return json_pack("{s:s,s:O}", "type", "write_ok", "in_reply_to", mid);
    }
    if (!strcmp(type, "cas")) {
        const json_t *from = json_object_get(body, "from"), *to = json_object_get(body, "to");
        if (!from || !to)
            return svc_error(mid, ERR_MALFORMED_REQUEST, "cas needs \"from\" and \"to\"");
        if (!cur && !json_is_true(json_object_get(body, "create_if_not_exists")))
            return svc_error(mid, ERR_KEY_DOES_NOT_EXIST, "key does not exist");
        if (cur && !json_equal((json_t *)cur, (json_t *)from)) {
            char *c = json_dumps(cur, JSON_COMPACT | JSON_ENCODE_ANY), *f = json_dumps(from, JSON_COMPACT | JSON_ENCODE_ANY);
            char text[300];
            snprintf(text, sizeof text, "current value %.120s is not %.120s", c ? c : "?", f ? f : "?");
            free(c);
            free(f);
            return svc_error(mid, ERR_PRECONDITION_FAILED, text);
        }
        *nv = json_deep_copy(to);
        return json_pack("{s:s,s:O}", "type", "cas_ok", "in_reply_to", mid);
    }
    char text[160];
    snprintf(text, sizeof text, "%s answers read, write and cas, not %.60s", svc, type);
    return svc_error(mid, ERR_NOT_SUPPORTED, text);
}

#define SEQ_VERSIONS 32         /* versions of a key seq-kv keeps (older reads get the oldest kept) */

/* seq-kv: sequentially consistent, as Maelstrom's. Every write and successful cas makes a new
 * version of the store (a total order); each client (the node that asks) has a floor, the newest
 * version it has seen. Updates act on the newest version; a read returns the key as of the
 * client's floor — the store as that client last saw it, its own writes included, stale when
 * others wrote since — and then the floor moves to the newest version, so the client's next read
 * is fresh. Each client's operations thus sit at non-decreasing versions: one order of all
 * operations that keeps every client's order, never going back. Store: {"ver":N,
 * "keys":{k:{"born":ver,"v":[[ver,value],…]}},"floor":{client:ver}}. */
/* The key (its record {"born":B,"v":[[ver,value],…]} ascending) as of version v: the newest
 * version at or before v; NULL when the key was born after v; the oldest kept (*at newer than v)
 * when those before were forgotten. *at is the version returned (0 for NULL). */
static const json_t *seq_value_at(const json_t *rec, json_int_t v, json_int_t *at)
{
    const json_t *vs = json_object_get(rec, "v");
    const json_t *best = NULL;
    *at = 0;
    if (!rec || json_integer_value(json_object_get(rec, "born")) > v)
        return NULL;
    size_t i;
    json_t *e;
    json_array_foreach(vs, i, e) {
        json_int_t ev = json_integer_value(json_array_get(e, 0));
        if (ev > v && best)
            break;
        best = json_array_get(e, 1);
        *at = ev;
        if (ev > v)
            break;
    }
    return best;
}

static json_t *seq_handle(struct mael *st, json_t *store, const char *type, const json_t *body, const char *k,
                          const char *who, int *changed)
{
    (void)st;
    json_t *keys = json_object_get(store, "keys"), *floors = json_object_get(store, "floor");
    if (!json_is_object(keys)) {
        keys = json_object();
        json_object_set_new(store, "keys", keys);
    }
    if (!json_is_object(floors)) {
        floors = json_object();
        json_object_set_new(store, "floor", floors);
    }
    json_int_t ver = json_integer_value(json_object_get(store, "ver"));
    json_int_t floor = json_integer_value(json_object_get(floors, who));
    json_t *rec = json_object_get(keys, k);
    json_int_t at;
    json_t *rep, *nv = NULL;
    if (!strcmp(type, "read")) {
        const json_t *cur = seq_value_at(rec, floor, &at);
        if (at > floor)
            floor = at;
        rep = kv_apply("seq-kv", type, body, cur, &nv);
        if (floor < ver)
            json_object_set_new(rep, "stale", json_true()); /* the lab's own mark: Maelstrom's clients ignore it */
    } else {
        const json_t *cur = seq_value_at(rec, ver, &at);
        rep = kv_apply("seq-kv", type, body, cur, &nv);
    }
    if (nv) {
        ver++;
        if (!rec) {
            rec = json_pack("{s:I,s:[]}", "born", ver, "v");
            json_object_set_new(keys, k, rec);
        }
        json_t *versions = json_object_get(rec, "v");
        json_array_append_new(versions, json_pack("[I,o]", ver, nv));
        while (json_array_size(versions) > SEQ_VERSIONS)
            json_array_remove(versions, 0);
        json_object_set_new(store, "ver", json_integer(ver));
        *changed = 1;
    }
    /* after any operation the client has seen the newest version: its next read is fresh */
    json_object_set_new(floors, who, json_integer(ver));
    *changed |= floor != ver;
    return rep;
}

/* lww-kv: Maelstrom's "intentionally pathological" last-write-wins store. lww_replicas
 * independent replicas (default 3) in n1's bridge; a client's requests go to the replicas in turn
 * (the first to replica (node index) mod R, then the next, …: deterministic, and any replica can
 * answer); a write or cas acts on that replica alone, stamped with the service's counter; every
 * lww_sync the replicas merge, the higher stamp winning per key. So a read may be stale, may go
 * back in time, and a cas may succeed on a stale value and then lose to a later stamp. Store:
 * {"ts":N,"replicas":[{k:[value,ts]},…],"turn":{client:n}}. */
static json_t *lww_handle(struct mael *st, json_t *store, const char *type, const json_t *body, const char *k,
                          const char *who, int *changed)
{
    json_t *reps = json_object_get(store, "replicas"), *turn = json_object_get(store, "turn");
    if (!json_is_array(reps)) {
        reps = json_array();
        json_object_set_new(store, "replicas", reps);
    }
    while ((int)json_array_size(reps) < st->lww_replicas)
        json_array_append_new(reps, json_object());
    if (!json_is_object(turn)) {
        turn = json_object();
        json_object_set_new(store, "turn", turn);
    }
    int idx = env_node_index(st->e, who);
    json_int_t t = json_integer_value(json_object_get(turn, who));
    int r = (int)(((idx < 0 ? 0 : idx) + t) % st->lww_replicas);
    json_object_set_new(turn, who, json_integer(t + 1));
    json_t *rep_r = json_array_get(reps, (size_t)r);
    const json_t *cur = json_array_get(json_object_get(rep_r, k), 0);
    json_t *nv = NULL;
    json_t *rep = kv_apply("lww-kv", type, body, cur, &nv);
    json_object_set_new(rep, "replica", json_integer(r)); /* the lab's own mark: which replica answered */
    if (nv) {
        json_int_t ts = json_integer_value(json_object_get(store, "ts")) + 1;
        json_object_set_new(store, "ts", json_integer(ts));
        json_object_set_new(rep_r, k, json_pack("[o,I]", nv, ts));
        *changed = 1;
        if (!st->lww_armed) {
            st->lww_armed = 1;
            env_timer_set(st->e, st->lww_sync_us, T_LWW, 0);
        }
    }
    return rep;
}

/* lww-kv's gossip: every replica takes, per key, the value with the highest stamp. */
static void lww_merge(struct mael *st)
{
    json_t *store = json_object_get(st->svc, "lww-kv");
    json_t *reps = json_object_get(store, "replicas");
    json_t *best = json_object();
    size_t i;
    json_t *r;
    json_array_foreach(reps, i, r) {
        const char *k;
        json_t *e;
        json_object_foreach(r, k, e) {
            json_t *b = json_object_get(best, k);
            if (!b || json_integer_value(json_array_get(e, 1)) > json_integer_value(json_array_get(b, 1)))
                json_object_set(best, k, e);
        }
    }
    json_array_foreach(reps, i, r) {
        const char *k;
        json_t *e;
        json_object_foreach(best, k, e)
            json_object_set_new(r, k, json_deep_copy(e));
    }
    json_decref(best);
    if (reps && st->e->ops->blob_put) {
        char *all = json_dumps(st->svc, JSON_COMPACT);
        st->e->ops->blob_put(st->e, SVC_BLOB, all, strlen(all));
        free(all);
    }
}

/* One request to a service, on n1: the reply body (with in_reply_to), or NULL for a body that
 * asks for none. Changes are on disk before the reply. */
static json_t *svc_handle(struct mael *st, const char *svc, const json_t *body, const char *who)
{
    const json_t *mid = json_object_get(body, "msg_id");
    const char *type = json_string_value(json_object_get(body, "type"));
    if (!mid)
        return NULL;
    if (!type)
        return svc_error(mid, ERR_MALFORMED_REQUEST, "a service request needs a string \"type\"");
    json_t *store = json_object_get(st->svc, svc);
    if (!store) {
        store = json_object();
        json_object_set_new(st->svc, svc, store);
    }
    json_t *rep = NULL;
    int changed = 0;
    if (!strcmp(svc, "lin-tso")) {
        if (strcmp(type, "ts"))
            return svc_error(mid, ERR_NOT_SUPPORTED, "lin-tso answers ts only");
        json_int_t ts = json_integer_value(json_object_get(store, "ts")) + 1;
        json_object_set_new(store, "ts", json_integer(ts));
        rep = json_pack("{s:s,s:O,s:I}", "type", "ts_ok", "in_reply_to", mid, "ts", ts);
        changed = 1;
    } else {
        const json_t *key = json_object_get(body, "key");
        if (!key)
            return svc_error(mid, ERR_MALFORMED_REQUEST, "a kv service request needs a \"key\"");
        char *k = json_dumps(key, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
        if (!strcmp(svc, "seq-kv"))
            rep = seq_handle(st, store, type, body, k ? k : "", who, &changed);
        else if (!strcmp(svc, "lww-kv"))
            rep = lww_handle(st, store, type, body, k ? k : "", who, &changed);
        else {
            json_t *nv = NULL;
            rep = kv_apply(svc, type, body, json_object_get(store, k ? k : ""), &nv);
            if (nv) {
                json_object_set_new(store, k ? k : "", nv);
                changed = 1;
            }
        }
        free(k);
    }
    if (changed && st->e->ops->blob_put) {
        char *all = json_dumps(st->svc, JSON_COMPACT);
        st->e->ops->blob_put(st->e, SVC_BLOB, all, strlen(all));
        free(all);
    }
    st->svc_ops++;
    const json_t *code = json_object_get(rep, "code");
    env_event(st->e, "service", json_pack("{s:s,s:s,s:s,s:O?,s:O?}", "svc", svc, "op", type, "from", who, "key",
                                         json_object_get(body, "key"), "code", code));
    return rep;
}

/* n1: a service request from another node's program. */
static void on_svc(void *vst, const char *src, const json_t *body)
{
    struct mael *st = vst;
    const char *svc = json_string_value(json_object_get(body, "svc"));
    const json_t *req = json_object_get(body, "body");
    if (st->e->self_idx != 0 || env_node_index(st->e, src) < 0 || !svc || !is_service(svc) || !json_is_object(req))
        return;
    json_t *rep = svc_handle(st, svc, req, src);
    if (rep)
        env_send(st->e, src, json_pack("{s:s,s:s,s:o}", "type", "mael_svc_ok", "svc", svc, "body", rep));
}

/* A service's answer, from n1: to this node's program, from the service. */
static void on_svc_ok(void *vst, const char *src, const json_t *body)
{
    struct mael *st = vst;
    const char *svc = json_string_value(json_object_get(body, "svc"));
    const json_t *rep = json_object_get(body, "body");
    if (env_node_index(st->e, src) != 0 || !svc || !is_service(svc) || !json_is_object(rep) ||
        (st->ps != P_STARTING && st->ps != P_RUNNING))
        return;
    to_program(st, svc, rep);
}

static void maelstrom_line(void *vst, const char *line, size_t len)
{
    struct mael *st = vst;
    struct mline m;
    char err[200];
    st->from_prog++;
    if (maelstrom_decode(line, len, &m, err, sizeof err) < 0) {
        st->refused++;
        char text[320];
        snprintf(text, sizeof text, "the program wrote a line that is not a Maelstrom message: %s", err);
        env_event(st->e, "error", json_pack("{s:s,s:s%}", "text", text, "line", line, len < 200 ? len : 200));
        return;
    }
    const char *type = json_string_value(json_object_get(m.body, "type"));
    if (!strcmp(m.dest, INIT_CLIENT)) {
        if (st->probe_seq && json_integer_value(json_object_get(m.body, "in_reply_to")) == st->probe_seq) {
            probed(st, m.body);
        } else if (!strcmp(type, "init_ok") && st->ps == P_STARTING) {
            st->ps = P_RUNNING;
            say_state(st);
        } else if (!strcmp(type, "error")) {
            const char *t = json_string_value(json_object_get(m.body, "text"));
            char text[320];
            snprintf(text, sizeof text, "the program refused init: %s", t ? t : "(no text)");
            env_event(st->e, "error", json_pack("{s:s}", "text", text));
        }
    } else if (is_service(m.dest)) {
        if (st->e->self_idx == 0) {
            json_t *rep = svc_handle(st, m.dest, m.body, st->e->self);
            if (rep)
                to_program(st, m.dest, rep);
            json_decref(rep);
        } else {
            env_send(st->e, st->e->nodes[0], json_pack("{s:s,s:s,s:O}", "type", "mael_svc", "svc", m.dest, "body", m.body));
        }
    } else {
        if (env_node_index(st->e, m.dest) < 0)
            acknowledged(st, m.dest, m.body);
        env_send(st->e, m.dest, json_incref(m.body));
    }
    json_decref(m.body);
}

static void maelstrom_exit(void *vst, const char *why)
{
    struct mael *st = vst;
    st->ps = P_EXITED;
    snprintf(st->why, sizeof st->why, "%s", why);
    char text[400];
    snprintf(text, sizeof text, "the node's program %s (its stderr is in the node's log)", why);
    env_event(st->e, "error", json_pack("{s:s}", "text", text));
    say_state(st);
}

static void *maelstrom_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    const char *bin = opts_get(o, "bin", NULL);
    /* the lab builds every mode once in a simulator to judge its options (sim=off then) */
    if (!e->ops->prog_start && bin && !strcmp(opts_get(o, "sim", "off"), "on")) {
        snprintf(err, errlen, "the simulator cannot host a program: start maelstrom without sim=on");
        return NULL;
    }
    if (e->ops->prog_start && (!bin || !*bin)) {
        snprintf(err, errlen, "start maelstrom needs bin=PATH: the Maelstrom node program each node runs");
        return NULL;
    }
    if (bin && strlen(bin) >= sizeof ((struct mael *)0)->bin) {
        snprintf(err, errlen, "bin=PATH is too long");
        return NULL;
    }
    const char *workload = opts_get(o, "workload", "lin-kv");
    const char *probe = opts_get(o, "probe", "auto");
    uint64_t probe_us = 0;
    if (!strcmp(probe, "auto")) {
        if (!strcmp(workload, "g-counter") || !strcmp(workload, "pn-counter") || !strcmp(workload, "g-set") ||
            !strcmp(workload, "broadcast"))
            probe_us = 500000;
    } else if (strcmp(probe, "off") && (parse_duration_us(probe, &probe_us) < 0 || probe_us < 10000)) {
        snprintf(err, errlen, "bad probe=%s: expected off, auto or a duration of 10ms or more", probe);
        return NULL;
    }
    uint64_t lww_sync_us = 500000;
    const char *ls = opts_get(o, "lww_sync", "500ms");
    if (parse_duration_us(ls, &lww_sync_us) < 0 || lww_sync_us < 1000) {
        snprintf(err, errlen, "bad lww_sync=%s: expected a duration of 1ms or more", ls);
        return NULL;
    }
    int64_t lww_replicas = 3;
    const char *lr = opts_get(o, "lww_replicas", "3");
    if (parse_i64(lr, &lww_replicas) < 0 || lww_replicas < 1 || lww_replicas > 9) {
        snprintf(err, errlen, "bad lww_replicas=%s: expected 1 to 9", lr);
        return NULL;
    }
    const char *args = opts_get(o, "args", "");
    if (strlen(args) >= sizeof ((struct mael *)0)->args) {
        snprintf(err, errlen, "args= is too long");
        return NULL;
    }
    struct mael *st = xcalloc(1, sizeof *st);
    st->e = e;
    st->svc = NULL;
    char *data = NULL;
    size_t len = 0;
    if (e->self_idx == 0 && e->ops->blob_get && e->ops->blob_get(e, SVC_BLOB, &data, &len) == 0) {
        st->svc = json_loadb(data, len, 0, NULL);
        free(data);
    }
    if (!json_is_object(st->svc)) {
        json_decref(st->svc);
        st->svc = json_object();
    }
    snprintf(st->bin, sizeof st->bin, "%s", bin ? bin : "");
    snprintf(st->args, sizeof st->args, "%s", args);
    snprintf(st->workload, sizeof st->workload, "%s", workload);
    st->probe_us = probe_us;
    st->lww_sync_us = lww_sync_us;
    st->lww_replicas = (int)lww_replicas;
    return st;
}

static void maelstrom_start(void *vst)
{
    struct mael *st = vst;
    /* replicas that differed when n1 went down merge a moment after it comes back */
    if (st->e->self_idx == 0 && json_object_get(st->svc, "lww-kv")) {
        st->lww_armed = 1;
        env_timer_set(st->e, st->lww_sync_us, T_LWW, 0);
    }
    if (!st->bin[0] || !st->e->ops->prog_start) {
        say_state(st);
        return;
    }
    char words[sizeof st->args];
    memcpy(words, st->args, sizeof words);
    char *argv[MAX_ARGS + 2];
    int n = 0;
    argv[n++] = st->bin;
    char *save = NULL;
    for (char *w = strtok_r(words, ",", &save); w && n <= MAX_ARGS; w = strtok_r(NULL, ",", &save))
        argv[n++] = w;
    argv[n] = NULL;
    char err[256];
    if (st->e->ops->prog_start(st->e, argv, err, sizeof err) < 0) {
        st->ps = P_EXITED;
        snprintf(st->why, sizeof st->why, "did not start (%s)", err);
        env_event(st->e, "error", json_pack("{s:s}", "text", err));
        say_state(st);
        return;
    }
    st->ps = P_STARTING;
    say_state(st);
    json_t *ids = json_array();
    for (int i = 0; i < st->e->n_nodes; i++)
        json_array_append_new(ids, json_string(st->e->nodes[i]));
    json_t *init = json_pack("{s:s,s:i,s:s,s:o}", "type", "init", "msg_id", 1, "node_id", st->e->self, "node_ids", ids);
    to_program(st, INIT_CLIENT, init);
    json_decref(init);
    if (st->probe_us)
        env_timer_set(st->e, st->probe_us, T_PROBE, 0);
}

static void maelstrom_destroy(void *vst)
{
    struct mael *st = vst;
    json_decref(st->svc);
    for (int i = 0; i < ASKED; i++)
        json_decref(st->asked[i].what);
    json_decref(st->data);
    free(st);
}

static void maelstrom_on_timer(void *vst, int kind, uint64_t arg)
{
    struct mael *st = vst;
    (void)arg;
    if (kind == T_LWW) {
        st->lww_armed = 0;
        lww_merge(st);
        return;
    }
    if (kind != T_PROBE || st->ps == P_EXITED)
        return;
    if (st->ps == P_RUNNING)
        probe(st);
    env_timer_set(st->e, st->probe_us, T_PROBE, 0);
}

/* The node's data for the lab: the last probe's answer; before the first one, a marker of
 * this node alone ("unknown": "n2"), so that `wait converged` waits for every node's answer. */
static json_t *data_of(const struct mael *st)
{
    if (st->data)
        return json_deep_copy(st->data);
    if (!st->probe_us)
        return json_object();
    return json_pack("{s:s}", "unknown", st->e->self);
}

static json_t *maelstrom_status(void *vst)
{
    struct mael *st = vst;
    const char *prog = st->ps == P_EXITED ? st->why : st->ps == P_NONE ? "none" : "running";
    json_t *s = json_pack("{s:s,s:s,s:I,s:I,s:I,s:o}", "role", role_of(st), "program", prog, "to_program",
                          (json_int_t)st->to_prog, "from_program", (json_int_t)st->from_prog, "refused",
                          (json_int_t)st->refused, "data", data_of(st));
    if (st->svc_ops)
        json_object_set_new(s, "services", json_integer((json_int_t)st->svc_ops));
    if (st->acked) {
        json_object_set_new(s, "acked", json_integer((json_int_t)st->acked));
        if (st->acked_sum)
            json_object_set_new(s, "acked_sum", json_integer(st->acked_sum));
    }
    return s;
}

static const struct mode_handler maelstrom_handlers[] = {
    {"mael_svc", on_svc},
    {"mael_svc_ok", on_svc_ok},
    {"*", on_any},
    {NULL, NULL},
};

static const struct mode_option maelstrom_options[] = {
    {"bin", OPT_ENUM, NULL, 0, 0, "", "the Maelstrom node program each node runs (a path, or a name in PATH)"},
    {"args", OPT_ENUM, NULL, 0, 0, "", "its arguments, comma-separated (args=-u,node.py)"},
    {"workload", OPT_ENUM, "lin-kv|echo|g-set|g-counter|pn-counter|broadcast|txn-list-append", 0, 0, "lin-kv",
     "the Maelstrom workload the program answers (what put/get/cas and the checkers expect)"},
    {"probe", OPT_ENUM, NULL, 0, 0, "auto",
     "the bridge's own read of the program every DURATION, shown as the node's data (wait converged); "
     "auto: 500ms for the counters, g-set and broadcast, off otherwise"},
    {"lww_sync", OPT_DURATION, NULL, 1000, 60000000, "500ms", "how often the lww-kv service's replicas merge "
     "(last write wins); between merges a read may be stale"},
    {"lww_replicas", OPT_INT, NULL, 1, 9, "3", "independent replicas of the lww-kv service (a client's requests go "
     "to them in turn)"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

/* ---- the face (mode.h) ------------------------------------------------------------------ */

static const struct mode_role maelstrom_roles[] = {
    {"starting", RC_PEER},
    {"node", RC_PEER},
    {"exited", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure maelstrom_figures[] = {
    {"program", "program", NULL},
    {"to_program", "in", "in="},
    {"from_program", "out", "out="},
    {"refused", "refused", NULL},
    {"acked", "acked", "ack="},
    {"data.value", "value", "v="},
    {"services", "service requests", NULL},
    {NULL, NULL, NULL},
};

/* Clients may send any type: the program decides what it answers. */
static const char *const maelstrom_client_types[] = {"read", "write", "cas", "delete", "echo", "add", "broadcast",
                                                     "topology", "txn", "generate", "send", "poll",
                                                     "commit_offsets", "list_committed_offsets", NULL};

const struct mode mode_maelstrom = {
    .name = "maelstrom",
    .summary = "any program that speaks Maelstrom's node protocol on stdin/stdout, bridged to the lab (bin=PATH)",
    .options = maelstrom_options,
    .bugs = NULL,
    .handlers = maelstrom_handlers,
    .commands = NULL,
    .create = maelstrom_create,
    .start = maelstrom_start,
    .destroy = maelstrom_destroy,
    .on_timer = maelstrom_on_timer,
    .status = maelstrom_status,
    .workload = "maelstrom",
    .client_types = maelstrom_client_types,
    .roles = maelstrom_roles,
    .figures = maelstrom_figures,
    .events = "state|error|service",
    .on_prog_line = maelstrom_line,
    .on_prog_exit = maelstrom_exit,
};
