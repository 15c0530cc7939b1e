/* The access check and /dev walk of the POSIX listings (serlist.h). */
#include "os/posix/serlist.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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
