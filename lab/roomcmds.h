/* roomcmds — the classroom's lab commands (`hosts`, `faults`) and `conlab serve`. */
#ifndef CONLAB_ROOMCMDS_H
#define CONLAB_ROOMCMDS_H

struct lab;

/* Adds the classroom's commands to every lab of the process (harmless outside a classroom:
 * they say so). */
void roomcmds_install(void);
/* `conlab serve --bind ADDR:PORT --cluster FILE [--key FILE] [--allow FILE] [SCRIPT...]`. */
int serve_main(int argc, char **argv, const char *argv0);

/* `conlab poke ENDPOINT FRAME`: one frame to any endpoint, as any program could (poke.c). */
int poke_main(int argc, char **argv);

#endif
