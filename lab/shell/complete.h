/* complete — what a shell may offer at the end of a conlab or conlab-node command line: the
 * subcommands, each one's options, and the values an option or argument takes (modes, lesson
 * ids and quiz topics come from the program itself, so completion never drifts from it).
 * The bash and zsh scripts beside this file ask `conlab --complete PROG WORD...` and show
 * what it prints. */
#ifndef CONLAB_COMPLETE_H
#define CONLAB_COMPLETE_H

#include "util.h"

/* Candidates for the last of words[0..n-1] (the word being typed, possibly empty) on a
 * command line of prog ("conlab" or "conlab-node", a path is fine), one per line, each
 * beginning with that word. Two lines are directives to the shell, never candidates:
 * "@file" (any file name) and "@file:EXT" (directories and names ending in .EXT). */
void complete_words(const char *prog, int n, char **words, struct sb *out);

/* `conlab --complete PROG WORD...` (argv[0] = "--complete"): prints complete_words' lines.
 * Returns the exit status (2 without PROG). */
int complete_main(int argc, char **argv);

#endif
