/* room — see room.h. */
#include "room.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "yamldoc.h"

#define ZAP_ENDPOINT "inproc://zeromq.zap.01"

struct room_viewer {
    unsigned char rid[64];
    size_t ridlen;
    uint64_t heard_us;
    char key[KEY_Z85];
};

struct refusal {
    char key[KEY_Z85];
    uint64_t at_us;
    uint64_t count;
};

struct room {
    void *ctx, *router, *zap;
    char endpoint[300];
    char pub[KEY_Z85], sec[KEY_Z85];
    char mode[32];
    int open;                    /* no keys: loopback only, every key admitted */
    struct room_host hosts[ROOM_MAXHOSTS];
    int nhosts, nnodes;
    struct keylist viewers_keys; /* other allowed keys */
    struct room_viewer viewers[ROOM_MAXVIEWERS];
    int nviewers, max_viewers;
    uint64_t heartbeat_us, timeout_us;
    struct refusal refused[16];
    json_t *cluster_ev, *net_ev;
    struct room_sink sink;
    int kernel;
    void (*on_event)(void *ud, const char *ev, json_t *fields);
    void *ud;
};

static void room_event(struct room *r, const char *ev, json_t *fields)
{
    if (r->on_event)
        r->on_event(r->ud, ev, fields);
    else
        json_decref(fields);
}

int room_is_loopback(const char *addr)
{
    return !strncmp(addr, "127.", 4) || !strcmp(addr, "localhost") || !strcmp(addr, "[::1]") ||
           !strcmp(addr, "::1");
}

static int host_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= CL_IDLEN)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
              s[i] == '-' || s[i] == '_'))
            return 0;
    int idx;
    return parse_node_id(s, CL_MAXN, &idx) < 0 && strcmp(s, "leader") && strcmp(s, "lab");
}

static int read_cluster(struct room *r, struct ydoc *d, char *err, size_t errlen);

static int load_cluster(struct room *r, const char *path, char *err, size_t errlen)
{
    struct ydoc *d = NULL;
    if (ydoc_load_file(path, NULL, &d, err, errlen) < 0)
        return CL_EINVAL;
    return read_cluster(r, d, err, errlen);
}

int room_cluster_check(const char *buf, size_t len, const char *name, int *nodes, char *err, size_t errlen)
{
    struct ydoc *d = NULL;
    if (ydoc_parse(buf, len, name, NULL, &d, err, errlen) < 0)
        return CL_EINVAL;
    struct room *r = xcalloc(1, sizeof *r);
    int rc = read_cluster(r, d, err, errlen);
    *nodes = r->nnodes;
    free(r);
    return rc;
}

