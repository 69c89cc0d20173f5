/* fuzz_zk_one — the body of the zk operation decoder's fuzz target (zksm_check_op and
 * zksm_apply on what it accepts, zksm_set_state on whole states), shared by the libFuzzer entry
 * point (tests/fuzz_zk.c, `make fuzz`) and the Check suite that replays tests/corpus/zk/
 * (tests/check_zk.c). Returns NULL when the input was handled correctly, else the broken
 * property. */
#ifndef CONLAB_FUZZ_ZK_ONE_H
#define CONLAB_FUZZ_ZK_ONE_H

#include <jansson.h>
#include <stdint.h>
#include <string.h>

#include "zksm.h"

static inline const char *fuzz_zk_one(const uint8_t *data, size_t size)
{
    json_t *j = json_loadb((const char *)data, size, JSON_DECODE_ANY, NULL);
    if (!j)
        return NULL;
    const char *bad = NULL;
    struct zksm z;
    zksm_init(&z);
    char err[300] = "";
    /* an operation, applied to a small tree; or a whole state */
    json_t *ops = json_is_array(j) ? j : NULL;
    size_t n = ops ? json_array_size(ops) : 1;
    for (size_t i = 0; i < n && i < 64 && !bad; i++) {
        const json_t *op = ops ? json_array_get(ops, i) : j;
        err[0] = 0;
        if (zksm_check_op(op, err, sizeof err) < 0) {
            if (!err[0])
                bad = "refused without a reason";
            json_t *r = zksm_apply(&z, i + 1, "c1", op, NULL);
            if (!json_object_get(r, "error"))
                bad = "applied an operation the check refused";
            json_decref(r);
            continue;
        }
        json_t *fired = json_array();
        json_t *r = zksm_apply(&z, i + 1, "c1", op, fired);
        if (!json_is_object(r))
            bad = "no result object";
        json_decref(r);
        json_decref(fired);
    }
    json_t *st = zksm_state(&z);
    struct zksm y;
    zksm_init(&y);
    if (zksm_set_state(&y, st, err, sizeof err) < 0)
        bad = "its own state does not load back";
    if (json_is_object(j) && json_object_get(j, "nodes"))
        zksm_set_state(&y, j, err, sizeof err);
    json_decref(st);
    zksm_free(&y);
    zksm_free(&z);
    json_decref(j);
    return bad;
}

#endif
