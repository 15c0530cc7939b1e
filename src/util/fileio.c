#include "esp01/fileio.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int esp01_read_file(const char *path, size_t max_size, uint8_t **out,
                    size_t *out_len, esp01_err *err)
{
    *out = NULL;
    *out_len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return esp01_fail(err, errno == ENOENT ? ESP01_E_NOTFOUND : ESP01_E_IO,
                          "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return esp01_fail(err, ESP01_E_IO, "cannot stat '%s': %s", path,
                          strerror(e));
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return esp01_fail(err, ESP01_E_INVAL, "'%s' is a directory", path);
    }
    if (st.st_size < 0 || (uint64_t)st.st_size > max_size) {
        close(fd);
        return esp01_fail(err, ESP01_E_LIMIT,
                          "'%s' is larger than %zu bytes", path, max_size);
    }
    size_t cap = (size_t)st.st_size + 1; /* +1 also lets us notice growth */
    uint8_t *buf = malloc(cap);
    if (!buf) {
        close(fd);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory reading '%s'",
                          path);
    }
    size_t got = 0;
    for (;;) {
        if (got == cap) {
            if (cap > max_size) {
                free(buf);
                close(fd);
                return esp01_fail(err, ESP01_E_LIMIT,
                                  "'%s' is larger than %zu bytes", path,
                                  max_size);
            }
            size_t ncap = cap * 2 > max_size + 1 ? max_size + 1 : cap * 2;
            uint8_t *n = realloc(buf, ncap);
            if (!n) {
                free(buf);
                close(fd);
                return esp01_fail(err, ESP01_E_NOMEM,
                                  "out of memory reading '%s'", path);
            }
            buf = n;
            cap = ncap;
        }
        ssize_t r = read(fd, buf + got, cap - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            int e = errno;
            free(buf);
            close(fd);
            return esp01_fail(err, ESP01_E_IO, "cannot read '%s': %s", path,
                              strerror(e));
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
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
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    snprintf(tmp, n + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return esp01_fail(err, ESP01_E_IO, "cannot create '%s': %s", path,
                          strerror(e));
    }
    int rc = 0;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, data + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            rc = esp01_fail(err, ESP01_E_IO, "cannot write '%s': %s", path,
                            strerror(errno));
            break;
        }
        done += (size_t)w;
    }
    /* mkstemp makes 0600; an output image is an ordinary user file. */
    if (rc == 0) {
        mode_t mask = umask(0);
        umask(mask);
        if (fchmod(fd, 0666 & ~mask) < 0)
            rc = esp01_fail(err, ESP01_E_IO, "cannot chmod '%s': %s", path,
                            strerror(errno));
    }
    /*
     * No fsync: what we write (images, extracted files) can be made again,
     * and the rename already guarantees a reader sees the old file or the
     * whole new one.  An fsync would cost ~10 ms per output here, more than
     * building the image.
     */
    if (close(fd) < 0 && rc == 0)
        rc = esp01_fail(err, ESP01_E_IO, "cannot close '%s': %s", path,
                        strerror(errno));
    if (rc == 0 && rename(tmp, path) < 0)
        rc = esp01_fail(err, ESP01_E_IO, "cannot rename into '%s': %s", path,
                        strerror(errno));
    if (rc < 0)
        unlink(tmp);
    free(tmp);
    return rc;
}
