/* fuzz_peermsg — libFuzzer target: any JSON body, as a peer message from n2, to every mode that
 * handles its type (fuzz_targets.h). Built and run by `make fuzz`; the corpus is
 * tests/corpus/peermsg/, replayed by check_corpus. */
#include <stdio.h>

#include "fuzz_targets.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_peermsg_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_peermsg: %s\n", bad);
        abort();
    }
    return 0;
}