/* Reads the cluster file's tree into r; frees d. */
static int read_cluster(struct room *r, struct ydoc *d, char *err, size_t errlen)
{
    static const char *const top[] = {"mode", "heartbeat", "timeout", "viewers", "hosts", "keys", NULL};
    static const char *const req[] = {"hosts", NULL};
    int rc = CL_EINVAL;
    const struct ydoc_node *root = d->root;
    if (ydoc_want(d, root, YDOC_MAP, "the cluster file", err, errlen) ||
        ydoc_check_keys(d, root, "the cluster file", top, req, err, errlen))
        goto out;
    const char *s;
    long v;
    if (ydoc_get(root, "mode")) {
        if (ydoc_ident(d, ydoc_get(root, "mode"), "mode", 30, &s, err, errlen))
            goto out;
        str_copy(r->mode, s, sizeof r->mode);
    }
    r->heartbeat_us = 500000;
    r->timeout_us = 3000000;
    r->max_viewers = 8;
    if (ydoc_get(root, "heartbeat")) {
        if (ydoc_duration_ms(d, ydoc_get(root, "heartbeat"), "heartbeat", 50, 10000, &v, err, errlen))
            goto out;
        r->heartbeat_us = (uint64_t)v * 1000;
    }
    if (ydoc_get(root, "timeout")) {
        if (ydoc_duration_ms(d, ydoc_get(root, "timeout"), "timeout", 200, 600000, &v, err, errlen))
            goto out;
        r->timeout_us = (uint64_t)v * 1000;
    }
    if (r->timeout_us < 2 * r->heartbeat_us) {
        ydoc_error(d, root, err, errlen, "timeout must be at least two heartbeats");
        goto out;
    }
    if (ydoc_get(root, "viewers")) {
        if (ydoc_int(d, ydoc_get(root, "viewers"), "viewers", 0, ROOM_MAXVIEWERS, &v, err, errlen))
            goto out;
        r->max_viewers = (int)v;
    }
    const struct ydoc_node *hosts = ydoc_get(root, "hosts");
    if (ydoc_want(d, hosts, YDOC_LIST, "hosts", err, errlen))
        goto out;
    if (hosts->n == 0 || hosts->n > ROOM_MAXHOSTS) {
        ydoc_error(d, hosts, err, errlen, "hosts: from 1 to %d hosts", ROOM_MAXHOSTS);
        goto out;
    }
    int keyed = 0;
    for (size_t i = 0; i < hosts->n; i++) {
        const struct ydoc_node *h = hosts->items[i];
        static const char *const hk[] = {"name", "nodes", "key", NULL};
        static const char *const hreq[] = {"name", "nodes", NULL};
        struct room_host *rh = &r->hosts[r->nhosts];
        if (ydoc_want(d, h, YDOC_MAP, "a host", err, errlen) || ydoc_check_keys(d, h, "a host", hk, hreq, err, errlen) ||
            ydoc_str(d, ydoc_get(h, "name"), "a host's name", CL_IDLEN - 1, &s, err, errlen))
            goto out;
        if (!host_name_ok(s)) {
            ydoc_error(d, ydoc_get(h, "name"), err, errlen,
                       "a host's name is letters, digits, '-' and '_' (not a node id like n1, nor leader)");
            goto out;
        }
        if (room_host_find(r, s) >= 0) {
            ydoc_error(d, ydoc_get(h, "name"), err, errlen, "host %s is named twice", s);
            goto out;
        }
        str_copy(rh->name, s, sizeof rh->name);
        if (ydoc_int(d, ydoc_get(h, "nodes"), "nodes", 0, CL_MAXN, &v, err, errlen))
            goto out;
        if (r->nnodes + v > 9) {
            ydoc_error(d, ydoc_get(h, "nodes"), err, errlen, "a cluster has at most 9 nodes at start");
            goto out;
        }
        rh->nodes = (int)v;
        rh->first = r->nnodes;
        r->nnodes += (int)v;
        if (ydoc_get(h, "key")) {
            if (ydoc_str(d, ydoc_get(h, "key"), "key", 40, &s, err, errlen))
                goto out;
            if (!key_valid(s)) {
                ydoc_error(d, ydoc_get(h, "key"), err, errlen, "not a 40-character Z85 public key (conlab keygen prints one)");
                goto out;
            }
            for (int k = 0; k < r->nhosts; k++)
                if (!strcmp(r->hosts[k].key, s)) {
                    ydoc_error(d, ydoc_get(h, "key"), err, errlen, "hosts %s and %s have the same key: one key each",
                               r->hosts[k].name, rh->name);
                    goto out;
                }
            str_copy(rh->key, s, sizeof rh->key);
            keyed++;
        }
        r->nhosts++;
    }
    if (r->nnodes == 0) {
        ydoc_error(d, hosts, err, errlen, "the hosts hold no node");
        goto out;
    }
    if (keyed && keyed != r->nhosts) {
        ydoc_error(d, hosts, err, errlen, "give every host a key, or none (then the lab binds loopback only)");
        goto out;
    }
    r->open = keyed == 0;
    const struct ydoc_node *keys = ydoc_get(root, "keys");
    if (keys) {
        if (ydoc_want(d, keys, YDOC_LIST, "keys", err, errlen))
            goto out;
        for (size_t i = 0; i < keys->n; i++) {
            static const char *const kk[] = {"name", "key", NULL};
            static const char *const kreq[] = {"key", NULL};
            const char *name = "";
            if (ydoc_want(d, keys->items[i], YDOC_MAP, "a key", err, errlen) ||
                ydoc_check_keys(d, keys->items[i], "a key", kk, kreq, err, errlen) ||
                ydoc_str(d, ydoc_get(keys->items[i], "key"), "key", 40, &s, err, errlen))
                goto out;
            if (!key_valid(s)) {
                ydoc_error(d, ydoc_get(keys->items[i], "key"), err, errlen, "not a 40-character Z85 public key");
                goto out;
            }
            if (ydoc_get(keys->items[i], "name") &&
                ydoc_str(d, ydoc_get(keys->items[i], "name"), "name", 31, &name, err, errlen))
                goto out;
            keylist_add(&r->viewers_keys, s, name);
        }
    }
    rc = 0;
out:
    ydoc_free(&d);
    return rc;
}

