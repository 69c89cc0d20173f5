/* llbench — see llbench.h. Runs the leaderless mode in the simulator only. */
#include "llbench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mode.h"
#include "sim.h"

#define CLIENTS 64

struct bench {
    struct sim *s;
    long next, acked, failed, keys;
    int busy[CLIENTS];
    uint64_t heal_at, first_ae, exchanges, exchange_us, batches;
};

static void send_next(struct bench *b, int c)
{
    if (b->next >= b->keys) {
        b->busy[c] = 0;
        return;
    }
    char key[32], client[16];
    snprintf(key, sizeof key, "key%06ld", b->next);
    snprintf(client, sizeof client, "c%d", c + 1);
    json_t *body = json_pack("{s:s,s:I,s:s,s:s}", "type", "write", "msg_id", (json_int_t)b->next + 1,
                             "key", key, "value", key);
    sim_client_send(b->s, (int)(b->next % 2), client, body);
    b->next++;
    b->busy[c] = 1;
}

static void on_reply(void *ud, const char *node, const char *client, const json_t *body)
{
    struct bench *b = ud;
    (void)node;
    const char *type = json_string_value(json_object_get(body, "type"));
    if (type && !strcmp(type, "write_ok"))
        b->acked++;
    else
        b->failed++;
    int c = atoi(client + 1) - 1;
    if (c >= 0 && c < CLIENTS)
        send_next(b, c);
}

static void on_event(void *ud, const json_t *ev)
{
    struct bench *b = ud;
    const char *name = json_string_value(json_object_get(ev, "ev"));
    if (!b->heal_at || !name)
        return;
    uint64_t t = (uint64_t)json_integer_value(json_object_get(ev, "t"));
    if (!strcmp(name, "send") && !b->first_ae) {
        const char *type = json_string_value(json_object_get(ev, "type"));
        if (type && !strcmp(type, "ae_root"))
            b->first_ae = t;
    } else if (!strcmp(name, "antientropy")) {
        if (json_integer_value(json_object_get(ev, "repaired_here")) ||
            json_integer_value(json_object_get(ev, "repaired_there"))) {
            b->exchanges++;
            b->exchange_us += (uint64_t)json_integer_value(json_object_get(ev, "us"));
            b->batches += (uint64_t)json_integer_value(json_object_get(ev, "batches"));
        }
    }
}

static long keys_on(struct sim *s, int idx)
{
    json_t *st = sim_status(s, idx);
    long n = (long)json_integer_value(json_object_get(json_object_get(st, "extra"), "keys"));
    json_decref(st);
    return n;
}

int llbench_ae_repair(long keys, uint64_t seed, struct llbench_ae *out, char *err, size_t errlen)
{
    const struct mode *m = mode_find("leaderless");
    if (!m) {
        snprintf(err, errlen, "the leaderless mode is not built in");
        return CL_ENOENT;
    }
    if (keys < 1 || keys > 1000000) {
        snprintf(err, errlen, "keys=%ld: expected 1 to 1000000", keys);
        return CL_ERANGE;
    }
    struct opts o = {0};
    opts_set(&o, "n", "3");
    opts_set(&o, "w", "2");
    opts_set(&o, "r", "1");
    opts_set(&o, "read_repair", "off");
    opts_set(&o, "ae_interval", "1s");
    struct bench b = {0};
    b.keys = keys;
    b.s = sim_new(m, 3, &o, seed, err, errlen);
    opts_free(&o);
    if (!b.s)
        return CL_EINVAL;
    sim_on_reply(b.s, on_reply, &b);
    faults_isolate(sim_faults(b.s), 2);
    for (int c = 0; c < CLIENTS; c++)
        send_next(&b, c);
    while (b.acked + b.failed < keys && sim_step(b.s))
        ;
    if (b.failed) {
        snprintf(err, errlen, "%ld of %ld writes failed while n3 was cut off", b.failed, keys);
        sim_destroy(&b.s);
        return CL_ESTATE;
    }
    sim_on_event(b.s, on_event, &b);
    faults_heal(sim_faults(b.s));
    b.heal_at = sim_now(b.s) ? sim_now(b.s) : 1;
    uint64_t wall0 = mono_us();
    long have = keys_on(b.s, 2);
    while (have < keys && sim_now(b.s) - b.heal_at < 120000000ull) {
        sim_run_for(b.s, 10000);
        have = keys_on(b.s, 2);
    }
    memset(out, 0, sizeof *out);
    out->wall_us = mono_us() - wall0;
    out->keys = keys;
    out->repaired = have;
    out->virtual_us = sim_now(b.s) - b.heal_at;
    out->first_exchange_us = b.first_ae ? b.first_ae - b.heal_at : 0;
    out->exchange_us = b.exchange_us;
    out->exchanges = b.exchanges;
    out->batches = b.batches;
    sim_destroy(&b.s);
    if (have < keys) {
        snprintf(err, errlen, "n3 holds %ld of %ld keys after 120 s of anti-entropy", have, keys);
        return CL_ETIMEOUT;
    }
    return 0;
}
