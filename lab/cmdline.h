/* cmdline — splitting what the user typed: a line into commands at ';' (outside quotes) and a
 * command into words, with "double" and 'single' quotes and backslash escapes. Errors name
 * the problem (unbalanced quote, trailing backslash). Pure; owns nothing after return. */
#ifndef CONLAB_CMDLINE_H
#define CONLAB_CMDLINE_H

#include <stddef.h>

#define CMDLINE_MAX_WORDS 64
#define CMDLINE_MAX_LINE (64 * 1024)

struct words {
    int argc;
    char *argv[CMDLINE_MAX_WORDS + 1];
    char *raw[CMDLINE_MAX_WORDS + 1];   /* each word as typed, quotes and escapes kept (a
                                           value's JSON: put x "42"); NULL when not split
                                           from a line */
};

/* Splits line into commands at unquoted ';' and '#' (comment). Returns the number of commands
 * (each malloc'd in out[], caller frees each) or -1 with err filled. */
int cmdline_split(const char *line, char **out, int max, char *err, size_t errlen);
/* Splits one command into words (argv, and raw: each as typed). Returns 0, or -1 with err
 * filled. Free with words_free. */
int cmdline_words(const char *cmd, struct words *w, char *err, size_t errlen);
void words_free(struct words *w);

#endif
