/*
 * Win32 implementation of the serial port interface (port.h): a COM port
 * opened with CreateFileW, configured with a DCB, waited on with
 * COMMTIMEOUTS.
 *
 * Reads use the COMMTIMEOUTS setting that matches port.h: with
 * ReadIntervalTimeout and ReadTotalTimeoutMultiplier both MAXDWORD and a
 * constant T, ReadFile returns at once with what is buffered, else with
 * the first byte(s) to arrive, else after T ms with none.  T is a slice
 * of at most READ_SLICE_MS of what is left of the caller's deadline, the
 * read repeated until the deadline: Wine (where the tests run) does not
 * return at the first byte but waits all of T, so the slice bounds how
 * late a reply is seen there; on Windows it only costs a wake-up every
 * slice while the line is quiet.  (Overlapped I/O with WaitCommEvent
 * would avoid both, but WaitCommEvent on a pty brings Wine's server
 * down.)
 */
#include "esp01/port.h"

#include "os/os.h"
#include "os/win32/win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_SLICE_MS 20u

struct serial {
    HANDLE h;
    char path[256];
    bool dtr, rts;
    COMMTIMEOUTS timeouts; /* what the driver has now, to skip equal sets */
};

static int fail_win(esp01_err *err, int code, DWORD e, const char *what, const char *path)
{
    char text[200];
    return esp01_fail(err, code, "%s '%s': %s", what, path,
                      esp01_win_strerror(e, NULL, text, sizeof text));
}

static bool set_timeouts(struct serial *s, DWORD read_ms, DWORD write_ms)
{
    COMMTIMEOUTS t = {MAXDWORD, MAXDWORD, read_ms, 0, write_ms};
    /* A constant of 0 with both MAXDWORDs is not the "return at once" case;
     * that one is MAXDWORD, 0, 0. */
    if (read_ms == 0)
        t.ReadTotalTimeoutMultiplier = 0;
    if (memcmp(&t, &s->timeouts, sizeof t) == 0)
        return true;
    if (!SetCommTimeouts(s->h, &t))
        return false;
    s->timeouts = t;
    return true;
}

/* The errors a USB adapter's driver gives once it has been pulled out. */
static bool gone(DWORD e)
{
    return e == ERROR_ACCESS_DENIED || e == ERROR_BAD_COMMAND || e == ERROR_GEN_FAILURE ||
           e == ERROR_DEVICE_NOT_CONNECTED || e == ERROR_OPERATION_ABORTED ||
           e == ERROR_DEVICE_REMOVED || e == ERROR_INVALID_HANDLE;
}

static int serial_read(esp01_port *port, uint8_t *buf, size_t len, uint64_t deadline_ms,
                       esp01_err *err)
{
    struct serial *s = port->ctx;
    if (len == 0)
        return 0;
    DWORD want = len > 0x40000000u ? 0x40000000u : (DWORD)len;
    for (;;) {
        DWORD wait = (DWORD)esp01_os_wait_ms(deadline_ms);
        if (!set_timeouts(s, wait < READ_SLICE_MS ? wait : READ_SLICE_MS,
                          s->timeouts.WriteTotalTimeoutConstant))
            return fail_win(err, ESP01_E_IO, GetLastError(), "cannot wait on", s->path);
        DWORD got = 0;
        if (!ReadFile(s->h, buf, want, &got, NULL)) {
            DWORD e = GetLastError();
            if (gone(e))
                return esp01_fail(err, ESP01_E_IO, "'%s' was closed (device unplugged?)",
                                  s->path);
            return fail_win(err, ESP01_E_IO, e, "cannot read", s->path);
        }
        if (got > 0)
            return (int)got;
        if (esp01_os_wait_ms(deadline_ms) == 0)
            return esp01_fail(err, ESP01_E_TIMEOUT, "no reply from '%s'", s->path);
    }
}

static int serial_write(esp01_port *port, const uint8_t *buf, size_t len, uint64_t deadline_ms,
                        esp01_err *err)
{
    struct serial *s = port->ctx;
    size_t done = 0;
    while (done < len) {
        DWORD wait = (DWORD)esp01_os_wait_ms(deadline_ms);
        if (wait == 0)
            return esp01_fail(err, ESP01_E_TIMEOUT,
                              "'%s' would not take more bytes (%zu of %zu written)", s->path,
                              done, len);
        if (!set_timeouts(s, s->timeouts.ReadTotalTimeoutConstant, wait))
            return fail_win(err, ESP01_E_IO, GetLastError(), "cannot wait on", s->path);
        size_t left = len - done;
        DWORD chunk = left > 0x40000000u ? 0x40000000u : (DWORD)left, n = 0;
        if (!WriteFile(s->h, buf + done, chunk, &n, NULL)) {
            DWORD e = GetLastError();
            /* Some drivers fail a write that timed out instead of returning
             * short; either way the deadline check above reports it. */
            if (e == ERROR_SEM_TIMEOUT || e == ERROR_TIMEOUT) {
                done += n;
                continue;
            }
            char text[200];
            return esp01_fail(err, ESP01_E_IO, "cannot write '%s' at byte %zu of %zu: %s",
                              s->path, done + n, len,
                              gone(e) ? "device unplugged?"
                                      : esp01_win_strerror(e, NULL, text, sizeof text));
        }
        done += n;
    }
    return 0;
}

