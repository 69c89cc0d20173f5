/* redlock — Redis-style lease locks (SET key value NX PX ttl), single-instance and Redlock over
 * N independent instances, for contrast with the ZooKeeper-like lock: the lesson of Martin
 * Kleppmann's "How to do distributed locking" (2016). A lease lock hands out time, not
 * ownership: a holder paused past its lease (a GC pause: the lab's `pause`), or an instance
 * whose clock jumps (the lab's `clock bump`), lets a second client acquire while the first
 * still believes it holds the lock, and both write. Only a storage that checks a fencing
 * token (fencing=on: the kit's fence) refuses the older holder's late write.
 *
 * Every node may play three parts:
 *   instance  nodes n1..nI (instances=I, default every node): an independent Redis-like lock
 *             server. No replication, no consensus between instances. Keys live in memory
 *             (lost in a crash, as in Redis without fsync); a per-lock token counter is
 *             durable (blob redlock.tokens).
 *   storage   one node (storage=K, default the last): the fenced storage the locks protect
 *             (kit fence: the highest token accepted per resource; fencing=on refuses lower).
 *   client    every node hosts lock clients (agents), one per (client name, lock), driven by
 *             the commands `acquire`, `release`, `store`. Pausing the node pauses its clients.
 *
 * Client, as in the Redlock algorithm (redis.io/docs/manual/patterns/distributed-locks):
 *   acquire: pick a unique random value and a token (the highest counter heard + 1); send
 *            lock_set {lock, value, ttl, token} to every instance; the lock is held when a
 *            majority (I/2+1) granted it and validity = lease - elapsed - drift > 0, drift =
 *            lease/100 + 2 ms, elapsed measured on the client's clock. Else unlock every
 *            instance and retry after a random delay (20-200 ms), 3 times and while `wait` lasts
 *            (a refusal teaches the client the instance's counter: the next token is above it).
 *   hold:    until validity runs out on the client's own clock (a timer): then `expired`. A
 *            paused client notices nothing until it runs again.
 *   store:   check the lease now, then do the critical section's work (`work`, default 1 s),
 *            then send the write, with the token, to the storage. The check comes BEFORE the
 *            work: a pause in between is Kleppmann's failure.
 *   release: lock_del {lock, value} to every instance (delete only if the value is ours).
 * Instance: lock_set is granted when the key is absent or expired on the instance's own clock
 *   (a clock bump expires it early) and token > the lock's counter; the counter becomes token.
 *   So accepted tokens grow at every instance, two grants that share an instance carry
 *   different tokens, and the later grant at the shared instance the larger one.
 *
 * Invariants (the monitor, and the lab's `check mutex` over the `mutex` events):
 *   - MutualExclusion: no client acquires a lock while another client's critical section of
 *     it is open (acquire .. release/expired), when the storage is not fenced. Violated by
 *     design under pauses and clock jumps: that is the lesson.
 *   - NoStaleWrite: the storage never accepts a write whose token is lower than one it already
 *     accepted for that resource. Holds with fencing=on whatever happens; without, violated
 *     when a paused holder writes late.
 *
 * Bug toggles: unsafe-release (release deletes the key whatever its value, as a bare DEL does:
 * a client whose lease ran out deletes the next holder's lock), no-drift (validity = the whole
 * lease: the time spent acquiring and the clock drift are not subtracted), one-instance (held
 * once one instance granted it: no majority).
 *
 * Stored values are any JSON (issue 20): `store n1 orders order-7 42` writes the number 42,
 * `store … '"42"'` the string, `store … '{"a":[1]}'` the object, a bare word (paid) a string;
 * the storage keeps it as kvsm's entry text (kvsm.h), the `store` message carries it as JSON,
 * and a client's `read` answers it with its type.
 *
 * Events: `lock` (client side: attempt, acquired, failed, expired, released, work, written,
 * refused, unanswered), `lease` (instance side: granted, refused, deleted), `mutex` (the records of
 * docs/checkers.md: acquire, release, write), `state` (role changes).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "env.h"
#include "fence.h"
#include "jtext.h"
#include "kvsm.h"
#include "mode.h"
#include "msg.h"

#define NAME_MAX_LEN 64         /* lock and key names */
#define VALUE_MAX_LEN 256       /* stored values */
#define MAX_KEYS 256            /* locks per instance */
#define MAX_AGENTS 32           /* clients per node */
#define MAX_TOKEN (1ull << 52)
#define MAX_TTL_US 3600000000ull
#define TOKENS_BLOB "redlock.tokens"
#define STORE_TIMEOUT_US 5000000ull
#define RETRIES 3               /* attempts after the first, whatever `wait` says (redlock-py's default) */

enum { BUG_UNSAFE_RELEASE = 1, BUG_NO_DRIFT = 2, BUG_ONE_INSTANCE = 4 };
enum { T_ATTEMPT = 1, T_LEASE = 2, T_WORK = 3, T_RETRY = 4 };
enum ag_state { AG_IDLE, AG_ACQUIRING, AG_BACKOFF, AG_HOLDING };

static const char *const ag_names[] = {"idle", "acquiring", "backoff", "holding"};

struct key {
    int used;
    char lock[NAME_MAX_LEN + 1];
    char value[96];
    char client[CL_IDLEN];
    uint64_t expires_us;        /* on this instance's clock */
    uint64_t token;
};

struct counter {
    char lock[NAME_MAX_LEN + 1];
    uint64_t c;
};

struct agent {
    int used;
    char client[CL_IDLEN];
    char lock[NAME_MAX_LEN + 1];
    enum ag_state state;
    char value[96];
    uint64_t token, seen;       /* this attempt's token; the highest counter heard */
    uint64_t lease_us, wait_until_us, start_us, acquired_us, validity_us;
    uint32_t answered, granted; /* instance bitmasks of this attempt */
    uint64_t attempt;
    int tries_left;             /* attempts still allowed besides `wait` (Redlock clients retry) */
    uint64_t attempt_serial, lease_serial, work_serial, retry_serial;
    uint64_t attempt_timer, lease_timer, work_timer, retry_timer;
    int loop;                   /* `contend`: release at once and acquire again, for ever */
    int writing;                /* from `store` until the storage answered (or STORE_TIMEOUT_US) */
    int sent;                   /* the write has gone out: the work is done */
    char wkey[NAME_MAX_LEN + 1];
    char wvalue[VALUE_MAX_LEN + 1];
    uint64_t wtoken;
};

struct rl {
    struct env *env;
    unsigned bugs;
    int ninst;                  /* instances: nodes 0..ninst-1 */
    int storage;                /* node index of the storage */
    int fencing;
    uint64_t lease_us, work_us;
    const char *role;

    struct key keys[MAX_KEYS];
    struct counter *counters;
    size_t ncounters;

    struct fence fence;         /* the storage's state (storage node only) */

    struct agent ag[MAX_AGENTS];
    uint64_t serial;
    uint64_t pairs;             /* acquire/release pairs of `contend` clients (the bench) */
};

/* ---- helpers ------------------------------------------------------------------------------ */

static int is_instance(const struct rl *st)
{
    return st->env->self_idx < st->ninst;
}

static int is_storage(const struct rl *st)
{
    return st->env->self_idx == st->storage;
}

static int quorum(const struct rl *st)
{
    return (st->bugs & BUG_ONE_INSTANCE) ? 1 : st->ninst / 2 + 1;
}

static int popcount32(uint32_t x)
{
    int n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static json_t *instance_list(const struct rl *st, uint32_t mask)
{
    json_t *a = json_array();
    for (int i = 0; i < st->ninst; i++)
        if (mask & (1u << i))
            json_array_append_new(a, json_string(st->env->nodes[i]));
    return a;
}

static double speed_of(struct rl *st)
{
    double s = env_speed(st->env);
    return s > 0 ? s : 1;
}

static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > NAME_MAX_LEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= ' ' || s[i] == '"' || s[i] == '\\' || (unsigned char)s[i] >= 0x7f)
            return 0;
    return 1;
}

