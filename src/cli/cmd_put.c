/* esp01 put [-r] LOCAL... [:DEST] - copy host files to the device. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"
#include "esp01/hostdir.h"
#include "esp01/tree.h"
#include "os/os.h"

static const char usage[] =
    "usage: esp01 put [-r] LOCAL... [:DEST]\n"
    "Copy files to the device.  DEST defaults to the device's current\n"
    "directory; with several files or -r it must be a directory.  Each file\n"
    "is written under a temporary name, checked and renamed into place, so\n"
    "an interrupted copy leaves the old file intact.\n"
    "  -r                 copy directories recursively\n"
    "  --encoding E       auto (default), deflate, base64 or repr\n";

#define MAX_FILE (16u << 20)

static const char *base_name(const char *path)
{
    size_t n = strlen(path);
    while (n > 1 && path[n - 1] == '/')
        n--;
    const char *b = path;
    for (size_t i = 0; i + 1 < n; i++)
        if (path[i] == '/')
            b = path + i + 1;
    return b;
}

static int put_dir(esp01_devfs *fs, const char *local, const char *dest)
{
    esp01_tree tree = ESP01_TREE_INIT;
    esp01_err err = {0};
    char name[ESP01_NAME_MAX + 1];
    snprintf(name, sizeof name, "%s", base_name(local));
    size_t nl = strlen(name);
    while (nl > 1 && name[nl - 1] == '/')
        name[--nl] = '\0';
    char top[ESP01_DEVPATH_MAX];
    if (!cli_dev_join(top, sizeof top, dest, name))
        return cli_error("device path too long");
    int rc = esp01_hostdir_load(&tree, local, "", NULL, &err);
    if (rc == 0)
        rc = esp01_tree_normalize(&tree, &err);
    if (rc < 0) {
        esp01_tree_free(&tree);
        return cli_lib_error(rc, &err);
    }
    int status = cli_dev_ensure_dir(fs, top);
    for (size_t i = 0; i < tree.count && status == EXIT_OK; i++) {
        const esp01_entry *e = &tree.entries[i];
        char target[ESP01_DEVPATH_MAX], label[ESP01_PATH_MAX + 300];
        if (!cli_dev_join(target, sizeof target, top, e->path)) {
            status = cli_error("device path too long: '%s'", e->path);
            break;
        }
        if (e->type == ESP01_ENTRY_DIR) {
            status = cli_dev_ensure_dir(fs, target);
            continue;
        }
        snprintf(label, sizeof label, "%s/%s", local, e->path);
        status = cli_dev_upload(fs, label, target, e->data, e->size);
    }
    esp01_tree_free(&tree);
    return status;
}

int cmd_put(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    bool recursive = false;
    const char *dest = NULL;
    char **srcs = calloc((size_t)argc + 1, sizeof *srcs);
    int nsrc = 0;
    if (!srcs)
        return cli_error("out of memory");
    for (int i = 1; i < argc; i++) {
        int k = cli_dev_opt(&o, argc, argv, i, "put");
        if (k < 0) {
            free(srcs);
            return EXIT_USAGE;
        }
        if (k) {
            i += k - 1;
            continue;
        }
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("%s%s", usage, cli_dev_options_help);
            free(srcs);
            return EXIT_OK;
        }
        if (!strcmp(argv[i], "-r"))
            recursive = true;
        else if (cli_dev_path(argv[i])) {
            if (dest) {
                free(srcs);
                return cli_usage_error("put", "only one :DEST please");
            }
            dest = cli_dev_path(argv[i]);
        } else
            srcs[nsrc++] = argv[i];
    }
    if (!nsrc) {
        free(srcs);
        return cli_usage_error("put", "which files? (e.g. esp01 put main.py :)");
    }
    /* Check every source before touching the device. */
    for (int i = 0; i < nsrc; i++) {
        esp01_os_info st;
        esp01_err oe;
        const char *src = srcs[i];
        if (esp01_os_stat(src, true, &st, &oe) < 0) {
            free(srcs);
            return cli_error("cannot open '%s': %s", src, oe.msg);
        }
        if (st.type == ESP01_OS_DIRECTORY && !recursive) {
            free(srcs);
            return cli_error("'%s' is a directory (use -r)", src);
        }
    }
    if (!dest)
        dest = "";
    esp01_devfs *fs;
    int rc = cli_dev_fs(&o, &fs);
    if (rc) {
        free(srcs);
        return rc;
    }
    size_t dl = strlen(dest);
    bool into_dir = dl == 0 || dest[dl - 1] == '/' || nsrc > 1 || recursive;
    if (!into_dir) {
        esp01_dev_entry st;
        esp01_err err = {0};
        into_dir = esp01_devfs_stat(fs, dest, &st, &err) == 0 && st.is_dir;
    }
    int status = EXIT_OK;
    for (int i = 0; i < nsrc && status == EXIT_OK; i++) {
        if (esp01_os_is_dir(srcs[i])) {
            status = put_dir(fs, srcs[i], dest);
            continue;
        }
        char target[ESP01_DEVPATH_MAX];
        if (into_dir) {
            if (!cli_dev_join(target, sizeof target, dest, base_name(srcs[i]))) {
                status = cli_error("device path too long");
                break;
            }
        } else {
            snprintf(target, sizeof target, "%s", dest);
        }
        uint8_t *data;
        size_t len;
        esp01_err err = {0};
        rc = esp01_read_file(srcs[i], MAX_FILE, &data, &len, &err);
        if (rc < 0) {
            status = cli_lib_error(rc, &err);
            break;
        }
        status = cli_dev_upload(fs, srcs[i], target, data, len);
        free(data);
    }
    free(srcs);
    return status;
}
