/*
 * Choosing the serial port when none was given (portpick.h).
 */
#include "portpick.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "os/os.h"

static const char *root(const char *env, const char *def)
{
    const char *v = getenv(env);
    return v && *v ? v : def;
}

/* ESP01_PORTS_STYLE=macos lists the way a Mac does (/dev/cu.* names)
 * on any POSIX system: for the tests, which have no Mac (docs/ports.md). */
static bool macos_style(void)
{
    const char *v = getenv("ESP01_PORTS_STYLE");
    return v && strcmp(v, "macos") == 0;
}

int portpick_list(esp01_serial_list *out)
{
    esp01_err err = {0};
    const char *dev = root("ESP01_DEV_ROOT", ESP01_DEV_ROOT);
    int rc = macos_style() ? esp01_serial_ports_cu(dev, out, &err)
                           : esp01_serial_ports(root("ESP01_SYSFS_ROOT", ESP01_SYSFS_ROOT),
                                                dev, out, &err);
    return rc < 0 ? cli_lib_error(rc, &err) : EXIT_OK;
}

/* A Mac's listing knows no VID:PID (serialports.h): none is shown. */
void portpick_describe(const esp01_serial_port *p, char *out, size_t cap)
{
    const char *bridge = p->bridge ? p->bridge : "USB serial";
    int n = p->vid || p->pid ? snprintf(out, cap, "%s %04x:%04x", bridge, p->vid, p->pid)
                             : snprintf(out, cap, "%s", bridge);
    if (p->serial[0] && n >= 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, ", serial %s", p->serial);
}

static const char *group_name(unsigned gid, char *buf, size_t cap)
{
    if (!esp01_os_group_name(gid, buf, cap))
        snprintf(buf, cap, "%u", gid);
    return buf;
}

static int no_permission(const esp01_serial_port *p)
{
    char grp[64];
    group_name(p->gid, grp, sizeof grp);
    return cli_error("%s is there, but this user may not open it (it belongs to group "
                     "'%s'): a permission problem. Fix: sudo usermod -aG %s $USER, then log "
                     "out and in again (or give --port a port you may open)",
                     p->path, grp, grp);
}

int portpick_auto(const char **port)
{
    static char chosen[512];
    esp01_serial_list l;
    int rc = portpick_list(&l);
    if (rc != EXIT_OK)
        return rc;
    size_t usable = 0, pick = 0, denied = l.count;
    for (size_t i = 0; i < l.count; i++) {
        if (l.ports[i].access_errno == 0) {
            usable++;
            pick = i;
        } else if (l.ports[i].access_errno == EACCES && denied == l.count) {
            denied = i;
        }
    }
    char what[256];
    if (usable == 1) {
        snprintf(chosen, sizeof chosen, "%s", l.ports[pick].path);
        portpick_describe(&l.ports[pick], what, sizeof what);
        fprintf(stderr, "Port:      %s (%s: the only USB serial port)\n", chosen, what);
        *port = chosen;
        esp01_serial_list_free(&l);
        return EXIT_OK;
    }
    if (usable > 1) {
        cli_error("%zu USB serial ports: say which with --port PATH (or set ESP01_PORT)",
                  usable);
        for (size_t i = 0; i < l.count; i++) {
            if (l.ports[i].access_errno)
                continue;
            portpick_describe(&l.ports[i], what, sizeof what);
            fprintf(stderr, "  %-14s %s%s%s\n", l.ports[i].path, what,
                    l.ports[i].by_path[0] ? "  " : "", l.ports[i].by_path);
        }
        esp01_serial_list_free(&l);
        return EXIT_USAGE;
    }
    if (denied < l.count) {
        rc = no_permission(&l.ports[denied]);
        esp01_serial_list_free(&l);
        return rc;
    }
    esp01_serial_list_free(&l);
    /* No sysfs entry: look at the device nodes themselves. */
    esp01_err err = {0};
    const char *dev = root("ESP01_DEV_ROOT", ESP01_DEV_ROOT);
    if ((macos_style() ? esp01_serial_ports_cu(dev, &l, &err)
                       : esp01_serial_nodes(dev, &l, &err)) < 0)
        return cli_lib_error(err.code, &err);
    for (size_t i = 0; i < l.count; i++)
        if (l.ports[i].access_errno == EACCES) {
            rc = no_permission(&l.ports[i]);
            esp01_serial_list_free(&l);
            return rc;
        }
    esp01_serial_list_free(&l);
    return cli_error("no USB serial port found (is the adapter plugged in? 'esp01 ports' "
                     "lists them): give --port PATH or set ESP01_PORT");
}
