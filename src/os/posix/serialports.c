/*
 * serialports.c - USB serial ports from sysfs (the walk is described in
 * serialports.h).
 */
#include "esp01/serialports.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_PORTS 256u

/* One line of a sysfs attribute, trimmed, non-printable bytes as '?'
 * (the strings come from the USB device's descriptors). */
static bool read_attr(const char *dir, const char *attr, char *out, size_t cap)
{
    char path[PATH_MAX + 64];
    out[0] = '\0';
    snprintf(path, sizeof path, "%s/%s", dir, attr);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    ssize_t n = read(fd, out, cap - 1);
    close(fd);
    if (n <= 0) {
        out[0] = '\0';
        return false;
    }
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == ' '))
        out[--n] = '\0';
    for (ssize_t i = 0; i < n; i++)
        if ((unsigned char)out[i] < 0x20 || (unsigned char)out[i] >= 0x7f)
            out[i] = '?';
    return n > 0;
}

static bool hex16(const char *s, uint16_t *out)
{
    char *end;
    unsigned long v = strtoul(s, &end, 16);
    if (!*s || *end || v > 0xffff)
        return false;
    *out = (uint16_t)v;
    return true;
}

/* A copy cut to fit (names that do not fit are skipped before this). */
static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* basename(realpath(dir/link)) into out; false if it does not resolve. */
static bool link_base(const char *dir, const char *link, char *out, size_t cap)
{
    char path[PATH_MAX + 64], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, link);
    if (!realpath(path, real))
        return false;
    copy_str(out, cap, base_name(real));
    return true;
}

static void set_access(esp01_serial_port *p)
{
    struct stat st;
    if (stat(p->path, &st) < 0) {
        p->access_errno = errno;
        return;
    }
    p->gid = (unsigned)st.st_gid;
    p->access_errno = access(p->path, R_OK | W_OK) == 0 ? 0 : errno;
}

/* The first link in dev_root/serial/WHICH that points at `name`. */
static void find_link(const char *dev_root, const char *which, const char *name, char *out,
                      size_t cap)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s/serial/%s", dev_root, which);
    out[0] = '\0';
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[PATH_MAX + 256], target[PATH_MAX];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        ssize_t n = readlink(path, target, sizeof target - 1);
        if (n <= 0)
            continue;
        target[n] = '\0';
        if (strcmp(base_name(target), name) == 0) {
            copy_str(out, cap, path);
            break;
        }
    }
    closedir(d);
}

/* ttyUSB2 before ttyUSB10: the digits at the end compare as numbers. */
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

static int push(esp01_serial_list *out, size_t *cap, const esp01_serial_port *p, esp01_err *err)
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

/* Fill `p` from the tty's sysfs entry; false when it is no USB port. */
/* A failed listing leaves nothing behind; a good one comes sorted. */
static int finish_list(esp01_serial_list *out, int rc)
{
    if (rc < 0) {
        esp01_serial_list_free(out);
        return rc;
    }
    if (out->count > 1)
        qsort(out->ports, out->count, sizeof *out->ports, natural);
    return (int)out->count;
}

static bool describe(const char *class_dir, const char *name, esp01_serial_port *p)
{
    char entry[PATH_MAX + 256], dev[PATH_MAX], iface[PATH_MAX], usb[PATH_MAX], sub[64];
    snprintf(entry, sizeof entry, "%s/%s/device", class_dir, name);
    if (!realpath(entry, dev) || !link_base(dev, "subsystem", sub, sizeof sub))
        return false;
    snprintf(iface, sizeof iface, "%s", dev);
    if (strcmp(sub, "usb-serial") == 0) {
        char *slash = strrchr(iface, '/');
        if (!slash || slash == iface)
            return false;
        *slash = '\0';
    } else if (strcmp(sub, "usb") != 0) {
        return false;
    }
    snprintf(usb, sizeof usb, "%s", iface);
    char *slash = strrchr(usb, '/');
    if (!slash || slash == usb)
        return false;
    *slash = '\0';
    char v[16], d[16];
    if (!read_attr(usb, "idVendor", v, sizeof v) || !read_attr(usb, "idProduct", d, sizeof d) ||
        !hex16(v, &p->vid) || !hex16(d, &p->pid))
        return false;
    read_attr(usb, "serial", p->serial, sizeof p->serial);
    read_attr(usb, "manufacturer", p->manufacturer, sizeof p->manufacturer);
    read_attr(usb, "product", p->product, sizeof p->product);
    copy_str(p->location, sizeof p->location, base_name(usb));
    if (!link_base(dev, "driver", p->driver, sizeof p->driver))
        link_base(iface, "driver", p->driver, sizeof p->driver);
    p->bridge = esp01_serial_bridge(p->vid, p->pid);
    return true;
}

int esp01_serial_ports(const char *sys_root, const char *dev_root, esp01_serial_list *out,
                       esp01_err *err)
{
    memset(out, 0, sizeof *out);
    char class_dir[PATH_MAX];
    snprintf(class_dir, sizeof class_dir, "%s/class/tty", sys_root);
    DIR *d = opendir(class_dir);
    if (!d)
        return 0;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && out->count < MAX_PORTS) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof out->ports->name)
            continue;
        esp01_serial_port p;
        memset(&p, 0, sizeof p);
        copy_str(p.name, sizeof p.name, e->d_name);
        if (!describe(class_dir, p.name, &p))
            continue;
        snprintf(p.path, sizeof p.path, "%s/%s", dev_root, p.name);
        find_link(dev_root, "by-path", p.name, p.by_path, sizeof p.by_path);
        find_link(dev_root, "by-id", p.name, p.by_id, sizeof p.by_id);
        set_access(&p);
        if ((rc = push(out, &cap, &p, err)) < 0)
            break;
    }
    closedir(d);
    return finish_list(out, rc);
}

int esp01_serial_nodes(const char *dev_root, esp01_serial_list *out, esp01_err *err)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dev_root);
    if (!d)
        return 0;
    size_t cap = 0;
    int rc = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && out->count < MAX_PORTS) {
        if ((strncmp(e->d_name, "ttyUSB", 6) && strncmp(e->d_name, "ttyACM", 6)) ||
            strlen(e->d_name) >= sizeof out->ports->name)
            continue;
        esp01_serial_port p;
        memset(&p, 0, sizeof p);
        copy_str(p.name, sizeof p.name, e->d_name);
        snprintf(p.path, sizeof p.path, "%s/%s", dev_root, p.name);
        set_access(&p);
        if ((rc = push(out, &cap, &p, err)) < 0)
            break;
    }
    closedir(d);
    return finish_list(out, rc);
}

void esp01_serial_list_free(esp01_serial_list *list)
{
    free(list->ports);
    list->ports = NULL;
    list->count = 0;
}
