/* fuzz_histjsonl — libFuzzer target: the conlab JSONL history reader, the writers and the
 * checkers over whatever history it accepts. Build with `make fuzz`; saved inputs live in
 * tests/corpus/histjsonl/ and are replayed by the edn suite. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "histfile.h"
#include "lincheck.h"
#include "sessions.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct history *h = NULL;
    if (history_parse_jsonl((const char *)data, size, &h, err, sizeof err) != 0) {
        if (!strstr(err, "line "))
            abort();   /* every refusal names its position */
        return 0;
    }
    struct sb out = {0};
    history_write_jsonl(h, &out);
    struct history *g = NULL;
    if (history_parse_jsonl(out.s, out.len, &g, err, sizeof err) != 0 || g->n != h->n)
        abort();   /* what we write, we read back */
    history_free(&g);
    sb_free(&out);
    history_write_edn(h, &out);
    if (history_parse_edn(out.s, out.len, &g, err, sizeof err) != 0 || g->n != h->n)
        abort();
    history_free(&g);
    sb_free(&out);
    struct lin_opts o;
    lin_opts_default(&o);
    o.time_limit_s = 0.05;
    struct lin_result *res = NULL;
    if (lincheck_run(h, &o, &res, err, sizeof err) >= 0)
        lincheck_format(h, res, &out);
    lin_result_free(&res);
    struct sess_result *sr = NULL;
    sessions_check(h, &sr);
    sessions_format(h, sr, &out);
    sess_result_free(&sr);
    seqcheck_run(h, 0.05, &out);
    sb_free(&out);
    history_free(&h);
    return 0;
}
