/* The port list shared by the POSIX listings (serlist.h). */
#include "os/posix/serlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void esp01_serlist_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

const char *esp01_serlist_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

void esp01_serlist_access(esp01_serial_port *p)
{
    struct stat st;
    if (stat(p->path, &st) < 0) {
        p->access_errno = errno;
        return;
    }
    p->gid = (unsigned)st.st_gid;
    p->access_errno = access(p->path, R_OK | W_OK) == 0 ? 0 : errno;
}

/* The digits at the end compare as numbers. */
static int natural(const void *pa, const void *pb)
{
    const char *a = ((const esp01_serial_port *)pa)->name;
    const char *b = ((const esp01_serial_port *)pb)->name;
    size_t la = strcspn(a, "0123456789"), lb = strcspn(b, "0123456789");
    if (la != lb || strncmp(a, b, la) != 0)
        return strcmp(a, b);
    size_t da = strlen(a + la), db = strlen(b + lb);
    if (da != db)
        return da < db ? -1 : 1;
    return strcmp(a + la, b + lb);
}

int esp01_serlist_push(esp01_serial_list *out, size_t *cap, const esp01_serial_port *p,
                       esp01_err *err)
{
    if (out->count == *cap) {
        size_t n = *cap ? *cap * 2 : 8;
        esp01_serial_port *q = realloc(out->ports, n * sizeof *q);
        if (!q)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        out->ports = q;
        *cap = n;
    }
    out->ports[out->count++] = *p;
    return 0;
}

int esp01_serlist_finish(esp01_serial_list *out, int rc)
{
    if (rc < 0) {
        esp01_serial_list_free(out);
        return rc;
    }
    if (out->count > 1)
        qsort(out->ports, out->count, sizeof *out->ports, natural);
    return (int)out->count;
}

void esp01_serial_list_free(esp01_serial_list *list)
{
    free(list->ports);
    list->ports = NULL;
    list->count = 0;
}

int esp01_serlist_dev_nodes(const char *dev_root,
                            bool (*describe)(const char *name, esp01_serial_port *p),
                            esp01_serial_list *out, esp01_err *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dev_root);
    if (!d)
        return 0;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && out->count < ESP01_SERLIST_MAX) {
        if (strlen(e->d_name) >= sizeof out->ports->name)
            continue;
        esp01_serial_port p;
        memset(&p, 0, sizeof p);
        if (!describe(e->d_name, &p))
            continue;
        esp01_serlist_copy(p.name, sizeof p.name, e->d_name);
        snprintf(p.path, sizeof p.path, "%s/%s", dev_root, p.name);
        esp01_serlist_access(&p);
        if ((rc = esp01_serlist_push(out, &cap, &p, err)) < 0)
            break;
    }
    closedir(d);
    return esp01_serlist_finish(out, rc);
}