int room_host_find(const struct room *r, const char *name)
{
    for (int h = 0; h < r->nhosts; h++)
        if (!strcmp(r->hosts[h].name, name))
            return h;
    return -1;
}

static int host_by_key(const struct room *r, const char *key)
{
    for (int h = 0; h < r->nhosts; h++)
        if (r->hosts[h].key[0] && !strcmp(r->hosts[h].key, key))
            return h;
    return -1;
}

struct room *room_open(const struct room_config *cfg, char *err, size_t errlen)
{
    if (!zmq_has("curve")) {
        snprintf(err, errlen, "this libzmq has no CURVE support, which the classroom needs");
        return NULL;
    }
    struct room *r = xcalloc(1, sizeof *r);
    r->on_event = cfg->on_event;
    r->ud = cfg->ud;
    if (load_cluster(r, cfg->cluster, err, errlen) < 0)
        goto fail;
    if (cfg->allow && keylist_read(&r->viewers_keys, cfg->allow, err, errlen) < 0)
        goto fail;
    if (r->open && r->viewers_keys.n) {
        snprintf(err, errlen, "%s: allowed keys but hosts without keys: give every host a key", cfg->cluster);
        goto fail;
    }
    const char *colon = strrchr(cfg->bind, ':');
    int64_t port;
    if (!colon || colon == cfg->bind ||
        (strcmp(colon + 1, "*") && (parse_i64(colon + 1, &port) < 0 || port < 1 || port > 65535))) {
        snprintf(err, errlen, "--bind wants ADDR:PORT (e.g. 0.0.0.0:7400), not '%s'", cfg->bind);
        goto fail;
    }
    char addr[256];
    str_copy(addr, cfg->bind, (size_t)(colon - cfg->bind) + 1 < sizeof addr ? (size_t)(colon - cfg->bind) + 1 : sizeof addr);
    if (r->open && !room_is_loopback(addr)) {
        snprintf(err, errlen, "refusing to bind %s without keys: anyone on the network could join. Give every "
                 "host of %s a key (conlab keygen), or bind 127.0.0.1", cfg->bind, cfg->cluster);
        goto fail;
    }
    if (cfg->key) {
        if (key_read(cfg->key, r->pub, r->sec, err, errlen) < 0)
            goto fail;
    } else if (zmq_curve_keypair(r->pub, r->sec) < 0) {
        snprintf(err, errlen, "cannot make a CURVE key pair");
        goto fail;
    }
    snprintf(r->endpoint, sizeof r->endpoint, "tcp://%s", cfg->bind);
    r->ctx = zmq_ctx_new();
    int zero = 0, one = 1, hwm = 100000;
    /* the ZAP handler must be there before the first connection, or libzmq admits all */
    r->zap = zmq_socket(r->ctx, ZMQ_REP);
    zmq_setsockopt(r->zap, ZMQ_LINGER, &zero, sizeof zero);
    if (zmq_bind(r->zap, ZAP_ENDPOINT) < 0) {
        snprintf(err, errlen, "cannot start the ZAP handler: %s", zmq_strerror(zmq_errno()));
        goto fail;
    }
    r->router = zmq_socket(r->ctx, ZMQ_ROUTER);
    int64_t maxmsg = 4 << 20;
    zmq_setsockopt(r->router, ZMQ_LINGER, &zero, sizeof zero);
    zmq_setsockopt(r->router, ZMQ_SNDHWM, &hwm, sizeof hwm);
    zmq_setsockopt(r->router, ZMQ_RCVHWM, &hwm, sizeof hwm);
    zmq_setsockopt(r->router, ZMQ_MAXMSGSIZE, &maxmsg, sizeof maxmsg);
    zmq_setsockopt(r->router, ZMQ_CURVE_SERVER, &one, sizeof one);
    zmq_setsockopt(r->router, ZMQ_CURVE_SECRETKEY, r->sec, 40);
    if (zmq_bind(r->router, r->endpoint) < 0) {
        snprintf(err, errlen, "cannot bind %s: %s", r->endpoint, zmq_strerror(zmq_errno()));
        goto fail;
    }
    size_t epl = sizeof r->endpoint; /* ":*" asks for any free port: say which */
    zmq_getsockopt(r->router, ZMQ_LAST_ENDPOINT, r->endpoint, &epl);
    return r;
fail:
    room_close(&r);
    return NULL;
}