static int serial_drain(esp01_port *port, uint64_t deadline_ms, esp01_err *err)
{
    /* FlushFileBuffers has no timeout; watch the output queue instead. */
    struct serial *s = port->ctx;
    for (;;) {
        DWORD errors = 0;
        COMSTAT st;
        if (!ClearCommError(s->h, &errors, &st) || st.cbOutQue == 0)
            return 0;
        if (esp01_os_wait_ms(deadline_ms) == 0)
            return esp01_fail(err, ESP01_E_TIMEOUT, "'%s' did not send its output in time",
                              s->path);
        esp01_sleep_ms(2);
    }
}

/* 8N1, no flow control of any kind, modem lines as the caller keeps
 * them: SetCommState sets DTR and RTS from the DCB, so the DCB always
 * carries their current state or a baud change would pulse them. */
static void fill_dcb(DCB *d, uint32_t baud, bool dtr, bool rts)
{
    d->BaudRate = baud;
    d->ByteSize = 8;
    d->Parity = NOPARITY;
    d->StopBits = ONESTOPBIT;
    d->fBinary = TRUE;
    d->fParity = FALSE;
    d->fOutxCtsFlow = FALSE;
    d->fOutxDsrFlow = FALSE;
    d->fDtrControl = dtr ? DTR_CONTROL_ENABLE : DTR_CONTROL_DISABLE;
    d->fRtsControl = rts ? RTS_CONTROL_ENABLE : RTS_CONTROL_DISABLE;
    d->fDsrSensitivity = FALSE;
    d->fTXContinueOnXoff = TRUE;
    d->fOutX = FALSE;
    d->fInX = FALSE;
    d->fErrorChar = FALSE;
    d->fNull = FALSE;
    d->fAbortOnError = FALSE;
}

static int serial_set_baud(esp01_port *port, uint32_t baud, esp01_err *err)
{
    struct serial *s = port->ctx;
    DCB d;
    memset(&d, 0, sizeof d);
    d.DCBlength = sizeof d;
    if (!GetCommState(s->h, &d))
        return fail_win(err, ESP01_E_IO, GetLastError(), "cannot configure", s->path);
    fill_dcb(&d, baud, s->dtr, s->rts);
    if (!SetCommState(s->h, &d)) {
        DWORD e = GetLastError();
        /* The driver decides which rates exist; most take any. */
        if (e == ERROR_INVALID_PARAMETER || e == ERROR_NOT_SUPPORTED)
            return esp01_fail(err, ESP01_E_UNSUPPORTED,
                              "baud rate %u is not supported by the driver of '%s'", baud,
                              s->path);
        char text[200];
        return esp01_fail(err, ESP01_E_IO, "cannot set %u baud on '%s': %s", baud, s->path,
                          esp01_win_strerror(e, NULL, text, sizeof text));
    }
    port->baud = baud;
    return 0;
}

static int serial_set_dtr_rts(esp01_port *port, bool dtr, bool rts, esp01_err *err)
{
    struct serial *s = port->ctx;
    if (!EscapeCommFunction(s->h, dtr ? SETDTR : CLRDTR) ||
        !EscapeCommFunction(s->h, rts ? SETRTS : CLRRTS)) {
        DWORD e = GetLastError();
        /* A port without modem lines (a virtual one) is not an error for
         * our purposes, as a pty is not on POSIX. */
        if (e != ERROR_NOT_SUPPORTED && e != ERROR_INVALID_FUNCTION &&
            e != ERROR_INVALID_PARAMETER)
            return fail_win(err, ESP01_E_IO, e, "cannot set DTR/RTS on", s->path);
    }
    s->dtr = dtr;
    s->rts = rts;
    return 0;
}

