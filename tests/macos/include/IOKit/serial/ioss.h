/* The part of Apple's IOKit/serial/ioss.h that src/os/posix/tty_macos.c
 * uses (macos-check). */
#ifndef _SYS_IOSS_H
#define _SYS_IOSS_H
#include <sys/ioctl.h>
#include <termios.h>
#define IOSSIOSPEED _IOW('T', 2, speed_t)
#endif
