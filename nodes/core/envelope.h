/* envelope — the one module that turns ZeroMQ frames into messages and back (DESIGN §2).
 *
 * One frame = one JSON object in Maelstrom's envelope:
 *   {"src":"n1","dest":"n2","body":{"type":"append_entries","msg_id":7,...},
 *    "lamport":12,"vc":[3,0,5],"hlc":[1732471000456123,2],"inc":1732471000123}
 * lamport, vc and hlc (a hybrid logical clock: µs and a counter) are stamped by the runtime,
 * never by a mode; inc is the sender's
 * incarnation (its start time), so messages from a previous life can be told apart.
 * Every malformed input is refused with a one-line error naming what was wrong.
 */
#ifndef CONLAB_ENVELOPE_H
#define CONLAB_ENVELOPE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define ENVELOPE_MAX_BYTES (1u << 20) /* frames above 1 MiB are refused */

struct envelope {
    char src[CL_IDLEN];
    char dest[CL_IDLEN];
    json_t *body;               /* owned; an object with a string "type" */
    uint64_t lamport;           /* 0 when absent */
    int vc_n;                   /* entries in vc; 0 when absent */
    uint64_t vc[CL_MAXNODES];
    uint64_t inc;               /* sender incarnation; 0 when absent */
    uint64_t hlc_l, hlc_c;      /* hybrid logical clock (µs, counter); 0, 0 when absent */
};

/* Parses one frame. On success fills *out (call envelope_clear later) and returns 0; on
 * failure returns CL_EINVAL, leaves *out empty and writes a one-line reason into err. */
int envelope_decode(const void *buf, size_t len, struct envelope *out, char *err, size_t errlen);
/* Serialises env to compact JSON. Returns a malloc'd string (caller frees), length in *len. */
char *envelope_encode(const struct envelope *env, size_t *len);
/* Releases the body and zeroes the struct. */
void envelope_clear(struct envelope *env);
/* Valid node or client id: 1..15 chars of [A-Za-z0-9_.-]. */
int envelope_valid_id(const char *id);
/* Convenience: the body's "type", or "" (borrowed). */
const char *envelope_type(const struct envelope *env);
#endif
