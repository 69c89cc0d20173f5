/* fuzz_parse — libFuzzer target over the number and node-id parsers of util.c. Built and run
 * by `make fuzz`; the corpus is tests/corpus/parse/. */
#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_parse_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_parse: %s\n", bad);
        abort();
    }
    return 0;
}
