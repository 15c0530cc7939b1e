/* Baud rates on Linux (tty.h): termios has a constant for each one the
 * ESP8266 tools use, up to 3 Mbaud. */
#include "os/posix/tty.h"

#include <errno.h>

static speed_t baud_constant(uint32_t baud)
{
    switch (baud) {
    case 9600: return B9600;
    case 19200: return B19200;
    case 38400: return B38400;
    case 57600: return B57600;
    case 115200: return B115200;
    case 230400: return B230400;
    case 460800: return B460800;
    case 921600: return B921600;
    case 1000000: return B1000000;
    case 1500000: return B1500000;
    case 2000000: return B2000000;
    case 3000000: return B3000000;
    default: return 0;
    }
}

int esp01_tty_set_baud(int fd, struct termios *tio, uint32_t baud)
{
    speed_t sp = baud_constant(baud);
    if (!sp)
        return EINVAL;
    cfsetispeed(tio, sp);
    cfsetospeed(tio, sp);
    return tcsetattr(fd, TCSANOW, tio) < 0 ? errno : 0;
}
