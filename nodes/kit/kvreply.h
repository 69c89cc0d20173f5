/* kvreply — what a lin-kv reply (docs/protocol.md §1) means to the client that sent the
 * request: the one rule every client driver follows (the simulated clients of the tests, the
 * lab's gateway).
 *
 *   read_ok / write_ok / cas_ok / delete_ok         ok
 *   error 20 to a read                              ok: the key is absent (nil)
 *   error 11 naming a "leader"                      redirect: ask that node (not done yet)
 *   error 11 naming none                            unavailable: refused before doing anything
 *   any definite code (10 11 12 14 20 21 22 30)     fail: it certainly did not take effect
 *     unless the reply says "indefinite": true      info: it may have (a quorum write that
 *                                                   timed out after some replicas applied it)
 *   any other error, an unknown type                info: indeterminate
 *
 * Drivers decide what to do with redirect and unavailable (follow and retry, or report a
 * failure); the classification is pure.
 */
#ifndef CONLAB_KVREPLY_H
#define CONLAB_KVREPLY_H

#include <jansson.h>

enum kvreply_kind { KVR_OK, KVR_FAIL, KVR_INFO, KVR_REDIRECT, KVR_UNAVAILABLE };

struct kvreply {
    enum kvreply_kind kind;
    int code;               /* the error code, or -1 for a success */
    const char *text;       /* the error text, or "" (borrowed from the reply) */
    const char *leader;     /* KVR_REDIRECT: the node named (borrowed), else NULL */
    const json_t *value;    /* KVR_OK of a read: the value (NULL for nil; borrowed) */
};

/* Classifies reply, the answer to a request of type f ("read", "write", "cas", …). */
void kvreply_classify(const json_t *reply, const char *f, struct kvreply *out);
/* Maelstrom's definite errors: the operation certainly did not take effect. */
int kvreply_definite(int code);

#endif
