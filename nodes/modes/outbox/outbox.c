/* outbox — the transactional outbox: never lose an event. Three roles, one node each:
 *
 *   n1 service   takes orders; the order row and its outbox row are written in ONE local
 *                transaction (one log record, fsynced) before the client hears ok; a relay
 *                inside the service publishes every outbox row to the broker until the broker
 *                acknowledges it (at least once), then marks it published (not fsynced: after a
 *                crash the row is published again — a duplicate).
 *   n2 broker    stores every publish (duplicates too) durably, acknowledges it, and delivers
 *                each stored message to the consumer until the consumer acknowledges it.
 *   n3 consumer  applies each message once: it remembers the message ids it applied (durably)
 *                and drops a duplicate (event `consumed` with duplicate true).
 *
 * Payloads (issue 20): an order may carry a "payload", any JSON value (42, "42", {"a":[1]} …);
 * it travels with its event — the outbox row, the publish, the broker's store, the delivery,
 * the consumer's applied record, all durable — and comes back with its type in a `read` of
 * the order (service and consumer: "payload" beside "value"). An order id may be a whole
 * number (taken as its digits). The monitor checks that what the consumer applies is the
 * payload the service produced (json_equal: 42 is not "42").
 *
 * Events: `produced` (the service committed an order and its event, id = message id),
 * `publish`, `stored` (broker), `consumed` (consumer: id, order, duplicate), `crashpoint`.
 * The lab's `check exactly-once` matches produced against consumed: every produced id consumed
 * once, none lost, none invented.
 *
 * Roles: service (outbox empty) / relaying (rows not yet acknowledged by the broker); broker
 * (everything delivered) / delivering; consumer. A `wait n1 service` after a restart waits
 * until the relay has drained the outbox.
 *
 * Bug toggles: dual-write — the service writes the order and then publishes straight to the
 * broker, outside any transaction and without retry: a crash between the two (crash point
 * `between`) or a broker that does not answer loses the event for good. no-dedup — the
 * consumer applies duplicates again (the monitor flags it).
 *
 * Crash points (`stopat n1 WHEN`): service `publish` (the relay sent a row, its
 * acknowledgement never handled) and `between` (with dual-write: the order written, the event
 * not sent). The node stops as if dead until the lab crashes and restarts it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"

#define MAXROWS 100000
#define PAYLOAD_MAX 4096        /* bytes of an order's payload as compact JSON */
#define TICK_US 100000

enum role { R_SERVICE, R_BROKER, R_CONSUMER };
enum { BUG_DUAL_WRITE = 1, BUG_NO_DEDUP = 2 };
enum { TM_RELAY = 1 };

struct row {
    char msg[32], order[64];
    long long amount;
    json_t *payload;        /* the order's payload (any JSON), or NULL */
    int acked;              /* service: the broker acknowledged it; broker: the consumer did */
};

struct outbox {
    struct env *e;
    enum role role;
    unsigned bugs;
    int halted;
    char crashat[16];
    char shown[16];
    struct row *rows;       /* service: outbox rows; broker: stored messages (offset = index) */
    int n, cap;
    json_t *orders;         /* service: order -> amount */
    json_t *applied;        /* consumer: message id -> order */
    json_t *payloads;       /* service and consumer: order -> payload (orders that carry one) */
    uint64_t next_msg, duplicates, consumed;
};

static void emit_role(struct outbox *st)
{
    int pending = 0;
    for (int i = 0; i < st->n; i++)
        pending += !st->rows[i].acked;
    const char *r = st->halted ? "halted"
                    : st->role == R_SERVICE ? (pending ? "relaying" : "service")
                    : st->role == R_BROKER ? (pending ? "delivering" : "broker") : "consumer";
    if (!strcmp(r, st->shown))
        return;
    str_copy(st->shown, r, sizeof st->shown);
    env_event(st->e, "state", json_pack("{s:s}", "role", r));
}

