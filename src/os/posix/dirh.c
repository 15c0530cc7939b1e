/*
 * Folders held open (os.h esp01_os_dirh) and the cache folder, on POSIX.
 * Every name is resolved with the *at() calls relative to a folder
 * descriptor, with O_NOFOLLOW / AT_SYMLINK_NOFOLLOW, so a symbolic link
 * planted in the destination is never followed.
 */
#include "os/os.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct esp01_os_dirh {
    int fd;
};

static int sys_fail(esp01_err *err, int e)
{
    int code = e == ENOENT   ? ESP01_E_NOTFOUND
               : e == EEXIST ? ESP01_E_EXISTS
               : e == ENOMEM ? ESP01_E_NOMEM
                             : ESP01_E_IO;
    return esp01_fail(err, code, "%s", strerror(e));
}

static int dirh_new(int fd, esp01_os_dirh **out, esp01_err *err)
{
    esp01_os_dirh *d = malloc(sizeof *d);
    if (!d) {
        close(fd);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    d->fd = fd;
    *out = d;
    return 0;
}

int esp01_os_dirh_open(const char *path, esp01_os_dirh **out, esp01_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return sys_fail(err, errno);
    return dirh_new(fd, out, err);
}

static int open_sub(int dirfd, const char *name)
{
    return openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
}

int esp01_os_dirh_sub(esp01_os_dirh *d, const char *name, bool create,
                      esp01_os_dirh **out, esp01_err *err)
{
    *out = NULL;
    int fd = open_sub(d->fd, name);
    if (fd < 0 && create && errno == ENOENT) {
        if (mkdirat(d->fd, name, 0777) < 0 && errno != EEXIST)
            return sys_fail(err, errno);
        fd = open_sub(d->fd, name);
    }
    if (fd < 0) {
        /* Linux says ELOOP for a link, the BSDs EMLINK or ENOTDIR. */
        if (errno == ELOOP || errno == ENOTDIR || errno == EMLINK)
            return esp01_fail(err, ESP01_E_INVAL,
                              "a symbolic link or not a directory");
        return sys_fail(err, errno);
    }
    return dirh_new(fd, out, err);
}

int esp01_os_dirh_stat(esp01_os_dirh *d, const char *name, esp01_os_info *info,
                       esp01_err *err)
{
    struct stat st;
    if (fstatat(d->fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
        return sys_fail(err, errno);
    info->type = S_ISREG(st.st_mode)   ? ESP01_OS_REGULAR
                 : S_ISDIR(st.st_mode) ? ESP01_OS_DIRECTORY
                 : S_ISLNK(st.st_mode) ? ESP01_OS_SYMLINK
                                       : ESP01_OS_OTHER;
    info->size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    info->mtime_ns = 0; /* not needed by any caller yet */
    return 0;
}

int esp01_os_dirh_mkdir(esp01_os_dirh *d, const char *name, esp01_err *err)
{
    if (mkdirat(d->fd, name, 0777) < 0)
        return sys_fail(err, errno);
    return 0;
}

static int write_fd(int fd, const uint8_t *data, size_t len,
                    const uint64_t *mtime_ns)
{
    size_t off = 0;
    while (off < len) {
        ssize_t n = write(fd, data + off, len - off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return n < 0 ? errno : EIO;
        off += (size_t)n;
    }
    if (mtime_ns) {
        struct timespec ts[2];
        ts[0].tv_sec = ts[1].tv_sec = (time_t)(*mtime_ns / 1000000000u);
        ts[0].tv_nsec = ts[1].tv_nsec = (long)(*mtime_ns % 1000000000u);
        /* A time that cannot be set is not worth losing the data for. */
        (void)futimens(fd, ts);
    }
    return 0;
}

int esp01_os_dirh_write_file(esp01_os_dirh *d, const char *name,
                             const void *data, size_t len,
                             const uint64_t *mtime_ns, bool replace,
                             esp01_err *err)
{
    char tmp[64];
    snprintf(tmp, sizeof tmp, ".esp01-tmp-%ld", (long)getpid());
    const char *fname = replace ? tmp : name;
    int fd = openat(d->fd, fname, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
                                      O_CLOEXEC, 0666);
    if (fd < 0)
        return sys_fail(err, errno);
    int e = write_fd(fd, data, len, mtime_ns);
    if (close(fd) < 0 && !e)
        e = errno;
    if (!e && replace && renameat(d->fd, tmp, d->fd, name) < 0)
        e = errno;
    if (e) {
        unlinkat(d->fd, fname, 0);
        return sys_fail(err, e);
    }
    return 0;
}

void esp01_os_dirh_close(esp01_os_dirh *d)
{
    if (d) {
        close(d->fd);
        free(d);
    }
}

int esp01_os_cache_dir(char *out, size_t cap, esp01_err *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    /* The XDG spec ignores a relative XDG_CACHE_HOME. */
    if (xdg && xdg[0] == '/')
        n = snprintf(out, cap, "%s/esp01", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.cache/esp01", home);
    else
        return esp01_fail(err, ESP01_E_NOTFOUND, "XDG_CACHE_HOME or HOME");
    if (n < 0 || (size_t)n >= cap)
        return esp01_fail(err, ESP01_E_LIMIT, "path too long");
    return 0;
}
