/*
 * serialports_linux.c - USB serial ports from Linux sysfs (the walk is
 * described in serialports.h).
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

#include "os/posix/serlist.h"

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

/* basename(realpath(dir/link)) into out; false if it does not resolve. */
static bool link_base(const char *dir, const char *link, char *out, size_t cap)
{
    char path[PATH_MAX + 64], real[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", dir, link);
    if (!realpath(path, real))
        return false;
    esp01_serlist_copy(out, cap, esp01_serlist_base(real));
    return true;
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
        if (strcmp(esp01_serlist_base(target), name) == 0) {
            esp01_serlist_copy(out, cap, path);
            break;
        }
    }
    closedir(d);
}

/* Fill `p` from the tty's sysfs entry; false when it is no USB port. */
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
    esp01_serlist_copy(p->location, sizeof p->location, esp01_serlist_base(usb));
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
    while ((e = readdir(d)) != NULL && out->count < ESP01_SERLIST_MAX) {
        if (e->d_name[0] == '.' || strlen(e->d_name) >= sizeof out->ports->name)
            continue;
        esp01_serial_port p;
        memset(&p, 0, sizeof p);
        esp01_serlist_copy(p.name, sizeof p.name, e->d_name);
        if (!describe(class_dir, p.name, &p))
            continue;
        snprintf(p.path, sizeof p.path, "%s/%s", dev_root, p.name);
        find_link(dev_root, "by-path", p.name, p.by_path, sizeof p.by_path);
        find_link(dev_root, "by-id", p.name, p.by_id, sizeof p.by_id);
        esp01_serlist_access(&p);
        if ((rc = esp01_serlist_push(out, &cap, &p, err)) < 0)
            break;
    }
    closedir(d);
    return esp01_serlist_finish(out, rc);
}

static bool usb_tty_node(const char *name, esp01_serial_port *p)
{
    (void)p;
    return strncmp(name, "ttyUSB", 6) == 0 || strncmp(name, "ttyACM", 6) == 0;
}

int esp01_serial_nodes(const char *dev_root, esp01_serial_list *out, esp01_err *err)
{
    return esp01_serlist_dev_nodes(dev_root, usb_tty_node, out, err);
}
