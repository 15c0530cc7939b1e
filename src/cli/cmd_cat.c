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
        int k = cli_dev_opt(&o, argc, argv, i, "cat");
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
