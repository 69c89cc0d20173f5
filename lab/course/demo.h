/* demo.h — `conlab demo LESSON [--pace SECONDS]`: a lesson's solution played step by step for
 * a class (see demo.c). */
#ifndef CONLAB_DEMO_H
#define CONLAB_DEMO_H

struct lab;

/* argv[0] is "demo". Returns the process exit status: 0 played (or stopped by the
 * instructor), 1 a command or check failed, 2 bad arguments or an unknown lesson. */
int demo_main(struct lab *lab, int argc, char **argv);

struct lesson;
struct sb;
/* The lesson's one-page demo cheat sheet, in markdown: the cluster, then per step what to
 * say (its text), what to type (its solution) and what to point at (its done text). */
void demo_sheet(const struct lesson *l, struct sb *out);

#endif