static void bad_message(struct rl *st, const char *src, const char *type, const char *what)
{
    char *t = xasprintf("dropped %s from %s: %s", type ? type : "a message", src, what);
    env_event(st->env, "error", json_pack("{s:s}", "text", t));
    free(t);
}

static json_t *reply_text(int ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static json_t *reply_text(int ok, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    json_t *r = json_pack("{s:b,s:s}", "ok", ok, "text", b.s ? b.s : "");
    sb_free(&b);
    return r;
}

/* ---- role ---------------------------------------------------------------------------------- */

/* writing > holder > acquiring > storage > instance > client: the dashboard crowns every holder
 * (and every client whose write is on its way), so two crowns at once are two clients that both
 * believe they hold a lock. `writing` lasts from `store` until the storage has answered, so a
 * script's `wait n1 instance` after it means the storage has decided n1's write. */
static void update_role(struct rl *st)
{
    int holding = 0, acquiring = 0, writing = 0;
    for (int i = 0; i < MAX_AGENTS; i++) {
        writing += st->ag[i].used && st->ag[i].writing;
        holding += st->ag[i].used && st->ag[i].state == AG_HOLDING;
        acquiring += st->ag[i].used && (st->ag[i].state == AG_ACQUIRING || st->ag[i].state == AG_BACKOFF);
    }
    const char *r = writing ? "writing" : holding ? "holder" : acquiring ? "acquiring" : is_storage(st) ? "storage"
                  : is_instance(st) ? "instance" : "client";
    if (st->role && !strcmp(r, st->role))
        return;
    st->role = r;
    env_event(st->env, "state", json_pack("{s:s}", "role", r));
}

/* ---- instance ------------------------------------------------------------------------------ */

static struct counter *counter_of(struct rl *st, const char *lock, int create)
{
    for (size_t i = 0; i < st->ncounters; i++)
        if (!strcmp(st->counters[i].lock, lock))
            return &st->counters[i];
    if (!create || st->ncounters >= MAX_KEYS)
        return NULL;
    st->counters = xrealloc(st->counters, (st->ncounters + 1) * sizeof *st->counters);
    struct counter *c = &st->counters[st->ncounters++];
    memset(c, 0, sizeof *c);
    str_copy(c->lock, lock, sizeof c->lock);
    return c;
}

static void save_counters(struct rl *st)
{
    json_t *j = json_object();
    for (size_t i = 0; i < st->ncounters; i++)
        json_object_set_new(j, st->counters[i].lock, json_integer((json_int_t)st->counters[i].c));
    char *txt = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
    if (st->env->ops->blob_put(st->env, TOKENS_BLOB, txt, strlen(txt)) < 0)
        env_event(st->env, "error", json_pack("{s:s}", "text", "could not save " TOKENS_BLOB));
    free(txt);
    json_decref(j);
}

static struct key *key_of(struct rl *st, const char *lock)
{
    for (int i = 0; i < MAX_KEYS; i++)
        if (st->keys[i].used && !strcmp(st->keys[i].lock, lock))
            return &st->keys[i];
    return NULL;
}

static int key_live(struct rl *st, const struct key *k)
{
    return k && k->used && env_now_us(st->env) < k->expires_us;
}

/* SET lock value NX PX ttl, with a token that must be above the lock's counter. Fills *counter
 * with the counter after the decision; returns 1 granted, 0 refused (why, holder filled). */
static int instance_set(struct rl *st, const char *client, const char *lock, const char *value, uint64_t ttl_us,
                        uint64_t token, uint64_t *counter, const char **why, const char **holder)
{
    struct counter *c = counter_of(st, lock, 1);
    struct key *k = key_of(st, lock);
    *why = NULL;
    *holder = NULL;
    *counter = c ? c->c : 0;
    if (!c) {
        *why = "too many locks on this instance";
        return 0;
    }
    if (key_live(st, k)) {
        *why = "held";
        *holder = k->client;
        env_event(st->env, "lease", json_pack("{s:s,s:s,s:s,s:s,s:I}", "what", "refused", "lock", lock, "client",
                                              client, "holder", k->client, "token", (json_int_t)token));
        return 0;
    }
    if (token <= c->c) {
        *why = "token";
        env_event(st->env, "lease", json_pack("{s:s,s:s,s:s,s:s,s:I,s:I}", "what", "refused", "lock", lock, "client",
                                              client, "why", "token not above the counter", "token",
                                              (json_int_t)token, "counter", (json_int_t)c->c));
        return 0;
    }
    if (!k) {
        for (int i = 0; i < MAX_KEYS && !k; i++)
            if (!st->keys[i].used || !key_live(st, &st->keys[i]))
                k = &st->keys[i];
        if (!k) {
            *why = "too many locks on this instance";
            return 0;
        }
    }
    memset(k, 0, sizeof *k);
    k->used = 1;
    str_copy(k->lock, lock, sizeof k->lock);
    str_copy(k->value, value, sizeof k->value);
    str_copy(k->client, client, sizeof k->client);
    /* the lease runs at the lab's pace, as the client's timers do */
    k->expires_us = env_now_us(st->env) + (uint64_t)((double)ttl_us / speed_of(st));
    k->token = token;
    c->c = token;
    *counter = token;
    save_counters(st);
    env_event(st->env, "lease", json_pack("{s:s,s:s,s:s,s:I,s:I}", "what", "granted", "lock", lock, "client", client,
                                          "token", (json_int_t)token, "ttl_ms", (json_int_t)(ttl_us / 1000)));
    return 1;
}

/* DEL lock if its value is value (value NULL: whatever it is, the unsafe-release bug). */
static void instance_del(struct rl *st, const char *lock, const char *value, const char *client)
{
    struct key *k = key_of(st, lock);
    if (!key_live(st, k))
        return;
    if (value && strcmp(k->value, value))
        return;
    env_event(st->env, "lease", json_pack("{s:s,s:s,s:s,s:s}", "what", "deleted", "lock", lock, "holder", k->client,
                                          "by", client));
    k->used = 0;
}

struct set_msg {
    const char *lock, *value, *client, *why, *holder;
    uint64_t ttl_us, token, attempt, counter;
    int ok;
};

static const struct msg_field set_fields[] = {
    MSG_STR(struct set_msg, lock),
    MSG_STR(struct set_msg, value),
    MSG_STR(struct set_msg, client),
    MSG_U64(struct set_msg, ttl_us, MAX_TTL_US),
    MSG_U64(struct set_msg, token, MAX_TOKEN),
    MSG_U64(struct set_msg, attempt, MAX_TOKEN),
    MSG_END,
};

static const struct msg_field set_ok_fields[] = {
    MSG_STR(struct set_msg, lock),
    MSG_STR(struct set_msg, value),
    MSG_STR(struct set_msg, client),
    MSG_BOOL(struct set_msg, ok),
    MSG_U64(struct set_msg, counter, MAX_TOKEN),
    MSG_U64(struct set_msg, attempt, MAX_TOKEN),
    MSG_STR_OPT(struct set_msg, why),
    MSG_STR_OPT(struct set_msg, holder),
    MSG_END,
};

static const struct msg_field del_fields[] = {
    MSG_STR(struct set_msg, lock),
    MSG_STR_OPT(struct set_msg, value),
    MSG_STR(struct set_msg, client),
    MSG_END,
};

/* A peer message from another node with its fields, or -1 (and an error event). */
static int peer_get(struct rl *st, const char *src, const json_t *body, const struct msg_field *fields, void *out)
{
    char err[300];
    const char *type = json_string_value(json_object_get(body, "type"));
    int from = env_node_index(st->env, src);
    if (from < 0 || from == st->env->self_idx) {
        bad_message(st, src, type, "not from another node");
        return -1;
    }
    if (msg_get(body, NULL, fields, out, err, sizeof err) < 0) {
        bad_message(st, src, type, err);
        return -1;
    }
    return from;
}

static void on_lock_set(void *vst, const char *src, const json_t *body)
{
    struct rl *st = vst;
    struct set_msg m = {0};
    if (peer_get(st, src, body, set_fields, &m) < 0)
        return;
    if (!is_instance(st)) {
        bad_message(st, src, "lock_set", "this node is not a lock instance");
        return;
    }
    if (!name_ok(m.lock) || strlen(m.value) >= sizeof ((struct key *)0)->value || strlen(m.client) >= CL_IDLEN) {
        bad_message(st, src, "lock_set", "lock, value or client name too long or not printable");
        return;
    }
    uint64_t counter;
    const char *why, *holder;
    int ok = instance_set(st, m.client, m.lock, m.value, m.ttl_us, m.token, &counter, &why, &holder);
    json_t *r = json_pack("{s:s,s:s,s:s,s:s,s:b,s:I,s:I}", "type", "lock_set_ok", "lock", m.lock, "value", m.value,
                          "client", m.client, "ok", ok, "counter", (json_int_t)counter, "attempt",
                          (json_int_t)m.attempt);
    if (why)
        json_object_set_new(r, "why", json_string(why));
    if (holder)
        json_object_set_new(r, "holder", json_string(holder));
    env_send(st->env, src, r);
}

static void on_lock_del(void *vst, const char *src, const json_t *body)
{
    struct rl *st = vst;
    struct set_msg m = {0};
    if (peer_get(st, src, body, del_fields, &m) < 0)
        return;
    if (!is_instance(st)) {
        bad_message(st, src, "lock_del", "this node is not a lock instance");
        return;
    }
    instance_del(st, m.lock, m.value, m.client);
}

/* ---- client ---------------------------------------------------------------------------------- */

static struct agent *agent_of(struct rl *st, const char *client, const char *lock, int create)
{
    struct agent *free_slot = NULL;
    for (int i = 0; i < MAX_AGENTS; i++) {
        struct agent *a = &st->ag[i];
        if (a->used && !strcmp(a->client, client) && !strcmp(a->lock, lock))
            return a;
        if (!free_slot && (!a->used || (a->state == AG_IDLE && !a->writing)))
            free_slot = a;
    }
    if (!create || !free_slot)
        return NULL;
    uint64_t seen = free_slot->used && !strcmp(free_slot->lock, lock) ? free_slot->seen : 0;
    memset(free_slot, 0, sizeof *free_slot);
    free_slot->used = 1;
    free_slot->seen = seen;
    str_copy(free_slot->client, client, sizeof free_slot->client);
    str_copy(free_slot->lock, lock, sizeof free_slot->lock);
    return free_slot;
}

static uint64_t arm(struct rl *st, struct agent *a, uint64_t us, int kind, uint64_t *serial)
{
    *serial = ++st->serial;
    uint64_t arg = ((uint64_t)(a - st->ag)) | (*serial << 8);
    return env_timer_set(st->env, us, kind, arg);
}

static void disarm(struct rl *st, uint64_t *timer, uint64_t *serial)
{
    env_timer_cancel(st->env, *timer);
    *timer = 0;
    *serial = 0;
}

static void mutex_event(struct rl *st, const char *op, const struct agent *a, const char *why)
{
    json_t *f = json_pack("{s:s,s:s,s:s,s:I,s:b}", "op", op, "client", a->client, "lock", a->lock, "token",
                          (json_int_t)a->token, "fencing", st->fencing);
    if (why)
        json_object_set_new(f, "why", json_string(why));
    env_event(st->env, "mutex", f);
}

/* Unlocks every instance of this attempt's value (release, or a failed attempt). */
static void unlock_all(struct rl *st, struct agent *a)
{
    const char *value = (st->bugs & BUG_UNSAFE_RELEASE) ? NULL : a->value;
    for (int i = 0; i < st->ninst; i++) {
        if (i == st->env->self_idx) {
            instance_del(st, a->lock, value, a->client);
            continue;
        }
        json_t *m = json_pack("{s:s,s:s,s:s}", "type", "lock_del", "lock", a->lock, "client", a->client);
        if (value)
            json_object_set_new(m, "value", json_string(value));
        env_send(st->env, st->env->nodes[i], m);
    }
}

static void handle_grant(struct rl *st, struct agent *a, int inst, int ok, uint64_t counter);

static void start_attempt(struct rl *st, struct agent *a)
{
    a->attempt++;
    a->token = a->seen + 1;
    snprintf(a->value, sizeof a->value, "%s.%s.%016llx", st->env->self, a->client,
             (unsigned long long)env_rand(st->env));
    a->start_us = env_now_us(st->env);
    a->answered = a->granted = 0;
    a->state = AG_ACQUIRING;
    if (!a->loop)
        env_event(st->env, "lock", json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "what", "attempt", "client", a->client, "lock",
                                         a->lock, "token", (json_int_t)a->token, "lease_ms",
                                         (json_int_t)(a->lease_us / 1000), "attempt", (json_int_t)a->attempt));
    /* Redlock waits for each instance a short while only; here one deadline for the attempt:
     * a tenth of the lease, from 50 ms to 1 s */
    uint64_t deadline = a->lease_us / 10;
    if (deadline < 50000)
        deadline = 50000;
    if (deadline > 1000000)
        deadline = 1000000;
    disarm(st, &a->attempt_timer, &a->attempt_serial);
    a->attempt_timer = arm(st, a, deadline, T_ATTEMPT, &a->attempt_serial);
    int self_ok = -1;
    uint64_t self_counter = 0;
    for (int i = 0; i < st->ninst; i++) {
        if (i == st->env->self_idx) {
            const char *why, *holder;
            self_ok = instance_set(st, a->client, a->lock, a->value, a->lease_us, a->token, &self_counter, &why, &holder);
            continue;
        }
        env_send(st->env, st->env->nodes[i],
                 json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:I}", "type", "lock_set", "lock", a->lock, "value", a->value,
                           "client", a->client, "ttl_us", (json_int_t)a->lease_us, "token", (json_int_t)a->token,
                           "attempt", (json_int_t)a->attempt));
    }
    update_role(st);
    if (self_ok >= 0)
        handle_grant(st, a, st->env->self_idx, self_ok, self_counter);
}