static int crash_point(struct outbox *st, const char *at, const char *msg)
{
    if (strcmp(st->crashat, at))
        return 0;
    st->halted = 1;
    env_event(st->e, "crashpoint", json_pack("{s:s,s:s,s:s}", "at", at, "id", msg,
                                             "text", "stopped as if dead: crash and restart this node"));
    emit_role(st);
    return 1;
}

static void log_rec(struct outbox *st, const char *name, json_t *rec, int sync)
{
    char *s = json_dumps(rec, JSON_COMPACT);
    st->e->ops->log_append(st->e, name, s, strlen(s));
    if (sync)
        st->e->ops->log_sync(st->e, name);
    free(s);
    json_decref(rec);
}

static struct row *row_add(struct outbox *st, const char *msg, const char *order, long long amount, const json_t *payload)
{
    if (st->n >= MAXROWS)
        return NULL;
    if (st->n == st->cap) {
        st->cap = st->cap ? 2 * st->cap : 64;
        st->rows = xrealloc(st->rows, (size_t)st->cap * sizeof *st->rows);
    }
    struct row *r = &st->rows[st->n++];
    memset(r, 0, sizeof *r);
    str_copy(r->msg, msg, sizeof r->msg);
    str_copy(r->order, order, sizeof r->order);
    r->amount = amount;
    r->payload = payload ? json_incref((json_t *)payload) : NULL;
    return r;
}

/* An order id in a client body: a string, or a whole number as its digits (into buf). */
static const char *order_arg(const json_t *v, char *buf, size_t len)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        snprintf(buf, len, "%lld", (long long)json_integer_value(v));
        return buf;
    }
    return json_string_value(v);
}

static const char *node_of(struct outbox *st, enum role r)
{
    return st->e->nodes[r];
}

/* ---- the service ------------------------------------------------------------------------------- */

/* Adds "payload": p to o when p is not NULL; returns o. */
static json_t *with_payload(json_t *o, const json_t *p)
{
    if (p)
        json_object_set(o, "payload", (json_t *)p);
    return o;
}

static void publish(struct outbox *st, const struct row *r)
{
    env_event(st->e, "publish", json_pack("{s:s,s:s}", "id", r->msg, "order", r->order));
    env_send(st->e, node_of(st, R_BROKER), with_payload(json_pack("{s:s,s:s,s:s,s:I}", "type", "publish", "id", r->msg,
                                                                  "order", r->order, "amount", (json_int_t)r->amount),
                                                        r->payload));
}

/* An order: the order row and the outbox row in one record, fsynced, then ok. With
 * bug=dual-write: the order row alone, ok, then a publish outside the transaction. Returns
 * NULL or the reason it was refused. */
static const char *take_order(struct outbox *st, const char *order, long long amount, const json_t *payload, char *msg,
                              size_t msglen)
{
    if (!*order || strlen(order) >= 64)
        return "an order id is 1 to 63 characters";
    if (json_object_get(st->orders, order))
        return "that order exists already";
    snprintf(msg, msglen, "m%llu", (unsigned long long)++st->next_msg);
    json_object_set_new(st->orders, order, json_integer(amount));
    if (payload)
        json_object_set(st->payloads, order, (json_t *)payload);
    if (st->bugs & BUG_DUAL_WRITE) {
        log_rec(st, "outbox.db", with_payload(json_pack("{s:s,s:I,s:s}", "order", order, "amount", (json_int_t)amount, "msg", msg),
                                              payload), 1);
        env_event(st->e, "produced", with_payload(json_pack("{s:s,s:s,s:b}", "id", msg, "order", order, "outbox", 0), payload));
        if (crash_point(st, "between", msg))
            return NULL;
        struct row r = {0};
        str_copy(r.msg, msg, sizeof r.msg);
        str_copy(r.order, order, sizeof r.order);
        r.amount = amount;
        r.payload = (json_t *)payload;
        publish(st, &r); /* once, no retry: the second write of the dual write */
        return NULL;
    }
    log_rec(st, "outbox.db", with_payload(json_pack("{s:s,s:I,s:s,s:b}", "order", order, "amount", (json_int_t)amount, "msg",
                                                    msg, "outbox", 1), payload), 1);
    row_add(st, msg, order, amount, payload);
    env_event(st->e, "produced", with_payload(json_pack("{s:s,s:s,s:b}", "id", msg, "order", order, "outbox", 1), payload));
    emit_role(st);
    return NULL;
}

