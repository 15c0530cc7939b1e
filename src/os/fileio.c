/* fileio.h over os.h: the same on every system. */
#include "esp01/fileio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/os.h"

int esp01_read_file(const char *path, size_t max_size, uint8_t **out,
                    size_t *out_len, esp01_err *err)
{
    *out = NULL;
    *out_len = 0;
    esp01_os_file *f;
    uint64_t size;
    esp01_err oe;
    int rc = esp01_os_open_read(path, &f, &size, &oe);
    if (rc == ESP01_E_INVAL)
        return esp01_fail(err, ESP01_E_INVAL, "'%s' is a directory", path);
    if (rc < 0)
        return esp01_fail(err, rc == ESP01_E_NOTFOUND ? rc : ESP01_E_IO,
                          "cannot open '%s': %s", path, oe.msg);
    if (size > max_size) {
        esp01_os_close(f, NULL);
        return esp01_fail(err, ESP01_E_LIMIT,
                          "'%s' is larger than %zu bytes", path, max_size);
    }
    size_t cap = (size_t)size + 1; /* +1 also lets us notice growth */
    uint8_t *buf = malloc(cap);
    if (!buf) {
        esp01_os_close(f, NULL);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory reading '%s'",
                          path);
    }
    size_t got = 0;
    for (;;) {
        if (got == cap) {
            if (cap > max_size) {
                free(buf);
                esp01_os_close(f, NULL);
                return esp01_fail(err, ESP01_E_LIMIT,
                                  "'%s' is larger than %zu bytes", path,
                                  max_size);
            }
            size_t ncap = cap * 2 > max_size + 1 ? max_size + 1 : cap * 2;
            uint8_t *n = realloc(buf, ncap);
            if (!n) {
                free(buf);
                esp01_os_close(f, NULL);
                return esp01_fail(err, ESP01_E_NOMEM,
                                  "out of memory reading '%s'", path);
            }
            buf = n;
            cap = ncap;
        }
        int r = esp01_os_read(f, buf + got, cap - got, &oe);
        if (r < 0) {
            free(buf);
            esp01_os_close(f, NULL);
            return esp01_fail(err, ESP01_E_IO, "cannot read '%s': %s", path,
                              oe.msg);
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    esp01_os_close(f, NULL);
    if (got > max_size) {
        free(buf);
        return esp01_fail(err, ESP01_E_LIMIT, "'%s' is larger than %zu bytes",
                          path, max_size);
    }
    *out = buf;
    *out_len = got;
    return 0;
}

int esp01_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                            esp01_err *err)
{
    size_t n = strlen(path) + 16;
    char *tmp = malloc(n);
    if (!tmp)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    esp01_os_file *f;
    esp01_err oe;
    int rc = esp01_os_create_temp(path, tmp, n, &f, &oe);
    if (rc < 0) {
        free(tmp);
        return esp01_fail(err, ESP01_E_IO, "cannot create '%s': %s", path,
                          oe.msg);
    }
    if (esp01_os_write(f, data, len, &oe) < 0)
        rc = esp01_fail(err, ESP01_E_IO, "cannot write '%s': %s", path, oe.msg);
    /*
     * No fsync: what we write (images, extracted files) can be made again,
     * and the replace already guarantees a reader sees the old file or the
     * whole new one.  An fsync would cost ~10 ms per output here, more than
     * building the image.
     */
    if (esp01_os_close(f, &oe) < 0 && rc == 0)
        rc = esp01_fail(err, ESP01_E_IO, "cannot close '%s': %s", path, oe.msg);
    if (rc == 0 && esp01_os_replace(tmp, path, &oe) < 0)
        rc = esp01_fail(err, ESP01_E_IO, "cannot rename into '%s': %s", path,
                        oe.msg);
    if (rc < 0)
        esp01_os_remove(tmp, NULL);
    free(tmp);
    return rc;
}

/* Both over esp01_os_stat, so every backend answers them alike. */
bool esp01_os_is_dir(const char *path)
{
    esp01_os_info i;
    return esp01_os_stat(path, true, &i, NULL) == 0 && i.type == ESP01_OS_DIRECTORY;
}

bool esp01_os_is_file(const char *path)
{
    esp01_os_info i;
    return esp01_os_stat(path, true, &i, NULL) == 0 && i.type == ESP01_OS_REGULAR;
}