static void finish_idle(struct rl *st, struct agent *a)
{
    a->state = AG_IDLE;
    disarm(st, &a->attempt_timer, &a->attempt_serial);
    disarm(st, &a->lease_timer, &a->lease_serial);
    disarm(st, &a->retry_timer, &a->retry_serial);
    update_role(st);
}

static void attempt_failed(struct rl *st, struct agent *a, const char *why)
{
    disarm(st, &a->attempt_timer, &a->attempt_serial);
    unlock_all(st, a);
    uint64_t now = env_now_us(st->env);
    int retry = now < a->wait_until_us || a->tries_left > 0 || a->loop;
    if (a->tries_left > 0)
        a->tries_left--;
    if (!a->loop)
        env_event(st->env, "lock", json_pack("{s:s,s:s,s:s,s:s,s:i,s:i,s:o,s:b}", "what", "failed", "client", a->client,
                                         "lock", a->lock, "why", why, "granted", popcount32(a->granted), "quorum",
                                         quorum(st), "instances", instance_list(st, a->granted), "retry", retry));
    if (!retry) {
        finish_idle(st, a);
        return;
    }
    a->state = AG_BACKOFF;
    uint64_t delay = env_rand_range(st->env, 20000, 200000);
    a->retry_timer = arm(st, a, delay, T_RETRY, &a->retry_serial);
    update_role(st);
}