static void on_order(void *vst, const char *src, const json_t *body)
{
    struct outbox *st = vst;
    if (st->halted)
        return;
    if (st->role != R_SERVICE) {
        char t[120];
        snprintf(t, sizeof t, "orders go to the service %s", node_of(st, R_SERVICE));
        env_reply_error(st->e, src, body, ERR_TEMPORARILY_UNAVAILABLE, t, NULL);
        return;
    }
    char num[24];
    const char *order = order_arg(json_object_get(body, "order"), num, sizeof num);
    const json_t *a = json_object_get(body, "amount");
    if (!order || (a && !json_is_integer(a))) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST,
                        "order needs an \"order\" id (a string or a whole number), a whole \"amount\" and optionally a "
                        "\"payload\" (any JSON)", NULL);
        return;
    }
    const json_t *payload = json_object_get(body, "payload");
    char *ptext = payload ? json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    size_t plen = ptext ? strlen(ptext) : 0;
    free(ptext);
    if (plen > PAYLOAD_MAX) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, "an order's \"payload\" is at most 4096 bytes of JSON", NULL);
        return;
    }
    char msg[32];
    const char *why = take_order(st, order, a ? json_integer_value(a) : 1, payload, msg, sizeof msg);
    if (why)
        env_reply_error(st->e, src, body, ERR_PRECONDITION_FAILED, why, NULL);
    else if (!st->halted)
        env_reply(st->e, src, body, json_pack("{s:s,s:s}", "type", "order_ok", "id", msg));
}

static void on_published(void *vst, const char *src, const json_t *body)
{
    struct outbox *st = vst;
    (void)src;
    const char *msg = json_string_value(json_object_get(body, "id"));
    if (st->halted || st->role != R_SERVICE || !msg)
        return;
    for (int i = 0; i < st->n; i++)
        if (!st->rows[i].acked && !strcmp(st->rows[i].msg, msg)) {
            st->rows[i].acked = 1;
            log_rec(st, "outbox.db", json_pack("{s:s}", "published", msg), 0); /* not fsynced: may be sent again */
        }
    emit_role(st);
}

/* ---- the broker and the consumer ------------------------------------------------------------- */

static void on_publish(void *vst, const char *src, const json_t *body)
{
    struct outbox *st = vst;
    const char *msg = json_string_value(json_object_get(body, "id"));
    const char *order = json_string_value(json_object_get(body, "order"));
    const json_t *a = json_object_get(body, "amount");
    if (st->halted || st->role != R_BROKER || !msg || !order || strlen(msg) >= 32 || strlen(order) >= 64 ||
        !json_is_integer(a))
        return;
    /* a broker keeps what it is given, duplicates too: at-least-once is the consumer's problem */
    const json_t *payload = json_object_get(body, "payload");
    struct row *r = row_add(st, msg, order, json_integer_value(a), payload);
    if (!r)
        return;
    log_rec(st, "outbox.broker", with_payload(json_pack("{s:s,s:s,s:O}", "id", msg, "order", order, "amount", a), payload), 1);
    env_event(st->e, "stored", json_pack("{s:s,s:s,s:i}", "id", msg, "order", order, "offset", st->n - 1));
    env_send(st->e, src, json_pack("{s:s,s:s}", "type", "published", "id", msg));
    env_send(st->e, node_of(st, R_CONSUMER), with_payload(json_pack("{s:s,s:i,s:s,s:s}", "type", "deliver", "offset",
                                                                    st->n - 1, "id", msg, "order", order), payload));
    emit_role(st);
}

