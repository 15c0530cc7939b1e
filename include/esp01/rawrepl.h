/*
 * rawrepl.h - MicroPython raw REPL client over struct esp01_port.
 *
 * The raw REPL is MicroPython's machine interface: Ctrl-A enters it, code
 * ends with Ctrl-D, and the device answers "OK", the program's stdout, 0x04,
 * the error text (a traceback), 0x04 and the ">" prompt.  Raw-paste mode
 * (MicroPython >= 1.14) adds flow control: the device grants a window of W
 * bytes and one more window per 0x01 byte it sends, so a small UART buffer
 * (256 bytes on the ESP8266) never overflows.  Without raw-paste, code is
 * sent no faster than the line rate, in pieces no larger than the device's
 * input buffer budget, and nothing is ever sent while a program runs.
 *
 * Device output is data: it goes to caller callbacks or into capped
 * buffers, never anywhere it could be interpreted on the host.  Every wait
 * has a deadline; a running program can be interrupted through the
 * caller's cancel flag (checked at least every 100 ms).
 *
 * Memory: struct esp01_rawrepl is caller-owned and holds no heap memory;
 * esp01_rawrepl_exec_capture() returns malloc'd output the caller frees.
 */
#ifndef ESP01_RAWREPL_H
#define ESP01_RAWREPL_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/port.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The raw REPL banner the device prints on entry. */
#define ESP01_RAWREPL_BANNER "raw REPL; CTRL-B to exit\r\n"

typedef enum esp01_paste_mode {
    ESP01_PASTE_AUTO = 0, /* try raw-paste once, fall back to plain raw */
    ESP01_PASTE_NEVER = 1 /* plain raw mode only */
} esp01_paste_mode;

/*
 * Output callback: `stream` is 1 for the program's stdout, 2 for its error
 * text.  Bytes are raw device output (may be partial UTF-8).
 */
typedef void (*esp01_rawrepl_output)(void *ctx, int stream,
                                     const uint8_t *buf, size_t len);

typedef struct esp01_rawrepl {
    esp01_port *port;
    /* Line rate in bytes per second, for pacing plain raw mode. */
    uint32_t line_bytes_per_s;
    /* Largest burst sent in plain raw mode before pacing (< device buffer). */
    size_t plain_burst;
    esp01_paste_mode paste_mode;
    /* Set by the caller (e.g. from SIGINT) to send Ctrl-C to the device. */
    volatile sig_atomic_t *cancel;
    /* Internal state. */
    bool in_raw;
    int paste; /* -1 not probed yet, 0 unsupported, 1 supported */
    uint16_t paste_window;
    uint8_t rbuf[512];
    size_t rpos, rlen;
    /* Statistics for benchmarks and progress. */
    uint64_t bytes_sent;
} esp01_rawrepl;

/*
 * Prepare `r` for `port` (the port stays owned by the caller).  Defaults:
 * line rate from port->baud (10 bits per byte), bursts of 128 bytes,
 * raw-paste tried automatically.
 */
void esp01_rawrepl_init(esp01_rawrepl *r, esp01_port *port);

/*
 * Stop whatever runs (Ctrl-C twice with a short pause), enter the raw REPL
 * and check its banner.  With `soft_reset`, also soft-reset the device
 * (Ctrl-D in the raw REPL) and wait for the banner again.  Fails with
 * ESP01_E_TIMEOUT when the device does not answer (busy in a loop that
 * swallows KeyboardInterrupt, wrong port, wrong baud) within `timeout_ms`.
 */
int esp01_rawrepl_enter(esp01_rawrepl *r, bool soft_reset,
                        uint32_t timeout_ms, esp01_err *err);

/* Leave the raw REPL for the friendly one (Ctrl-B).  */
int esp01_rawrepl_leave(esp01_rawrepl *r, esp01_err *err);

/*
 * Run `code` (len bytes, no 0x04 inside) in the raw REPL and stream its
 * output to `out` (may be NULL).  `timeout_ms` bounds the whole exec; 0
 * means no limit other than the cancel flag (for `esp01 run`).  Returns 0
 * when the program finished without an exception, ESP01_E_DEVICE when it
 * raised one (its error text went to stream 2; `err` gets its last line),
 * ESP01_E_INTERRUPTED when cancelled, or a transport error.
 */
int esp01_rawrepl_exec(esp01_rawrepl *r, const uint8_t *code, size_t len,
                       esp01_rawrepl_output out, void *ctx,
                       uint32_t timeout_ms, esp01_err *err);

/*
 * Same, collecting stdout into a malloc'd, NUL-terminated buffer of at most
 * `cap` bytes (*out_len excludes the NUL; the caller frees *out, also on
 * failure where it may be NULL).  More output than `cap` fails with
 * ESP01_E_LIMIT after the exec completed.
 */
int esp01_rawrepl_exec_capture(esp01_rawrepl *r, const char *code,
                               size_t cap, char **out, size_t *out_len,
                               uint32_t timeout_ms, esp01_err *err);

/*
 * Soft reset from the raw REPL (Ctrl-D) and re-enter it; or, with
 * `stay_friendly`, reset and leave the device at its normal REPL running
 * main.py as on power-up.
 */
int esp01_rawrepl_soft_reset(esp01_rawrepl *r, bool stay_friendly,
                             uint32_t timeout_ms, esp01_err *err);

/*
 * Map a MicroPython error text (a traceback) to an ESP01_E_* code and copy
 * its last line into `line` (size `cap`).  Errno names or numbers for
 * ENOENT, EEXIST, ENOSPC, ENODEV, EISDIR, ENOTDIR, ENOTEMPTY are recognised;
 * anything else is ESP01_E_DEVICE.  `text` is hostile device output.
 */
int esp01_rawrepl_classify_error(const uint8_t *text, size_t len, char *line,
                                 size_t cap);

#ifdef __cplusplus
}
#endif

#endif
