/*
 * serlist.h - what every port listing shares (Linux sysfs, macOS /dev/cu.*,
 * Windows SetupAPI): the growing list, its natural order, cut copies.
 */
#ifndef ESP01_OS_SERLIST_H
#define ESP01_OS_SERLIST_H

#include <stddef.h>

#include "esp01/serialports.h"

/* At most this many ports are listed (serialports.h). */
#define ESP01_SERLIST_MAX 256u

/* A copy of src cut to fit cap bytes, always terminated. */
void esp01_serlist_copy(char *dst, size_t cap, const char *src);

/* The last component of a '/' path. */
const char *esp01_serlist_base(const char *path);

/* Append a copy of *p; *cap is the list's allocation.  0, or
 * ESP01_E_NOMEM. */
int esp01_serlist_push(esp01_serial_list *out, size_t *cap, const esp01_serial_port *p,
                       esp01_err *err);

/* rc < 0: the list is freed and rc returned.  Else the list is sorted in
 * natural name order (ttyUSB2 before ttyUSB10, COM3 before COM10) and its
 * count returned. */
int esp01_serlist_finish(esp01_serial_list *out, int rc);

#endif
