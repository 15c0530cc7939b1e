/*
 * fwcache.c - the directory of downloaded official firmware files.
 */
#include "esp01/fwcache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "os/os.h"

int esp01_fw_cache_dir(char *out, size_t cap, esp01_err *err)
{
    const char *own = getenv("ESP01_CACHE_DIR");
    if (own && *own) {
        int n = snprintf(out, cap, "%s", own);
        if (n < 0 || (size_t)n >= cap)
            return esp01_fail(err, ESP01_E_LIMIT, "the cache directory's path is too long");
        return 0;
    }
    esp01_err oe;
    int rc = esp01_os_cache_dir(out, cap, &oe);
    if (rc == ESP01_E_NOTFOUND)
        return esp01_fail(err, rc, "no cache directory: set ESP01_CACHE_DIR, %s", oe.msg);
    size_t len = rc == 0 ? strlen(out) : 0;
    if (rc < 0 || cap - len <= strlen("/firmware"))
        return esp01_fail(err, ESP01_E_LIMIT, "the cache directory's path is too long");
    memcpy(out + len, "/firmware", sizeof "/firmware");
    return 0;
}

int esp01_fw_cache_list(const char *dir, esp01_fw_list *list, esp01_err *err)
{
    esp01_os_dir *d;
    esp01_err oe;
    int orc = esp01_os_dir_open(dir, &d, &oe);
    if (orc == ESP01_E_NOTFOUND)
        return 0;
    if (orc < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot read the cache '%s': %s", dir, oe.msg);
    int added = 0, rc = 0;
    const char *e;
    while ((e = esp01_os_dir_next(d)) != NULL) {
        esp01_fw_file f;
        if (esp01_fw_name_parse(e, strlen(e), &f) < 0)
            continue;
        char path[4096];
        esp01_os_info st;
        if (!esp01_fw_cache_path(dir, e, path, sizeof path) ||
            esp01_os_stat(path, true, &st, NULL) < 0 || st.type != ESP01_OS_REGULAR)
            continue;
        f.size = st.size;
        if ((rc = esp01_fw_list_add(list, &f, err)) < 0)
            break;
        added += rc;
    }
    esp01_os_dir_close(d);
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
        esp01_err oe;
        int rc = esp01_os_mkdir(path, &oe);
        if (rc < 0 && rc != ESP01_E_EXISTS)
            return esp01_fail(err, ESP01_E_IO, "cannot create the cache '%s': %s", path,
                              oe.msg);
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
    esp01_err oe;
    int lock = esp01_os_lock_file(path, &oe);
    if (lock < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot lock '%s': %s", path, oe.msg);
    return lock;
}

void esp01_fw_cache_unlock(int fd)
{
    esp01_os_unlock_file(fd);
}
