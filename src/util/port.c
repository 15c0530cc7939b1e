/* Port helpers shared by every port implementation.  The clock
 * (esp01_now_ms and friends) is the system's: src/os/. */
#include "esp01/port.h"


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
