/* esp01 rmdir :DIR... */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 rmdir :DIR...\n"
    "Remove empty directories from the device.\n";

int cmd_rmdir(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    const char *dirs[64];
    int n = 0;
    for (int i = 1; i < argc; i++) {
        int k = cli_dev_opt(&o, argc, argv, i, "rmdir");
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
        const char *p = cli_dev_path(argv[i]);
        if (!p || !*p)
            return cli_usage_error("rmdir", "'%s' is not a device path", argv[i]);
        if (n == 64)
            return cli_usage_error("rmdir", "at most 64 directories at once");
        dirs[n++] = p;
    }
    if (!n)
        return cli_usage_error("rmdir", "which directory? (e.g. esp01 rmdir :lib)");
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    for (int i = 0; i < n; i++) {
        esp01_err err = {0};
        rc = esp01_devfs_rmdir(fs, dirs[i], &err);
        if (rc < 0)
            return cli_dev_error(rc, &err);
    }
    return EXIT_OK;
}
