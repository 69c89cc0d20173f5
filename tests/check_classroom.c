/* check_classroom — the classroom's pieces that need no second host (lab/keys.c, lab/room.c):
 * key files (made 0600; refused when others may read them, when a line is not public/secret,
 * when the public key is not the secret's), allow lists (a bad line named), cluster files
 * (hosts in order with their nodes; a host named like a node, a repeated host or key, keys on
 * some hosts only, too many nodes, each refused with its line), and the room's refusal to
 * bind a non-loopback address without keys. Real processes: tests/proc/classroom_*.sh. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <dirent.h>

#include "fuzz_classroom_one.h"
#include "keys.h"
#include "room.h"
#include "util.h"

static char dir[64];

static void setup(void)
{
    strcpy(dir, "/tmp/conlab-classroom-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char *cmd = xasprintf("rm -rf '%s'", dir);
    if (system(cmd) != 0) {
    }
    free(cmd);
}

static char *path(const char *name)
{
    static char p[256];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static void write_file(const char *name, const char *text, mode_t mode)
{
    FILE *f = fopen(path(name), "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    chmod(path(name), mode);
}

START_TEST(a_key_file_is_made_secret_and_read_back)
{
    char pub[KEY_Z85], pub2[KEY_Z85], sec[KEY_Z85], err[512];
    ck_assert_int_eq(key_generate(path("k"), 0, pub, err, sizeof err), 0);
    struct stat st;
    ck_assert_int_eq(stat(path("k"), &st), 0);
    ck_assert_int_eq(st.st_mode & 0777, 0600);
    ck_assert_int_eq(key_read(path("k"), pub2, sec, err, sizeof err), 0);
    ck_assert_str_eq(pub, pub2);
    ck_assert(key_valid(pub) && key_valid(sec));
    /* never overwritten without --force */
    ck_assert_int_lt(key_generate(path("k"), 0, pub2, err, sizeof err), 0);
    ck_assert_ptr_nonnull(strstr(err, "--force"));
    ck_assert_int_eq(key_generate(path("k"), 1, pub2, err, sizeof err), 0);
    ck_assert_str_ne(pub, pub2);
}
END_TEST

START_TEST(a_bad_key_file_is_refused_with_the_reason)
{
    char pub[KEY_Z85], sec[KEY_Z85], other[KEY_Z85], osec[KEY_Z85], err[512];
    zmq_curve_keypair(pub, sec);
    zmq_curve_keypair(other, osec);
    char *ok = xasprintf("public = %s\nsecret = %s\n", pub, sec);
    write_file("open", ok, 0644);
    ck_assert_int_lt(key_read(path("open"), pub, sec, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "group or others may read"), "%s", err);
    char *mismatch = xasprintf("# mine\npublic = %s\nsecret = %s\n", other, sec);
    write_file("mismatch", mismatch, 0600);
    ck_assert_int_lt(key_read(path("mismatch"), pub, sec, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "not the secret key's"), "%s", err);
    write_file("junk", "public: nope\n", 0600);
    ck_assert_int_lt(key_read(path("junk"), pub, sec, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "junk:1:"), "%s", err);
    write_file("short", "secret = abc\n", 0600);
    ck_assert_int_lt(key_read(path("short"), pub, sec, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "short:1: secret is not a 40-character"), "%s", err);
    write_file("nosecret", "# nothing\n", 0600);
    ck_assert_int_lt(key_read(path("nosecret"), pub, sec, err, sizeof err), 0);
    ck_assert_msg(strstr(err, "no 'secret = KEY'"), "%s", err);
    free(ok);
    free(mismatch);
}
END_TEST