static void on_deliver(void *vst, const char *src, const json_t *body)
{
    struct outbox *st = vst;
    const char *msg = json_string_value(json_object_get(body, "id"));
    const char *order = json_string_value(json_object_get(body, "order"));
    const json_t *off = json_object_get(body, "offset");
    if (st->halted || st->role != R_CONSUMER || !msg || !order || strlen(msg) >= 32 || !json_is_integer(off))
        return;
    const json_t *payload = json_object_get(body, "payload");
    int dup = json_object_get(st->applied, msg) != NULL;
    if (dup && !(st->bugs & BUG_NO_DEDUP)) {
        st->duplicates++;
    } else {
        log_rec(st, "outbox.consumer", with_payload(json_pack("{s:s,s:s}", "applied", msg, "order", order), payload), 1);
        json_object_set_new(st->applied, msg, json_string(order));
        if (payload)
            json_object_set(st->payloads, order, (json_t *)payload);
        st->consumed++;
    }
    env_event(st->e, "consumed", with_payload(json_pack("{s:s,s:s,s:b,s:b}", "id", msg, "order", order, "duplicate", dup,
                                                        "applied", !dup || (st->bugs & BUG_NO_DEDUP)),
                                              payload));
    env_send(st->e, src, json_pack("{s:s,s:O}", "type", "delivered", "offset", off));
}

static void on_delivered(void *vst, const char *src, const json_t *body)
{
    struct outbox *st = vst;
    (void)src;
    const json_t *off = json_object_get(body, "offset");
    if (st->halted || st->role != R_BROKER || !json_is_integer(off) || json_integer_value(off) < 0 ||
        json_integer_value(off) >= st->n)
        return;
    st->rows[json_integer_value(off)].acked = 1;
    emit_role(st);
}

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct outbox *st = vst;
    char num[24];
    const char *key = order_arg(json_object_get(body, "key"), num, sizeof num);
    if (st->halted)
        return;
    if (!key) {
        env_reply_error(st->e, src, body, ERR_MALFORMED_REQUEST, "read needs a \"key\" (an order id: a string or a whole number)",
                        NULL);
        return;
    }
    /* the service: the order's amount; the consumer: the id of the message that applied it */
    json_t *v = st->role == R_SERVICE && json_object_get(st->orders, key) ? json_deep_copy(json_object_get(st->orders, key))
                                                                          : NULL;
    if (st->role == R_CONSUMER) {
        const char *k;
        json_t *o;
        json_object_foreach(st->applied, k, o)
            if (json_is_string(o) && !strcmp(json_string_value(o), key) && !v)
                v = json_string(k);
    }
    if (!v)
        env_reply_error(st->e, src, body, ERR_KEY_DOES_NOT_EXIST, "no such order here", NULL);
    else
        env_reply(st->e, src, body, with_payload(json_pack("{s:s,s:o}", "type", "read_ok", "value", v),
                                                 st->role == R_BROKER ? NULL : json_object_get(st->payloads, key)));
}

/* ---- timers: the relay and the broker's redelivery --------------------------------------------- */

static void outbox_on_timer(void *vst, int kind, uint64_t arg)
{
    struct outbox *st = vst;
    (void)kind;
    (void)arg;
    if (st->halted)
        return;
    int sent = 0;
    for (int i = 0; i < st->n && sent < 64; i++) {
        struct row *r = &st->rows[i];
        if (r->acked)
            continue;
        sent++;
        if (st->role == R_SERVICE) {
            publish(st, r);
            if (crash_point(st, "publish", r->msg))
                return;
        } else if (st->role == R_BROKER) {
            env_send(st->e, node_of(st, R_CONSUMER), with_payload(json_pack("{s:s,s:i,s:s,s:s}", "type", "deliver", "offset",
                                                                            i, "id", r->msg, "order", r->order),
                                                                  r->payload));
        }
    }
    env_timer_set(st->e, TICK_US, TM_RELAY, 0);
}

/* ---- life cycle ------------------------------------------------------------------------------- */