void room_close(struct room **rp)
{
    struct room *r = *rp;
    if (!r)
        return;
    for (int h = 0; h < r->nhosts; h++)
        if (r->hosts[h].joined)
            room_send(r, h, "bye", "", "", 0); /* its nodes go at once, not at the timeout */
    if (r->router)
        zmq_close(r->router);
    if (r->zap)
        zmq_close(r->zap);
    if (r->ctx)
        zmq_ctx_term(r->ctx);
    for (int h = 0; h < r->nhosts; h++) {
        json_decref(r->hosts[h].rules);
        json_decref(r->hosts[h].counters);
    }
    json_decref(r->cluster_ev);
    json_decref(r->net_ev);
    free(r);
    *rp = NULL;
}

static int send_to(struct room *r, const unsigned char *rid, size_t ridlen, const char *type, const char *id,
                   const void *data, size_t len)
{
    if (zmq_send(r->router, rid, ridlen, ZMQ_SNDMORE | ZMQ_DONTWAIT) < 0)
        return CL_EIO;
    zmq_send(r->router, type, strlen(type), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    zmq_send(r->router, id, strlen(id), ZMQ_SNDMORE | ZMQ_DONTWAIT);
    return zmq_send(r->router, data, len, ZMQ_DONTWAIT) < 0 ? CL_EIO : 0;
}

int room_send(struct room *r, int h, const char *type, const char *id, const void *data, size_t len)
{
    if (h < 0 || h >= r->nhosts || !r->hosts[h].joined)
        return CL_ESTATE;
    struct room_host *rh = &r->hosts[h];
    rh->sent_us = mono_us();
    return send_to(r, rh->rid, rh->ridlen, type, id, data, len);
}

/* ZAP (RFC 27): every CURVE connection. Admitted with a host's key or an allowed key (any key
 * in an open room); the key is then the "User-Id" of every message. */
static void on_zap(struct room *r)
{
    for (int k = 0; k < 64; k++) {
        zmq_msg_t f[8];
        int nf = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, r->zap, nf ? 0 : ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (nf < 8)
                f[nf++] = m;
            else
                zmq_msg_close(&m);
        }
        if (nf == 0)
            return;
        char key[KEY_Z85] = "", addr[64] = "";
        if (nf >= 7 && zmq_msg_size(&f[5]) == 5 && !memcmp(zmq_msg_data(&f[5]), "CURVE", 5) &&
            zmq_msg_size(&f[6]) == 32)
            zmq_z85_encode(key, zmq_msg_data(&f[6]), 32);
        if (nf >= 4) {
            size_t al = zmq_msg_size(&f[3]) < sizeof addr - 1 ? zmq_msg_size(&f[3]) : sizeof addr - 1;
            memcpy(addr, zmq_msg_data(&f[3]), al);
            addr[al] = 0;
        }
        int ok = key[0] && (r->open || host_by_key(r, key) >= 0 || keylist_find(&r->viewers_keys, key) >= 0);
        const char *code = ok ? "200" : "400", *text = ok ? "OK" : "not one of the lab's keys";
        zmq_send(r->zap, "1.0", 3, ZMQ_SNDMORE);
        if (nf >= 2)
            zmq_send(r->zap, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]), ZMQ_SNDMORE);
        else
            zmq_send(r->zap, "", 0, ZMQ_SNDMORE);
        zmq_send(r->zap, code, 3, ZMQ_SNDMORE);
        zmq_send(r->zap, text, strlen(text), ZMQ_SNDMORE);
        zmq_send(r->zap, ok ? key : "", ok ? 40 : 0, ZMQ_SNDMORE);
        zmq_send(r->zap, "", 0, 0);
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&f[i]);
        if (ok)
            continue;
        /* a refused client retries: say so once per key, then a count at most every 10 s */
        int slot = 0;
        for (int i = 0; i < (int)CL_ARRAY_LEN(r->refused); i++) {
            if (!strcmp(r->refused[i].key, key)) {
                slot = i;
                break;
            }
            if (r->refused[i].at_us < r->refused[slot].at_us)
                slot = i;
        }
        struct refusal *rf = &r->refused[slot];
        uint64_t now = mono_us();
        if (strcmp(rf->key, key)) {
            str_copy(rf->key, key, sizeof rf->key);
            rf->at_us = 0;
            rf->count = 0;
        }
        rf->count++;
        if (rf->at_us && now - rf->at_us < 10000000)
            continue;
        char *t = xasprintf("refused a connection from %s with key %s: not one of the lab's keys%s", addr[0] ? addr : "?",
                            key[0] ? key : "(none)", rf->count > 1 ? " (again)" : "");
        room_event(r, "error", json_pack("{s:s,s:s,s:s,s:I}", "text", t, "key", key, "addr", addr, "count",
                                         (json_int_t)rf->count));
        free(t);
        rf->at_us = now;
    }
}

