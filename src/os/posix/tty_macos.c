/*
 * Baud rates on macOS (tty.h): termios stops at B230400; faster rates go
 * through IOSSIOSPEED, after tcsetattr (which would put the old rate back).
 */
#include "os/posix/tty.h"

#include <errno.h>
#include <stddef.h>
#include <sys/ioctl.h>
#include <IOKit/serial/ioss.h>

static speed_t baud_constant(uint32_t baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    default: return 0;
    }
}

int esp01_tty_set_baud(int fd, struct termios *tio, uint32_t baud)
{
    static const uint32_t fast[] = {460800, 921600, 1000000, 1500000, 2000000, 3000000};
    speed_t sp = baud_constant(baud);
    if (sp) {
        cfsetispeed(tio, sp);
        cfsetospeed(tio, sp);
        return tcsetattr(fd, TCSANOW, tio) < 0 ? errno : 0;
    }
    for (size_t i = 0; i < sizeof fast / sizeof *fast; i++) {
        if (fast[i] != baud)
            continue;
        speed_t speed = baud;
        if (tcsetattr(fd, TCSANOW, tio) < 0 || ioctl(fd, IOSSIOSPEED, &speed) < 0)
            return errno;
        return 0;
    }
    return EINVAL;
}
