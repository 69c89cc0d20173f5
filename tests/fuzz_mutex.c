/* fuzz_mutex — libFuzzer target over the mutex record reader (`conlab check --mutex`) and the
 * checker of what it accepts. Built and run by `make fuzz`; the corpus is tests/corpus/mutex/,
 * replayed by the mutex suite. */
#include <stdio.h>

#include "fuzz_mutex_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_mutex_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_mutex: %s\n", bad);
        abort();
    }
    return 0;
}
