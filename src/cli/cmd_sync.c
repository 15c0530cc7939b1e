/* esp01 sync DIR [:DEST] - make the device match a project folder. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/hash.h"
#include "esp01/hostdir.h"
#include "esp01/tree.h"

static const char usage[] =
    "usage: esp01 sync [--delete] [--dry-run] PROJECT_DIR [:DEST]\n"
    "Upload the files of PROJECT_DIR whose sha256 differs from the copy on\n"
    "the device (all of them when the device has no hashlib).  Dotfiles and\n"
    "patterns in PROJECT_DIR/.esp01ignore are skipped.\n"
    "  --delete           remove device files that are not in the project\n"
    "  --dry-run          only say what would change\n"
    "  --encoding E       auto (default), deflate, base64 or repr\n";

static const esp01_dev_entry *find_dev(const esp01_dev_entry *list, size_t n,
                                       const char *path)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        int c = strcmp(list[mid].name, path);
        if (c == 0)
            return &list[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* --delete: the device files under `dest` that the project does not have
 * (backwards: a directory's contents go before the directory). */
static int remove_extra(esp01_devfs *fs, const esp01_tree *tree,
                        const esp01_dev_entry *have, size_t nhave,
                        const char *dest, bool dry, size_t *gone)
{
    esp01_err err = {0};
    int status = EXIT_OK;
    for (size_t i = nhave; i-- > 0 && status == EXIT_OK;) {
        if (esp01_tree_find(tree, have[i].name))
            continue;
        char target[ESP01_DEVPATH_MAX];
        if (!cli_dev_join(target, sizeof target, dest, have[i].name))
            continue;
        (*gone)++;
        if (dry) {
            printf("rm :%s\n", target);
            continue;
        }
        int rc = have[i].is_dir ? esp01_devfs_rmdir(fs, target, &err)
                                : esp01_devfs_remove(fs, target, &err);
        if (rc < 0)
            status = cli_dev_error(rc, &err);
        else
            printf("removed :%s\n", target);
    }
    return status;
}

int cmd_sync(int argc, char **argv)
{
    struct cli_dev_opts o;
    cli_dev_opts_init(&o);
    bool del = false, dry = false;
    const char *dir = NULL, *dest = NULL;
    for (int i = 1; i < argc; i++) {
        int t = cli_dev_arg(&o, argc, argv, &i, "sync", usage);
        if (t == CLI_ARG_TAKEN)
            continue;
        if (t != CLI_ARG_MINE)
            return t == CLI_ARG_HELP ? EXIT_OK : EXIT_USAGE;
        if (!strcmp(argv[i], "--delete"))
            del = true;
        else if (!strcmp(argv[i], "--dry-run") || !strcmp(argv[i], "-n"))
            dry = true;
        else if (cli_dev_path(argv[i]) && !dest)
            dest = cli_dev_path(argv[i]);
        else if (!cli_dev_path(argv[i]) && !dir)
            dir = argv[i];
        else
            return cli_usage_error("sync", "unexpected argument '%s'", argv[i]);
    }
    if (!dir)
        return cli_usage_error("sync", "which project folder? (e.g. esp01 sync .)");
    if (!dest)
        dest = "";
    esp01_tree tree = ESP01_TREE_INIT;
    esp01_err err = {0};
    int rc = esp01_hostdir_load(&tree, dir, "", NULL, &err);
    if (rc == 0)
        rc = esp01_tree_normalize(&tree, &err);
    if (rc < 0) {
        esp01_tree_free(&tree);
        return cli_lib_error(rc, &err);
    }
    esp01_devfs *fs;
    if ((rc = cli_dev_fs(&o, &fs))) {
        esp01_tree_free(&tree);
        return rc;
    }
    esp01_dev_entry *have = NULL;
    size_t nhave = 0;
    rc = esp01_devfs_walk(fs, dest, true, 20000, &have, &nhave, &err);
    if (rc == ESP01_E_NOTFOUND && *dest) {
        if (!dry && (rc = cli_dev_ensure_dir(fs, dest))) {
            esp01_tree_free(&tree);
            return rc;
        }
        rc = 0;
    }
    if (rc < 0) {
        esp01_tree_free(&tree);
        return cli_dev_error(rc, &err);
    }
    if (!fs->has_sha256)
        cli_warn("the device has no hashlib.sha256: uploading every file");
    size_t up = 0, same = 0, gone = 0;
    int status = EXIT_OK;
    for (size_t i = 0; i < tree.count && status == EXIT_OK; i++) {
        const esp01_entry *e = &tree.entries[i];
        const esp01_dev_entry *d = find_dev(have, nhave, e->path);
        char target[ESP01_DEVPATH_MAX];
        if (!cli_dev_join(target, sizeof target, dest, e->path)) {
            status = cli_error("device path too long: '%s'", e->path);
            break;
        }
        if (e->type == ESP01_ENTRY_DIR) {
            if (d && d->is_dir)
                continue;
            if (dry)
                printf("mkdir :%s\n", target);
            else
                status = cli_dev_ensure_dir(fs, target);
            continue;
        }
        if (d && !d->is_dir && d->has_sha && d->size == e->size) {
            uint8_t sha[32];
            char hex[65];
            esp01_sha256(e->data, e->size, sha);
            esp01_hex(sha, 32, hex);
            if (!strcmp(hex, d->sha256)) {
                same++;
                continue;
            }
        }
        up++;
        char label[ESP01_PATH_MAX + 300];
        snprintf(label, sizeof label, "%s/%s", dir, e->path);
        if (dry)
            printf("put %s -> :%s\n", label, target);
        else
            status = cli_dev_upload(fs, label, target, e->data, e->size);
    }
    if (del && status == EXIT_OK)
        status = remove_extra(fs, &tree, have, nhave, dest, dry, &gone);
    if (status == EXIT_OK)
        printf("%s%zu uploaded, %zu unchanged, %zu removed\n",
               dry ? "dry run: " : "", up, same, gone);
    free(have);
    esp01_tree_free(&tree);
    return status;
}
