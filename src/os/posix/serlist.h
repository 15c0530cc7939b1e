/*
 * serlist.h - what the Linux (sysfs) and macOS (/dev/cu.*) port listings
 * share: the growing list, its natural order, and the access check.
 */
#ifndef ESP01_OS_POSIX_SERLIST_H
#define ESP01_OS_POSIX_SERLIST_H

#include <stdbool.h>
#include <stddef.h>

#include "esp01/serialports.h"

/* At most this many ports are listed (serialports.h). */
#define ESP01_SERLIST_MAX 256u

/* A copy of src cut to fit cap bytes, always terminated. */
void esp01_serlist_copy(char *dst, size_t cap, const char *src);

/* The last component of a '/' path. */
const char *esp01_serlist_base(const char *path);

/* p->access_errno (0, EACCES, ENOENT) and p->gid from p->path, without
 * opening it: opening resets boards wired for auto-reset. */
void esp01_serlist_access(esp01_serial_port *p);

/* Append a copy of *p; *cap is the list's allocation.  0, or
 * ESP01_E_NOMEM. */
int esp01_serlist_push(esp01_serial_list *out, size_t *cap, const esp01_serial_port *p,
                       esp01_err *err);

/* rc < 0: the list is freed and rc returned.  Else the list is sorted in
 * natural name order (ttyUSB2 before ttyUSB10) and its count returned. */
int esp01_serlist_finish(esp01_serial_list *out, int rc);

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
