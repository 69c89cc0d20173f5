/* fuzz_maelstrom — libFuzzer target over maelstrom_decode (a line a hosted Maelstrom program
 * writes) and its round trip. Built and run by `make fuzz`; the corpus is tests/corpus/maelstrom/. */
#include <stdio.h>

#include "fuzz_maelstrom_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_maelstrom_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_maelstrom: %s\n", bad);
        abort();
    }
    return 0;
}