static struct room_viewer *viewer_find(struct room *r, const unsigned char *rid, size_t ridlen)
{
    for (int i = 0; i < r->nviewers; i++)
        if (r->viewers[i].ridlen == ridlen && !memcmp(r->viewers[i].rid, rid, ridlen))
            return &r->viewers[i];
    return NULL;
}

static int host_by_rid(const struct room *r, const unsigned char *rid, size_t ridlen)
{
    for (int h = 0; h < r->nhosts; h++)
        if (r->hosts[h].joined && r->hosts[h].ridlen == ridlen && !memcmp(r->hosts[h].rid, rid, ridlen))
            return h;
    return -1;
}

static void host_lost(struct room *r, int h, const char *why)
{
    struct room_host *rh = &r->hosts[h];
    if (!rh->joined)
        return;
    rh->joined = 0;
    char *t = xasprintf("host %s is gone (%s): its nodes are down", rh->name, why);
    room_event(r, "output", json_pack("{s:s,s:s,s:s}", "text", t, "host", rh->name, "what", "host-lost"));
    free(t);
    if (r->sink.lost)
        r->sink.lost(r->sink.ud, h);
}

static void send_snapshot(struct room *r, struct room_viewer *v)
{
    const json_t *evs[2] = {r->cluster_ev, r->net_ev};
    for (int i = 0; i < 2; i++) {
        if (!evs[i])
            continue;
        char *s = json_dumps(evs[i], JSON_COMPACT);
        if (s)
            send_to(r, v->rid, v->ridlen, "ev", "", s, strlen(s));
        free(s);
    }
}

static void on_hello(struct room *r, const unsigned char *rid, size_t ridlen, const char *key, const char *addr,
                     const char *payload, size_t plen)
{
    json_t *hello = json_loadb(payload, plen, 0, NULL);
    const char *name = json_string_value(json_object_get(hello, "host"));
    int h = r->open ? (name ? room_host_find(r, name) : -1) : host_by_key(r, key);
    if (r->open && !name) /* an open room: the first host not yet joined */
        for (int k = 0; k < r->nhosts && h < 0; k++)
            if (!r->hosts[k].joined)
                h = k;
    char *why = NULL;
    if (h < 0)
        why = name && r->open ? xasprintf("no host %s in the cluster file", name)
                              : xstrdup("this key belongs to no host of the cluster file (a dashboard's key?)");
    else if (!r->open && name && strcmp(name, r->hosts[h].name))
        why = xasprintf("this key is host %s's, not %s's", r->hosts[h].name, name);
    else if (r->hosts[h].joined && !(r->hosts[h].ridlen == ridlen && !memcmp(r->hosts[h].rid, rid, ridlen)) &&
             mono_us() - r->hosts[h].heard_us < r->timeout_us)
        why = xasprintf("host %s has an agent already (from %s)", r->hosts[h].name, r->hosts[h].addr);
    if (why) {
        send_to(r, rid, ridlen, "refused", "", why, strlen(why));
        char *t = xasprintf("refused an agent from %s: %s", addr, why);
        room_event(r, "error", json_pack("{s:s,s:s}", "text", t, "key", key));
        free(t);
        free(why);
        json_decref(hello);
        return;
    }
    struct room_host *rh = &r->hosts[h];
    if (rh->joined)
        host_lost(r, h, "its agent said hello again");
    rh->joined = 1;
    memcpy(rh->rid, rid, ridlen);
    rh->ridlen = ridlen;
    rh->heard_us = mono_us();
    str_copy(rh->addr, addr, sizeof rh->addr);
    const char *nft = json_string_value(json_object_get(hello, "nft"));
    const char *netem = json_string_value(json_object_get(hello, "netem"));
    str_copy(rh->nft, nft ? nft : "not said by its agent", sizeof rh->nft);
    str_copy(rh->netem, netem ? netem : "not said by its agent", sizeof rh->netem);
    json_decref(rh->rules); /* a new agent has no rules */
    rh->rules = NULL;
    json_t *w = json_pack("{s:s,s:s,s:I,s:I,s:i,s:i}", "host", rh->name, "addr", addr, "heartbeat_ms",
                          (json_int_t)(r->heartbeat_us / 1000), "timeout_ms", (json_int_t)(r->timeout_us / 1000),
                          "nodes", rh->nodes, "first", rh->first);
    char *s = json_dumps(w, JSON_COMPACT);
    room_send(r, h, "welcome", "", s, strlen(s));
    free(s);
    json_decref(w);
    json_decref(hello);
    char *t = xasprintf("host %s joined from %s (n%d..n%d)", rh->name, addr, rh->first + 1, rh->first + rh->nodes);
    room_event(r, "output", json_pack("{s:s,s:s,s:s}", "text", t, "host", rh->name, "what", "host-joined"));
    free(t);
}

