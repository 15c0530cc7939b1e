/*
 * fwcache.c - the directory of downloaded official firmware files.
 */
#include "esp01/fwcache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "esp01/fileio.h"

int esp01_fw_cache_dir(char *out, size_t cap, esp01_err *err)
{
    const char *own = getenv("ESP01_CACHE_DIR");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (own && *own)
        n = snprintf(out, cap, "%s", own);
    /* The XDG spec ignores a relative XDG_CACHE_HOME. */
    else if (xdg && xdg[0] == '/')
        n = snprintf(out, cap, "%s/esp01/firmware", xdg);
    else if (home && *home)
        n = snprintf(out, cap, "%s/.cache/esp01/firmware", home);
    else
        return esp01_fail(err, ESP01_E_NOTFOUND,
                          "no cache directory: set ESP01_CACHE_DIR, XDG_CACHE_HOME or HOME");
    if (n < 0 || (size_t)n >= cap)
        return esp01_fail(err, ESP01_E_LIMIT, "the cache directory's path is too long");
    return 0;
}

int esp01_fw_cache_list(const char *dir, esp01_fw_list *list, esp01_err *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        if (errno == ENOENT)
            return 0;
        return esp01_fail(err, ESP01_E_IO, "cannot read the cache '%s': %s", dir,
                          strerror(errno));
    }
    int added = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        esp01_fw_file f;
        if (esp01_fw_name_parse(e->d_name, strlen(e->d_name), &f) < 0)
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, 0) < 0 || !S_ISREG(st.st_mode))
            continue;
        f.size = (uint64_t)st.st_size;
        if ((rc = esp01_fw_list_add(list, &f, err)) < 0)
            break;
        added += rc;
    }
    closedir(d);
    return rc < 0 ? rc : added;
}

bool esp01_fw_cache_path(const char *dir, const char *name, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n >= 0 && (size_t)n < cap;
}

static int make_dirs(const char *dir, esp01_err *err)
{
    char path[4096];
    size_t n = strlen(dir);
    if (n == 0 || n >= sizeof path)
        return esp01_fail(err, ESP01_E_INVAL, "bad cache directory '%s'", dir);
    memcpy(path, dir, n + 1);
    for (size_t i = 1; i <= n; i++) {
        if (path[i] != '/' && path[i] != '\0')
            continue;
        char c = path[i];
        path[i] = '\0';
        if (mkdir(path, 0755) < 0 && errno != EEXIST)
            return esp01_fail(err, ESP01_E_IO, "cannot create the cache '%s': %s", path,
                              strerror(errno));
        path[i] = c;
    }
    return 0;
}

int esp01_fw_cache_store(const char *dir, const char *name, const uint8_t *buf, size_t len,
                         esp01_err *err)
{
    char path[4096];
    if (!esp01_fw_cache_path(dir, name, path, sizeof path))
        return esp01_fail(err, ESP01_E_LIMIT, "the cache path is too long");
    int rc = make_dirs(dir, err);
    if (rc < 0)
        return rc;
    return esp01_write_file_atomic(path, buf, len, err);
}

int esp01_fw_cache_lock(const char *dir, esp01_err *err)
{
    char path[4096];
    int rc = make_dirs(dir, err);
    if (rc < 0)
        return rc;
    if (!esp01_fw_cache_path(dir, ".lock", path, sizeof path))
        return esp01_fail(err, ESP01_E_LIMIT, "the cache path is too long");
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot open '%s': %s", path, strerror(errno));
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return esp01_fail(err, ESP01_E_IO, "cannot lock '%s': %s", path, strerror(e));
    }
    return fd;
}

void esp01_fw_cache_unlock(int fd)
{
    if (fd >= 0)
        close(fd);
}