static void acquired(struct rl *st, struct agent *a, uint64_t elapsed_us, int64_t validity_us)
{
    disarm(st, &a->attempt_timer, &a->attempt_serial);
    a->state = AG_HOLDING;
    a->acquired_us = env_now_us(st->env);
    a->validity_us = (uint64_t)validity_us;
    a->lease_timer = arm(st, a, a->validity_us, T_LEASE, &a->lease_serial);
    env_event(st->env, "lock", json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:o}", "what", "acquired", "client", a->client,
                                         "lock", a->lock, "token", (json_int_t)a->token, "validity_ms",
                                         (json_int_t)(a->validity_us / 1000), "elapsed_ms",
                                         (json_int_t)(elapsed_us / 1000), "instances",
                                         instance_list(st, a->granted)));
    mutex_event(st, "acquire", a, NULL);
    if (a->loop) {
        /* `contend`: the critical section is empty; release and queue again */
        unlock_all(st, a);
        mutex_event(st, "release", a, "unlock");
        st->pairs++;
        disarm(st, &a->lease_timer, &a->lease_serial);
        start_attempt(st, a);
        return;
    }
    update_role(st);
}

static void handle_grant(struct rl *st, struct agent *a, int inst, int ok, uint64_t counter)
{
    if (counter > a->seen)
        a->seen = counter;
    a->answered |= 1u << inst;
    if (ok)
        a->granted |= 1u << inst;
    if (popcount32(a->granted) >= quorum(st)) {
        uint64_t now = env_now_us(st->env);
        uint64_t elapsed = (uint64_t)((double)(now > a->start_us ? now - a->start_us : 0) * speed_of(st));
        uint64_t drift = a->lease_us / 100 + 2000;
        int64_t validity = (st->bugs & BUG_NO_DRIFT) ? (int64_t)a->lease_us
                                                     : (int64_t)a->lease_us - (int64_t)elapsed - (int64_t)drift;
        if (validity > 0)
            acquired(st, a, elapsed, validity);
        else
            attempt_failed(st, a, "the lease was spent acquiring it");
        return;
    }
    int refused = popcount32(a->answered) - popcount32(a->granted);
    if (popcount32(a->answered) == st->ninst || refused > st->ninst - quorum(st)) {
        char why[96];
        snprintf(why, sizeof why, "%d of %d instances granted it, %d needed", popcount32(a->granted), st->ninst,
                 quorum(st));
        attempt_failed(st, a, why);
    }
}

static void on_lock_set_ok(void *vst, const char *src, const json_t *body)
{
    struct rl *st = vst;
    struct set_msg m = {0};
    int from = peer_get(st, src, body, set_ok_fields, &m);
    if (from < 0)
        return;
    if (from >= st->ninst) {
        bad_message(st, src, "lock_set_ok", "not from a lock instance");
        return;
    }
    struct agent *a = agent_of(st, m.client, m.lock, 0);
    if (a && a->state == AG_HOLDING && a->attempt == m.attempt && !strcmp(a->value, m.value)) {
        /* one more instance of the attempt that won: part of the lock, kept */
        if (m.ok)
            a->granted |= 1u << from;
        if (m.counter > a->seen)
            a->seen = m.counter;
        return;
    }
    if (!a || a->state != AG_ACQUIRING || a->attempt != m.attempt || strcmp(a->value, m.value)) {
        /* a late grant of an attempt that is over: give it back */
        if (m.ok)
            env_send(st->env, src, json_pack("{s:s,s:s,s:s,s:s}", "type", "lock_del", "lock", m.lock, "value", m.value,
                                             "client", m.client));
        if (a && m.counter > a->seen)
            a->seen = m.counter;
        return;
    }
    handle_grant(st, a, from, m.ok, m.counter);
}

/* ---- storage ------------------------------------------------------------------------------- */

struct store_msg {
    const char *lock, *key, *client, *outcome;
    const json_t *value;    /* any JSON */
    uint64_t token, highest;
    int ok;
};

static const struct msg_field store_fields[] = {
    MSG_STR(struct store_msg, lock),
    MSG_STR(struct store_msg, key),
    MSG_ANY(struct store_msg, value),
    MSG_STR(struct store_msg, client),
    MSG_U64(struct store_msg, token, MAX_TOKEN),
    MSG_END,
};

static const struct msg_field store_ok_fields[] = {
    MSG_STR(struct store_msg, lock),
    MSG_STR(struct store_msg, key),
    MSG_ANY(struct store_msg, value),
    MSG_STR(struct store_msg, client),
    MSG_U64(struct store_msg, token, MAX_TOKEN),
    MSG_BOOL(struct store_msg, ok),
    MSG_STR(struct store_msg, outcome),
    MSG_U64(struct store_msg, highest, MAX_TOKEN),
    MSG_END,
};

/* The fenced storage decides a write; returns the outcome (and the highest token before). */
static enum fence_outcome storage_write(struct rl *st, const char *client, const char *lock, const char *key,
                                        const char *value, uint64_t token, uint64_t *highest)
{
    enum fence_outcome o = fence_write(&st->fence, key, token, value, client, highest);
    env_event(st->env, "mutex", json_pack("{s:s,s:s,s:s,s:I,s:s,s:s,s:b,s:b,s:I}", "op", "write", "client", client,
                                          "lock", lock, "token", (json_int_t)token, "resource", key, "value",
                                          kvsm_value_text(value),
                                          "accepted", o != FENCE_REFUSED, "fencing", st->fencing, "highest",
                                          (json_int_t)*highest));
    return o;
}

static void store_done(struct rl *st, struct agent *a, const char *key, const char *value, uint64_t token,
                       enum fence_outcome o, uint64_t highest)
{
    json_t *f = json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:I,s:s}", "what", o == FENCE_REFUSED ? "refused" : "written",
                          "client", a ? a->client : "", "lock", a ? a->lock : "", "key", key, "value",
                          kvsm_value_decode(value), "token",
                          (json_int_t)token, "highest", (json_int_t)highest, "outcome", fence_outcome_name(o));
    env_event(st->env, "lock", f);
    if (a && a->writing && a->sent && token == a->wtoken) {
        a->writing = a->sent = 0;
        disarm(st, &a->work_timer, &a->work_serial);
        update_role(st);
    }
}

static void on_store(void *vst, const char *src, const json_t *body)
{
    struct rl *st = vst;
    struct store_msg m = {0};
    if (peer_get(st, src, body, store_fields, &m) < 0)
        return;
    if (!is_storage(st)) {
        bad_message(st, src, "store", "this node is not the storage");
        return;
    }
    char *v = kvsm_value_encode(m.value);
    if (!name_ok(m.key) || strlen(v) > VALUE_MAX_LEN || strlen(m.client) >= CL_IDLEN || !name_ok(m.lock)) {
        bad_message(st, src, "store", "key, lock, value or client too long or not printable");
        free(v);
        return;
    }
    uint64_t highest = 0;
    enum fence_outcome o = storage_write(st, m.client, m.lock, m.key, v, m.token, &highest);
    free(v);
    env_send(st->env, src,
             json_pack("{s:s,s:s,s:s,s:O,s:s,s:I,s:b,s:s,s:I}", "type", "store_ok", "lock", m.lock, "key", m.key,
                       "value", m.value, "client", m.client, "token", (json_int_t)m.token, "ok", o != FENCE_REFUSED,
                       "outcome", fence_outcome_name(o), "highest", (json_int_t)highest));
}

static void on_store_ok(void *vst, const char *src, const json_t *body)
{
    struct rl *st = vst;
    struct store_msg m = {0};
    int from = peer_get(st, src, body, store_ok_fields, &m);
    if (from < 0)
        return;
    if (from != st->storage) {
        bad_message(st, src, "store_ok", "not from the storage");
        return;
    }
    struct agent *a = agent_of(st, m.client, m.lock, 0);
    char *v = kvsm_value_encode(m.value);
    store_done(st, a, m.key, v, m.token,
               !m.ok ? FENCE_REFUSED : strstr(m.outcome, "stale") ? FENCE_STALE_ACCEPTED : FENCE_ACCEPTED, m.highest);
    free(v);
}

/* The critical section's work is done: the write goes out, whatever happened meanwhile (the
 * lease was checked before the work, as real code does). */
