/* fuzz_crdt — libFuzzer target: the CRDT state and causal-context decoders of the crdt mode
 * (nodes/kit/crdt.h), with an encode/decode round trip and idempotent merge of whatever
 * they accept. Build with `make fuzz`; saved inputs live in tests/corpus/crdt/ and are
 * replayed by the crdt suite. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "fuzz_crdt_target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (fuzz_crdt_one(data, size))
        abort();
    return 0;
}
