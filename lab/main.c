/* conlab — the lab's entry point (placeholder while the lab is built; the dashboard's
 * subcommands are wired here so that they can be used and tested end to end). */
#include <stdio.h>
#include <string.h>

#include "dashcli.h"

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "replay"))
        return replaycli_main(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "dash"))
        return dashcli_main(argc - 1, argv + 1);
    if (argc > 2 && !strcmp(argv[1], "bench") && !strcmp(argv[2], "dash"))
        return dashbench_main(argc - 2, argv + 2);
    puts("conlab");
    return 0;
}