static void send_write(struct rl *st, struct agent *a)
{
    a->sent = 1;
    env_event(st->env, "lock", json_pack("{s:s,s:s,s:s,s:s,s:o,s:I,s:b}", "what", "write", "client", a->client,
                                         "lock", a->lock, "key", a->wkey, "value", kvsm_value_decode(a->wvalue), "token",
                                         (json_int_t)a->wtoken, "holding", a->state == AG_HOLDING));
    if (is_storage(st)) {
        uint64_t highest = 0;
        enum fence_outcome o = storage_write(st, a->client, a->lock, a->wkey, a->wvalue, a->wtoken, &highest);
        store_done(st, a, a->wkey, a->wvalue, a->wtoken, o, highest);
        return;
    }
    env_send(st->env, st->env->nodes[st->storage],
             json_pack("{s:s,s:s,s:s,s:o,s:s,s:I}", "type", "store", "lock", a->lock, "key", a->wkey, "value",
                       kvsm_value_decode(a->wvalue), "client", a->client, "token", (json_int_t)a->wtoken));
    /* no answer (the storage cut off or down): the write's fate is unknown, stop waiting */
    a->work_timer = arm(st, a, STORE_TIMEOUT_US, T_WORK, &a->work_serial);
}

/* read {key}: the storage's value of key (clients' `get KEY @storage`). */
struct read_msg {
    char *key;
};

static const struct msg_field read_fields[] = {
    MSG_TEXT(struct read_msg, key),
    MSG_END,
};

static void on_read(void *vst, const char *src, const json_t *body)
{
    struct rl *st = vst;
    struct read_msg m;
    if (msg_get_request(st->env, src, body, read_fields, &m, sizeof m) < 0)
        return;
    if (!is_storage(st)) {
        char *t = xasprintf("the storage is %s", st->env->nodes[st->storage]);
        env_reply_error(st->env, src, body, ERR_TEMPORARILY_UNAVAILABLE, t, st->env->nodes[st->storage]);
        free(t);
    } else {
        const struct fence_res *r = fence_get(&st->fence, m.key);
        json_t *v = r && r->value ? kvsm_value_decode(r->value) : json_null();
        env_reply(st->env, src, body, json_pack("{s:s,s:o}", "type", "read_ok", "value", v));
    }
    msg_free_text(read_fields, &m);
}

/* lock {lock}: what this instance holds for lock (GET on one Redis): the workload's request. */
struct lockq_msg {
    char *lock;
};

static const struct msg_field lockq_fields[] = {
    MSG_TEXT(struct lockq_msg, lock),
    MSG_END,
};

static void on_lock_query(void *vst, const char *src, const json_t *body)
{
    struct rl *st = vst;
    struct lockq_msg m;
    if (msg_get_request(st->env, src, body, lockq_fields, &m, sizeof m) < 0)
        return;
    if (!is_instance(st)) {
        env_reply_error(st->env, src, body, ERR_NOT_SUPPORTED, "this node is not a lock instance", NULL);
    } else {
        struct key *k = key_of(st, m.lock);
        struct counter *c = counter_of(st, m.lock, 0);
        json_t *r = json_pack("{s:s,s:I}", "type", "lock_ok", "counter", (json_int_t)(c ? c->c : 0));
        if (key_live(st, k)) {
            json_object_set_new(r, "holder", json_string(k->client));
            json_object_set_new(r, "token", json_integer((json_int_t)k->token));
            json_object_set_new(r, "ttl_left_ms",
                                json_integer((json_int_t)((k->expires_us - env_now_us(st->env)) / 1000)));
        } else {
            json_object_set_new(r, "holder", json_null());
        }
        env_reply(st->env, src, body, r);
    }
    msg_free_text(lockq_fields, &m);
}

/* ---- timers ------------------------------------------------------------------------------------ */

static void rl_on_timer(void *vst, int kind, uint64_t arg)
{
    struct rl *st = vst;
    size_t idx = arg & 0xff;
    uint64_t serial = arg >> 8;
    if (idx >= MAX_AGENTS)
        return;
    struct agent *a = &st->ag[idx];
    if (!a->used)
        return;
    if (kind == T_ATTEMPT && serial == a->attempt_serial && a->state == AG_ACQUIRING) {
        a->attempt_timer = 0;
        attempt_failed(st, a, "no majority before the attempt's deadline");
    } else if (kind == T_RETRY && serial == a->retry_serial && a->state == AG_BACKOFF) {
        a->retry_timer = 0;
        start_attempt(st, a);
    } else if (kind == T_LEASE && serial == a->lease_serial && a->state == AG_HOLDING) {
        /* the client's own clock says the lease is over: it stops believing it holds it */
        a->lease_timer = 0;
        env_event(st->env, "lock", json_pack("{s:s,s:s,s:s,s:I}", "what", "expired", "client", a->client, "lock",
                                             a->lock, "token", (json_int_t)a->token));
        mutex_event(st, "release", a, "expired");
        finish_idle(st, a);
    } else if (kind == T_WORK && serial == a->work_serial && a->writing) {
        a->work_timer = 0;
        if (!a->sent) {
            send_write(st, a);
            return;
        }
        env_event(st->env, "lock", json_pack("{s:s,s:s,s:s,s:s,s:I}", "what", "unanswered", "client", a->client,
                                             "lock", a->lock, "key", a->wkey, "token", (json_int_t)a->wtoken));
        a->writing = a->sent = 0;
        update_role(st);
    }
}

/* ---- commands ---------------------------------------------------------------------------------- */

/* Options after the fixed words: lease=DUR wait=DUR as=CLIENT. */
struct cmd_opts {
    uint64_t lease_us, wait_us;
    const char *client;
};

static int parse_duration(const char *s, uint64_t *us)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || v < 0)
        return -1;
    double mult = !strcmp(end, "ms") ? 1e3 : !strcmp(end, "s") ? 1e6 : !strcmp(end, "us") ? 1 : -1;
    if (mult < 0 || v * mult > (double)MAX_TTL_US)
        return -1;
    *us = (uint64_t)(v * mult);
    return 0;
}

static json_t *parse_cmd_opts(struct rl *st, int argc, char **argv, int from, struct cmd_opts *o)
{
    o->lease_us = st->lease_us;
    o->wait_us = 0;
    o->client = st->env->self;
    for (int i = from; i < argc; i++) {
        const char *eq = strchr(argv[i], '=');
        if (!eq)
            return reply_text(0, "%s: expected lease=DURATION, wait=DURATION or as=CLIENT", argv[i]);
        size_t kl = (size_t)(eq - argv[i]);
        if (kl == 5 && !strncmp(argv[i], "lease", 5)) {
            if (parse_duration(eq + 1, &o->lease_us) < 0 || o->lease_us < 10000)
                return reply_text(0, "lease=%s: a duration from 10ms to 1h (500ms, 3s)", eq + 1);
        } else if (kl == 4 && !strncmp(argv[i], "wait", 4)) {
            if (parse_duration(eq + 1, &o->wait_us) < 0)
                return reply_text(0, "wait=%s: a duration up to 1h (0, 500ms, 5s)", eq + 1);
        } else if (kl == 2 && !strncmp(argv[i], "as", 2)) {
            if (!name_ok(eq + 1) || strlen(eq + 1) >= CL_IDLEN)
                return reply_text(0, "as=%s: a client name of 1 to %d printable characters", eq + 1, CL_IDLEN - 1);
            o->client = eq + 1;
        } else {
            return reply_text(0, "%s: expected lease=DURATION, wait=DURATION or as=CLIENT", argv[i]);
        }
    }
    return NULL;
}

static json_t *check_node_arg(struct rl *st, int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[0], st->env->self))
        return reply_text(0, "the command runs on the node named first");
    if (!name_ok(argv[1]))
        return reply_text(0, "%s: a lock name of 1 to %d printable characters", argv[1], NAME_MAX_LEN);
    return NULL;
}

