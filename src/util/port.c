/* Port helpers shared by every port implementation. */
#include "esp01/port.h"

#include <errno.h>
#include <time.h>

uint64_t esp01_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t esp01_deadline_in(uint32_t ms)
{
    return esp01_now_ms() + ms;
}

void esp01_sleep_ms(uint32_t ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
    }
}

void esp01_port_close(esp01_port *port)
{
    if (port && port->ops && port->ops->close)
        port->ops->close(port);
}

int esp01_port_read(esp01_port *port, uint8_t *buf, size_t len,
                    uint64_t deadline_ms, esp01_err *err)
{
    return port->ops->read(port, buf, len, deadline_ms, err);
}

int esp01_port_write(esp01_port *port, const uint8_t *buf, size_t len,
                     uint64_t deadline_ms, esp01_err *err)
{
    return port->ops->write(port, buf, len, deadline_ms, err);
}

int esp01_port_read_exact(esp01_port *port, uint8_t *buf, size_t len,
                          uint64_t deadline_ms, esp01_err *err)
{
    size_t got = 0;
    while (got < len) {
        int n = port->ops->read(port, buf + got, len - got, deadline_ms, err);
        if (n < 0)
            return n;
        got += (size_t)n;
    }
    return 0;
}
