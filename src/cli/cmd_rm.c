/* esp01 rm [-r] :PATH... - remove device files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 rm [-r] :PATH...\n"
    "Remove files from the device; with -r also directories and everything\n"
    "in them.\n";

static int remove_tree(esp01_devfs *fs, const char *top)
{
    esp01_err err = {0};
    esp01_dev_entry *list;
    size_t n;
    int rc = esp01_devfs_walk(fs, top, false, 20000, &list, &n, &err);
    if (rc < 0)
        return cli_dev_error(rc, &err);
    /* Sorted by path, so walking backwards empties each directory first. */
    for (size_t i = n; i-- > 0;) {
        char p[ESP01_DEVPATH_MAX];
        if (!cli_dev_join(p, sizeof p, top, list[i].name)) {
            free(list);
            return cli_error("device path too long");
        }
        rc = list[i].is_dir ? esp01_devfs_rmdir(fs, p, &err)
                            : esp01_devfs_remove(fs, p, &err);
        if (rc < 0) {
            free(list);
            return cli_dev_error(rc, &err);
        }
    }
    free(list);
    rc = esp01_devfs_rmdir(fs, top, &err);
    return rc < 0 ? cli_dev_error(rc, &err) : EXIT_OK;
}

int cmd_rm(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    bool recursive = false;
    const char *paths[64];
    int count = 0;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "rm", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (!strcmp(argv[i], "-r"))
            recursive = true;
        else if (cli_dev_path(argv[i]) && *cli_dev_path(argv[i]) && count < 64)
            paths[count++] = cli_dev_path(argv[i]);
        else
            return cli_usage_error("rm", "'%s' is not a device path", argv[i]);
    }
    if (!count)
        return cli_usage_error("rm", "what to remove? (e.g. esp01 rm :old.py)");
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    for (int i = 0; i < count; i++) {
        const char *p = paths[i];
        esp01_err err = {0};
        esp01_dev_entry st;
        rc = esp01_devfs_stat(fs, p, &st, &err);
        if (rc < 0)
            return cli_dev_error(rc, &err);
        if (st.is_dir) {
            if (!recursive)
                return cli_error("':%s' is a directory (use -r, or rmdir)", p);
            rc = remove_tree(fs, p);
            if (rc)
                return rc;
        } else {
            rc = esp01_devfs_remove(fs, p, &err);
            if (rc < 0)
                return cli_dev_error(rc, &err);
        }
    }
    return EXIT_OK;
}
