/* fuzz_eventstore — libFuzzer target over the eventstore mode's decoders (a stored or
 * replicated event record, a client's append) and their round trip. Built and run by `make fuzz`; the corpus is tests/corpus/eventstore/. */
#include <stdio.h>

#include "fuzz_eventstore_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_eventstore_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_eventstore: %s\n", bad);
        abort();
    }
    return 0;
}
