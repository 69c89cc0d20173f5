/* fuzz_storage — libFuzzer target over the record parsers of storage.c: arbitrary bytes as a
 * log file left by a crash, then as a blob (see fuzz_storage_one). Works in one mkdtemp
 * directory. Built and run by `make fuzz`; the corpus is tests/corpus/storage/. */
#include "fuzz_targets.h"

static char dir[64];

static void remove_dir(void)
{
    rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!dir[0]) {
        strcpy(dir, "/tmp/conlab-fuzz-storage-XXXXXX");
        if (!mkdtemp(dir))
            abort();
        atexit(remove_dir);
    }
    const char *bad = fuzz_storage_one(data, size, dir);
    if (bad) {
        fprintf(stderr, "fuzz_storage: %s\n", bad);
        abort();
    }
    return 0;
}