static json_t *cmd_acquire(void *vst, int argc, char **argv)
{
    struct rl *st = vst;
    json_t *bad = check_node_arg(st, argc, argv);
    if (bad)
        return bad;
    struct cmd_opts o;
    if ((bad = parse_cmd_opts(st, argc, argv, 2, &o)))
        return bad;
    struct agent *a = agent_of(st, o.client, argv[1], 1);
    if (!a)
        return reply_text(0, "%s has %d clients busy already", st->env->self, MAX_AGENTS);
    if (a->state != AG_IDLE)
        return reply_text(0, "%s is already %s %s", a->client, a->state == AG_HOLDING ? "holding" : "acquiring",
                          a->lock);
    a->lease_us = o.lease_us;
    a->tries_left = RETRIES;
    a->wait_until_us = env_now_us(st->env) + (uint64_t)((double)o.wait_us / speed_of(st));
    start_attempt(st, a);
    if (a->state == AG_HOLDING)
        return reply_text(1, "%s acquired %s (token %llu, valid %llu ms)", a->client, a->lock,
                          (unsigned long long)a->token, (unsigned long long)(a->validity_us / 1000));
    return reply_text(1, "%s is acquiring %s from %d instance%s (lease %llu ms, majority %d): see the `lock` events",
                      a->client, a->lock, st->ninst, st->ninst == 1 ? "" : "s",
                      (unsigned long long)(a->lease_us / 1000), quorum(st));
}

static json_t *cmd_release(void *vst, int argc, char **argv)
{
    struct rl *st = vst;
    json_t *bad = check_node_arg(st, argc, argv);
    if (bad)
        return bad;
    struct cmd_opts o;
    if ((bad = parse_cmd_opts(st, argc, argv, 2, &o)))
        return bad;
    struct agent *a = agent_of(st, o.client, argv[1], 0);
    if (!a || a->state == AG_IDLE) {
        /* it may still unlock: a client that believes its lease ran out releases all the same,
         * which is harmless with compare-and-delete and harmful without (unsafe-release) */
        if (a && a->value[0]) {
            unlock_all(st, a);
            return reply_text(1, "%s does not hold %s (its lease ran out); it unlocked its value everywhere all the same",
                              a->client, a->lock);
        }
        return reply_text(0, "%s does not hold %s", o.client, argv[1]);
    }
    int held = a->state == AG_HOLDING;
    unlock_all(st, a);
    env_event(st->env, "lock", json_pack("{s:s,s:s,s:s,s:I}", "what", held ? "released" : "abandoned", "client",
                                         a->client, "lock", a->lock, "token", (json_int_t)a->token));
    if (held)
        mutex_event(st, "release", a, "unlock");
    finish_idle(st, a);
    return reply_text(1, "%s %s %s", a->client, held ? "released" : "stopped acquiring", a->lock);
}

/* The entry text (kvsm.h) of a `store` VALUE word, typed as at the REPL (jtext_parse): 42,
 * -1.5, true, null, '"42"' (the string), {"a":[1]}, [1] are those values, any other word (paid)
 * a string; a word that starts like JSON but is not (an unclosed {) is taken as it is. */
static char *store_value(const char *word)
{
    char err[160];
    json_t *j = jtext_parse(word, strlen(word), err, sizeof err);
    if (!j)
        j = json_string(word);
    char *v = kvsm_value_encode(j);
    json_decref(j);
    return v ? v : xstrdup("");
}

static json_t *cmd_store(void *vst, int argc, char **argv)
{
    struct rl *st = vst;
    json_t *bad = check_node_arg(st, argc, argv);
    if (bad)
        return bad;
    if (argc < 4)
        return reply_text(0, "usage: store NODE LOCK KEY VALUE [as=CLIENT]");
    if (!name_ok(argv[2]))
        return reply_text(0, "%s: a key of 1 to %d printable characters", argv[2], NAME_MAX_LEN);
    char *wv = store_value(argv[3]);
    size_t wlen = strlen(wv);
    free(wv);
    if (wlen > VALUE_MAX_LEN)
        return reply_text(0, "a value of at most %d bytes", VALUE_MAX_LEN);
    struct cmd_opts o;
    if ((bad = parse_cmd_opts(st, argc, argv, 4, &o)))
        return bad;
    struct agent *a = agent_of(st, o.client, argv[1], 0);
    if (!a || a->state != AG_HOLDING)
        return reply_text(0, "%s does not hold %s: acquire it first", o.client, argv[1]);
    if (a->writing && !a->sent)
        return reply_text(0, "%s is already writing %s", a->client, a->wkey);
    uint64_t now = env_now_us(st->env);
    uint64_t used = (uint64_t)((double)(now > a->acquired_us ? now - a->acquired_us : 0) * speed_of(st));
    uint64_t left = used < a->validity_us ? a->validity_us - used : 0;
    a->writing = 1;
    a->sent = 0;
    a->wtoken = a->token;
    str_copy(a->wkey, argv[2], sizeof a->wkey);
    wv = store_value(argv[3]);
    str_copy(a->wvalue, wv, sizeof a->wvalue);
    free(wv);
    update_role(st);
    if (st->work_us == 0) {
        send_write(st, a);
        return reply_text(1, "%s holds %s (token %llu, %llu ms left): wrote %s=%s to the storage %s", a->client,
                          a->lock, (unsigned long long)a->token, (unsigned long long)(left / 1000), argv[2], argv[3],
                          st->env->nodes[st->storage]);
    }
    a->work_timer = arm(st, a, st->work_us, T_WORK, &a->work_serial);
    return reply_text(1, "%s holds %s (token %llu, %llu ms left): working %llu ms, then writing %s=%s to the storage %s",
                      a->client, a->lock, (unsigned long long)a->token, (unsigned long long)(left / 1000),
                      (unsigned long long)(st->work_us / 1000), argv[2], argv[3], st->env->nodes[st->storage]);
}

/* contend NODE LOCK N [lease=DUR]: N clients on NODE (NODE.c1 …) loop acquire, release,
 * acquire … on LOCK, counting pairs (status `pairs`): the benchmark's load. N = 0 stops them
 * (each stops after its next acquisition, or at once when it is waiting). */
static json_t *cmd_contend(void *vst, int argc, char **argv)
{
    struct rl *st = vst;
    json_t *bad = check_node_arg(st, argc, argv);
    if (bad)
        return bad;
    char *end;
    long n = argc > 2 ? strtol(argv[2], &end, 10) : -1;
    if (argc < 3 || *end || n < 0 || n > MAX_AGENTS / 2)
        return reply_text(0, "contend NODE LOCK N: N from 0 to %d clients", MAX_AGENTS / 2);
    struct cmd_opts o;
    if ((bad = parse_cmd_opts(st, argc, argv, 3, &o)))
        return bad;
    int stopped = 0;
    for (int i = 0; i < MAX_AGENTS; i++) {
        struct agent *a = &st->ag[i];
        if (!a->used || !a->loop || strcmp(a->lock, argv[1]))
            continue;
        a->loop = 0;
        if (a->state == AG_ACQUIRING || a->state == AG_BACKOFF) {
            unlock_all(st, a);
            finish_idle(st, a);
        }
        stopped++;
    }
    for (long k = 0; k < n; k++) {
        char name[CL_IDLEN];
        snprintf(name, sizeof name, "%s.c%ld", st->env->self, k + 1);
        struct agent *a = agent_of(st, name, argv[1], 1);
        if (!a || a->state != AG_IDLE)
            return reply_text(0, "%s has no room for %ld more clients", st->env->self, n - k);
        a->loop = 1;
        a->lease_us = o.lease_us;
        a->wait_until_us = UINT64_MAX;
        start_attempt(st, a);
    }
    return reply_text(1, "%s: %ld clients contend for %s (%d stopped); status shows the pairs", st->env->self, n,
                      argv[1], stopped);
}

/* ---- life cycle ---------------------------------------------------------------------------- */

