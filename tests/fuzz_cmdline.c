/* fuzz_cmdline — libFuzzer target over cmdline_split and cmdline_words (and the escaping of
 * every word for display). Built and run by `make fuzz`; the corpus is tests/corpus/cmdline/. */
#include <stdio.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_cmdline_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_cmdline: %s\n", bad);
        abort();
    }
    return 0;
}