static void replay(void *ud, const void *data, size_t len)
{
    struct outbox *st = ud;
    json_t *r = json_loadb(data, len, 0, NULL);
    const char *order = json_string_value(json_object_get(r, "order"));
    const char *msg = json_string_value(json_object_get(r, "msg"));
    const char *id = json_string_value(json_object_get(r, "id"));
    const char *pub = json_string_value(json_object_get(r, "published"));
    const char *applied = json_string_value(json_object_get(r, "applied"));
    const json_t *payload = json_object_get(r, "payload");
    if (st->role == R_SERVICE && order && msg && strlen(order) < 64 && strlen(msg) < 32) {
        json_object_set_new(st->orders, order, json_integer(json_integer_value(json_object_get(r, "amount"))));
        if (payload)
            json_object_set(st->payloads, order, (json_t *)payload);
        if (json_is_true(json_object_get(r, "outbox")))
            row_add(st, msg, order, json_integer_value(json_object_get(r, "amount")), payload);
        uint64_t k;
        if (msg[0] == 'm' && parse_u64(msg + 1, &k) == 0 && k > st->next_msg)
            st->next_msg = k;
    } else if (st->role == R_SERVICE && pub) {
        for (int i = 0; i < st->n; i++)
            if (!strcmp(st->rows[i].msg, pub))
                st->rows[i].acked = 1;
    } else if (st->role == R_BROKER && id && order && strlen(id) < 32 && strlen(order) < 64) {
        row_add(st, id, order, json_integer_value(json_object_get(r, "amount")), payload);
    } else if (st->role == R_CONSUMER && applied && order) {
        json_object_set_new(st->applied, applied, json_string(order));
        if (payload)
            json_object_set(st->payloads, order, (json_t *)payload);
        st->consumed++;
    }
    json_decref(r);
}

static void *outbox_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    if (e->n_nodes != 3) {
        snprintf(err, errlen, "outbox runs on exactly 3 nodes: n1 service, n2 broker, n3 consumer (start outbox 3)");
        return NULL;
    }
    struct outbox *st = xcalloc(1, sizeof *st);
    st->e = e;
    st->role = (enum role)e->self_idx;
    const char *bug = opts_get(o, "bug", "");
    if (mode_listed(bug, "dual-write"))
        st->bugs |= BUG_DUAL_WRITE;
    if (mode_listed(bug, "no-dedup"))
        st->bugs |= BUG_NO_DEDUP;
    st->orders = json_object();
    st->applied = json_object();
    st->payloads = json_object();
    static const char *const logs[] = {"outbox.db", "outbox.broker", "outbox.consumer"};
    e->ops->log_read(e, logs[st->role], replay, st);
    /* the broker redelivers everything it stored after a restart: the consumer dedups */
    if (st->role == R_BROKER)
        for (int i = 0; i < st->n; i++)
            st->rows[i].acked = 0;
    int pending = 0;
    for (int i = 0; i < st->n; i++)
        pending += !st->rows[i].acked;
    str_copy(st->shown, st->role == R_SERVICE ? (pending ? "relaying" : "service")
                        : st->role == R_BROKER ? (pending ? "delivering" : "broker") : "consumer", sizeof st->shown);
    return st;
}

static void outbox_start(void *vst)
{
    struct outbox *st = vst;
    env_event(st->e, "state", json_pack("{s:s}", "role", st->shown));
    if (st->role != R_CONSUMER)
        env_timer_set(st->e, TICK_US, TM_RELAY, 0);
}

static void outbox_destroy(void *vst)
{
    struct outbox *st = vst;
    for (int i = 0; i < st->n; i++)
        json_decref(st->rows[i].payload);
    free(st->rows);
    json_decref(st->orders);
    json_decref(st->applied);
    json_decref(st->payloads);
    free(st);
}

