/* fuzz_yamldoc — libFuzzer entry point for the lesson/quiz YAML loader: any bytes go through
 * ydoc_parse and, when they parse, through the lesson and quiz-question validators. Nothing
 * may crash, leak or read out of bounds; every refusal must carry a position. Seeds and crash
 * reproducers live in tests/corpus/yamldoc/ and are replayed by check_yamldoc. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lesson.h"
#include "quiz.h"
#include "yamldoc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    struct ydoc *d;
    if (ydoc_parse((const char *)data, size, "fuzz.yaml", NULL, &d, err, sizeof err) == 0) {
        const struct ydoc_node *qs = ydoc_get(d->root, "questions");
        if (qs && qs->kind == YDOC_LIST)
            for (size_t i = 0; i < qs->n; i++) {
                struct quiz_question q;
                if (quiz_question_parse(d, qs->items[i], "fuzz", &q, err, sizeof err) == 0)
                    quiz_question_clear(&q);
            }
        ydoc_free(&d);
    } else if (strncmp(err, "fuzz.yaml:", 10) != 0) {
        abort(); /* every error names the file and a position */
    }
    struct lesson *l;
    if (lesson_parse((const char *)data, size, "fuzz.yaml", &l, err, sizeof err) == 0) {
        struct sb b = {0};
        lesson_solution_script(l, &b);
        sb_free(&b);
        lesson_free(&l);
    }
    return 0;
}
