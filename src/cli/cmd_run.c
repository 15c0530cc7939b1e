/* esp01 run SCRIPT.py - run a host file on the device without storing it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"

static const char usage[] =
    "usage: esp01 run SCRIPT.py\n"
    "Run a local script on the device without storing it.  Its output is\n"
    "streamed as it comes; Ctrl-C interrupts the script on the device.\n";

int cmd_run(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    const char *script = NULL;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "run", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (script)
            return cli_usage_error("run", "one script at a time");
        script = argv[i];
    }
    if (!script)
        return cli_usage_error("run", "which script? (e.g. esp01 run test.py)");
    uint8_t *data;
    size_t len;
    esp01_err err = {0};
    int rc = esp01_read_file(script, 1u << 20, &data, &len, &err);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    rc = cli_dev_run_code(&o, data, len);
    free(data);
    return rc;
}
