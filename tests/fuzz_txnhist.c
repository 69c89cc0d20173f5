/* fuzz_txnhist — libFuzzer target over the transactional history reader (JSONL and EDN) and
 * both checkers of what it accepts. Built and run by `make fuzz`; the corpus is
 * tests/corpus/txnhist/, replayed by the txncheck suite. */
#include <stdio.h>

#include "fuzz_txnhist_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_txnhist_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_txnhist: %s\n", bad);
        abort();
    }
    return 0;
}