static void on_viewer(struct room *r, const unsigned char *rid, size_t ridlen, const char *key, const char *addr)
{
    struct room_viewer *v = viewer_find(r, rid, ridlen);
    if (v) {
        v->heard_us = mono_us();
        return;
    }
    if (r->nviewers >= r->max_viewers) {
        char *why = xasprintf("the lab has %d dashboards attached, its limit (viewers: in the cluster file)", r->nviewers);
        send_to(r, rid, ridlen, "refused", "", why, strlen(why));
        char *t = xasprintf("refused a dashboard from %s: %s", addr, why);
        room_event(r, "error", json_pack("{s:s,s:s}", "text", t, "key", key));
        free(t);
        free(why);
        return;
    }
    v = &r->viewers[r->nviewers++];
    memcpy(v->rid, rid, ridlen);
    v->ridlen = ridlen;
    v->heard_us = mono_us();
    str_copy(v->key, key, sizeof v->key);
    send_to(r, rid, ridlen, "welcome", "", "{}", 2);
    send_snapshot(r, v);
    int ki = keylist_find(&r->viewers_keys, key);
    char *t = xasprintf("a dashboard attached from %s%s%s (%d of %d)", addr, ki >= 0 && r->viewers_keys.name[ki][0] ? " as " : "",
                        ki >= 0 ? r->viewers_keys.name[ki] : "", r->nviewers, r->max_viewers);
    room_event(r, "output", json_pack("{s:s,s:s}", "text", t, "what", "viewer"));
    free(t);
}

