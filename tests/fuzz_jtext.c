/* fuzz_jtext — libFuzzer target over the value text (nodes/kit/jtext.h): what a student types as
 * a value (jtext_parse) and what a peer or a history hands over as a value's text
 * (jtext_decode). Built and run by `make fuzz`; the corpus is tests/corpus/jtext/, replayed by
 * the jsonlab suite. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_jtext_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_jtext_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_jtext: %s\n", bad);
        abort();
    }
    return 0;
}