static void *rl_create(struct env *e, const struct opts *o, char *err, size_t errlen)
{
    long ninst = opts_get_int(o, "instances", 0);
    long storage = opts_get_int(o, "storage", 0);
    if (ninst > e->n_nodes || storage > e->n_nodes) {
        snprintf(err, errlen, "instances=%ld and storage=%ld must be at most the %d nodes", ninst, storage, e->n_nodes);
        return NULL;
    }
    struct rl *st = xcalloc(1, sizeof *st);
    st->env = e;
    st->ninst = ninst > 0 ? (int)ninst : e->n_nodes;
    if (st->ninst > 32)
        st->ninst = 32;
    st->storage = storage > 0 ? (int)storage - 1 : e->n_nodes - 1;
    st->fencing = !strcmp(opts_get(o, "fencing", "off"), "on");
    st->lease_us = opts_get_duration(o, "lease", 3000000);
    st->work_us = opts_get_duration(o, "work", 1000000);
    const char *bugs = opts_get(o, "bug", "");
    st->bugs = (mode_listed(bugs, "unsafe-release") ? BUG_UNSAFE_RELEASE : 0) |
               (mode_listed(bugs, "no-drift") ? BUG_NO_DRIFT : 0) |
               (mode_listed(bugs, "one-instance") ? BUG_ONE_INSTANCE : 0);
    fence_init(&st->fence, st->fencing);
    char *blob = NULL;
    size_t len = 0;
    int brc = e->ops->blob_get(e, TOKENS_BLOB, &blob, &len);
    if (brc < 0 && brc != CL_ENOENT) {
        snprintf(err, errlen, "%s of %s cannot be read back: refusing to start", TOKENS_BLOB, e->self);
        free(st);
        return NULL;
    }
    if (brc == 0) {
        json_error_t jerr;
        json_t *j = json_loadb(blob, len, 0, &jerr);
        free(blob);
        const char *k;
        json_t *v;
        if (!json_is_object(j)) {
            snprintf(err, errlen, "%s of %s is corrupt: not a JSON object", TOKENS_BLOB, e->self);
            json_decref(j);
            free(st);
            return NULL;
        }
        json_object_foreach(j, k, v) {
            struct counter *c = name_ok(k) ? counter_of(st, k, 1) : NULL;
            if (!c || !json_is_integer(v) || json_integer_value(v) < 0 ||
                (uint64_t)json_integer_value(v) >= MAX_TOKEN) {
                snprintf(err, errlen, "%s of %s is corrupt at lock %.64s", TOKENS_BLOB, e->self, k);
                json_decref(j);
                free(st->counters);
                free(st);
                return NULL;
            }
            c->c = (uint64_t)json_integer_value(v);
        }
        json_decref(j);
    }
    return st;
}

static void rl_start(void *vst)
{
    update_role(vst);
}

static void rl_destroy(void *vst)
{
    struct rl *st = vst;
    if (!st)
        return;
    fence_free(&st->fence);
    free(st->counters);
    free(st);
}

static json_t *rl_status(void *vst)
{
    struct rl *st = vst;
    uint64_t now = env_now_us(st->env);
    json_t *keys = json_array();
    int live = 0;
    uint64_t top = 0;
    for (int i = 0; i < MAX_KEYS; i++) {
        const struct key *k = &st->keys[i];
        if (!key_live(st, k))
            continue;
        live++;
        json_array_append_new(keys, json_pack("{s:s,s:s,s:I,s:I}", "lock", k->lock, "client", k->client, "token",
                                              (json_int_t)k->token, "ttl_left_ms",
                                              (json_int_t)((k->expires_us - now) / 1000)));
    }
    for (size_t i = 0; i < st->ncounters; i++)
        if (st->counters[i].c > top)
            top = st->counters[i].c;
    json_t *agents = json_array();
    int holding = 0;
    for (int i = 0; i < MAX_AGENTS; i++) {
        const struct agent *a = &st->ag[i];
        if (!a->used)
            continue;
        holding += a->state == AG_HOLDING;
        json_t *j = json_pack("{s:s,s:s,s:s,s:I}", "client", a->client, "lock", a->lock, "state", ag_names[a->state],
                              "token", (json_int_t)a->token);
        if (a->state == AG_HOLDING) {
            uint64_t used = (uint64_t)((double)(now > a->acquired_us ? now - a->acquired_us : 0) * speed_of(st));
            json_object_set_new(j, "validity_left_ms",
                                json_integer((json_int_t)((used < a->validity_us ? a->validity_us - used : 0) / 1000)));
        }
        if (a->writing)
            json_object_set_new(j, "writing", json_string(a->wkey));
        json_array_append_new(agents, j);
    }
    json_t *data = json_object();
    for (size_t i = 0; i < st->fence.n; i++)
        if (st->fence.r[i].value)
            json_object_set_new(data, st->fence.r[i].name, kvsm_value_decode(st->fence.r[i].value));
    json_t *extra = json_pack("{s:i,s:s,s:s,s:o,s:o}", "instances", st->ninst, "storage",
                              st->env->nodes[st->storage], "fencing", st->fencing ? "on" : "off", "keys", keys,
                              "clients", agents);
    if (is_storage(st)) {
        json_t *fj = fence_json(&st->fence), *res = json_object_get(fj, "resources"), *rv;
        const char *rk;
        json_object_foreach(res, rk, rv) /* the values as their JSON, not the entry text */
            if (json_is_string(json_object_get(rv, "value")))
                json_object_set_new(rv, "value", kvsm_value_decode(json_string_value(json_object_get(rv, "value"))));
        json_object_set_new(extra, "fence", fj);
    }
    return json_pack("{s:s,s:o,s:i,s:i,s:I,s:I,s:I,s:o}", "role", st->role ? st->role : "client", "data", data,
                     "locks", live, "holding", holding, "token", (json_int_t)top, "writes",
                     (json_int_t)(is_storage(st) ? st->fence.n : 0), "pairs", (json_int_t)st->pairs, "extra", extra);
}

/* ---- the live monitor ------------------------------------------------------------------------ */

/* Fed every event: the `mutex` records. Open sections per lock (client, token, since, fenced);
 * the highest accepted token per resource. */
#define MON_SECTIONS 64
#define MON_RES 256

struct mon_section {
    char lock[NAME_MAX_LEN + 1], client[CL_IDLEN];
    uint64_t token;
    int64_t since;
    long seq;
    int open;
};

struct mon_res {
    char name[NAME_MAX_LEN + 1];
    uint64_t highest;
    char by[CL_IDLEN];
};

struct rlmon {
    struct mon_section s[MON_SECTIONS];
    struct mon_res r[MON_RES];
    int nres;
    int violations;
    json_t *last;
};

static void *mon_create(void)
{
    return xcalloc(1, sizeof(struct rlmon));
}

static void mon_destroy(void *vm)
{
    struct rlmon *m = vm;
    if (m)
        json_decref(m->last);
    free(m);
}

static int mon_violations(const void *vm)
{
    return ((const struct rlmon *)vm)->violations;
}

static const json_t *mon_last(const void *vm)
{
    return ((const struct rlmon *)vm)->last;
}