static int serial_discard_input(esp01_port *port, esp01_err *err)
{
    struct serial *s = port->ctx;
    if (!PurgeComm(s->h, PURGE_RXCLEAR | PURGE_RXABORT))
        return fail_win(err, ESP01_E_IO, GetLastError(), "cannot flush", s->path);
    /* Bytes the adapter still held arrive after the purge; take them too. */
    uint8_t junk[256];
    DWORD n = 0;
    if (set_timeouts(s, 0, s->timeouts.WriteTotalTimeoutConstant))
        while (ReadFile(s->h, junk, sizeof junk, &n, NULL) && n > 0) {
        }
    return 0;
}

static void serial_close(esp01_port *port)
{
    struct serial *s = port->ctx;
    if (s) {
        CloseHandle(s->h);
        free(s);
    }
    free(port);
}

static const struct esp01_port_ops serial_ops = {
    serial_read,        serial_write,         serial_drain, serial_set_baud,
    serial_set_dtr_rts, serial_discard_input, serial_close,
};

/* "COM5", "com12", "\\.\COM12": COM ports above 9 exist only under
 * \\.\, and the prefix does no harm below.  Anything else is a path. */
static void device_name(const char *path, char *out, size_t cap)
{
    const char *p = path;
    bool com = (p[0] == 'C' || p[0] == 'c') && (p[1] == 'O' || p[1] == 'o') &&
               (p[2] == 'M' || p[2] == 'm') && p[3] >= '1' && p[3] <= '9';
    for (size_t i = 4; com && p[i]; i++)
        com = p[i] >= '0' && p[i] <= '9';
    snprintf(out, cap, "%s%s", com ? "\\\\.\\" : "", path);
}

static int open_handle(HANDLE *h, const char *path, esp01_err *err)
{
    char dev[300];
    device_name(path, dev, sizeof dev);
    wchar_t *w = esp01_win_wide(dev);
    if (!w)
        return esp01_fail(err, ESP01_E_INVAL, "cannot open '%s': not a valid UTF-8 name", path);
    /* No sharing: a second esp01 or a terminal would steal bytes. */
    *h = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, 0, NULL, OPEN_EXISTING, 0, NULL);
    DWORD e = GetLastError();
    free(w);
    if (*h != INVALID_HANDLE_VALUE)
        return 0;
    const char *name = strncmp(dev, "\\\\.\\", 4) == 0 ? dev + 4 : dev;
    if (e == ERROR_ACCESS_DENIED || e == ERROR_SHARING_VIOLATION)
        return esp01_fail(err, ESP01_E_IO, "cannot open '%s': %s is in use by another program",
                          path, name);
    if (e == ERROR_FILE_NOT_FOUND || e == ERROR_PATH_NOT_FOUND)
        return esp01_fail(err, ESP01_E_NOTFOUND, "cannot open '%s': no such port", path);
    return fail_win(err, ESP01_E_IO, e, "cannot open", path);
}

int esp01_port_open_serial(esp01_port **out, const char *path, uint32_t baud, bool dtr,
                           bool rts, esp01_err *err)
{
    *out = NULL;
    HANDLE h;
    int rc = open_handle(&h, path, err);
    if (rc < 0)
        return rc;
    DCB d;
    memset(&d, 0, sizeof d);
    d.DCBlength = sizeof d;
    if (!GetCommState(h, &d)) {
        DWORD e = GetLastError();
        CloseHandle(h);
        char text[200];
        return esp01_fail(err, ESP01_E_IO, "'%s' is not a serial port: %s", path,
                          esp01_win_strerror(e, NULL, text, sizeof text));
    }
    struct serial *s = calloc(1, sizeof *s);
    esp01_port *p = calloc(1, sizeof *p);
    if (!s || !p) {
        free(s);
        free(p);
        CloseHandle(h);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    s->h = h;
    snprintf(s->path, sizeof s->path, "%s", path);
    p->ops = &serial_ops;
    p->ctx = s;
    /* Larger queues than the default 4 KiB: a flash read streams 16 KiB
     * blocks at up to 921600 baud.  A driver may ignore the request. */
    SetupComm(h, 65536, 16384);
    /* Lines first, then the DCB carrying the same state: opening the port
     * does not reset the board by surprise. */
    rc = serial_set_dtr_rts(p, dtr, rts, err);
    if (rc == 0)
        rc = serial_set_baud(p, baud, err);
    if (rc == 0 && !set_timeouts(s, 0, 0))
        rc = fail_win(err, ESP01_E_IO, GetLastError(), "cannot configure", path);
    if (rc == 0)
        PurgeComm(h, PURGE_RXCLEAR | PURGE_TXCLEAR);
    if (rc < 0) {
        serial_close(p);
        return rc;
    }
    *out = p;
    return 0;
}
