/* esevent — the event store's events: what a client's append carries, the record a node keeps
 * on disk and sends to replicas, the aggregate fold and the projection fold. Pure (jansson and
 * libc only), shared by the mode (eventstore.c), its monitor (esmon.c) and its fuzz target.
 *
 * An event: a stream name ("order-7": 1 to 63 of A-Z a-z 0-9 . _ : -), a type ("created": 1
 * to 31 of the same), its data (any JSON value: an object, 42, "42", [1] …, kept with its type;
 * absent or null is {}; at most ES_DATA_MAX bytes of JSON) and its version in the
 * stream (1, 2, 3, … — version 0 is the empty stream). An append names the version it expects
 * the stream to be at (optimistic concurrency), or none ("any").
 *
 * The aggregate of a stream is the fold of its events in order: {"status": the last event's
 * type, "version": its version, …the data fields}, where a data field overwrites the field of
 * the same name, null deletes it, and a field "+NAME" holding a whole number adds to NAME
 * ({"+balance":30} then {"+balance":-10} gives "balance":20). Data that is not an object (42,
 * "42", [1]) sets the field "data" to itself. A stream given as a whole number (7) is the
 * stream of its digits ("7").
 *
 * The projection (a read model over every stream) is {"total":N,"types":{type:count},
 * "last":{stream:type}}, folded over the committed events in log order.
 *
 * Ownership: es_decode_* fill a struct es_event whose data is a new reference (es_event_clear
 * drops it); es_encode_record returns a malloc'd string.
 */
#ifndef CONLAB_ESEVENT_H
#define CONLAB_ESEVENT_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define ES_STREAM_MAX 64
#define ES_TYPE_MAX 32
#define ES_DATA_MAX 4096
#define ES_VERSION_MAX 1000000000LL

struct es_event {
    char stream[ES_STREAM_MAX];
    char type[ES_TYPE_MAX];
    json_t *data;           /* any JSON, most often an object (never NULL once decoded) */
    int64_t expected;       /* the version the writer expects the stream at; -1: any */
    uint64_t v;             /* its version in the stream (records only) */
};

void es_event_clear(struct es_event *ev);
/* 1 when s is a valid stream name (max = ES_STREAM_MAX) or type (max = ES_TYPE_MAX). */
int es_valid_name(const char *s, size_t max);
/* A client's append {"type":"append","stream":S,"event":T,"data":{…}?,"expected":N|"any"?}.
 * 0, or -1 with err naming the field ("append needs a string \"stream\" ..."). */
int es_decode_append(const json_t *body, struct es_event *ev, char *err, size_t errlen);
/* A stored record {"s":S,"t":T,"v":N,"x":N,"d":{…}} (len bytes of JSON text). 0, or -1 with
 * err. */
int es_decode_record(const char *text, size_t len, struct es_event *ev, char *err, size_t errlen);
/* The record of ev (compact JSON, keys sorted). Caller frees. */
char *es_encode_record(const struct es_event *ev);

/* Folds one event into an aggregate state (an object). */
void es_fold(json_t *state, const char *type, uint64_t v, const json_t *data);
/* Folds one event into the projection (an object; starts as {}). */
void es_project(json_t *proj, const char *stream, const char *type);
/* A digest of a JSON value (its compact, key-sorted text): 16 hex digits into buf. */
const char *es_digest(const json_t *j, char buf[17]);

#endif
