/* fuzz_event — libFuzzer target over event_decode and the fold of a node's state (event.h).
 * Built and run by `make fuzz`; the corpus is tests/corpus/event/, replayed by check_corpus. */
#include <stdio.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_event_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_event: %s\n", bad);
        abort();
    }
    return 0;
}
