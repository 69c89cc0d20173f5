/* fuzz_trace — libFuzzer entry point for trace files: the bytes are loaded as a trace (any
 * line may be garbage), folded into the dashboard model, stepped back and forth in time and
 * drawn at a few sizes. `make fuzz` runs it; tests/corpus/trace/ holds the seeds and any
 * reproducer, replayed by the dashcli suite when no fuzzing engine is present. */
#include <stdint.h>
#include <stdio.h>

#include "canvas.h"
#include "layout.h"
#include "model.h"
#include "render.h"
#include "trace.h"

int fuzz_trace_one(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int fuzz_trace_one(const uint8_t *data, size_t size)
{
    if (size == 0 || size > (1u << 20))
        return 0;
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return 0;
    struct trace tr;
    struct sb err = {0};
    trace_load_file(f, "fuzz", &tr, &err);
    fclose(f);
    struct dm *m = dm_new(0);
    for (size_t i = 0; i < tr.n; i++)
        dm_feed(m, tr.ev[i]);
    static const int sizes[][2] = {{120, 40}, {80, 24}, {20, 5}};
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        struct canvas *c = canvas_new(sizes[k][0], sizes[k][1], k != 1);
        struct layout l;
        layout_compute(sizes[k][0], sizes[k][1], dm_view(m)->lesson.active ? LAYOUT_LESSON : 0, &l);
        struct render_ui ui = {.focus = PANE_CMDLINE, .selected_msg = 0, .show_json = true,
                               .filter = "n1", .cmdline = true};
        dm_seek(m, dm_count(m) / (k + 1));
        render_screen(c, &l, m, &ui);
        canvas_free(&c);
    }
    dm_destroy(&m);
    trace_free(&tr);
    sb_free(&err);
    return 0;
}

#ifndef CONLAB_NO_FUZZ_MAIN
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    return fuzz_trace_one(data, size);
}
#endif
