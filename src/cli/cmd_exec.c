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
        int k = cli_dev_opt(&o, argc, argv, i, "exec");
        if (k < 0)
            return EXIT_USAGE;
        if (k) {
            i += k - 1;
            continue;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s%s", usage, cli_dev_options_help);
            return EXIT_OK;
        }
        if (code)
            return cli_usage_error("exec", "give the code as one argument");
        code = argv[i];
    }
    if (!code)
        return cli_usage_error("exec", "what code? (e.g. esp01 exec 'print(1)')");
    return cli_dev_run_code(&o, (const uint8_t *)code, strlen(code));
}
