/* check_refusals — the lab's medium items of issue 13, in-process (the simulator, no node
 * processes, so that the ASan and valgrind tiers see every allocation):
 *  - put/get/cas refused for their arguments (w=0, r=100, a bad cl=, an empty key) leave
 *    nothing allocated;
 *  - `add` honours or refuses its argument: the next new node, an existing one given to the
 *    mode, never a silent other node;
 *  - `step 1000000` stops between its thousand-step turns once interrupted (Ctrl-C);
 *  - a statement about the data never passes on nothing: converged over a simulator cluster
 *    compares digests (and the data inline in small statuses).
 * Real-process counterparts: check_labproc, tests/proc/long_line_refused_whole.sh,
 * tests/tui/live_interrupt.sh, tests/scenarios/lab_arguments_honoured.lab. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "lab.h"
#include "test_util.h"

struct seen {
    struct sb out;
    struct lab *lab;
    long events;
    long interrupt_after;       /* set lab->interrupted after this many events (0: never) */
};

static void on_output(void *ud, const char *text)
{
    struct seen *s = ud;
    sb_add(&s->out, text);
    sb_add(&s->out, "\n");
}

static void on_event(void *ud, const struct event *e)
{
    struct seen *s = ud;
    (void)e;
    if (++s->events == s->interrupt_after)
        s->lab->interrupted = 1; /* what Ctrl-C's handler does */
}

static void open_lab(struct lab *lab, struct seen *s)
{
    char err[256];
    ck_assert_int_eq(lab_init(lab, "conlab", err, sizeof err), 0);
    memset(s, 0, sizeof *s);
    s->lab = lab;
    struct lab_hooks h = {.ud = s, .on_output = on_output, .on_event = on_event};
    lab_add_hooks(lab, &h);
}

static void close_lab(struct lab *lab, struct seen *s)
{
    lab_destroy(lab);
    sb_free(&s->out);
}

static void start_sim(struct lab *lab)
{
    struct opts o = {0};
    opts_set(&o, "sim", "on");
    opts_set(&o, "seed", "7");
    ck_assert_int_eq(lab_start(lab, "raft", 3, &o), 0);
    opts_free(&o);
    ck_assert_int_eq(lab_exec(lab, "wait leader"), 0);
}

START_TEST(refused_operation_arguments_leave_nothing_allocated)
{
    struct lab lab;
    struct seen s;
    open_lab(&lab, &s);
    static const char *const lines[] = {"put x 1 w=0", "get x r=100", "put x 1 cl=one w=0", "put x 1 cl=most",
                                        "cas x 1 2 r=0", "get x cl=quorum r=99", "put \"\" 1 w=2", "get \"\" r=1"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        ck_assert_msg(lab_exec(&lab, lines[i]) != 0, "'%s' was accepted", lines[i]);
    ck_assert_ptr_nonnull(strstr(s.out.s, "bad w=0"));
    ck_assert_ptr_nonnull(strstr(s.out.s, "bad r=100"));
    close_lab(&lab, &s);
}
END_TEST

START_TEST(add_honours_or_refuses_its_argument)
{
    struct lab lab;
    struct seen s;
    open_lab(&lab, &s);
    start_sim(&lab);
    ck_assert_int_ne(lab_exec(&lab, "add n17"), 0);
    ck_assert_ptr_nonnull(strstr(s.out.s, "add n17: the next new node is n4"));
    ck_assert_int_ne(lab_exec(&lab, "add n0"), 0);
    ck_assert_int_ne(lab_exec(&lab, "add leader"), 0);
    ck_assert_int_eq(lab.cl->n, 3); /* nothing was spawned */
    ck_assert_int_ne(lab_exec(&lab, "add n3"), 0); /* an existing node goes to the mode: a member already */
    ck_assert_ptr_nonnull(strstr(s.out.s, "n3 is already a member"));
    ck_assert_int_eq(lab.cl->n, 3);
    ck_assert_int_eq(lab_exec(&lab, "add n4"), 0);
    ck_assert_int_eq(lab.cl->n, 4);
    close_lab(&lab, &s);
}
END_TEST

START_TEST(a_long_step_stops_when_interrupted)
{
    struct lab lab;
    struct seen s;
    open_lab(&lab, &s);
    start_sim(&lab);
    ck_assert_int_eq(lab_exec(&lab, "freeze"), 0);
    s.interrupt_after = s.events + 3000;
    ck_assert_int_eq(lab_exec(&lab, "step 1000000"), 0);
    const char *line = strstr(s.out.s, "stepped ");
    ck_assert_ptr_nonnull(line);
    ck_assert_msg(strstr(line, "interrupted") && atol(line + 8) < 1000000, "%s", line);
    ck_assert_ptr_nonnull(strstr(s.out.s, "step interrupted (Ctrl-C) after "));
    close_lab(&lab, &s);
}
END_TEST

START_TEST(converged_compares_something_in_the_simulator)
{
    struct lab lab;
    struct seen s;
    open_lab(&lab, &s);
    start_sim(&lab);
    ck_assert_int_eq(lab_exec(&lab, "put x 1"), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait converged"), 0);
    lab_refresh(&lab, NULL);
    struct sb why = {0};
    ck_assert_int_eq(lab_converged(&lab, &why), 1);
    /* each status carries the digest of its data, and small data inline */
    const json_t *st = lab_status_cached(&lab, 0);
    ck_assert_ptr_nonnull(json_object_get(st, "digest"));
    ck_assert_int_eq(json_integer_value(json_object_get(st, "keys")), 1);
    json_t *d = lab_node_data(&lab, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(d, "x")), 1); /* put x 1 sends the number */
    json_decref(d);
    sb_free(&why);
    close_lab(&lab, &s);
}
END_TEST

START_TEST(basic_paxos_says_it_has_no_leader_instead_of_waiting)
{
    struct lab lab;
    struct seen s;
    open_lab(&lab, &s);
    struct opts o = {0};
    opts_set(&o, "sim", "on");
    opts_set(&o, "seed", "7");
    ck_assert_int_eq(lab_start(&lab, "paxos", 3, &o), 0);
    uint64_t t0 = mono_us();
    ck_assert_int_ne(lab_exec(&lab, "wait leader"), 0);
    ck_assert_int_ne(lab_exec(&lab, "isolate leader"), 0);
    ck_assert_uint_lt(mono_us() - t0, 2000000); /* said at once, not after a timeout */
    ck_assert_ptr_nonnull(strstr(s.out.s, "elects no leader with multi=off (it does with multi=on)"));
    lab_exec(&lab, "stop");
    opts_set(&o, "multi", "on");
    ck_assert_int_eq(lab_start(&lab, "paxos", 3, &o), 0);
    ck_assert_int_eq(lab_exec(&lab, "wait leader"), 0);
    opts_free(&o);
    close_lab(&lab, &s);
}
END_TEST

Suite *suite_refusals(void);
Suite *suite_refusals(void)
{
    Suite *s = suite_create("refusals");
    TCase *tc = tcase_create("refusals");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, refused_operation_arguments_leave_nothing_allocated);
    tcase_add_test(tc, add_honours_or_refuses_its_argument);
    tcase_add_test(tc, a_long_step_stops_when_interrupted);
    tcase_add_test(tc, converged_compares_something_in_the_simulator);
    tcase_add_test(tc, basic_paxos_says_it_has_no_leader_instead_of_waiting);
    suite_add_tcase(s, tc);
    return s;
}
