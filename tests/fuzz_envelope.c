/* fuzz_envelope — libFuzzer target over envelope_decode (and its round trip through
 * envelope_encode). Built and run by `make fuzz`; the corpus is tests/corpus/envelope/. */
#include <stdio.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_envelope_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_envelope: %s\n", bad);
        abort();
    }
    return 0;
}
