/*
 * port.h - the byte pipe every device protocol runs over.
 *
 * Protocol code (ROM loader, raw REPL) talks to a `struct esp01_port` and
 * never to termios, so the same code runs over a real USB-serial adapter, a
 * pty in the tests, or anything else that implements these operations.
 *
 * Every wait is bounded by an absolute deadline on the monotonic clock, in
 * milliseconds (see esp01_now_ms()), so that a chain of reads shares one
 * budget instead of each restarting its own timeout.
 */
#ifndef ESP01_PORT_H
#define ESP01_PORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp01_port esp01_port;

struct esp01_port_ops {
    /*
     * Read up to `len` bytes.  Returns as soon as at least one byte is
     * available; returns the count read (> 0), ESP01_E_TIMEOUT when the
     * deadline passes with nothing read, or another negative code (e.g. the
     * device went away).
     */
    int (*read)(esp01_port *port, uint8_t *buf, size_t len,
                uint64_t deadline_ms, esp01_err *err);
    /* Write all `len` bytes before the deadline; 0 or a negative code. */
    int (*write)(esp01_port *port, const uint8_t *buf, size_t len,
                 uint64_t deadline_ms, esp01_err *err);
    /* Wait until written bytes have left the host (tcdrain). */
    int (*drain)(esp01_port *port, uint64_t deadline_ms, esp01_err *err);
    int (*set_baud)(esp01_port *port, uint32_t baud, esp01_err *err);
    /* Set modem lines; 1 asserts (line low at the adapter's pin). */
    int (*set_dtr_rts)(esp01_port *port, bool dtr, bool rts, esp01_err *err);
    /* Drop whatever has been received and not read yet. */
    int (*discard_input)(esp01_port *port, esp01_err *err);
    void (*close)(esp01_port *port);
};

struct esp01_port {
    const struct esp01_port_ops *ops;
    void *ctx;
    /* Bytes per second at the current baud (for transfer time estimates). */
    uint32_t baud;
};

/* Monotonic milliseconds, and a deadline `ms` from now. */
uint64_t esp01_now_ms(void);
uint64_t esp01_deadline_in(uint32_t ms);
/* Sleep, for the line-toggling sequences that need fixed pauses. */
void esp01_sleep_ms(uint32_t ms);

/*
 * Open a serial device (a tty, or a pty in tests) in raw 8N1 mode at `baud`.
 * DTR and RTS are set to `dtr`/`rts` immediately after opening and HUPCL is
 * cleared, so opening the port does not reset the board by surprise.
 * The port is malloc'd; close it with esp01_port_close().
 */
int esp01_port_open_serial(esp01_port **out, const char *path, uint32_t baud,
                           bool dtr, bool rts, esp01_err *err);

void esp01_port_close(esp01_port *port);

/* Read exactly `len` bytes before the deadline (0 or negative code). */
int esp01_port_read_exact(esp01_port *port, uint8_t *buf, size_t len,
                          uint64_t deadline_ms, esp01_err *err);

/* Convenience wrappers over port->ops. */
int esp01_port_read(esp01_port *port, uint8_t *buf, size_t len,
                    uint64_t deadline_ms, esp01_err *err);
int esp01_port_write(esp01_port *port, const uint8_t *buf, size_t len,
                     uint64_t deadline_ms, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
