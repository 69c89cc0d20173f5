/* fuzz_eventstore_one — the body of the eventstore decoders' fuzz target, shared by the
 * libFuzzer entry point (tests/fuzz_eventstore.c, `make fuzz`) and the Check suite that replays
 * tests/corpus/eventstore/ (tests/check_eventstore.c). The input is tried as a stored record
 * (es_decode_record) and, when it is a JSON object, as a client's append (es_decode_append).
 * Returns NULL when the input was handled correctly, else the broken property. */
#ifndef CONLAB_FUZZ_EVENTSTORE_ONE_H
#define CONLAB_FUZZ_EVENTSTORE_ONE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "esevent.h"

/* An accepted event is well formed, re-encodes to a record that decodes to the same event,
 * and folds; a refused one says why and leaves nothing behind. */
static inline const char *fuzz_eventstore_check(int rc, struct es_event *ev, const char *err)
{
    if (rc < 0)
        return !err[0] ? "refused without a reason" : ev->data || ev->stream[0] ? "refused but left output behind" : NULL;
    if (!es_valid_name(ev->stream, ES_STREAM_MAX) || !es_valid_name(ev->type, ES_TYPE_MAX) || !ev->data)
        return "accepted an invalid stream, type or data";
    if (ev->expected < -1)
        return "accepted an expected version below -1";
    struct es_event again;
    char err2[256] = "";
    if (!ev->v)
        ev->v = 1;
    char *rec = es_encode_record(ev);
    const char *bad = NULL;
    if (!rec || es_decode_record(rec, strlen(rec), &again, err2, sizeof err2) < 0)
        bad = "an accepted event's record is refused";
    else {
        if (strcmp(again.stream, ev->stream) || strcmp(again.type, ev->type) || again.v != ev->v ||
            again.expected != ev->expected || !json_equal(again.data, ev->data))
            bad = "a re-encoded record decodes differently";
        json_t *state = json_object(), *proj = json_object();
        es_fold(state, again.type, again.v, again.data);
        es_fold(state, again.type, again.v + 1, again.data);
        es_project(proj, again.stream, again.type);
        char dg[17];
        if (strlen(es_digest(state, dg)) != 16 || json_integer_value(json_object_get(proj, "total")) != 1)
            bad = "the fold or the projection went wrong";
        json_decref(state);
        json_decref(proj);
        es_event_clear(&again);
    }
    free(rec);
    return bad;
}

static inline const char *fuzz_eventstore_one(const uint8_t *data, size_t size)
{
    struct es_event ev;
    char err[256] = "";
    int rc = es_decode_record((const char *)data, size, &ev, err, sizeof err);
    const char *bad = fuzz_eventstore_check(rc, &ev, err);
    es_event_clear(&ev);
    if (bad)
        return bad;
    json_t *body = json_loadb((const char *)data, size, 0, NULL);
    if (json_is_object(body)) {
        err[0] = 0;
        rc = es_decode_append(body, &ev, err, sizeof err);
        bad = fuzz_eventstore_check(rc, &ev, err);
        es_event_clear(&ev);
    }
    json_decref(body);
    return bad;
}

#endif
