/* Files and folders on POSIX (Linux, macOS): os.h. */
#include "os/os.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/posix/sys.h"

/* errno as the library's code, its text as the detail. */
static int sys_fail(esp01_err *err, int e)
{
    int code = e == ENOENT                  ? ESP01_E_NOTFOUND
               : e == EEXIST               ? ESP01_E_EXISTS
               : e == ENOMEM               ? ESP01_E_NOMEM
                                           : ESP01_E_IO;
    return esp01_fail(err, code, "%s", strerror(e));
}

struct esp01_os_file {
    int fd;
};

struct esp01_os_dir {
    DIR *d;
};

static void info_from(const struct stat *st, esp01_os_info *info)
{
    info->type = S_ISREG(st->st_mode)   ? ESP01_OS_REGULAR
                 : S_ISDIR(st->st_mode) ? ESP01_OS_DIRECTORY
                 : S_ISLNK(st->st_mode) ? ESP01_OS_SYMLINK
                                        : ESP01_OS_OTHER;
    info->size = st->st_size > 0 ? (uint64_t)st->st_size : 0;
    info->mtime_ns = esp01_posix_mtime_ns(st);
}

int esp01_os_stat(const char *path, bool follow_links, esp01_os_info *info,
                  esp01_err *err)
{
    struct stat st;
    if ((follow_links ? stat(path, &st) : lstat(path, &st)) < 0)
        return sys_fail(err, errno);
    info_from(&st, info);
    return 0;
}

int esp01_os_mkdir(const char *path, esp01_err *err)
{
    if (mkdir(path, 0777) < 0)
        return sys_fail(err, errno);
    return 0;
}

int esp01_os_remove(const char *path, esp01_err *err)
{
    if (remove(path) < 0)
        return sys_fail(err, errno);
    return 0;
}

static int file_new(int fd, esp01_os_file **out, esp01_err *err)
{
    esp01_os_file *f = malloc(sizeof *f);
    if (!f) {
        close(fd);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    f->fd = fd;
    *out = f;
    return 0;
}

int esp01_os_open_read(const char *path, esp01_os_file **out, uint64_t *size,
                       esp01_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sys_fail(err, errno);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        int e = errno;
        close(fd);
        return sys_fail(err, e);
    }
    if (S_ISDIR(st.st_mode)) {
        close(fd);
        return esp01_fail(err, ESP01_E_INVAL, "is a directory");
    }
    *size = st.st_size > 0 ? (uint64_t)st.st_size : 0;
    return file_new(fd, out, err);
}

int esp01_os_read(esp01_os_file *f, void *buf, size_t cap, esp01_err *err)
{
    if (cap > 1u << 30)
        cap = 1u << 30;
    for (;;) {
        ssize_t r = read(f->fd, buf, cap);
        if (r >= 0)
            return (int)r;
        if (errno != EINTR)
            return sys_fail(err, errno);
    }
}

int esp01_os_create_temp(const char *path, char *tmp_path, size_t cap,
                         esp01_os_file **out, esp01_err *err)
{
    *out = NULL;
    int n = snprintf(tmp_path, cap, "%s.tmpXXXXXX", path);
    if (n < 0 || (size_t)n >= cap)
        return esp01_fail(err, ESP01_E_LIMIT, "path too long");
    int fd = mkstemp(tmp_path);
    if (fd < 0)
        return sys_fail(err, errno);
    /* mkstemp makes 0600; an output image is an ordinary user file. */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) < 0) {
        int e = errno;
        close(fd);
        unlink(tmp_path);
        return sys_fail(err, e);
    }
    return file_new(fd, out, err);
}

int esp01_os_write(esp01_os_file *f, const void *buf, size_t len, esp01_err *err)
{
    const uint8_t *p = buf;
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(f->fd, p + done, len - done);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return sys_fail(err, errno);
        }
        done += (size_t)w;
    }
    return 0;
}

int esp01_os_close(esp01_os_file *f, esp01_err *err)
{
    if (!f)
        return 0;
    int rc = close(f->fd) < 0 ? sys_fail(err, errno) : 0;
    free(f);
    return rc;
}

int esp01_os_replace(const char *from, const char *to, esp01_err *err)
{
    if (rename(from, to) < 0)
        return sys_fail(err, errno);
    return 0;
}

int esp01_os_map_file(const char *path, uint64_t max_size, esp01_os_map *map,
                      esp01_err *err)
{
    map->data = NULL;
    map->len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return sys_fail(err, errno);
    struct stat st;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return esp01_fail(err, ESP01_E_INVAL, "not a regular file");
    }
    if ((uint64_t)st.st_size > max_size) {
        close(fd);
        return esp01_fail(err, ESP01_E_LIMIT, "larger than %llu bytes",
                          (unsigned long long)max_size);
    }
    if (st.st_size <= 0) {
        close(fd);
        return 0;
    }
    size_t len = (size_t)st.st_size;
    void *p = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
    int e = errno;
    close(fd);
    if (p == MAP_FAILED)
        return esp01_fail(err, ESP01_E_NOMEM, "%s", strerror(e));
    map->data = p;
    map->len = len;
    return 0;
}

void esp01_os_unmap(esp01_os_map *map)
{
    if (map->data)
        munmap((void *)map->data, map->len);
    map->data = NULL;
    map->len = 0;
}

int esp01_os_dir_open(const char *path, esp01_os_dir **out, esp01_err *err)
{
    *out = NULL;
    DIR *d = opendir(path);
    if (!d)
        return sys_fail(err, errno);
    esp01_os_dir *h = malloc(sizeof *h);
    if (!h) {
        closedir(d);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    h->d = d;
    *out = h;
    return 0;
}

const char *esp01_os_dir_next(esp01_os_dir *d)
{
    struct dirent *e;
    while ((e = readdir(d->d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            return e->d_name;
    return NULL;
}

void esp01_os_dir_close(esp01_os_dir *d)
{
    if (d) {
        closedir(d->d);
        free(d);
    }
}

int esp01_os_lock_file(const char *path, esp01_err *err)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return sys_fail(err, errno);
    while (flock(fd, LOCK_EX) < 0) {
        if (errno == EINTR)
            continue;
        int e = errno;
        close(fd);
        return sys_fail(err, e);
    }
    return fd;
}

void esp01_os_unlock_file(int handle)
{
    if (handle >= 0)
        close(handle);
}

int esp01_os_make_temp_dir(const char *prefix, char *out, size_t cap, esp01_err *err)
{
    const char *tmp = getenv("TMPDIR");
    if (!tmp || !*tmp)
        tmp = "/tmp";
    int n = snprintf(out, cap, "%s/%s.XXXXXX", tmp, prefix);
    if (n < 0 || (size_t)n >= cap)
        return esp01_fail(err, ESP01_E_LIMIT, "path too long");
    if (!mkdtemp(out))
        return sys_fail(err, errno);
    return 0;
}

bool esp01_os_realpath(const char *path, char *out, size_t cap)
{
    char *r = realpath(path, NULL);
    if (!r)
        return false;
    bool fits = strlen(r) < cap;
    if (fits)
        strcpy(out, r);
    free(r);
    return fits;
}

bool esp01_os_group_name(unsigned gid, char *out, size_t cap)
{
    struct group *g = getgrgid((gid_t)gid);
    if (!g || !g->gr_name)
        return false;
    snprintf(out, cap, "%s", g->gr_name);
    return true;
}

bool esp01_os_is_executable(const char *path)
{
    return access(path, X_OK) == 0;
}

char esp01_os_path_list_sep(void)
{
    return ':';
}
