/*
 * cmd_fs_extract.c - `esp01 fs extract`: writing a partition's tree into a
 * host directory.  The image is hostile and the destination may hold
 * symlinks, so directories are opened one component at a time without
 * following links, and nothing is written until every entry has been
 * checked against what is already there.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "cmd_fs.h"

/* Open directory `name` inside dirfd without following a symlink. */
static int open_subdir(int dirfd, const char *name, bool create)
{
    int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0 || !create || errno != ENOENT)
        return fd;
    if (mkdirat(dirfd, name, 0777) < 0 && errno != EEXIST)
        return -1;
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

/*
 * The destination's directories, opened one component at a time with
 * O_NOFOLLOW so that no symlink in DIR is ever followed.  Entries come in
 * path order, so the last parent opened is kept for its siblings.
 */
typedef struct dest {
    int root;
    int fd;                        /* parent of the last entry, or -1 */
    char dir[ESP01_PATH_MAX + 1];  /* its path relative to root */
} dest;

/* fd of the directory holding `path`; -1 with errno on failure. */
static int dest_parent(dest *d, const char *path, bool create,
                       const char **leaf)
{
    const char *slash = strrchr(path, '/');
    size_t plen = slash ? (size_t)(slash - path) : 0;
    *leaf = slash ? slash + 1 : path;
    if (d->fd >= 0 && strlen(d->dir) == plen &&
        strncmp(d->dir, path, plen) == 0)
        return d->fd;
    if (d->fd >= 0 && d->fd != d->root)
        close(d->fd);
    d->fd = -1;
    int fd = d->root;
    char comp[ESP01_PATH_MAX + 1];
    const char *p = path;
    while (p < path + plen) {
        const char *end = strchr(p, '/');
        size_t n = (size_t)(end - p);
        memcpy(comp, p, n);
        comp[n] = '\0';
        int next = open_subdir(fd, comp, create);
        int e = errno;
        if (fd != d->root)
            close(fd);
        if (next < 0) {
            errno = e;
            return -1;
        }
        fd = next;
        p = end + 1;
    }
    d->fd = fd;
    memcpy(d->dir, path, plen);
    d->dir[plen] = '\0';
    return fd;
}

static void dest_close(dest *d)
{
    if (d->fd >= 0 && d->fd != d->root)
        close(d->fd);
    d->fd = -1;
    d->dir[0] = '\0';
}

static int write_all(int fd, const esp01_entry *e)
{
    size_t off = 0;
    while (off < e->size) {
        ssize_t n = write(fd, e->data + off, e->size - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    if (e->has_mtime) {
        struct timespec ts[2];
        ts[0].tv_sec = ts[1].tv_sec = (time_t)(e->mtime_ns / 1000000000ull);
        ts[0].tv_nsec = ts[1].tv_nsec = (long)(e->mtime_ns % 1000000000ull);
        futimens(fd, ts);
    }
    return 0;
}

/*
 * A new file is created with O_EXCL (removed again if writing fails); one
 * being replaced (--force) is written to a temporary name and renamed over
 * it, so a failure never leaves it half written.
 */
static int write_one(int dirfd, const char *leaf, const esp01_entry *e,
                     bool replace)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".esp01-extract-%ld", (long)getpid());
    const char *name = replace ? tmp : leaf;
    int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                     O_CLOEXEC, 0666);
    if (fd < 0)
        return cli_error("cannot create '%s': %s", e->path, strerror(errno));
    if (write_all(fd, e) < 0 || close(fd) < 0 ||
        (replace && renameat(dirfd, tmp, dirfd, leaf) < 0)) {
        int err = errno;
        unlinkat(dirfd, name, 0);
        return cli_error("cannot write '%s': %s", e->path, strerror(err));
    }
    return EXIT_OK;
}

int cmd_fs_extract(const esp01_tree *tree, const char *destdir, bool force)
{
    int rc = EXIT_OK;
    bool *exists = calloc(tree->count ? tree->count : 1, sizeof *exists);
    dest d = {-1, -1, ""};
    if (!exists) {
        rc = cli_error("out of memory");
        goto out;
    }
    if (mkdir(destdir, 0777) < 0 && errno != EEXIST) {
        rc = cli_error("cannot create '%s': %s", destdir, strerror(errno));
        goto out;
    }
    d.root = open(destdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d.root < 0) {
        rc = cli_error("cannot open '%s': %s", destdir, strerror(errno));
        goto out;
    }
    /* First pass: refuse before writing anything if a file would be
       overwritten or a symlink is in the way. */
    for (size_t i = 0; i < tree->count && rc == EXIT_OK; i++) {
        const esp01_entry *e = &tree->entries[i];
        const char *leaf;
        int fd = dest_parent(&d, e->path, false, &leaf);
        if (fd < 0) {
            if (errno == ENOENT)
                continue;
            rc = errno == ELOOP || errno == ENOTDIR
                     ? cli_error("'%s': a directory above it in the "
                                 "destination is a symlink or a file; not "
                                 "following it", e->path)
                     : cli_error("cannot open '%s': %s", e->path,
                                 strerror(errno));
            break;
        }
        struct stat st;
        if (fstatat(fd, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue;
        exists[i] = true;
        if (S_ISLNK(st.st_mode))
            rc = cli_error("'%s' in the destination is a symlink; not "
                           "following it", e->path);
        else if (e->type == ESP01_ENTRY_DIR && !S_ISDIR(st.st_mode))
            rc = cli_error("'%s' in the destination is not a directory",
                           e->path);
        else if (e->type == ESP01_ENTRY_FILE && !S_ISREG(st.st_mode))
            rc = cli_error("'%s' in the destination is not a regular file",
                           e->path);
        else if (e->type == ESP01_ENTRY_FILE && !force)
            rc = cli_error("'%s' already exists (use --force to overwrite)",
                           e->path);
    }
    dest_close(&d);
    size_t files = 0, dirs = 0;
    for (size_t i = 0; i < tree->count && rc == EXIT_OK; i++) {
        const esp01_entry *e = &tree->entries[i];
        const char *leaf;
        int fd = dest_parent(&d, e->path, true, &leaf);
        if (fd < 0) {
            rc = cli_error("cannot create the directory of '%s': %s", e->path,
                           strerror(errno));
            break;
        }
        if (e->type == ESP01_ENTRY_DIR) {
            if (!exists[i] && mkdirat(fd, leaf, 0777) < 0 && errno != EEXIST)
                rc = cli_error("cannot create '%s': %s", e->path,
                               strerror(errno));
            dirs++;
        } else {
            rc = write_one(fd, leaf, e, exists[i]);
            files++;
        }
    }
    dest_close(&d);
    if (rc == EXIT_OK)
        printf("extracted %zu file%s and %zu director%s into %s\n", files,
               files == 1 ? "" : "s", dirs, dirs == 1 ? "y" : "ies", destdir);
out:
    if (d.root >= 0)
        close(d.root);
    free(exists);
    return rc;
}
