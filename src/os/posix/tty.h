/*
 * tty.h - the one thing termios does differently on Linux and macOS: the
 * rates above 230400 baud (tty_linux.c, tty_macos.c).
 */
#ifndef ESP01_OS_POSIX_TTY_H
#define ESP01_OS_POSIX_TTY_H

#include <stdint.h>
#include <termios.h>

/*
 * Set `baud` on the open tty `fd`, whose settings are `tio` (read with
 * tcgetattr), now.  0; EINVAL when this system has no such rate; else the
 * errno of the call that failed.
 */
int esp01_tty_set_baud(int fd, struct termios *tio, uint32_t baud);

#endif
