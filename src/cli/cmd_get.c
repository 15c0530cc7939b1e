/* esp01 get [-r] :SRC [LOCAL] - copy device files to the host. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"
#include "esp01/tree.h"
#include "os/os.h"

static const char usage[] =
    "usage: esp01 get [-r] :SRC [LOCAL]\n"
    "Copy a device file (or with -r a directory) to the host.  LOCAL\n"
    "defaults to the file's name in the current directory; files are\n"
    "written atomically.\n"
    "  -r                 copy a directory recursively\n";

#define MAX_FILE (16u << 20)

static int fetch(esp01_devfs *fs, const char *src, const char *local)
{
    esp01_err err = {0};
    uint8_t *data;
    size_t len;
    int rc = esp01_devfs_read(fs, src, MAX_FILE, &data, &len, &err);
    if (rc < 0)
        return cli_dev_error(rc, &err);
    rc = esp01_write_file_atomic(local, data, len, &err);
    free(data);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    printf(":%s -> %s  %zu bytes\n", src, local, len);
    return EXIT_OK;
}

static bool is_dir(const char *p)
{
    return esp01_os_is_dir(p);
}

int cmd_get(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    bool recursive = false;
    const char *src = NULL, *local = NULL;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "get", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (!strcmp(argv[i], "-r"))
            recursive = true;
        else if (cli_dev_path(argv[i]) && !src)
            src = cli_dev_path(argv[i]);
        else if (!cli_dev_path(argv[i]) && !local)
            local = argv[i];
        else
            return cli_usage_error("get", "unexpected argument '%s'", argv[i]);
    }
    if (!src || !*src)
        return cli_usage_error("get", "which device file? (e.g. esp01 get :main.py)");
    const char *base = strrchr(src, '/');
    base = base ? base + 1 : src;
    if (!*base)
        return cli_usage_error("get", "':%s' has no file name", src);
    char path[ESP01_PATH_MAX];
    if (!local)
        local = base;
    else if (is_dir(local)) {
        if (!cli_dev_join(path, sizeof path, local, base))
            return cli_error("path too long");
        local = path;
    }
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc)
        return rc;
    if (!recursive)
        return fetch(fs, src, local);

    esp01_err err = {0};
    esp01_dev_entry *list;
    size_t n;
    rc = esp01_devfs_walk(fs, src, false, 20000, &list, &n, &err);
    if (rc < 0)
        return cli_dev_error(rc, &err);
    int status = EXIT_OK;
    esp01_err oe;
    int mrc = esp01_os_mkdir(local, &oe);
    if (mrc < 0 && mrc != ESP01_E_EXISTS)
        status = cli_error("cannot create '%s': %s", local, oe.msg);
    for (size_t i = 0; i < n && status == EXIT_OK; i++) {
        char dst[ESP01_PATH_MAX], from[ESP01_DEVPATH_MAX];
        if (!cli_dev_join(dst, sizeof dst, local, list[i].name) ||
            !cli_dev_join(from, sizeof from, src, list[i].name)) {
            status = cli_error("path too long");
            break;
        }
        if (list[i].is_dir) {
            mrc = esp01_os_mkdir(dst, &oe);
            if (mrc < 0 && mrc != ESP01_E_EXISTS)
                status = cli_error("cannot create '%s': %s", dst, oe.msg);
        } else {
            status = fetch(fs, from, dst);
        }
    }
    free(list);
    return status;
}
