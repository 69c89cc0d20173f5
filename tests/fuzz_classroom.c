/* fuzz_classroom — libFuzzer entry point for the classroom's cluster files and key files
 * (fuzz_classroom_one.h). Seeds and reproducers: tests/corpus/classroom/, replayed by
 * check_classroom. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_classroom_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_classroom_one(data, size))
        abort();
    return 0;
}
