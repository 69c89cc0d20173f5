/* check_causal — the causal mode (COPS-style causal+) in the simulator: the reply-before-post
 * anomaly with causal=off and its absence with causal=on, judged by the causal checker over
 * the recorded history; held versions; convergence under faults; restarts; bad input. Also the
 * checker itself on hand-written good and bad histories. */
#include <check.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "causal.h"
#include "fixture.h"
#include "histfile.h"
#include "mode.h"
#include "sim.h"
#include "test_util.h"

#define SEC 1000000ull
#define MS 1000ull

extern const struct mode mode_causal;

static const char *const kept[] = {"write", "apply", "held", "error", NULL};

static struct fixture *cz_new(int n, const char *spec, uint64_t seed)
{
    struct fixture *f = fixture_new(&mode_causal, n, spec, seed);
    fixture_direct(f, 1);
    simclient_set_timeout(f->c, 0);
    fixture_keep(f, kept);
    return f;
}

/* One client (process p) asks node: a read's value ("nil" for error 20), or "ok". */
static const char *op(struct fixture *f, int p, int node, const char *fn, const char *key, const char *value)
{
    static char buf[64];
    ck_assert_int_eq(simclient_invoke(f->c, p, node, fn, key, value, NULL), 0);
    fixture_await(f, p, 10 * SEC);
    const json_t *r = simclient_reply(f->c, p);
    const char *type = r ? json_string_value(json_object_get(r, "type")) : NULL;
    if (type && !strcmp(type, "read_ok"))
        snprintf(buf, sizeof buf, "%s", json_string_value(json_object_get(r, "value")));
    else if (type && !strcmp(type, "write_ok"))
        snprintf(buf, sizeof buf, "ok");
    else if (type && json_integer_value(json_object_get(r, "code")) == 20)
        snprintf(buf, sizeof buf, "nil");
    else
        snprintf(buf, sizeof buf, "?");
    return buf;
}

/* Judges the fixture's history with the causal checker. */
static int causal_verdict(struct fixture *f, struct sb *why)
{
    char *jsonl = recorder_jsonl(&f->rec);
    struct history *h = NULL;
    char err[200];
    ck_assert_msg(history_parse_jsonl(jsonl, strlen(jsonl), &h, err, sizeof err) == 0, "%s", err);
    int v = causal_check(h, why);
    history_free(&h);
    free(jsonl);
    return v;
}

struct has {
    struct fixture *f;
    int node;
    const char *key;
};

static int node_has(void *ud)
{
    struct has *h = ud;
    json_t *st = sim_status(h->f->s, h->node);
    int ok = json_object_get(json_object_get(st, "data"), h->key) != NULL;
    json_decref(st);
    return ok;
}

/* Alice (p1) posts at n1; Bob (p2) reads it at n2 and replies there; Carol (p3) at n3, whose
 * link from n1 is slow, reads the reply, then the post. Returns what Carol read. */
static void reply_before_post(struct fixture *f, char *reply, char *post)
{
    faults_set_delay(sim_faults(f->s), 0, 2, 2 * SEC, 0);
    ck_assert_str_eq(op(f, 1, 0, "write", "post", "lunch?"), "ok");
    struct has h = {f, 1, "post"};
    ck_assert(fixture_run_until(f, 5 * SEC, node_has, &h));
    ck_assert_str_eq(op(f, 2, 1, "read", "post", NULL), "lunch?");
    ck_assert_str_eq(op(f, 2, 1, "write", "reply", "yes!"), "ok");
    fixture_run(f, 100 * MS); /* the reply reaches n3 (n2->n3 is fast), the post does not */
    strcpy(reply, op(f, 3, 2, "read", "reply", NULL));
    strcpy(post, op(f, 3, 2, "read", "post", NULL));
}