static json_t *outbox_status(void *vst)
{
    struct outbox *st = vst;
    int pending = 0;
    for (int i = 0; i < st->n; i++)
        pending += !st->rows[i].acked;
    const json_t *d = st->role == R_SERVICE ? st->orders : st->role == R_CONSUMER ? st->applied : NULL;
    json_t *r = json_pack("{s:s,s:o}", "role", st->halted ? "halted" : st->shown, "data",
                          d ? json_deep_copy(d) : json_object());
    if (st->role == R_SERVICE) {
        json_object_set_new(r, "orders", json_integer((json_int_t)json_object_size(st->orders)));
        json_object_set_new(r, "outbox", json_integer(pending));
    } else if (st->role == R_BROKER) {
        json_object_set_new(r, "stored", json_integer(st->n));
        json_object_set_new(r, "undelivered", json_integer(pending));
    } else {
        json_object_set_new(r, "applied", json_integer((json_int_t)st->consumed));
        json_object_set_new(r, "dropped", json_integer((json_int_t)st->duplicates));
    }
    return r;
}

/* ---- commands ---------------------------------------------------------------------------------- */

static json_t *reply(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *reply(int ok, const char *fmt, ...)
{
    char b[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    return json_pack("{s:b,s:s}", "ok", ok, "text", b);
}

static json_t *cmd_order(void *vst, int argc, char **argv)
{
    struct outbox *st = vst;
    if (st->halted)
        return reply(0, "%s is halted at a crash point: crash and restart it", st->e->self);
    if (st->role != R_SERVICE)
        return reply(0, "orders go to the service %s (is it down?)", node_of(st, R_SERVICE));
    int64_t amount = 1;
    if (argc > 1 && parse_i64(argv[1], &amount) < 0)
        return reply(0, "the amount must be a whole number, not '%s'", argv[1]);
    char msg[32];
    const char *why = take_order(st, argv[0], amount, NULL, msg, sizeof msg);
    if (why)
        return reply(0, "%s", why);
    return reply(1, "order %s committed with its event %s%s", argv[0], msg,
                 st->bugs & BUG_DUAL_WRITE ? " (dual write: published outside the transaction)"
                                           : " in the outbox (the relay publishes it)");
}

static json_t *cmd_stopat(void *vst, int argc, char **argv)
{
    struct outbox *st = vst;
    (void)argc;
    if (st->role != R_SERVICE || !mode_listed("publish|between|none", argv[1]))
        return reply(0, "crash points: the service n1 has publish, between (with bug=dual-write) and none");
    str_copy(st->crashat, strcmp(argv[1], "none") ? argv[1] : "", sizeof st->crashat);
    return reply(1, "%s will stop as if dead at %s", st->e->self, argv[1]);
}

/* ---- the monitor: a duplicate applied twice, an event nobody produced ---------------------------- */

struct outmon {
    json_t *produced, *applied;
    json_t *payloads;       /* message id -> the payload produced with it */
    int violations;
    json_t *last;
};

static void *mon_create(void)
{
    struct outmon *m = xcalloc(1, sizeof *m);
    m->produced = json_object();
    m->applied = json_object();
    m->payloads = json_object();
    return m;
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct outmon *m = vm;
    const char *name = json_string_value(json_object_get(ev, "ev"));
    const char *id = json_string_value(json_object_get(ev, "id"));
    const char *node = json_string_value(json_object_get(ev, "node"));
    if (!name || !id || !node)
        return 0;
    char where[48];
    snprintf(where, sizeof where, "%s#%lld", node, (long long)json_integer_value(json_object_get(ev, "seq")));
    if (!strcmp(name, "produced")) {
        json_object_set_new(m->produced, id, json_string(where));
        if (json_object_get(ev, "payload"))
            json_object_set(m->payloads, id, json_object_get(ev, "payload"));
        return 0;
    }
    if (strcmp(name, "consumed") || !json_is_true(json_object_get(ev, "applied")))
        return 0;
    const char *first = json_string_value(json_object_get(m->applied, id));
    struct sb t = {0};
    if (first)
        sb_printf(&t, "ExactlyOnce: %s applied %s a second time (events %s, %s)", node, id, first, where);
    else if (!json_object_get(m->produced, id))
        sb_printf(&t, "NoInvention: %s applied %s, which the service never produced (events %s)", node, id, where);
    else if (!json_equal(json_object_get(m->payloads, id) ? json_object_get(m->payloads, id) : json_null(),
                         json_object_get(ev, "payload") ? json_object_get(ev, "payload") : json_null())) {
        char *a = json_dumps(json_object_get(m->payloads, id), JSON_COMPACT | JSON_ENCODE_ANY);
        char *b = json_dumps(json_object_get(ev, "payload"), JSON_COMPACT | JSON_ENCODE_ANY);
        sb_printf(&t, "SamePayload: %s applied %s with payload %.80s, produced with %.80s (events %s)", node, id,
                  b ? b : "none", a ? a : "none", where);
        free(a);
        free(b);
    }
    if (!first)
        json_object_set_new(m->applied, id, json_string(where));
    if (!t.s)
        return 0;
    m->violations++;
    json_decref(m->last);
    m->last = json_pack("{s:s,s:s}", "ev", "invariant", "text", t.s);
    sb_add(alert, t.s);
    sb_free(&t);
    return 1;
}

static int mon_violations(const void *vm) { return ((const struct outmon *)vm)->violations; }
static const json_t *mon_last(const void *vm) { return ((const struct outmon *)vm)->last; }
static void mon_destroy(void *vm)
{
    struct outmon *m = vm;
    if (!m)
        return;
    json_decref(m->produced);
    json_decref(m->applied);
    json_decref(m->payloads);
    json_decref(m->last);
    free(m);
}

static const struct mode_monitor outbox_monitor = {
    .create = mon_create, .feed = mon_feed, .violations = mon_violations, .last = mon_last, .destroy = mon_destroy,
};

/* ---- the face ----------------------------------------------------------------------------------- */

static const struct mode_handler outbox_handlers[] = {
    {"order", on_order},
    {"read", on_read},
    {"publish", on_publish},
    {"published", on_published},
    {"deliver", on_deliver},
    {"delivered", on_delivered},
    {NULL, NULL},
};

static const struct mode_option outbox_options[] = {
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_command outbox_commands[] = {
    {"order", "order ID [AMOUNT]", "place an order on the service: the order and its event commit together (the outbox)",
     "order o1 30", 1, 2, cmd_order, MC_ANY},
    {"stopat", "stopat n1 publish|between|none",
     "make the service stop as if dead: after the relay publishes a row (publish), or between the order and its event (between, with bug=dual-write)",
     "stopat n1 publish", 2, 2, cmd_stopat, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_role outbox_roles[] = {
    {"service", RC_COORDINATOR},
    {"relaying", RC_COORDINATOR},
    {"broker", RC_PEER},
    {"delivering", RC_PEER},
    {"consumer", RC_PARTICIPANT},
    {"halted", RC_PEER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure outbox_figures[] = {
    {"orders", "orders", "o"},
    {"outbox", "outbox", "ob"},
    {"stored", "stored", "s"},
    {"undelivered", "undelivered", "u"},
    {"applied", "applied", "ap"},
    {"dropped", "duplicates dropped", "dup"},
    {NULL, NULL, NULL},
};

static const char *const outbox_client_types[] = {"order", "read", NULL};

static int outbox_replicas(const struct opts *o, int n, const char *key, int out[CL_MAXN])
{
    (void)o;
    (void)key;
    (void)n;
    out[0] = 0; /* orders live on the service */
    return 1;
}

const struct mode mode_outbox = {
    .name = "outbox",
    .summary = "the transactional outbox: an order and its event in one local transaction, a relay that publishes at least once, a consumer that applies once",
    .options = outbox_options,
    .bugs = "dual-write|no-dedup",
    .handlers = outbox_handlers,
    .commands = outbox_commands,
    .create = outbox_create,
    .start = outbox_start,
    .destroy = outbox_destroy,
    .on_timer = outbox_on_timer,
    .status = outbox_status,
    .monitor = &outbox_monitor,
    .workload = "order",
    .client_types = outbox_client_types,
    .roles = outbox_roles,
    .figures = outbox_figures,
    .replicas = outbox_replicas,
    .events = "state|produced|publish|stored|consumed|crashpoint",
};
