/* esp01 ls [-l] [:dir] - list a directory on the device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 ls [-l] [:DIR]\n"
    "List DIR on the device (default: its current directory).\n"
    "  -l                 show sizes\n";

int cmd_ls(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    bool lng = false;
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "ls", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (!strcmp(argv[i], "-l"))
            lng = true;
        else if (cli_dev_path(argv[i]) && !dir)
            dir = cli_dev_path(argv[i]);
        else
            return cli_usage_error("ls", "unexpected argument '%s' (device "
                                         "paths start with ':')", argv[i]);
    }
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    esp01_err err = {0};
    esp01_dev_entry *list;
    size_t n;
    rc = esp01_devfs_list(fs, dir ? dir : "", &list, &n, &err);
    if (rc < 0)
        return cli_dev_error(rc, &err);
    for (size_t i = 0; i < n; i++) {
        if (lng && list[i].is_dir)
            printf("%10s  %s/\n", "", list[i].name);
        else if (lng)
            printf("%10llu  %s\n", (unsigned long long)list[i].size,
                   list[i].name);
        else
            printf("%s%s\n", list[i].name, list[i].is_dir ? "/" : "");
    }
    free(list);
    return EXIT_OK;
}