START_TEST(with_causal_off_the_reply_is_seen_before_the_post_and_the_checker_says_so)
{
    struct fixture *f = cz_new(3, "causal=off", 1);
    char reply[64], post[64];
    reply_before_post(f, reply, post);
    ck_assert_str_eq(reply, "yes!");
    ck_assert_str_eq(post, "nil");
    struct sb why = {0};
    ck_assert_int_eq(causal_verdict(f, &why), 1);
    ck_assert_msg(strstr(why.s, "read post=nil by p3 at n3") && strstr(why.s, "write post=lunch? by p1 at n1") &&
                      strstr(why.s, "write reply=yes! by p2 at n2"),
                  "%s", why.s);
    sb_free(&why);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(with_causal_on_the_reply_waits_for_the_post)
{
    struct fixture *f = cz_new(3, "causal=on", 1);
    char reply[64], post[64];
    reply_before_post(f, reply, post);
    ck_assert_str_eq(reply, "nil"); /* held: its dependency is not visible at n3 */
    ck_assert_str_eq(post, "nil");
    ck_assert_int_ge(fixture_count(f, "held", NULL, NULL), 1);
    const json_t *held = fixture_find(f, "n3", "held");
    ck_assert_ptr_nonnull(held);
    ck_assert_ptr_nonnull(strstr(json_string_value(json_object_get(held, "waits_for")), "post@"));
    /* once the post arrives both are visible, in that order */
    fixture_run(f, 3 * SEC);
    ck_assert_str_eq(op(f, 3, 2, "read", "reply", NULL), "yes!");
    ck_assert_str_eq(op(f, 3, 2, "read", "post", NULL), "lunch?");
    struct sb why = {0};
    ck_assert_msg(causal_verdict(f, &why) == 0, "%s", why.s);
    sb_free(&why);
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(bug_forget_reads_brings_the_anomaly_back_under_causal_on)
{
    struct fixture *f = cz_new(3, "causal=on bug=forget-reads", 1);
    char reply[64], post[64];
    reply_before_post(f, reply, post);
    ck_assert_str_eq(reply, "yes!");
    ck_assert_str_eq(post, "nil");
    struct sb why = {0};
    ck_assert_int_eq(causal_verdict(f, &why), 1);
    sb_free(&why);
    fixture_free(&f);
}
END_TEST

static int converged(void *ud)
{
    struct fixture *f = ud;
    json_t *ref = NULL;
    int ok = 1;
    for (int i = 0; ok && i < f->n; i++) {
        json_t *st = sim_status(f->s, i);
        json_t *ex = json_object_get(st, "extra");
        if (json_integer_value(json_object_get(ex, "pending")) || json_integer_value(json_object_get(ex, "held")))
            ok = 0;
        if (!ref)
            ref = json_incref(json_object_get(st, "data"));
        else if (!json_equal(ref, json_object_get(st, "data")))
            ok = 0;
        json_decref(st);
    }
    json_decref(ref);
    return ok;
}

START_TEST(under_faults_sessions_stay_causal_and_replicas_converge)
{
    int seeds = test_seeds(6);
    for (int s = 0; s < seeds; s++) {
        struct fixture *f = cz_new(4, "causal=on", 300 + (uint64_t)s);
        struct faults *fa = sim_faults(f->s);
        faults_set_loss(fa, -1, -1, 0.2);
        faults_set_dup(fa, -1, -1, 0.1);
        faults_set_reorder(fa, -1, -1, 0.3);
        faults_set_delay(fa, -1, -1, 10 * MS, 200 * MS);
        struct rng *r = sim_rng(f->s);
        char val[16];
        for (int k = 0; k < 60; k++) {
            int p = 1 + (int)(rng_next(r) % 6), node = (int)(rng_next(r) % 4);
            char key[8];
            snprintf(key, sizeof key, "k%d", (int)(rng_next(r) % 4));
            if (rng_next(r) % 2) {
                snprintf(val, sizeof val, "v%d", k);
                op(f, p, node, "write", key, val);
            } else {
                op(f, p, node, "read", key, NULL);
            }
            if (k == 20) {
                char err[64];
                faults_partition(fa, "n1,n2 | n3,n4", err, sizeof err);
            }
            if (k == 40)
                faults_heal(fa);
        }
        faults_heal(fa);
        if (!fixture_run_until(f, 60 * SEC, converged, f)) {
            for (int i = 0; i < f->n; i++) {
                json_t *st = sim_status(f->s, i);
                char *d = json_dumps(st, JSON_COMPACT);
                fprintf(stderr, "n%d: %s\n", i + 1, d);
                free(d);
                json_decref(st);
            }
            for (size_t e = 0; e < json_array_size(f->events); e++) {
                char *d = json_dumps(json_array_get(f->events, e), JSON_COMPACT);
                if (strstr(d, "k3"))
                    fprintf(stderr, "%s\n", d);
                free(d);
            }
            ck_abort_msg("seed %" PRIu64 ": no convergence", f->seed);
        }
        struct sb why = {0};
        ck_assert_msg(causal_verdict(f, &why) == 0, "seed %" PRIu64 ": %s", f->seed, why.s);
        sb_free(&why);
        FIXTURE_OK(f);
        fixture_free(&f);
    }
}
END_TEST

START_TEST(a_restarted_node_keeps_its_writes_and_sends_them_again)
{
    struct fixture *f = cz_new(3, "causal=on", 5);
    char err[64];
    faults_partition(sim_faults(f->s), "n1 | n2,n3", err, sizeof err);
    ck_assert_str_eq(op(f, 1, 0, "write", "x", "1"), "ok");
    sim_crash(f->s, 0);
    sim_restart(f->s, 0);
    faults_heal(sim_faults(f->s));
    ck_assert(fixture_run_until(f, 10 * SEC, converged, f));
    ck_assert_str_eq(op(f, 2, 2, "read", "x", NULL), "1");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

START_TEST(bad_requests_and_peer_garbage_are_refused_with_a_reason)
{
    struct fixture *f = cz_new(3, "", 6);
    json_t *r = fixture_call(f, 0, json_pack("{s:s,s:s}", "type", "write", "key", "x"), 5 * SEC);
    ck_assert_int_eq(json_integer_value(json_object_get(r, "code")), 12);
    json_decref(r);
    /* a peer's version without a timestamp, or with a dependency of the wrong shape */
    json_t *bad = json_pack("{s:s,s:[{s:s,s:s,s:i,s:i,s:[]}]}", "type", "cz_put", "versions", "key", "x", "v", "1", "t", 0,
                            "n", 1, "deps");
    sim_client_send(f->s, 0, "n2", bad);
    fixture_run(f, 100 * MS);
    ck_assert_int_ge(fixture_count(f, "error", NULL, NULL), 1);
    ck_assert_str_eq(op(f, 1, 0, "read", "x", NULL), "nil");
    FIXTURE_OK(f);
    fixture_free(&f);
}
END_TEST

/* ---- the checker on hand-written histories ----------------------------------------------- */

static int judge(const char *jsonl, struct sb *why)
{
    struct history *h = NULL;
    char err[200];
    ck_assert_msg(history_parse_jsonl(jsonl, strlen(jsonl), &h, err, sizeof err) == 0, "%s", err);
    int v = causal_check(h, why);
    history_free(&h);
    return v;
}

#define INV(p, f, k, v, n) "{\"process\":" #p ",\"type\":\"invoke\",\"f\":\"" f "\",\"key\":\"" k "\",\"value\":" v ",\"node\":\"" n "\"}\n"
#define OK(p, f, k, v, n) "{\"process\":" #p ",\"type\":\"ok\",\"f\":\"" f "\",\"key\":\"" k "\",\"value\":" v ",\"node\":\"" n "\"}\n"

START_TEST(checker_flags_an_effect_seen_without_its_cause_and_names_the_chain)
{
    const char *bad = INV(1, "write", "post", "\"p\"", "n1") OK(1, "write", "post", "\"p\"", "n1")
        INV(2, "read", "post", "null", "n2") OK(2, "read", "post", "\"p\"", "n2")
        INV(2, "write", "reply", "\"r\"", "n2") OK(2, "write", "reply", "\"r\"", "n2")
        INV(3, "read", "reply", "null", "n3") OK(3, "read", "reply", "\"r\"", "n3")
        INV(3, "read", "post", "null", "n3") OK(3, "read", "post", "null", "n3");
    struct sb why = {0};
    ck_assert_int_eq(judge(bad, &why), 1);
    ck_assert_msg(strstr(why.s, "chain: write post=p by p1 at n1 → read post=p by p2 at n2 → write reply=r by p2 at n2 → "
                                "read reply=r by p3 at n3 → read post=nil by p3 at n3"),
                  "%s", why.s);
    sb_free(&why);
}
END_TEST

START_TEST(checker_flags_a_read_older_than_a_version_the_session_saw)
{
    const char *bad = INV(1, "write", "x", "\"1\"", "n1") OK(1, "write", "x", "\"1\"", "n1")
        INV(1, "write", "x", "\"2\"", "n1") OK(1, "write", "x", "\"2\"", "n1")
        INV(2, "read", "x", "null", "n2") OK(2, "read", "x", "\"2\"", "n2")
        INV(2, "read", "x", "null", "n2") OK(2, "read", "x", "\"1\"", "n2");
    struct sb why = {0};
    ck_assert_int_eq(judge(bad, &why), 1);
    ck_assert_ptr_nonnull(strstr(why.s, "supersedes"));
    sb_free(&why);
}
END_TEST

START_TEST(checker_accepts_causal_histories)
{
    /* the post seen before the reply; a concurrent write read in either order; a read of nil
     * before anything was seen; another node's session knows nothing of the first */
    const char *good = INV(1, "write", "post", "\"p\"", "n1") OK(1, "write", "post", "\"p\"", "n1")
        INV(3, "read", "post", "null", "n3") OK(3, "read", "post", "null", "n3")
        INV(2, "read", "post", "null", "n2") OK(2, "read", "post", "\"p\"", "n2")
        INV(2, "write", "reply", "\"r\"", "n2") OK(2, "write", "reply", "\"r\"", "n2")
        INV(3, "read", "post", "null", "n3") OK(3, "read", "post", "\"p\"", "n3")
        INV(3, "read", "reply", "null", "n3") OK(3, "read", "reply", "\"r\"", "n3")
        INV(4, "write", "x", "\"a\"", "n1") OK(4, "write", "x", "\"a\"", "n1")
        INV(5, "write", "x", "\"b\"", "n2") OK(5, "write", "x", "\"b\"", "n2")
        INV(6, "read", "x", "null", "n3") OK(6, "read", "x", "\"b\"", "n3")
        INV(6, "read", "x", "null", "n3") OK(6, "read", "x", "\"a\"", "n3")
        INV(1, "read", "reply", "null", "n4") OK(1, "read", "reply", "null", "n4");
    struct sb why = {0};
    ck_assert_msg(judge(good, &why) == 0, "%s", why.s);
    ck_assert_ptr_nonnull(strstr(why.s, "causal:"));
    sb_free(&why);
}
END_TEST


/* ---- peer bodies, mutated at random (the decoders of ml_push and ml_push_ok) ------------- */

static json_t *junk(struct rng *r, int depth)
{
    switch (rng_next(r) % (depth > 2 ? 6 : 8)) {
    case 0: return json_null();
    case 1: return json_integer((json_int_t)(rng_next(r) % 3 == 0 ? -1 : (json_int_t)(rng_next(r) >> 1)));
    case 2: return json_string(rng_next(r) % 2 ? "" : "n1.2");
    case 3: return json_true();
    case 4: return json_real(-0.5);
    case 5: return json_string("ffffffffffffffff");
    case 6: {
        json_t *a = json_array();
        for (int i = (int)(rng_next(r) % 3); i > 0; i--)
            json_array_append_new(a, junk(r, depth + 1));
        return a;
    }
    default: {
        json_t *o = json_object();
        static const char *const keys[] = {"key", "vers", "v", "t", "n", "d", "c", "k", "h", "deps"};
        for (int i = (int)(rng_next(r) % 4); i > 0; i--)
            json_object_set_new(o, keys[rng_next(r) % 10], junk(r, depth + 1));
        return o;
    }
    }
}

/* Replaces one value somewhere in j (an object or array) with junk, or deletes a field. */
static void mutate(struct rng *r, json_t *j, int depth)
{
    if (json_is_object(j) && json_object_size(j)) {
        size_t pick = rng_next(r) % json_object_size(j), i = 0;
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (i++ != pick)
                continue;
            if ((json_is_object(v) || json_is_array(v)) && rng_next(r) % 2 && depth < 6)
                mutate(r, v, depth + 1);
            else if (rng_next(r) % 4 == 0)
                json_object_del(j, k);
            else
                json_object_set_new(j, k, junk(r, depth));
            return;
        }
    } else if (json_is_array(j) && json_array_size(j)) {
        size_t i = rng_next(r) % json_array_size(j);
        json_t *v = json_array_get(j, i);
        if ((json_is_object(v) || json_is_array(v)) && rng_next(r) % 2 && depth < 6)
            mutate(r, v, depth + 1);
        else
            json_array_set_new(j, i, junk(r, depth));
    }
}

START_TEST(peer_messages_mutated_at_random_are_refused_or_merged_and_the_node_keeps_serving)
{
    static const char *const valid[] = {"{\"type\":\"cz_put\",\"versions\":[{\"key\":\"x\",\"v\":\"1\",\"t\":3,\"n\":1,\"deps\":[{\"k\":\"y\",\"t\":1,\"n\":0}]}]}", "{\"type\":\"cz_put_ok\",\"acks\":[{\"k\":\"x\",\"t\":3,\"n\":1}]}"};
    struct fixture *f = cz_new(3, "", 77);
    f->use_monitor = 0; /* made-up dots are well-formed lies: this is about the decoders */
    struct rng r;
    rng_seed(&r, 99);
    int rounds = test_seeds(400);
    for (int i = 0; i < rounds; i++) {
        json_t *b = json_loads(valid[i % 2], 0, NULL);
        ck_assert_ptr_nonnull(b);
        for (int k = (int)(rng_next(&r) % 3); k >= 0; k--)
            mutate(&r, b, 0);
        json_object_set_new(b, "type", json_string(i % 2 ? (strstr(valid[1], "ml_") ? "ml_push_ok" : "cz_put_ok")
                                                         : (strstr(valid[0], "ml_") ? "ml_push" : "cz_put")));
        sim_client_send(f->s, 0, "n2", b);
        fixture_run(f, 1000);
    }
    json_t *w = json_pack("{s:s,s:s,s:s}", "type", "write", "key", "after", "value", "ok");
    json_t *rep = fixture_call(f, 0, w, 5 * SEC);
    ck_assert_msg(rep && !strcmp(json_string_value(json_object_get(rep, "type")), "write_ok"), "the node stopped serving");
    json_decref(rep);
    fixture_free(&f);
}
END_TEST

Suite *suite_causal(void);
Suite *suite_causal(void)
{
    Suite *s = suite_create("causal");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, with_causal_off_the_reply_is_seen_before_the_post_and_the_checker_says_so);
    tcase_add_test(tc, with_causal_on_the_reply_waits_for_the_post);
    tcase_add_test(tc, bug_forget_reads_brings_the_anomaly_back_under_causal_on);
    tcase_add_test(tc, under_faults_sessions_stay_causal_and_replicas_converge);
    tcase_add_test(tc, a_restarted_node_keeps_its_writes_and_sends_them_again);
    tcase_add_test(tc, bad_requests_and_peer_garbage_are_refused_with_a_reason);
    tcase_add_test(tc, checker_flags_an_effect_seen_without_its_cause_and_names_the_chain);
    tcase_add_test(tc, checker_flags_a_read_older_than_a_version_the_session_saw);
    tcase_add_test(tc, checker_accepts_causal_histories);
    tcase_add_test(tc, peer_messages_mutated_at_random_are_refused_or_merged_and_the_node_keeps_serving);
    suite_add_tcase(s, tc);
    return s;
}