static int violation(struct rlmon *m, struct sb *alert, const char *name, long seq1, long seq2, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
static int violation(struct rlmon *m, struct sb *alert, const char *name, long seq1, long seq2, const char *fmt, ...)
{
    struct sb b = {0};
    va_list ap;
    va_start(ap, fmt);
    sb_vprintf(&b, fmt, ap);
    va_end(ap);
    m->violations++;
    json_decref(m->last);
    json_t *evs = json_array();
    if (seq1 >= 0)
        json_array_append_new(evs, json_integer(seq1));
    if (seq2 >= 0)
        json_array_append_new(evs, json_integer(seq2));
    m->last = json_pack("{s:s,s:s,s:s,s:o}", "ev", "invariant", "name", name, "text", b.s ? b.s : "", "events", evs);
    sb_printf(alert, "%s: %s", name, b.s ? b.s : "");
    sb_free(&b);
    return 1;
}

static int mon_feed(void *vm, const json_t *ev, struct sb *alert)
{
    struct rlmon *m = vm;
    const char *kind = json_string_value(json_object_get(ev, "ev"));
    if (!kind || strcmp(kind, "mutex"))
        return 0;
    const char *op = json_string_value(json_object_get(ev, "op"));
    const char *client = json_string_value(json_object_get(ev, "client"));
    const char *lock = json_string_value(json_object_get(ev, "lock"));
    json_int_t token = json_integer_value(json_object_get(ev, "token"));
    int64_t t = json_integer_value(json_object_get(ev, "t"));
    long seq = (long)json_integer_value(json_object_get(ev, "seq"));
    if (!op || !client)
        return 0;
    if (!strcmp(op, "acquire") && lock && strlen(lock) <= NAME_MAX_LEN && strlen(client) < CL_IDLEN) {
        struct mon_section *other = NULL, *slot = NULL;
        for (int i = 0; i < MON_SECTIONS; i++) {
            struct mon_section *s = &m->s[i];
            if (s->open && !strcmp(s->lock, lock) && strcmp(s->client, client))
                other = s;
            if (s->open && !strcmp(s->lock, lock) && !strcmp(s->client, client))
                s->open = 0; /* a second acquire closes the first */
            if (!s->open && !slot)
                slot = s;
        }
        if (slot) {
            memset(slot, 0, sizeof *slot);
            str_copy(slot->lock, lock, sizeof slot->lock);
            str_copy(slot->client, client, sizeof slot->client);
            slot->token = (uint64_t)token;
            slot->since = t;
            slot->seq = seq;
            slot->open = 1;
        }
        if (other && !json_is_true(json_object_get(ev, "fencing")))
            return violation(m, alert, "MutualExclusion", other->seq, seq,
                             "%s acquired %s (token %lld) at %.2fs while %s still held it (token %llu, since %.2fs), "
                             "and nothing fences the storage",
                             client, lock, (long long)token, (double)t / 1e6, other->client,
                             (unsigned long long)other->token, (double)other->since / 1e6);
        return 0;
    }
    if (!strcmp(op, "release") && lock) {
        for (int i = 0; i < MON_SECTIONS; i++)
            if (m->s[i].open && !strcmp(m->s[i].lock, lock) && !strcmp(m->s[i].client, client))
                m->s[i].open = 0;
        return 0;
    }
    if (!strcmp(op, "write") && json_is_true(json_object_get(ev, "accepted"))) {
        const char *res = json_string_value(json_object_get(ev, "resource"));
        if (!res || strlen(res) > NAME_MAX_LEN)
            return 0;
        struct mon_res *r = NULL;
        for (int i = 0; i < m->nres && !r; i++)
            if (!strcmp(m->r[i].name, res))
                r = &m->r[i];
        if (!r) {
            if (m->nres == MON_RES)
                return 0;
            r = &m->r[m->nres++];
            memset(r, 0, sizeof *r);
            str_copy(r->name, res, sizeof r->name);
        }
        if ((uint64_t)token < r->highest)
            return violation(m, alert, "NoStaleWrite", -1, seq,
                             "the storage accepted %s's write of %s with token %lld after it had accepted token "
                             "%llu from %s: two writers",
                             client, res, (long long)token, (unsigned long long)r->highest, r->by);
        r->highest = (uint64_t)token;
        str_copy(r->by, client, sizeof r->by);
    }
    return 0;
}

static const struct mode_monitor redlock_monitor = {
    .create = mon_create,
    .feed = mon_feed,
    .violations = mon_violations,
    .last = mon_last,
    .destroy = mon_destroy,
};

/* ---- the face ------------------------------------------------------------------------------- */

static const struct mode_option rl_options[] = {
    {"instances", OPT_INT, NULL, 0, CL_MAXN, "0",
     "lock instances n1..nI: 1 is a single Redis, more is Redlock with a majority (0: every node)"},
    {"storage", OPT_INT, NULL, 0, CL_MAXN, "0", "the node (its number) hosting the storage the locks protect (0: the last)"},
    {"fencing", OPT_ENUM, "on|off", 0, 0, "off",
     "on: the storage refuses a write whose token is lower than one it accepted (the kit's fence)"},
    {"lease", OPT_DURATION, NULL, 10000, MAX_TTL_US, "3s", "the default lease (PX) of `acquire`"},
    {"work", OPT_DURATION, NULL, 0, MAX_TTL_US, "1s",
     "the critical section: time between `store`'s lease check and its write reaching out"},
    {NULL, 0, NULL, 0, 0, NULL, NULL},
};

static const struct mode_handler rl_handlers[] = {
    {"read", on_read},
    {"lock", on_lock_query},
    {"lock_set", on_lock_set},
    {"lock_set_ok", on_lock_set_ok},
    {"lock_del", on_lock_del},
    {"store", on_store},
    {"store_ok", on_store_ok},
    {NULL, NULL},
};

static const struct mode_command rl_commands[] = {
    {"acquire", "acquire NODE LOCK [lease=DUR] [wait=DUR] [as=CLIENT]",
     "a client on NODE takes LOCK with a lease: SET NX PX on every instance, held with a majority",
     "acquire n1 orders lease=3s", 2, 5, cmd_acquire, MC_ON_NODE},
    {"release", "release NODE LOCK [as=CLIENT]", "the client on NODE unlocks LOCK on every instance (if the value is its own)",
     "release n1 orders", 2, 3, cmd_release, MC_ON_NODE},
    {"store", "store NODE LOCK KEY VALUE [as=CLIENT]",
     "the holder of LOCK on NODE checks its lease, works `work` ms, then writes KEY=VALUE with its token to the storage",
     "store n1 orders order-7 paid", 4, 5, cmd_store, MC_ON_NODE},
    {"contend", "contend NODE LOCK N [lease=DUR]",
     "N clients on NODE loop acquire and release on LOCK (the benchmark's load; status counts the pairs); 0 stops them",
     "contend n1 orders 5", 3, 4, cmd_contend, MC_ON_NODE},
    {NULL, NULL, NULL, NULL, 0, 0, NULL, MC_ANY},
};

static const struct mode_role rl_roles[] = {
    {"writing", RC_LEADER},
    {"holder", RC_LEADER},
    {"acquiring", RC_CANDIDATE},
    {"storage", RC_COORDINATOR},
    {"instance", RC_PEER},
    {"client", RC_FOLLOWER},
    {NULL, RC_UNKNOWN},
};

static const struct mode_figure rl_figures[] = {
    {"locks", "locks", "L"},
    {"holding", "holding", "h"},
    {"token", "token", "t"},
    {"writes", "keys stored", NULL},
    {"pairs", "pairs", NULL},
    {NULL, NULL, NULL},
};

static const char *const rl_client_types[] = {"lock", "read", NULL};

static int rl_replicas(const struct opts *o, int n, const char *key, int out[CL_MAXN])
{
    (void)key;
    long s = opts_get_int(o, "storage", 0);
    out[0] = s > 0 && s <= n ? (int)s - 1 : n - 1;
    return 1;
}

const struct mode mode_redlock = {
    .name = "redlock",
    .summary = "Redis-style lease locks (one instance, or Redlock over N) and a storage with or without fencing tokens",
    .options = rl_options,
    .bugs = "unsafe-release|no-drift|one-instance",
    .handlers = rl_handlers,
    .commands = rl_commands,
    .create = rl_create,
    .start = rl_start,
    .destroy = rl_destroy,
    .on_timer = rl_on_timer,
    .status = rl_status,
    .monitor = &redlock_monitor,
    .workload = "lock",
    .client_types = rl_client_types,
    .roles = rl_roles,
    .figures = rl_figures,
    .replicas = rl_replicas,
    .events = "state|lock|lease|mutex|error",
};
