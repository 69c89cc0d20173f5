/* fuzz_faults — libFuzzer target over partition specs and fault-rule JSON (faults.c). Built
 * and run by `make fuzz`; the corpus is tests/corpus/faults/. */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_faults_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_faults: %s\n", bad);
        abort();
    }
    return 0;
}
