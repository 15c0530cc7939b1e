/*
 * cmd_fs_extract.c - `esp01 fs extract`: writing a partition's tree into a
 * host directory.  The image is hostile and the destination may hold
 * symlinks, so directories are opened one component at a time without
 * following links (os.h's held folders), and nothing is written until
 * every entry has been checked against what is already there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cmd_fs.h"
#include "os/os.h"

/*
 * The destination's directories, held one component at a time so that no
 * symlink in DIR is ever followed.  Entries come in path order, so the
 * last parent opened is kept for its siblings.
 */
typedef struct dest {
    esp01_os_dirh *root;
    esp01_os_dirh *cur;            /* parent of the last entry, or NULL */
    char dir[ESP01_PATH_MAX + 1];  /* its path relative to root */
} dest;

static void dest_close(dest *d)
{
    if (d->cur != d->root)
        esp01_os_dirh_close(d->cur);
    d->cur = NULL;
    d->dir[0] = '\0';
}

/* The folder holding `path`, or NULL with the failure in *rc and err. */
static esp01_os_dirh *dest_parent(dest *d, const char *path, bool create,
                                  const char **leaf, int *rc, esp01_err *err)
{
    const char *slash = strrchr(path, '/');
    size_t plen = slash ? (size_t)(slash - path) : 0;
    *leaf = slash ? slash + 1 : path;
    if (d->cur && strlen(d->dir) == plen && strncmp(d->dir, path, plen) == 0)
        return d->cur;
    dest_close(d);
    esp01_os_dirh *h = d->root;
    char comp[ESP01_PATH_MAX + 1];
    const char *p = path;
    while (p < path + plen) {
        const char *end = strchr(p, '/');
        size_t n = (size_t)(end - p);
        memcpy(comp, p, n);
        comp[n] = '\0';
        esp01_os_dirh *next;
        *rc = esp01_os_dirh_sub(h, comp, create, &next, err);
        if (h != d->root)
            esp01_os_dirh_close(h);
        if (*rc < 0)
            return NULL;
        h = next;
        p = end + 1;
    }
    d->cur = h;
    memcpy(d->dir, path, plen);
    d->dir[plen] = '\0';
    return h;
}

/* First pass: refuse before writing anything if a file would be
   overwritten or a symlink is in the way. */
static int check_dest(dest *d, const esp01_tree *tree, bool force, bool *exists)
{
    int rc = EXIT_OK;
    for (size_t i = 0; i < tree->count && rc == EXIT_OK; i++) {
        const esp01_entry *e = &tree->entries[i];
        const char *leaf;
        int orc;
        esp01_err err;
        esp01_os_dirh *h = dest_parent(d, e->path, false, &leaf, &orc, &err);
        if (!h) {
            if (orc == ESP01_E_NOTFOUND)
                continue;
            rc = orc == ESP01_E_INVAL
                     ? cli_error("'%s': a directory above it in the "
                                 "destination is a symlink or a file; not "
                                 "following it", e->path)
                     : cli_error("cannot open '%s': %s", e->path, err.msg);
            break;
        }
        esp01_os_info st;
        if (esp01_os_dirh_stat(h, leaf, &st, NULL) < 0)
            continue;
        exists[i] = true;
        if (st.type == ESP01_OS_SYMLINK)
            rc = cli_error("'%s' in the destination is a symlink; not "
                           "following it", e->path);
        else if (e->type == ESP01_ENTRY_DIR && st.type != ESP01_OS_DIRECTORY)
            rc = cli_error("'%s' in the destination is not a directory",
                           e->path);
        else if (e->type == ESP01_ENTRY_FILE && st.type != ESP01_OS_REGULAR)
            rc = cli_error("'%s' in the destination is not a regular file",
                           e->path);
        else if (e->type == ESP01_ENTRY_FILE && !force)
            rc = cli_error("'%s' already exists (use --force to overwrite)",
                           e->path);
    }
    dest_close(d);
    return rc;
}

/* Second pass: a new file is created only if nothing is there; one being
   replaced (--force) is written aside and put in its place in one step,
   so a failure never leaves it half written. */
static int write_dest(dest *d, const esp01_tree *tree, const bool *exists,
                      size_t *files, size_t *dirs)
{
    int rc = EXIT_OK;
    for (size_t i = 0; i < tree->count && rc == EXIT_OK; i++) {
        const esp01_entry *e = &tree->entries[i];
        const char *leaf;
        int orc;
        esp01_err err;
        esp01_os_dirh *h = dest_parent(d, e->path, true, &leaf, &orc, &err);
        if (!h) {
            rc = cli_error("cannot create the directory of '%s': %s", e->path,
                           err.msg);
            break;
        }
        if (e->type == ESP01_ENTRY_DIR) {
            if (!exists[i] && (orc = esp01_os_dirh_mkdir(h, leaf, &err)) < 0 &&
                orc != ESP01_E_EXISTS)
                rc = cli_error("cannot create '%s': %s", e->path, err.msg);
            (*dirs)++;
        } else {
            if (esp01_os_dirh_write_file(h, leaf, e->data, e->size,
                                         e->has_mtime ? &e->mtime_ns : NULL,
                                         exists[i], &err) < 0)
                rc = cli_error("cannot write '%s': %s", e->path, err.msg);
            (*files)++;
        }
    }
    dest_close(d);
    return rc;
}

int cmd_fs_extract(const esp01_tree *tree, const char *destdir, bool force)
{
    int rc = EXIT_OK;
    bool *exists = calloc(tree->count ? tree->count : 1, sizeof *exists);
    dest d = {NULL, NULL, ""};
    esp01_err err;
    int orc;
    if (!exists) {
        rc = cli_error("out of memory");
        goto out;
    }
    if ((orc = esp01_os_mkdir(destdir, &err)) < 0 && orc != ESP01_E_EXISTS) {
        rc = cli_error("cannot create '%s': %s", destdir, err.msg);
        goto out;
    }
    if (esp01_os_dirh_open(destdir, &d.root, &err) < 0) {
        rc = cli_error("cannot open '%s': %s", destdir, err.msg);
        goto out;
    }
    size_t files = 0, dirs = 0;
    rc = check_dest(&d, tree, force, exists);
    if (rc == EXIT_OK)
        rc = write_dest(&d, tree, exists, &files, &dirs);
    if (rc == EXIT_OK)
        printf("extracted %zu file%s and %zu director%s into %s\n", files,
               files == 1 ? "" : "s", dirs, dirs == 1 ? "y" : "ies", destdir);
out:
    esp01_os_dirh_close(d.root);
    free(exists);
    return rc;
}
