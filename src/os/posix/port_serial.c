/*
 * POSIX termios implementation of the port interface.  This is the only
 * file that knows about termios; protocol code sees struct esp01_port.
 */
#include "esp01/port.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include "os/os.h"
#include "os/posix/tty.h"

struct serial {
    int fd;
    char path[256];
};

static int serial_read(esp01_port *port, uint8_t *buf, size_t len,
                       uint64_t deadline_ms, esp01_err *err)
{
    struct serial *s = port->ctx;
    bool poll_said_readable = false;
    if (len == 0)
        return 0;
    for (;;) {
        ssize_t n = read(s->fd, buf, len);
        if (n > 0)
            return (int)(n > 0x7fffffff ? 0x7fffffff : n);
        /* With VMIN = VTIME = 0 a tty reads 0 when it has nothing; only a
         * 0 right after poll() promised data means the device is gone. */
        if (n == 0 && poll_said_readable)
            return esp01_fail(err, ESP01_E_IO, "'%s' was closed (device unplugged?)",
                              s->path);
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return esp01_fail(err, ESP01_E_IO, "cannot read '%s': %s", s->path,
                              strerror(errno));
        int wait = (int)esp01_os_wait_ms(deadline_ms);
        if (wait == 0)
            return esp01_fail(err, ESP01_E_TIMEOUT, "no reply from '%s'",
                              s->path);
        struct pollfd pfd = {s->fd, POLLIN, 0};
        int r = poll(&pfd, 1, wait);
        if (r < 0 && errno != EINTR)
            return esp01_fail(err, ESP01_E_IO, "cannot wait on '%s': %s",
                              s->path, strerror(errno));
        if (r > 0 && (pfd.revents & (POLLHUP | POLLERR)) &&
            !(pfd.revents & POLLIN))
            return esp01_fail(err, ESP01_E_IO,
                              "'%s' hung up (device unplugged?)", s->path);
        poll_said_readable = r > 0 && (pfd.revents & POLLIN);
    }
}

static int serial_write(esp01_port *port, const uint8_t *buf, size_t len,
                        uint64_t deadline_ms, esp01_err *err)
{
    struct serial *s = port->ctx;
    size_t done = 0;
    while (done < len) {
        ssize_t n = write(s->fd, buf + done, len - done);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
            return esp01_fail(err, ESP01_E_IO, "cannot write '%s': %s",
                              s->path, strerror(errno));
        int wait = (int)esp01_os_wait_ms(deadline_ms);
        if (wait == 0)
            return esp01_fail(err, ESP01_E_TIMEOUT,
                              "'%s' would not take more bytes", s->path);
        struct pollfd pfd = {s->fd, POLLOUT, 0};
        if (poll(&pfd, 1, wait) < 0 && errno != EINTR)
            return esp01_fail(err, ESP01_E_IO, "cannot wait on '%s': %s",
                              s->path, strerror(errno));
    }
    return 0;
}

static int serial_drain(esp01_port *port, uint64_t deadline_ms,
                        esp01_err *err)
{
    /* tcdrain has no timeout; poll the output queue instead. */
    struct serial *s = port->ctx;
    for (;;) {
        int queued = 0;
        if (ioctl(s->fd, TIOCOUTQ, &queued) < 0 || queued <= 0)
            return 0;
        if (esp01_os_wait_ms(deadline_ms) == 0)
            return esp01_fail(err, ESP01_E_TIMEOUT,
                              "'%s' did not send its output in time",
                              s->path);
        esp01_sleep_ms(2);
    }
}

static int serial_set_baud(esp01_port *port, uint32_t baud, esp01_err *err)
{
    struct serial *s = port->ctx;
    /* 74880 (the ROM's boot messages) has no termios rate on either system. */
    struct termios tio;
    if (tcgetattr(s->fd, &tio) < 0)
        return esp01_fail(err, ESP01_E_IO, "cannot configure '%s': %s",
                          s->path, strerror(errno));
    int e = baud == 74880 ? EINVAL : esp01_tty_set_baud(s->fd, &tio, baud);
    if (e == EINVAL)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "baud rate %u is not supported here", baud);
    if (e)
        return esp01_fail(err, ESP01_E_IO, "cannot set %u baud on '%s': %s",
                          baud, s->path, strerror(e));
    port->baud = baud;
    return 0;
}

