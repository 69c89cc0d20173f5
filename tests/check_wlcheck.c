/* check_wlcheck — Maelstrom's g-set and broadcast checkers over history files: a valid history
 * (every acknowledged element in every node's final read) holds; a lost and an unexpected
 * element are named; stale reads and unacknowledged adds that were read are allowed; EDN sets
 * and vectors are read as collections, and a register checker refuses such a history. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkcli.h"
#include "wlcheck.h"

static int run(const char *flag, const char *ext, const char *text, struct sb *out, struct sb *err)
{
    char path[64];
    snprintf(path, sizeof path, "/tmp/conlab-wl-XXXXXX%s", ext);
    int fd = mkstemps(path, (int)strlen(ext));
    ck_assert(fd >= 0);
    ck_assert(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    close(fd);
    char *argv[] = {(char *)"check", (char *)flag, path, NULL};
    int rc = checkcli_run(flag ? 3 : 2, flag ? argv : (char *[]){(char *)"check", path, NULL}, out, err);
    unlink(path);
    return rc;
}

static const char bcast[] =
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"broadcast\",\"value\":1,\"time\":1,\"node\":\"n1\"}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"broadcast\",\"value\":1,\"time\":2,\"node\":\"n1\"}\n"
    "{\"process\":1,\"type\":\"invoke\",\"f\":\"broadcast\",\"value\":2,\"time\":3,\"node\":\"n2\"}\n"
    "{\"process\":1,\"type\":\"ok\",\"f\":\"broadcast\",\"value\":2,\"time\":4,\"node\":\"n2\"}\n"
    "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"time\":5,\"node\":\"n3\"}\n"
    "{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"value\":[1],\"time\":6,\"node\":\"n3\"}\n"
    "{\"process\":2,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"time\":7,\"node\":\"n3\"}\n"
    "{\"process\":2,\"type\":\"ok\",\"f\":\"read\",\"value\":[2,1],\"time\":8,\"node\":\"n3\"}\n"
    "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"time\":9,\"node\":\"n1\"}\n"
    "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":[1,2],\"time\":10,\"node\":\"n1\"}\n";

START_TEST(broadcast_every_acknowledged_message_everywhere_holds)
{
    struct sb out = {0}, err = {0};
    int rc = run("--broadcast", ".jsonl", bcast, &out, &err);
    ck_assert_msg(rc == 0, "%s%s", out.s ? out.s : "", err.s ? err.s : "");
    ck_assert_msg(strstr(out.s, "broadcast valid: all 2 acknowledged elements are in the final read of each of 2 readers; "
                                "1 stale reads"), "%s", out.s);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(broadcast_lost_on_one_node_is_named)
{
    char *text = strdup(bcast);
    char *p = strstr(text, "[1,2]");
    memcpy(p, "[1]  ", 5); /* n1's final read misses 2 */
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run("--broadcast", ".jsonl", text, &out, &err), 1);
    ck_assert_msg(strstr(out.s, "lost: 2 was acknowledged but is not in n1's final read"), "%s", out.s);
    free(text);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(gset_from_edn_sets_unexpected_and_recovered)
{
    static const char edn[] = "{:process 0, :type :invoke, :f :add, :value 1}\n"
                              "{:process 0, :type :ok, :f :add, :value 1}\n"
                              "{:process 1, :type :invoke, :f :add, :value 7}\n"
                              "{:process 1, :type :info, :f :add, :value 7}\n"
                              "{:process :nemesis, :type :info, :f :start}\n"
                              "{:process 2, :type :invoke, :f :read}\n"
                              "{:process 2, :type :ok, :f :read, :value #{1 7}}\n";
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(run("--g-set", ".edn", edn, &out, &err), 0);
    ck_assert_msg(strstr(out.s, "g-set valid") && strstr(out.s, "1 elements read whose add was never acknowledged"), "%s",
                  out.s);
    sb_free(&out);
    sb_free(&err);
    char *bad = strdup(edn);
    char *p = strstr(bad, "#{1 7}");
    memcpy(p, "#{1 9}", 6);
    ck_assert_int_eq(run("--g-set", ".edn", bad, &out, &err), 1);
    ck_assert_msg(strstr(out.s, "unexpected: 9 was read"), "%s", out.s);
    sb_free(&out);
    sb_free(&err);
    /* a register checker does not judge a history of collections */
    ck_assert_int_eq(run(NULL, ".edn", edn, &out, &err), 2);
    ck_assert_msg(err.s && strstr(err.s, "use --g-set or --broadcast"), "%s", err.s ? err.s : "");
    sb_free(&out);
    sb_free(&err);
    /* nothing acknowledged: cannot judge */
    ck_assert_int_eq(run("--g-set", ".edn", "{:process 2, :type :invoke, :f :read}\n{:process 2, :type :ok, :f :read, :value #{}}\n",
                         &out, &err), 2);
    ck_assert(strstr(out.s, "cannot judge"));
    free(bad);
    sb_free(&out);
    sb_free(&err);
}
END_TEST

START_TEST(the_independent_export_writes_k_v_tuples)
{
    static const char jl[] =
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"write\",\"key\":\"7\",\"value\":1}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"write\",\"key\":\"7\",\"value\":1}\n"
        "{\"process\":1,\"type\":\"invoke\",\"f\":\"cas\",\"key\":\"y\",\"value\":[1,2]}\n"
        "{\"process\":1,\"type\":\"fail\",\"f\":\"cas\",\"key\":\"y\",\"value\":[1,2]}\n"
        "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"key\":\"7\",\"value\":null}\n"
        "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"key\":\"7\",\"value\":1}\n";
    char path[] = "/tmp/conlab-ind-XXXXXX.jsonl";
    int fd = mkstemps(path, 6);
    ck_assert(fd >= 0);
    ck_assert(write(fd, jl, strlen(jl)) == (ssize_t)strlen(jl));
    close(fd);
    char *argv[] = {(char *)"check", (char *)"--to-edn", (char *)"--independent", path, NULL};
    struct sb out = {0}, err = {0};
    ck_assert_int_eq(checkcli_run(4, argv, &out, &err), 0);
    unlink(path);
    ck_assert_msg(strstr(out.s, "{:process 0, :type :invoke, :f :write, :value [7 1]}"), "%s", out.s);
    ck_assert(strstr(out.s, ":f :cas, :value [\"y\" [1 2]]}"));
    ck_assert(strstr(out.s, ":f :read, :value [7 nil]}"));
    ck_assert(strstr(out.s, ":type :ok, :f :read, :value [7 1]}"));
    ck_assert(!strstr(out.s, ":key"));
    sb_free(&out);
    sb_free(&err);
}
END_TEST

Suite *suite_wlcheck(void);
Suite *suite_wlcheck(void)
{
    Suite *s = suite_create("wlcheck");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, broadcast_every_acknowledged_message_everywhere_holds);
    tcase_add_test(tc, broadcast_lost_on_one_node_is_named);
    tcase_add_test(tc, gset_from_edn_sets_unexpected_and_recovered);
    tcase_add_test(tc, the_independent_export_writes_k_v_tuples);
    suite_add_tcase(s, tc);
    return s;
}
