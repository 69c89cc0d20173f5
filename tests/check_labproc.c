/* check_labproc — the lab driving real node processes through its own API: the crash test of
 * the Raft issue (SIGKILL nodes mid-write, restart them, and find every acknowledged write
 * still there: the whole history, final reads included, is linearizable). Skipped where real
 * processes are not allowed (valgrind). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "test_util.h"

struct load {
    struct lab *lab;
    struct rng rng;
    int running;
    int acked, infos;
};

static void next(struct load *ld, int process);

static void done(void *ud, struct op *op)
{
    struct load *ld = ud;
    int p = op->process;
    if (op->outcome == OP_OK)
        ld->acked++;
    else if (op->outcome == OP_INFO)
        ld->infos++;
    op->done = NULL;
    lab_op_free(op);
    if (ld->running)
        next(ld, p + (op->outcome == OP_INFO ? 100 : 0)); /* a process that timed out is retired */
}

static void next(struct load *ld, int process)
{
    char key[8], val[16];
    snprintf(key, sizeof key, "k%d", (int)rng_range(&ld->rng, 0, 9));
    snprintf(val, sizeof val, "%llu", (unsigned long long)rng_range(&ld->rng, 0, 1u << 30));
    json_t *v = json_string(val);
    struct op *op = lab_op_start(ld->lab, "write", key, v, -1, NULL, process);
    json_decref(v);
    if (!op)
        return;
    if (op->outcome != OP_PENDING) {
        done(ld, op);
        return;
    }
    op->done = done;
    op->done_ud = ld;
}

static void on_output(void *ud, const char *text)
{
    (void)ud;
    (void)text; /* keep the test's output quiet */
}

START_TEST(raft_loses_no_acknowledged_write_when_nodes_are_killed_mid_write)
{
    if (!test_procs_allowed())
        return;
    const char *bin = getenv("CONLAB_BIN");
    char node[512];
    snprintf(node, sizeof node, "%s/conlab-node", bin ? bin : "bin");
    setenv("CONLAB_NODE", node, 1);
    struct lab lab;
    char err[256];
    ck_assert_int_eq(lab_init(&lab, "conlab", err, sizeof err), 0);
    struct lab_hooks h = {.on_output = on_output};
    lab_add_hooks(&lab, &h);
    struct opts o = {0};
    opts_set(&o, "events", "state");
    opts_set(&o, "timeout", "1s");
    ck_assert_int_eq(lab_start(&lab, "raft", 3, &o), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    struct load ld = {.lab = &lab, .running = 1};
    rng_seed(&ld.rng, 7);
    for (int p = 0; p < 8; p++)
        next(&ld, 10 + p);
    int rounds = getenv("CONLAB_QUICK") ? 3 : 6;
    for (int r = 0; r < rounds; r++) {
        lab_pump(&lab, 300000, -1);
        uint64_t end = mono_us() + 300000;
        while (mono_us() < end)
            lab_pump(&lab, end - mono_us(), -1);
        int victim = (int)rng_range(&ld.rng, 0, 2);
        lab.cl->ops->crash(lab.cl, victim); /* SIGKILL, in the middle of the load */
        end = mono_us() + 400000;
        while (mono_us() < end)
            lab_pump(&lab, end - mono_us(), -1);
        lab.cl->ops->restart(lab.cl, victim);
    }
    ld.running = 0;
    uint64_t end = mono_us() + 3000000;
    while (mono_us() < end)
        lab_pump(&lab, 100000, -1);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    /* read every key back (recorded), then judge the whole history */
    for (int k = 0; k < 10; k++) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "get k%d", k);
        ck_assert_int_eq(lab_exec(&lab, cmd), 0);
    }
    struct sb out = {0};
    int verdict = lab_check_history(&lab, "linearizable", &out);
    ck_assert_msg(ld.acked > 50, "only %d writes were acknowledged", ld.acked);
    ck_assert_msg(verdict == 0, "after %d acknowledged writes and %d indeterminate ones: %s", ld.acked, ld.infos,
                  out.s ? out.s : "");
    sb_free(&out);
    opts_free(&o);
    lab_destroy(&lab);
}
END_TEST

Suite *suite_labproc(void);
Suite *suite_labproc(void)
{
    Suite *s = suite_create("labproc");
    TCase *tc = tcase_create("crash");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, raft_loses_no_acknowledged_write_when_nodes_are_killed_mid_write);
    suite_add_tcase(s, tc);
    return s;
}
