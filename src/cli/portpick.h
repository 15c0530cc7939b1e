/*
 * portpick.h - which serial port, when the user gave none: the USB serial
 * ports of the machine (sysfs), the only one used, several or none
 * explained.
 */
#ifndef ESP01_PORTPICK_H
#define ESP01_PORTPICK_H

#include "esp01/serialports.h"

/* The machine's USB serial ports.  ESP01_SYSFS_ROOT and ESP01_DEV_ROOT
 * replace /sys and /dev (for tests).  EXIT_OK or an exit code. */
int portpick_list(esp01_serial_list *out);

/* "CH340 1a86:7523, serial 0001" and the like, for messages. */
void portpick_describe(const esp01_serial_port *p, char *out, size_t cap);

/*
 * No --port and no ESP01_PORT: the only USB serial port this user may
 * open, named on stderr.  Several, none, or only ones without permission:
 * the message (with the fix for a permission problem) and an exit code.
 * *port points to static storage.
 */
int portpick_auto(const char **port);

#endif