static int serial_set_dtr_rts(esp01_port *port, bool dtr, bool rts,
                              esp01_err *err)
{
    struct serial *s = port->ctx;
    int bits = 0;
    if (ioctl(s->fd, TIOCMGET, &bits) < 0) {
        /* A pty has no modem lines; that is not an error for our purposes. */
        if (errno == ENOTTY || errno == EINVAL)
            return 0;
        return esp01_fail(err, ESP01_E_IO, "cannot read modem lines of '%s': %s",
                          s->path, strerror(errno));
    }
    bits = dtr ? bits | TIOCM_DTR : bits & ~TIOCM_DTR;
    bits = rts ? bits | TIOCM_RTS : bits & ~TIOCM_RTS;
    if (ioctl(s->fd, TIOCMSET, &bits) < 0 && errno != ENOTTY && errno != EINVAL)
        return esp01_fail(err, ESP01_E_IO, "cannot set DTR/RTS on '%s': %s",
                          s->path, strerror(errno));
    return 0;
}

static int serial_discard_input(esp01_port *port, esp01_err *err)
{
    struct serial *s = port->ctx;
    if (tcflush(s->fd, TCIFLUSH) < 0 && errno != ENOTTY)
        return esp01_fail(err, ESP01_E_IO, "cannot flush '%s': %s", s->path,
                          strerror(errno));
    /* A pty's flush does not always reach bytes already in flight. */
    uint8_t junk[256];
    while (read(s->fd, junk, sizeof junk) > 0) {
    }
    return 0;
}

static void serial_close(esp01_port *port)
{
    struct serial *s = port->ctx;
    if (s) {
        /* The exclusive flag outlives this fd while another holder (a pty
         * master's owner) keeps the tty open; give it back. */
        ioctl(s->fd, TIOCNXCL);
        close(s->fd);
        free(s);
    }
    free(port);
}

static const struct esp01_port_ops serial_ops = {
    serial_read,     serial_write,         serial_drain, serial_set_baud,
    serial_set_dtr_rts, serial_discard_input, serial_close,
};

int esp01_port_open_serial(esp01_port **out, const char *path, uint32_t baud,
                           bool dtr, bool rts, esp01_err *err)
{
    *out = NULL;
    int fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        if (e == EBUSY)
            return esp01_fail(err, ESP01_E_IO,
                              "cannot open '%s': port is busy (another program "
                              "has it open?)", path);
        return esp01_fail(err, e == ENOENT ? ESP01_E_NOTFOUND : ESP01_E_IO,
                          "cannot open '%s': %s", path, strerror(e));
    }
    /* Exclusive use: a second esp01 or a terminal would steal bytes. */
    if (ioctl(fd, TIOCEXCL) < 0 && errno != ENOTTY && errno != EINVAL) {
        int e = errno;
        close(fd);
        return esp01_fail(err, ESP01_E_IO, "cannot lock '%s': %s", path,
                          strerror(e));
    }
    struct termios tio;
    if (tcgetattr(fd, &tio) < 0) {
        int e = errno;
        close(fd);
        return esp01_fail(err, ESP01_E_IO, "'%s' is not a serial port: %s",
                          path, strerror(e));
    }
    cfmakeraw(&tio);
    tio.c_cflag |= CLOCAL | CREAD;
    tio.c_cflag &= ~(tcflag_t)(HUPCL | CSTOPB | PARENB | CRTSCTS);
    tio.c_iflag &= ~(tcflag_t)(IXON | IXOFF | IXANY);
    tio.c_cc[VMIN] = 0;
    tio.c_cc[VTIME] = 0;
    if (tcsetattr(fd, TCSANOW, &tio) < 0) {
        int e = errno;
        close(fd);
        return esp01_fail(err, ESP01_E_IO, "cannot configure '%s': %s", path,
                          strerror(e));
    }
    struct serial *s = calloc(1, sizeof *s);
    esp01_port *p = calloc(1, sizeof *p);
    if (!s || !p) {
        free(s);
        free(p);
        close(fd);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    s->fd = fd;
    strncpy(s->path, path, sizeof s->path - 1);
    p->ops = &serial_ops;
    p->ctx = s;
    int rc = serial_set_dtr_rts(p, dtr, rts, err);
    if (rc == 0)
        rc = serial_set_baud(p, baud, err);
    if (rc < 0) {
        serial_close(p);
        return rc;
    }
    *out = p;
    return 0;
}