static void on_router(struct room *r)
{
    for (int k = 0; k < 1024; k++) {
        zmq_msg_t f[4];
        int nf = 0, more = 1;
        while (more) {
            zmq_msg_t m;
            zmq_msg_init(&m);
            if (zmq_msg_recv(&m, r->router, nf ? 0 : ZMQ_DONTWAIT) < 0) {
                zmq_msg_close(&m);
                break;
            }
            more = zmq_msg_more(&m);
            if (nf < 4)
                f[nf++] = m;
            else
                zmq_msg_close(&m);
        }
        if (nf == 0)
            return;
        if (nf == 4 && zmq_msg_size(&f[0]) <= sizeof r->hosts[0].rid && zmq_msg_size(&f[1]) < 16 &&
            zmq_msg_size(&f[2]) < CL_IDLEN) {
            const unsigned char *rid = zmq_msg_data(&f[0]);
            size_t ridlen = zmq_msg_size(&f[0]);
            char type[16], id[CL_IDLEN], key[KEY_Z85] = "", addr[64] = "";
            memcpy(type, zmq_msg_data(&f[1]), zmq_msg_size(&f[1]));
            type[zmq_msg_size(&f[1])] = 0;
            memcpy(id, zmq_msg_data(&f[2]), zmq_msg_size(&f[2]));
            id[zmq_msg_size(&f[2])] = 0;
            const char *uid = zmq_msg_gets(&f[1], "User-Id");
            const char *pa = zmq_msg_gets(&f[1], "Peer-Address");
            if (uid)
                str_copy(key, uid, sizeof key);
            if (pa)
                str_copy(addr, pa, sizeof addr);
            const char *data = zmq_msg_data(&f[3]);
            size_t len = zmq_msg_size(&f[3]);
            int h = host_by_rid(r, rid, ridlen);
            if (h >= 0)
                r->hosts[h].heard_us = mono_us();
            if (!strcmp(type, "hello")) {
                on_hello(r, rid, ridlen, key, addr, data, len);
            } else if (!strcmp(type, "view")) {
                on_viewer(r, rid, ridlen, key, addr);
            } else if (h < 0) {
                /* not a joined host (perhaps one the lab lost): say hello first */
                if (strcmp(type, "hb"))
                    send_to(r, rid, ridlen, "rejoin", "", "", 0);
            } else if (!strcmp(type, "ctl")) {
                if (r->sink.ctl)
                    r->sink.ctl(r->sink.ud, id, data, len);
            } else if (!strcmp(type, "ev")) {
                if (r->sink.event)
                    r->sink.event(r->sink.ud, data, len);
            } else if (!strcmp(type, "reply")) {
                if (r->sink.reply)
                    r->sink.reply(r->sink.ud, id, data, len);
            } else if (!strcmp(type, "exited")) {
                json_t *x = json_loadb(data, len, 0, NULL);
                if (r->sink.exited)
                    r->sink.exited(r->sink.ud, id, (int)json_integer_value(json_object_get(x, "status")),
                                   json_string_value(json_object_get(x, "words")));
                json_decref(x);
            } else if (!strcmp(type, "nftstat")) {
                json_decref(r->hosts[h].counters);
                r->hosts[h].counters = json_loadb(data, len, 0, NULL);
                r->hosts[h].counters_at = mono_us();
            } else if (!strcmp(type, "note")) {
                char *t = xasprintf("host %s: %.*s", r->hosts[h].name, (int)(len > 400 ? 400 : len), data);
                room_event(r, "output", json_pack("{s:s,s:s}", "text", t, "host", r->hosts[h].name));
                free(t);
            }
        }
        for (int i = 0; i < nf; i++)
            zmq_msg_close(&f[i]);
    }
}

int room_items(struct room *r, zmq_pollitem_t *items)
{
    items[0] = (zmq_pollitem_t){r->zap, 0, ZMQ_POLLIN, 0};
    items[1] = (zmq_pollitem_t){r->router, 0, ZMQ_POLLIN, 0};
    return 2;
}

void room_dispatch(struct room *r)
{
    on_zap(r);
    on_router(r);
}

int room_pump(struct room *r, uint64_t timeout_us, int fd)
{
    zmq_pollitem_t items[3];
    int n = room_items(r, items);
    if (fd >= 0)
        items[n++] = (zmq_pollitem_t){NULL, fd, ZMQ_POLLIN, 0};
    int rc = zmq_poll(items, n, (long)((timeout_us + 999) / 1000));
    room_tick(r, mono_us());
    if (rc <= 0)
        return 0;
    int act = (items[0].revents | items[1].revents) & ZMQ_POLLIN;
    if (act)
        room_dispatch(r);
    if (fd >= 0 && (items[2].revents & (ZMQ_POLLIN | ZMQ_POLLERR)))
        return 1;
    return act ? 2 : 0;
}

void room_tick(struct room *r, uint64_t now)
{
    for (int h = 0; h < r->nhosts; h++) {
        struct room_host *rh = &r->hosts[h];
        if (!rh->joined)
            continue;
        if (now - rh->heard_us > r->timeout_us) {
            host_lost(r, h, "no heartbeat");
            continue;
        }
        if (now - rh->sent_us >= r->heartbeat_us)
            room_send(r, h, "hb", "", "", 0);
    }
    for (int i = 0; i < r->nviewers;) {
        if (now - r->viewers[i].heard_us > 10000000) /* a dashboard says "view" every 2 s */
            r->viewers[i] = r->viewers[--r->nviewers];
        else
            i++;
    }
}

void room_publish(struct room *r, const json_t *ev)
{
    if (!r || !r->nviewers)
        return;
    char *s = json_dumps(ev, JSON_COMPACT);
    if (!s)
        return;
    size_t len = strlen(s);
    for (int i = 0; i < r->nviewers; i++)
        send_to(r, r->viewers[i].rid, r->viewers[i].ridlen, "ev", "", s, len);
    free(s);
}

