/* test_util — helpers shared by the Check suites. */
#ifndef CONLAB_TEST_UTIL_H
#define CONLAB_TEST_UTIL_H

#include <check.h>
#include <stdlib.h>

/* Number of simulator seeds for sweeps: small under CONLAB_QUICK (sanitizers, valgrind),
 * larger under CONLAB_FULL (make check-full). */
static inline int test_seeds(int normal)
{
    if (getenv("CONLAB_FULL"))
        return normal * 10;
    if (getenv("CONLAB_QUICK"))
        return normal / 20 > 2 ? normal / 20 : 2;
    return normal;
}

/* Are real-process tests allowed (not under valgrind)? */
static inline int test_procs_allowed(void)
{
    return getenv("CONLAB_NO_PROCS") == NULL;
}

#endif
