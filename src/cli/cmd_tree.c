/* esp01 tree [:dir] - every file on the device, indented. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const char usage[] =
    "usage: esp01 tree [:DIR]\n"
    "Show every file and directory under DIR on the device, with sizes.\n";

int cmd_tree(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    const char *dir = NULL;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "tree", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (cli_dev_path(argv[i]) && !dir)
            dir = cli_dev_path(argv[i]);
        else
            return cli_usage_error("tree", "unexpected argument '%s'", argv[i]);
    }
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    esp01_err err = {0};
    esp01_dev_entry *list;
    size_t n;
    rc = esp01_devfs_walk(fs, dir ? dir : "", false, 20000, &list, &n, &err);
    if (rc < 0)
        return cli_dev_error(rc, &err);
    printf(":%s\n", dir && *dir ? dir : "");
    uint64_t bytes = 0;
    size_t files = 0;
    for (size_t i = 0; i < n; i++) {
        int depth = 0;
        const char *base = list[i].name;
        for (const char *c = list[i].name; *c; c++)
            if (*c == '/') {
                depth++;
                base = c + 1;
            }
        printf("%*s%s%s", 2 + depth * 2, "", base, list[i].is_dir ? "/" : "");
        if (!list[i].is_dir) {
            printf("  (%llu)", (unsigned long long)list[i].size);
            bytes += list[i].size;
            files++;
        }
        putchar('\n');
    }
    printf("%zu files, %llu bytes\n", files, (unsigned long long)bytes);
    free(list);
    return EXIT_OK;
}
