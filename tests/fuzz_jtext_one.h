/* fuzz_jtext_one — the body of the jtext fuzz target (tests/fuzz_jtext.c, `make fuzz`), also
 * replayed over tests/corpus/jtext/ by the jsonlab suite. The input is what a student types as
 * a value and what a peer or a stored history hands over as a value text:
 *   - jtext_parse: refused with a reason, or a value whose text decodes back to an equal value;
 *   - jtext_decode of any text: a value, whose text decodes to an equal value again (a peer's
 *     garbage is some value, never a crash); jtext_show never NULL. */
#ifndef CONLAB_FUZZ_JTEXT_ONE_H
#define CONLAB_FUZZ_JTEXT_ONE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jtext.h"
#include "util.h"

static inline const char *fuzz_jtext_roundtrip(const json_t *v)
{
    char *t = jtext_encode(v);
    if (!t)
        return "a value has no text";
    json_t *back = jtext_decode(t);
    int same = back && json_equal((json_t *)v, back);
    int str_ok = jtext_is_string(t) == json_is_string(v);
    free(t);
    json_decref(back);
    if (!same)
        return "a value's text does not decode to the value";
    if (!str_ok)
        return "jtext_is_string disagrees with the value's type";
    return NULL;
}

static inline const char *fuzz_jtext_one(const uint8_t *data, size_t size)
{
    if (size > (1u << 16))
        return NULL;
    char err[200] = "";
    json_t *v = jtext_parse((const char *)data, size, err, sizeof err);
    const char *bad = NULL;
    if (!v && !err[0])
        bad = "refused without a reason";
    if (v && !bad)
        bad = fuzz_jtext_roundtrip(v);
    json_decref(v);
    if (bad)
        return bad;
    /* the bytes as a stored text (up to the first NUL, as a C string) */
    char *text = xstrndup((const char *)data, size);
    json_t *d = jtext_decode(text);
    if (!d)
        bad = "a text decodes to nothing";
    else if (!jtext_show(text))
        bad = "jtext_show gave NULL";
    else
        bad = fuzz_jtext_roundtrip(d);
    json_decref(d);
    free(text);
    return bad;
}

#endif
