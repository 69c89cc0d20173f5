/* conlab — the lab's entry point: picks the interface (dashboard, plain REPL, script) or the
 * sub-command (check, lesson, quiz, bench, replay, dash) and hands over. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "checkbench.h"
#include "checkcli.h"
#include "traceexport.h"
#include "zkclient.h"
#include "complete.h"
#include "agent.h"
#include "dashcli.h"
#include "keys.h"
#include "demo.h"
#include "lab.h"
#include "lessoncli.h"
#include "lessonhost.h"
#include "live.h"
#include "repl.h"
#include "roomcmds.h"
#include "version.h"

static void usage(FILE *f)
{
    fputs("usage: conlab [--plain] [--no-color] [--start \"MODE N [key=value...]\" | --lesson ID]\n"
          "       conlab script FILE...          run commands from files ('-' = stdin)\n"
          "       conlab check [--model register|cas-register|kv] FILE\n"
          "       conlab lesson list | ID | validate FILE...\n"
          "       conlab demo LESSON [--pace S]   play a lesson's solution step by step for a class\n"
          "       conlab quiz [--topic T] [-n N] [--interview]\n"
          "       conlab bench [options]          load and timings\n"
          "       conlab replay FILE              a saved trace, with time travel\n"
          "       conlab trace export TRACE OUT [--shiviz|--chrome]   a saved trace for ShiViz or Perfetto\n"
          "       conlab dash                     watch a running lab from another terminal\n"
          "       conlab dash --attach HOST:PORT --server-key KEY --key FILE   a classroom's, read-only\n"
          "       conlab serve --bind ADDR:PORT --cluster FILE [--key FILE]   a classroom lab\n"
          "       conlab join HOST:PORT --server-key KEY --key FILE   run this host's nodes for it\n"
          "       conlab keygen FILE              a CURVE key pair for serve, join, dash --attach\n"
          "       conlab poke ENDPOINT FRAME      send one frame as any program could (the attacker)\n"
          "       conlab --help | --version\n"
          "\n"
          "conlab is a terminal lab for distributed-systems consistency: real node processes\n"
          "talk over ZeroMQ while you write, read, cut the network, crash nodes, and check the\n"
          "history. Type 'help' inside the lab for its commands; 'man conlab' for the manual.\n"
          "Exit status of 'script': 0 every expect held; 1 a command or expect failed; 2 the\n"
          "script could not be read or parsed.\n", f);
}

int main(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help"))) {
        usage(stdout);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--version")) {
        printf("conlab %s (commit %s)\n", conlab_version, conlab_commit);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "--complete")) /* for the shell's completion scripts */
        return complete_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "keygen"))
        return keygen_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "join"))
        return agent_main(argc - 1, argv + 1, argv[0]);
    if (argc >= 2 && !strcmp(argv[1], "poke"))
        return poke_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "serve"))
        return serve_main(argc - 1, argv + 1, argv[0]);
    struct lab lab;
    char err[512];
    roomcmds_install();
    if (argc >= 2 && !strcmp(argv[1], "script")) {
        if (argc < 3) {
            fprintf(stderr, "conlab script: name at least one script file ('-' reads stdin)\n");
            return 2;
        }
        if (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
            puts("usage: conlab script FILE...   run lab commands from files ('-' = stdin)\n"
                 "  echoes each command and its output; exit 0 every expect held, 1 a command\n"
                 "  or expect failed, 2 a script could not be read or parsed");
            return 0;
        }
        if (lab_init(&lab, argv[0], err, sizeof err) < 0) {
            fprintf(stderr, "conlab: %s\n", err);
            return 2;
        }
        lessonhost_install(&lab);
        int rc = script_run(&lab, argc - 2, argv + 2);
        lab_destroy(&lab);
        return rc;
    }
    if (argc >= 2 && !strcmp(argv[1], "demo")) {
        if (lab_init(&lab, argv[0], err, sizeof err) < 0) {
            fprintf(stderr, "conlab: %s\n", err);
            return 2;
        }
        lessonhost_install(&lab);
        repl_signals(&lab);
        int rc = demo_main(&lab, argc - 1, argv + 1);
        lab_destroy(&lab);
        return rc;
    }
    if (argc >= 2 && !strcmp(argv[1], "__client")) /* a named client session, spawned by the lab */
        return zkclient_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "check"))
        return checkcli_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "quiz"))
        return quizcli_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "lesson") && (argc == 2 || lessoncli_handles(argv[2])))
        return lessoncli_main(argc - 1, argv + 1);
    const char *lesson = NULL;
    if (argc >= 3 && !strcmp(argv[1], "lesson")) {
        lesson = argv[2]; /* conlab lesson ID [--plain] [--no-color] */
        argv[2] = argv[0];
        argv += 2;
        argc -= 2;
    }
    if (argc >= 2 && !strcmp(argv[1], "trace")) {
        if (argc >= 3 && !strcmp(argv[2], "export"))
            return traceexport_main(argc - 2, argv + 2);
        char a0[] = "export", a1[] = "--help";
        char *help[] = {a0, a1, NULL};
        if (argc >= 3 && !strcmp(argv[2], "--help"))
            return traceexport_main(2, help);
        fprintf(stderr, "conlab trace: expected 'export' (conlab trace export TRACE OUT [--shiviz|--chrome])\n");
        return 2;
    }
    if (argc >= 2 && !strcmp(argv[1], "replay"))
        return replaycli_main(argc - 1, argv + 1);
    if (argc >= 2 && !strcmp(argv[1], "dash"))
        return dashcli_main(argc - 1, argv + 1);
    if (argc >= 3 && !strcmp(argv[1], "bench") && !strcmp(argv[2], "dash"))
        return dashbench_main(argc - 2, argv + 2);
    if (argc >= 3 && !strcmp(argv[1], "bench") && !strcmp(argv[2], "check"))
        return checkbench_main(argc - 2, argv + 2);
    if (argc >= 2 && !strcmp(argv[1], "bench"))
        return bench_main(argc - 1, argv + 1, argv[0]);
    const char *start = NULL;
    int plain = 0, no_color = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--plain")) {
            plain = 1;
            continue;
        }
        if (!strcmp(argv[i], "--no-color")) {
            no_color = 1;
            continue;
        }
        if (!strcmp(argv[i], "--start") && i + 1 < argc) {
            start = argv[++i];
            continue;
        }
        if (!strcmp(argv[i], "--lesson") && i + 1 < argc) {
            lesson = argv[++i];
            continue;
        }
        fprintf(stderr, "conlab: unknown argument '%s'\n", argv[i]);
        usage(stderr);
        return 2;
    }
    if (lab_init(&lab, argv[0], err, sizeof err) < 0) {
        fprintf(stderr, "conlab: %s\n", err);
        return 1;
    }
    lessonhost_install(&lab);
    char *first = lesson ? xasprintf("lesson %s", lesson) : start ? xasprintf("start %s", start) : NULL;
    int rc = -1;
    if (!plain && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO)) {
        rc = live_run(&lab, first, no_color, err, sizeof err);
        if (rc < 0)
            fprintf(stderr, "conlab: no dashboard (%s): using the plain REPL\n", err);
    }
    if (rc < 0) {
        if (isatty(STDIN_FILENO))
            printf("conlab %s: type 'help' for commands, 'quit' to leave.\n", conlab_version);
        rc = repl_run(&lab, first);
    }
    free(first);
    lab_destroy(&lab);
    return rc;
}
