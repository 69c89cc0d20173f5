/* runner — runs every Check suite (the table is generated from tests/check_*.c).
 * CONLAB_SUITE=name[,name] runs only those suites, CONLAB_SKIP=name[,name] all but those
 * (commas or spaces between names);
 * CK_RUN_CASE works as usual. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct suite_entry {
    const char *name;
    Suite *(*make)(void);
};
extern const struct suite_entry suite_table[];

/* is NAME in LIST (names separated by commas or spaces)? */
static int listed(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ", ");
        if (len == n && !strncmp(p, name, n))
            return 1;
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

static int wanted(const char *name)
{
    const char *only = getenv("CONLAB_SUITE"), *skip = getenv("CONLAB_SKIP");
    if (skip && *skip && listed(skip, name))
        return 0;
    return !only || !*only || listed(only, name);
}

int main(void)
{
    SRunner *sr = NULL;
    for (const struct suite_entry *e = suite_table; e->name; e++) {
        if (!wanted(e->name))
            continue;
        if (!sr)
            sr = srunner_create(e->make());
        else
            srunner_add_suite(sr, e->make());
    }
    if (!sr) {
        fprintf(stderr, "no suite matches CONLAB_SUITE and CONLAB_SKIP\n");
        return 2;
    }
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
