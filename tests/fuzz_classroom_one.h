/* fuzz_classroom_one — the classroom's decoders on any bytes (tests/fuzz_classroom.c, and
 * check_classroom's replay of tests/corpus/classroom/): a cluster file and a key file. Each
 * is accepted or refused with a message naming the file and a line; an accepted cluster file
 * holds 1..9 nodes, an accepted key file two valid keys. Returns NULL, or what broke. */
#ifndef CONLAB_FUZZ_CLASSROOM_ONE_H
#define CONLAB_FUZZ_CLASSROOM_ONE_H

#include <stdint.h>
#include <string.h>

#include "keys.h"
#include "room.h"

static inline const char *fuzz_classroom_one(const uint8_t *data, size_t size)
{
    char err[1024] = "";
    int nodes = 0;
    if (room_cluster_check((const char *)data, size, "fuzz.yaml", &nodes, err, sizeof err) == 0) {
        if (nodes < 1 || nodes > 9)
            return "a cluster file was accepted with a node count out of 1..9";
    } else if (strncmp(err, "fuzz.yaml", 9)) {
        return "a cluster file was refused without naming it";
    }
    char pub[KEY_Z85], sec[KEY_Z85];
    err[0] = 0;
    if (key_parse((const char *)data, size, "fuzz.key", pub, sec, err, sizeof err) == 0) {
        if (!key_valid(pub) || !key_valid(sec))
            return "a key file was accepted without two valid keys";
    } else if (strncmp(err, "fuzz.key", 8)) {
        return "a key file was refused without naming it";
    }
    return NULL;
}

#endif
