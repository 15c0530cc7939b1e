/*
 * esp01.h - libesp01 common definitions: version, error codes, error detail.
 *
 * Conventions shared by every libesp01 module:
 *
 *  - Functions return 0 (or a non-negative count) on success and a negative
 *    ESP01_E* code on failure.  They never print and never exit.
 *  - Functions that can fail take an `esp01_err *` as their last argument.
 *    On failure they fill it with a one-line, human-readable description
 *    (no trailing newline, no "esp01:" prefix: the tool adds that).  The
 *    pointer may be NULL when the caller does not want detail.
 *  - Memory passed in is owned by the caller.  Functions that allocate say
 *    so, and come with a matching *_free().
 *  - Parsers take (const uint8_t *buf, size_t len) and treat the bytes as
 *    hostile: every read is bounds-checked and every loop is bounded.
 */
#ifndef ESP01_ESP01_H
#define ESP01_ESP01_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define ESP01_VERSION "0.1.0"

enum esp01_error {
    ESP01_OK = 0,
    ESP01_E_IO = -1,          /* host I/O failed (errno text in detail) */
    ESP01_E_NOMEM = -2,       /* allocation failed */
    ESP01_E_FORMAT = -3,      /* input is malformed / not what it claims */
    ESP01_E_CHECKSUM = -4,    /* a checksum, CRC or digest does not match */
    ESP01_E_NOSPACE = -5,     /* does not fit (image, partition, flash) */
    ESP01_E_INVAL = -6,       /* bad argument from the caller */
    ESP01_E_UNSUPPORTED = -7, /* valid, but not something we handle */
    ESP01_E_NOTFOUND = -8,    /* no such file / entry / device */
    ESP01_E_EXISTS = -9,      /* target already exists */
    ESP01_E_TIMEOUT = -10,    /* a deadline passed */
    ESP01_E_PROTOCOL = -11,   /* peer broke the protocol */
    ESP01_E_DEVICE = -12,     /* the device reported an error */
    ESP01_E_LIMIT = -13,      /* an input exceeded a safety limit */
    ESP01_E_INTERRUPTED = -14 /* the operation was cancelled */
};

/* Detail for the last failure.  64 bytes of path plus context fit easily. */
#define ESP01_ERR_MAX 320

typedef struct esp01_err {
    int code;
    char msg[ESP01_ERR_MAX];
} esp01_err;

/* Short generic text for a code ("malformed input", ...). Never NULL. */
const char *esp01_strerror(int code);

/*
 * The printf format checking of the compiler's target.  MinGW's "printf"
 * is Microsoft's, which knows no %zu; the Windows build, which uses
 * MinGW's C99 printf, sets this to gnu_printf (the Makefile says so, not
 * an #ifdef).
 */
#ifndef ESP01_PRINTF_FORMAT
#define ESP01_PRINTF_FORMAT printf
#endif

/*
 * Record a failure in `err` (if not NULL) and return `code`, so that library
 * code can write `return esp01_fail(err, ESP01_E_FORMAT, "...", ...);`.
 */
int esp01_fail(esp01_err *err, int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(ESP01_PRINTF_FORMAT, 3, 4)))
#endif
    ;

/* Clear `err` (if not NULL). */
void esp01_err_clear(esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
