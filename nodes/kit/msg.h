/* msg — typed getters for message bodies: a mode declares, per message type, the fields it
 * reads (name, type, range, required or optional) and msg_get() fills a plain struct or
 * refuses the body with one line naming the first missing or mistyped field:
 *
 *     write needs a string "value", got a number
 *     append_entries needs a whole number "prev_term" from 0 to 4611686018427387903, got -1
 *
 * Field names are the struct's member names (the macros stringify them), so a message's
 * struct reads like its wire form:
 *
 *     struct vote_req { uint64_t term, last_index, last_term; int pre; };
 *     static const struct msg_field vote_req_fields[] = {
 *         MSG_U64(struct vote_req, term, MAX_TERM), MSG_U64(struct vote_req, last_index, MAX_TERM),
 *         MSG_U64(struct vote_req, last_term, MAX_TERM), MSG_BOOL_OPT(struct vote_req, pre),
 *         MSG_END};
 *
 * Input from the network is refused, never asserted; a field table that does not match its
 * struct (a size mismatch) is our bug and asserts. Strings and JSON values handed out are
 * borrowed from the body; MSG_TEXT values are allocated (caller frees, see msg_free_text).
 *
 * Users: every mode's handlers (raft, leader, leaderless), for peer and client bodies.
 */
#ifndef CONLAB_MSG_H
#define CONLAB_MSG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum msg_kind {
    MSG_K_U64,      /* uint64_t: a whole number in [min, max] */
    MSG_K_INT,      /* int: a whole number in [min, max] */
    MSG_K_STR,      /* const char *: a string */
    MSG_K_STR_NULL, /* const char *: a string, or null (NULL) */
    MSG_K_TEXT,     /* char *: a string, or a whole number as its decimal text (allocated) */
    MSG_K_BOOL,     /* int: true or false (1 or 0) */
    MSG_K_ARRAY,    /* const json_t *: an array of at most max elements (max 0: any length) */
    MSG_K_OBJECT,   /* const json_t *: an object */
    MSG_K_HEX,      /* uint64_t: a hash as 16 hex digits */
    MSG_K_ANY,      /* const json_t *: any value (only its presence is checked) */
};

struct msg_field {
    const char *name;
    enum msg_kind kind;
    int optional;           /* absent: the out member is left as the caller set it */
    int64_t min;
    uint64_t max;
    size_t off, size;       /* where the value goes in the caller's struct */
};

#define MSG_FIELD_(S, m, kind, opt, lo, hi) {#m, kind, opt, lo, hi, offsetof(S, m), sizeof(((S *)0)->m)}
#define MSG_U64(S, m, hi) MSG_FIELD_(S, m, MSG_K_U64, 0, 0, hi)
#define MSG_U64_OPT(S, m, hi) MSG_FIELD_(S, m, MSG_K_U64, 1, 0, hi)
#define MSG_INT(S, m, lo, hi) MSG_FIELD_(S, m, MSG_K_INT, 0, lo, hi)
#define MSG_INT_OPT(S, m, lo, hi) MSG_FIELD_(S, m, MSG_K_INT, 1, lo, hi)
#define MSG_STR(S, m) MSG_FIELD_(S, m, MSG_K_STR, 0, 0, 0)
#define MSG_STR_OPT(S, m) MSG_FIELD_(S, m, MSG_K_STR, 1, 0, 0)
#define MSG_STR_NULL(S, m) MSG_FIELD_(S, m, MSG_K_STR_NULL, 0, 0, 0)
#define MSG_TEXT(S, m) MSG_FIELD_(S, m, MSG_K_TEXT, 0, 0, 0)
#define MSG_TEXT_OPT(S, m) MSG_FIELD_(S, m, MSG_K_TEXT, 1, 0, 0)
#define MSG_BOOL(S, m) MSG_FIELD_(S, m, MSG_K_BOOL, 0, 0, 0)
#define MSG_BOOL_OPT(S, m) MSG_FIELD_(S, m, MSG_K_BOOL, 1, 0, 0)
#define MSG_ARRAY(S, m, maxlen) MSG_FIELD_(S, m, MSG_K_ARRAY, 0, 0, maxlen)
#define MSG_ARRAY_OPT(S, m, maxlen) MSG_FIELD_(S, m, MSG_K_ARRAY, 1, 0, maxlen)
#define MSG_OBJECT(S, m) MSG_FIELD_(S, m, MSG_K_OBJECT, 0, 0, 0)
#define MSG_HEX(S, m) MSG_FIELD_(S, m, MSG_K_HEX, 0, 0, 0)
#define MSG_ANY(S, m) MSG_FIELD_(S, m, MSG_K_ANY, 0, 0, 0)
#define MSG_ANY_OPT(S, m) MSG_FIELD_(S, m, MSG_K_ANY, 1, 0, 0)
#define MSG_END {NULL, 0, 0, 0, 0, 0, 0}

/* Reads fields (MSG_END-terminated) from body into out. what names the body in the error
 * ("write", "an entry"; NULL: the body's "type", else "the message"). Returns 0, or CL_EINVAL
 * with err filled ("<what> needs …") and nothing allocated. */
int msg_get(const json_t *body, const char *what, const struct msg_field *fields, void *out,
            char *err, size_t errlen);
/* A client request: like msg_get() with out (size bytes) zeroed first; a refused body is
 * answered to src with error 12 (malformed request) naming the field. Returns 0 or CL_EINVAL. */
struct env;
int msg_get_request(struct env *e, const char *src, const json_t *body, const struct msg_field *fields,
                    void *out, size_t size);
/* Frees the MSG_K_TEXT members that msg_get() filled in out (and NULLs them). */
void msg_free_text(const struct msg_field *fields, void *out);

/* Appends a short description of v for an error: "nothing", "null", "a string", "-1", … */
void msg_describe(const json_t *v, char *buf, size_t len);

#endif