void room_set_snapshot(struct room *r, const json_t *cluster_ev, const json_t *net_ev)
{
    json_decref(r->cluster_ev);
    json_decref(r->net_ev);
    r->cluster_ev = cluster_ev ? json_deep_copy(cluster_ev) : NULL;
    r->net_ev = net_ev ? json_deep_copy(net_ev) : NULL;
}

void room_set_sink(struct room *r, const struct room_sink *sink)
{
    if (sink)
        r->sink = *sink;
    else
        memset(&r->sink, 0, sizeof r->sink);
}

int room_nhosts(const struct room *r)
{
    return r->nhosts;
}

const struct room_host *room_host(const struct room *r, int h)
{
    return h >= 0 && h < r->nhosts ? &r->hosts[h] : NULL;
}

int room_nodes(const struct room *r)
{
    return r->nnodes;
}

int room_host_of(const struct room *r, int idx)
{
    for (int h = 0; h < r->nhosts; h++)
        if (idx >= r->hosts[h].first && idx < r->hosts[h].first + r->hosts[h].nodes)
            return h;
    return -1;
}

const char *room_mode(const struct room *r)
{
    return r->mode[0] ? r->mode : NULL;
}

const char *room_server_key(const struct room *r)
{
    return r->pub;
}

const char *room_endpoint(const struct room *r)
{
    return r->endpoint;
}

int room_viewers(const struct room *r)
{
    return r->nviewers;
}

int room_wait_hosts(struct room *r, uint64_t timeout_us, char *err, size_t errlen)
{
    uint64_t end = mono_us() + timeout_us;
    for (;;) {
        struct sb miss = {0};
        for (int h = 0; h < r->nhosts; h++)
            if (!r->hosts[h].joined && r->hosts[h].nodes)
                sb_printf(&miss, "%s%s", miss.len ? ", " : "", r->hosts[h].name);
        if (!miss.len)
            return 0;
        if (mono_us() >= end) {
            snprintf(err, errlen, "waited %.0f s for host%s %s to join (conlab join %s --key FILE --server-key %s)",
                     (double)timeout_us / 1e6, strchr(miss.s, ',') ? "s" : "", miss.s, r->endpoint + 6, r->pub);
            sb_free(&miss);
            return CL_ETIMEOUT;
        }
        sb_free(&miss);
        room_pump(r, 50000, -1);
    }
}

void room_describe(const struct room *r, struct sb *out)
{
    sb_printf(out, "classroom %s, server key %s%s\n", r->endpoint, r->pub,
              r->open ? " (open: loopback only, any key)" : "");
    for (int h = 0; h < r->nhosts; h++) {
        const struct room_host *rh = &r->hosts[h];
        sb_printf(out, "  host %-8s n%d..n%d  %s", rh->name, rh->first + 1, rh->first + rh->nodes,
                  rh->joined ? "joined from " : "not joined");
        if (rh->joined)
            sb_add(out, rh->addr);
        sb_addc(out, '\n');
    }
    sb_printf(out, "  dashboards attached: %d of %d", r->nviewers, r->max_viewers);
}

int room_kernel(const struct room *r)
{
    return r && r->kernel;
}

void room_set_kernel(struct room *r, int on)
{
    r->kernel = on;
}

int room_send_rules(struct room *r, int h, json_t *rules)
{
    struct room_host *rh = &r->hosts[h];
    if (!rules && !rh->rules)
        return 0;
    if (rules && rh->rules && json_equal(rules, rh->rules)) {
        json_decref(rules);
        return 0;
    }
    json_t *msg = json_pack("{s:o}", "rules", rules ? json_incref(rules) : json_array());
    char *s = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    int rc = room_send(r, h, "nft", "", s, strlen(s));
    free(s);
    json_decref(rh->rules);
    rh->rules = rules;
    return rc;
}

void room_fetch_counters(struct room *r, uint64_t timeout_us)
{
    uint64_t t0 = mono_us(), end = t0 + timeout_us;
    for (int h = 0; h < r->nhosts; h++)
        if (r->hosts[h].joined && r->hosts[h].rules)
            room_send(r, h, "nftstat", "", "", 0);
    for (;;) {
        int waiting = 0;
        for (int h = 0; h < r->nhosts; h++)
            waiting |= r->hosts[h].joined && r->hosts[h].rules && r->hosts[h].counters_at < t0;
        if (!waiting || mono_us() >= end)
            return;
        room_pump(r, 20000, -1);
    }
}
