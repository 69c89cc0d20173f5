/* fuzz_edn — libFuzzer target: the EDN reader and writer, and the EDN history reader with a
 * bounded linearizability check of whatever history it accepts. Build with `make fuzz`;
 * saved inputs live in tests/corpus/edn/ and are replayed by the edn suite. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edn.h"
#include "histfile.h"
#include "lincheck.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct edn_reader *r = edn_open((const char *)data, size);
    struct edn *v = NULL;
    while (edn_next(r, &v, err, sizeof err) == 1) {
        struct sb out = {0};
        edn_write(&out, v);
        /* what the writer writes, the reader reads back */
        struct edn_reader *r2 = edn_open(out.s, out.len);
        struct edn *w = NULL;
        if (edn_next(r2, &w, err, sizeof err) != 1)
            abort();
        edn_free(w);
        edn_close(&r2);
        sb_free(&out);
        edn_free(v);
    }
    edn_close(&r);
    struct history *h = NULL;
    if (history_parse_edn((const char *)data, size, &h, err, sizeof err) == 0) {
        struct lin_opts o;
        lin_opts_default(&o);
        o.time_limit_s = 0.05;
        struct lin_result *res = NULL;
        if (lincheck_run(h, &o, &res, err, sizeof err) >= 0) {
            struct sb out = {0};
            lincheck_format(h, res, &out);
            sb_free(&out);
        }
        lin_result_free(&res);
        history_free(&h);
    } else if (!strstr(err, "line ")) {
        abort();   /* every refusal names its position */
    }
    return 0;
}
