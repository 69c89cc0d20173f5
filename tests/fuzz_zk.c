/* fuzz_zk — libFuzzer target over the zk tree's operation decoder and state loader (what a
 * client or a peer's SNAP hands a zab node with service=zk). Built and run by `make fuzz`; the
 * corpus is tests/corpus/zk/, replayed by the zk suite. */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_zk_one.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *bad = fuzz_zk_one(data, size);
    if (bad) {
        fprintf(stderr, "fuzz_zk: %s\n", bad);
        abort();
    }
    return 0;
}
