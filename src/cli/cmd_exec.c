/* esp01 exec 'CODE' - run Python code on the device. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 exec 'CODE'\n"
    "Run CODE on the device; its output is streamed, Ctrl-C interrupts it.\n";

int cmd_exec(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    const char *code = NULL;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "exec", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (code)
            return cli_usage_error("exec", "give the code as one argument");
        code = argv[i];
    }
    if (!code)
        return cli_usage_error("exec", "what code? (e.g. esp01 exec 'print(1)')");
    return cli_dev_run_code(&o, (const uint8_t *)code, strlen(code));
}
