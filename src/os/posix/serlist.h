/*
 * serlist.h - what the Linux (sysfs) and macOS (/dev/cu.*) port listings
 * share beyond os/serlist.h: the access check and the /dev walk.
 */
#ifndef ESP01_OS_POSIX_SERLIST_H
#define ESP01_OS_POSIX_SERLIST_H

#include <stdbool.h>

#include "os/serlist.h"

/* p->access_errno (0, EACCES, ENOENT) and p->gid from p->path, without
 * opening it: opening resets boards wired for auto-reset. */
void esp01_serlist_access(esp01_serial_port *p);

/*
 * The device nodes of dev_root that `describe` accepts, as a finished list
 * (count, or a negative code).  describe gets the node's name and a zeroed
 * port to fill beyond name, path and access, which are filled here; false
 * leaves the node out.  A missing dev_root is an empty list.
 */
int esp01_serlist_dev_nodes(const char *dev_root,
                            bool (*describe)(const char *name, esp01_serial_port *p),
                            esp01_serial_list *out, esp01_err *err);

#endif
