/* esp01 cat :FILE... - print device files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 cat :FILE...\n"
    "Write the contents of device files to standard output.\n";

int cmd_cat(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    int first = 0, nfiles = 0;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "cat", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (!cli_dev_path(argv[i]))
            return cli_usage_error("cat", "'%s' is not a device path (they "
                                          "start with ':')", argv[i]);
        nfiles++;
        if (!first)
            first = i;
    }
    if (!nfiles)
        return cli_usage_error("cat", "which file? (e.g. esp01 cat :main.py)");
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    for (int i = first; i < argc; i++) {
        const char *p = cli_dev_path(argv[i]);
        if (!p)
            continue;
        esp01_err err = {0};
        uint8_t *data;
        size_t len;
        rc = esp01_devfs_read(fs, p, 16u << 20, &data, &len, &err);
        if (rc < 0)
            return cli_dev_error(rc, &err);
        fwrite(data, 1, len, stdout);
        free(data);
    }
    return fflush(stdout) == 0 ? EXIT_OK : cli_error("cannot write output");
}
