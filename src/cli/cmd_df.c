/* esp01 df [:PATH] - filesystem size and free space on the device. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 df [:PATH]\n"
    "Show the size and free space of the device filesystem holding PATH.\n";

int cmd_df(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    const char *path = "";
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "df", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (!cli_dev_path(argv[i]))
            return cli_usage_error("df", "unexpected argument '%s'", argv[i]);
        path = cli_dev_path(argv[i]);
    }
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    esp01_err err = {0};
    uint64_t total, avail;
    uint32_t bs;
    rc = esp01_devfs_df(fs, path, &total, &avail, &bs, &err);
    if (rc < 0)
        return cli_dev_error(rc, &err);
    printf("%12s %12s %12s  %s\n", "size", "used", "free", "block");
    printf("%12llu %12llu %12llu  %u\n", (unsigned long long)total,
           (unsigned long long)(total - avail), (unsigned long long)avail, bs);
    return EXIT_OK;
}