START_TEST(an_allow_list_names_its_bad_line)
{
    char a[KEY_Z85], as[KEY_Z85], err[512];
    zmq_curve_keypair(a, as);
    char *text = xasprintf("# the class\n%s alice\n\n%s\n", a, a);
    write_file("allow", text, 0644);
    struct keylist l = {0};
    ck_assert_int_eq(keylist_read(&l, path("allow"), err, sizeof err), 0);
    ck_assert_int_eq(l.n, 1); /* the same key twice is one */
    ck_assert_str_eq(l.name[0], "alice");
    ck_assert_int_eq(keylist_find(&l, a), 0);
    write_file("bad", "# ok\nnot-a-key bob\n", 0644);
    ck_assert_int_lt(keylist_read(&l, path("bad"), err, sizeof err), 0);
    ck_assert_msg(strstr(err, "bad:2:"), "%s", err);
    free(text);
}
END_TEST

static struct room *open_room(const char *yaml, const char *bind, char *err, size_t n)
{
    write_file("c.yaml", yaml, 0644);
    struct room_config cfg = {.bind = bind, .cluster = path("c.yaml")};
    return room_open(&cfg, err, n);
}

START_TEST(a_cluster_file_places_the_nodes_on_their_hosts)
{
    char err[1024];
    struct room *r = open_room("hosts:\n  - {name: hostA, nodes: 2}\n  - {name: host-b, nodes: 0}\n"
                               "  - {name: host_C, nodes: 3}\n", "127.0.0.1:*", err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    ck_assert_int_eq(room_nhosts(r), 3);
    ck_assert_int_eq(room_nodes(r), 5);
    ck_assert_int_eq(room_host_of(r, 0), 0);
    ck_assert_int_eq(room_host_of(r, 1), 0);
    ck_assert_int_eq(room_host_of(r, 2), 2);
    ck_assert_int_eq(room_host_of(r, 4), 2);
    ck_assert_int_eq(room_host_of(r, 5), -1);
    ck_assert_int_eq(room_host_find(r, "host_C"), 2);
    ck_assert_int_eq(room_host_find(r, "hostX"), -1);
    ck_assert(key_valid(room_server_key(r)));
    ck_assert_msg(!strncmp(room_endpoint(r), "tcp://127.0.0.1:", 16) && !strchr(room_endpoint(r), '*'), "%s",
                  room_endpoint(r));
    room_close(&r);
}
END_TEST

START_TEST(a_bad_cluster_file_is_refused_with_its_line)
{
    char k1[KEY_Z85], s1[KEY_Z85], err[1024];
    zmq_curve_keypair(k1, s1);
    static const struct { const char *yaml, *want; } cases[] = {
        {"hosts:\n  - {name: n3, nodes: 1}\n", "c.yaml:2:"},
        {"hosts:\n  - {name: leader, nodes: 1}\n", "not a node id"},
        {"hosts:\n  - {name: a, nodes: 1}\n  - {name: a, nodes: 1}\n", "named twice"},
        {"hosts:\n  - {name: a, nodes: 5}\n  - {name: b, nodes: 5}\n", "at most 9 nodes"},
        {"hosts:\n  - {name: a, nodes: 0}\n", "no node"},
        {"hosts: []\n", "from 1 to"},
        {"hosts:\n  - {name: a, nodes: 1, key: short}\n", "Z85 public key"},
        {"hosts:\n  - {name: a, nodes: 1}\nviewers: 100\n", "viewers"},
        {"hosts:\n  - {name: a, nodes: 1}\nheartbeat: 1s\ntimeout: 1s\n", "two heartbeats"},
        {"hosts:\n  - {name: a, nodes: 1}\nhostz: 1\n", "hostz"},
        {"mode: raft\n", "hosts"},
    };
    for (size_t i = 0; i < CL_ARRAY_LEN(cases); i++) {
        struct room *r = open_room(cases[i].yaml, "127.0.0.1:*", err, sizeof err);
        ck_assert_msg(r == NULL, "case %zu was accepted", i);
        ck_assert_msg(strstr(err, cases[i].want), "case %zu: '%s' does not say '%s'", i, err, cases[i].want);
    }
    /* keys on some hosts only */
    char *mixed = xasprintf("hosts:\n  - {name: a, nodes: 1, key: \"%s\"}\n  - {name: b, nodes: 1}\n", k1);
    ck_assert_ptr_null(open_room(mixed, "127.0.0.1:*", err, sizeof err));
    ck_assert_msg(strstr(err, "every host a key, or none"), "%s", err);
    /* the same key for two hosts */
    char *same = xasprintf("hosts:\n  - {name: a, nodes: 1, key: \"%s\"}\n  - {name: b, nodes: 1, key: \"%s\"}\n", k1, k1);
    ck_assert_ptr_null(open_room(same, "127.0.0.1:*", err, sizeof err));
    ck_assert_msg(strstr(err, "same key"), "%s", err);
    free(mixed);
    free(same);
}
END_TEST

START_TEST(without_keys_only_loopback_is_bound)
{
    char err[1024];
    const char *open = "hosts:\n  - {name: a, nodes: 1}\n";
    ck_assert_ptr_null(open_room(open, "0.0.0.0:7400", err, sizeof err));
    ck_assert_msg(strstr(err, "refusing to bind 0.0.0.0:7400 without keys"), "%s", err);
    ck_assert_ptr_null(open_room(open, "10.1.2.3:7400", err, sizeof err));
    ck_assert_ptr_null(open_room(open, "7400", err, sizeof err));
    ck_assert_msg(strstr(err, "ADDR:PORT"), "%s", err);
    ck_assert(room_is_loopback("127.0.0.1") && room_is_loopback("127.3.4.5") && room_is_loopback("localhost"));
    ck_assert(!room_is_loopback("0.0.0.0") && !room_is_loopback("128.0.0.1") && !room_is_loopback("10.0.0.1"));
    /* with keys, any address may be bound (here one that is certainly ours) */
    char k[KEY_Z85], s[KEY_Z85];
    zmq_curve_keypair(k, s);
    char *keyed = xasprintf("hosts:\n  - {name: a, nodes: 1, key: \"%s\"}\n", k);
    struct room *r = open_room(keyed, "0.0.0.0:*", err, sizeof err);
    ck_assert_msg(r != NULL, "%s", err);
    room_close(&r);
    free(keyed);
}
END_TEST

/* the fuzz target's corpus, without a fuzzing engine (make fuzz grows it) */
START_TEST(the_fuzz_corpus_is_handled)
{
    DIR *d = opendir("tests/corpus/classroom");
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char *p = xasprintf("tests/corpus/classroom/%s", e->d_name);
        FILE *f = fopen(p, "rb");
        ck_assert_ptr_nonnull(f);
        static uint8_t buf[1 << 16];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        const char *bad = fuzz_classroom_one(buf, len);
        ck_assert_msg(bad == NULL, "%s: %s", p, bad);
        free(p);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 5);
    /* the seeds say what they should */
    char pub[KEY_Z85], sec[KEY_Z85], err[512];
    int nodes;
    static const char key[] = "public = rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7\n"
                              "secret = JTKVSB%%)wK0E.X)V>+}o?pNmC{O&4W4b!Ni{Lh6\n";
    ck_assert_int_eq(key_parse(key, strlen(key), "k", pub, sec, err, sizeof err), 0);
    static const char open[] = "hosts:\n  - {name: a, nodes: 1}\n  - {name: b, nodes: 2}\n";
    ck_assert_int_eq(room_cluster_check(open, strlen(open), "c", &nodes, err, sizeof err), 0);
    ck_assert_int_eq(nodes, 3);
}
END_TEST

Suite *suite_classroom(void);
Suite *suite_classroom(void)
{
    Suite *s = suite_create("classroom");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, a_key_file_is_made_secret_and_read_back);
    tcase_add_test(tc, a_bad_key_file_is_refused_with_the_reason);
    tcase_add_test(tc, an_allow_list_names_its_bad_line);
    tcase_add_test(tc, a_cluster_file_places_the_nodes_on_their_hosts);
    tcase_add_test(tc, a_bad_cluster_file_is_refused_with_its_line);
    tcase_add_test(tc, without_keys_only_loopback_is_bound);
    tcase_add_test(tc, the_fuzz_corpus_is_handled);
    suite_add_tcase(s, tc);
    return s;
}
