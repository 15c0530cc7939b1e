/* MicroPython raw REPL client; see include/esp01/rawrepl.h. */
#include "esp01/rawrepl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Longest wait per read slice, so the cancel flag is seen promptly. */
#define SLICE_MS 100
/* After Ctrl-C, how long a program gets to stop before we give up. */
#define CANCEL_GRACE_MS 3000
/* Error text kept for classification and for replaying a held
 * traceback (the last line is what matters). */
#define ERRTEXT_KEEP 4096
/* Plain raw mode has no acknowledgement: a byte lost on the line usually
 * turns the code into a SyntaxError, which means nothing ran, so the code
 * can safely be sent again. */
#define PLAIN_RETRIES 2

void esp01_rawrepl_init(esp01_rawrepl *r, esp01_port *port)
{
    memset(r, 0, sizeof *r);
    r->port = port;
    r->line_bytes_per_s = port && port->baud ? port->baud / 10 : 11520;
    r->plain_burst = 128;
    r->paste_mode = ESP01_PASTE_AUTO;
    r->paste = -1;
}

static bool cancelled(const esp01_rawrepl *r)
{
    return r->cancel && *r->cancel;
}

/*
 * One byte from the device before `deadline`.  Reads in slices so that the
 * caller's cancel flag is honoured by callers that check it.
 */
static int get_byte(esp01_rawrepl *r, uint64_t deadline, uint8_t *b,
                    esp01_err *err)
{
    if (r->rpos == r->rlen) {
        int n = esp01_port_read(r->port, r->rbuf, sizeof r->rbuf, deadline,
                                err);
        if (n < 0)
            return n;
        r->rpos = 0;
        r->rlen = (size_t)n;
    }
    *b = r->rbuf[r->rpos++];
    return 0;
}

/* A byte if one is already waiting, else ESP01_E_TIMEOUT at once. */
static int poll_byte(esp01_rawrepl *r, uint8_t *b)
{
    esp01_err scratch;
    return get_byte(r, esp01_now_ms(), b, &scratch);
}

static int write_all(esp01_rawrepl *r, const void *buf, size_t len,
                     uint64_t deadline, esp01_err *err)
{
    r->bytes_sent += len;
    return esp01_port_write(r->port, buf, len, deadline, err);
}

/* Show a few unexpected bytes in an error message, escaped. */
static void escape_bytes(const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < cap; i++) {
        if (b[i] >= 0x20 && b[i] < 0x7f && b[i] != '\\')
            out[o++] = (char)b[i];
        else
            o += (size_t)snprintf(out + o, cap - o, "\\x%02x", b[i]);
    }
    out[o] = '\0';
}

/* Read and drop whatever the device sends until it is quiet for `quiet_ms`. */
static void drain_quiet(esp01_rawrepl *r, uint32_t quiet_ms, uint64_t deadline)
{
    esp01_err scratch;
    r->rpos = r->rlen = 0;
    for (;;) {
        uint64_t until = esp01_deadline_in(quiet_ms);
        if (until > deadline)
            until = deadline;
        int n = esp01_port_read(r->port, r->rbuf, sizeof r->rbuf, until,
                                &scratch);
        if (n <= 0 || esp01_now_ms() >= deadline)
            return;
    }
}

/* Wait for `marker` to appear in the device output (anything before it is
 * skipped). */
static int wait_for(esp01_rawrepl *r, const char *marker, uint64_t deadline,
                    esp01_err *err)
{
    size_t mlen = strlen(marker), matched = 0;
    for (;;) {
        uint8_t b;
        int rc = get_byte(r, deadline, &b, err);
        if (rc < 0)
            return rc;
        if (b == (uint8_t)marker[matched]) {
            if (++matched == mlen)
                return 0;
        } else {
            /* Markers here have no repeated prefix except at 'r'/'\r'. */
            matched = b == (uint8_t)marker[0] ? 1 : 0;
        }
    }
}

int esp01_rawrepl_enter(esp01_rawrepl *r, bool soft_reset,
                        uint32_t timeout_ms, esp01_err *err)
{
    uint64_t deadline = esp01_deadline_in(timeout_ms);
    int rc = 0;
    for (int attempt = 0; attempt < 2; attempt++) {
        /* Two interrupts: the first may only stop a nested call. */
        rc = write_all(r, "\r\x03", 2, deadline, err);
        if (rc < 0)
            return rc;
        esp01_sleep_ms(attempt ? 100 : 20);
        rc = write_all(r, "\x03", 1, deadline, err);
        if (rc < 0)
            return rc;
        uint64_t quiet_until = esp01_deadline_in(attempt ? 400 : 100);
        drain_quiet(r, attempt ? 60 : 20,
                    quiet_until < deadline ? quiet_until : deadline);
        rc = write_all(r, "\r\x01", 2, deadline, err);
        if (rc < 0)
            return rc;
        uint64_t try_deadline = attempt ? deadline
                                        : esp01_now_ms() + (deadline - esp01_now_ms()) / 2;
        if (try_deadline > deadline)
            try_deadline = deadline;
        rc = wait_for(r, ESP01_RAWREPL_BANNER ">", try_deadline, err);
        if (rc == 0)
            break;
        if (rc != ESP01_E_TIMEOUT)
            return rc;
    }
    if (rc < 0)
        return esp01_fail(err, ESP01_E_TIMEOUT,
                          "the device did not enter the raw REPL: no MicroPython "
                          "answering on this port, wrong baud rate, or a running "
                          "program that ignores Ctrl-C");
    r->in_raw = true;
    if (soft_reset)
        return esp01_rawrepl_soft_reset(r, false, timeout_ms, err);
    return 0;
}

int esp01_rawrepl_leave(esp01_rawrepl *r, esp01_err *err)
{
    r->in_raw = false;
    return write_all(r, "\r\x02", 2, esp01_deadline_in(1000), err);
}

int esp01_rawrepl_soft_reset(esp01_rawrepl *r, bool stay_friendly,
                             uint32_t timeout_ms, esp01_err *err)
{
    uint64_t deadline = esp01_deadline_in(timeout_ms);
    if (stay_friendly) {
        /* Ctrl-D at the friendly REPL reboots and runs boot.py + main.py. */
        r->in_raw = false;
        int rc = write_all(r, "\r\x02", 2, deadline, err);
        if (rc == 0) {
            esp01_sleep_ms(50);
            rc = write_all(r, "\x04", 1, deadline, err);
        }
        return rc;
    }
    int rc = write_all(r, "\x04", 1, deadline, err);
    if (rc < 0)
        return rc;
    rc = wait_for(r, ESP01_RAWREPL_BANNER ">", deadline, err);
    if (rc == ESP01_E_TIMEOUT)
        return esp01_fail(err, rc, "the device did not come back after a "
                                   "soft reset");
    return rc;
}

/* Sink for one exec: forwards output and keeps the error text's tail. */
struct exec_sink {
    esp01_rawrepl_output out;
    void *ctx;
    uint8_t errtext[ERRTEXT_KEEP];
    size_t errlen;
    bool hold_err;   /* keep stream 2 back until we know it is real */
    size_t out_seen; /* stdout bytes forwarded */
};

static void sink_emit(struct exec_sink *s, int stream, const uint8_t *b,
                      size_t n)
{
    if (n == 0)
        return;
    if (stream == 1)
        s->out_seen += n;
    if (s->out && !(stream == 2 && s->hold_err))
        s->out(s->ctx, stream, b, n);
    if (stream == 2) {
        if (n >= ERRTEXT_KEEP) {
            memcpy(s->errtext, b + n - ERRTEXT_KEEP, ERRTEXT_KEEP);
            s->errlen = ERRTEXT_KEEP;
        } else {
            if (s->errlen + n > ERRTEXT_KEEP) {
                size_t drop = s->errlen + n - ERRTEXT_KEEP;
                memmove(s->errtext, s->errtext + drop, s->errlen - drop);
                s->errlen -= drop;
            }
            memcpy(s->errtext + s->errlen, b, n);
            s->errlen += n;
        }
    }
}

/*
 * stdout, 0x04, error text, 0x04, '>'.  With no overall deadline the wait
 * is bounded by slices and the cancel flag: Ctrl-C is forwarded once, and
 * a device that ignores it for CANCEL_GRACE_MS is abandoned.
 */
static int read_results(esp01_rawrepl *r, struct exec_sink *s,
                        uint64_t deadline, esp01_err *err)
{
    int stream = 1;
    uint64_t cancel_at = 0;
    for (;;) {
        if (r->rpos == r->rlen) {
            if (cancelled(r) && !cancel_at) {
                cancel_at = esp01_now_ms();
                int rc = write_all(r, "\x03", 1, esp01_deadline_in(1000), err);
                if (rc < 0)
                    return rc;
            }
            if (cancel_at && esp01_now_ms() > cancel_at + CANCEL_GRACE_MS)
                return esp01_fail(err, ESP01_E_INTERRUPTED,
                                  "interrupted; the device did not stop "
                                  "(a program that ignores Ctrl-C?)");
            uint64_t slice = esp01_deadline_in(SLICE_MS);
            if (deadline && slice > deadline)
                slice = deadline;
            int n = esp01_port_read(r->port, r->rbuf, sizeof r->rbuf, slice,
                                    err);
            if (n == ESP01_E_TIMEOUT) {
                if (deadline && esp01_now_ms() >= deadline)
                    return esp01_fail(err, ESP01_E_TIMEOUT,
                                      "the device did not finish in time");
                continue;
            }
            if (n < 0)
                return n;
            r->rpos = 0;
            r->rlen = (size_t)n;
        }
        const uint8_t *p = r->rbuf + r->rpos;
        size_t avail = r->rlen - r->rpos;
        if (stream == 3) {
            r->rpos++;
            if (p[0] != '>') {
                char shown[32];
                escape_bytes(p, avail < 6 ? avail : 6, shown, sizeof shown);
                return esp01_fail(err, ESP01_E_PROTOCOL,
                                  "unexpected reply from the device after a "
                                  "program ended: '%s'", shown);
            }
            if (cancel_at)
                return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted");
            return 0;
        }
        const uint8_t *eot = memchr(p, 0x04, avail);
        size_t n = eot ? (size_t)(eot - p) : avail;
        sink_emit(s, stream, p, n);
        r->rpos += n;
        if (eot) {
            r->rpos++;
            stream++;
        }
    }
}

static bool has_control(const uint8_t *code, size_t len, uint8_t hi)
{
    for (size_t i = 0; i < len; i++)
        if (code[i] >= 1 && code[i] <= hi)
            return true;
    return false;
}

/*
 * Plain raw mode: the device acknowledges nothing until the final "OK", so
 * send no faster than the line carries bytes, in bursts well under the
 * device's input buffer.
 */
static int send_plain(esp01_rawrepl *r, const uint8_t *code, size_t len,
                      uint64_t deadline, esp01_err *err)
{
    uint64_t start = esp01_now_ms();
    size_t sent = 0;
    uint32_t rate = r->line_bytes_per_s ? r->line_bytes_per_s : 11520;
    while (sent < len) {
        size_t n = len - sent < r->plain_burst ? len - sent : r->plain_burst;
        int rc = write_all(r, code + sent, n, deadline, err);
        if (rc < 0)
            return rc;
        sent += n;
        /* One burst may run ahead: the wire itself paces it, and an
         * adapter that is never starved keeps the line busy. */
        size_t lead = sent > r->plain_burst ? sent - r->plain_burst : 0;
        uint64_t due = start + (uint64_t)lead * 1000u / rate;
        uint64_t now = esp01_now_ms();
        if (due > now + 1)
            esp01_sleep_ms((uint32_t)(due - now));
    }
    int rc = write_all(r, "\x04", 1, deadline, err);
    if (rc < 0)
        return rc;
    uint8_t ok[2];
    for (int i = 0; i < 2; i++) {
        rc = get_byte(r, deadline, &ok[i], err);
        if (rc == ESP01_E_TIMEOUT)
            return esp01_fail(err, rc, "the device did not acknowledge the "
                                       "code (bytes lost on the line?)");
        if (rc < 0)
            return rc;
    }
    if (ok[0] != 'O' || ok[1] != 'K') {
        char shown[32];
        escape_bytes(ok, 2, shown, sizeof shown);
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "the device answered '%s' instead of OK", shown);
    }
    return 0;
}

/*
 * Ask for raw-paste mode.  1: granted (window stored), 0: refused, either
 * by "R\x00" or by older firmware re-printing the banner.
 */
static int paste_request(esp01_rawrepl *r, uint64_t deadline, esp01_err *err)
{
    int rc = write_all(r, "\x05" "A\x01", 3, deadline, err);
    if (rc < 0)
        return rc;
    uint8_t h[2];
    for (int i = 0; i < 2; i++)
        if ((rc = get_byte(r, deadline, &h[i], err)) < 0)
            return rc;
    if (h[0] == 'R' && h[1] == 1) {
        uint8_t w[2];
        for (int i = 0; i < 2; i++)
            if ((rc = get_byte(r, deadline, &w[i], err)) < 0)
                return rc;
        r->paste_window = (uint16_t)(w[0] | w[1] << 8);
        if (r->paste_window == 0)
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "the device granted a raw-paste window of 0");
        return 1;
    }
    if (h[0] == 'R' && h[1] == 0)
        return 0;
    if (h[0] == 'r' && h[1] == 'a') {
        rc = wait_for(r, "\r\n>", deadline, err);
        return rc < 0 ? rc : 0;
    }
    char shown[32];
    escape_bytes(h, 2, shown, sizeof shown);
    return esp01_fail(err, ESP01_E_PROTOCOL,
                      "unexpected answer to a raw-paste request: '%s'", shown);
}

/* Send in raw-paste mode.  *early is set when the device cut us short. */
static int send_paste(esp01_rawrepl *r, const uint8_t *code, size_t len,
                      uint64_t deadline, size_t *accepted, esp01_err *err)
{
    size_t credit = r->paste_window, sent = 0;
    int rc;
    bool ended = false;
    while (sent < len && !ended) {
        uint8_t b;
        /* Take every flow byte already here; block only when out of credit. */
        while ((rc = credit ? poll_byte(r, &b) : get_byte(r, deadline, &b, err)) == 0) {
            if (b == 0x01) {
                credit += r->paste_window;
            } else if (b == 0x04) {
                ended = true;
                break;
            } else {
                char shown[8];
                escape_bytes(&b, 1, shown, sizeof shown);
                return esp01_fail(err, ESP01_E_PROTOCOL,
                                  "unexpected byte '%s' during raw-paste", shown);
            }
            if (credit && r->rpos == r->rlen)
                break;
        }
        if (rc < 0 && rc != ESP01_E_TIMEOUT)
            return rc;
        if (rc == ESP01_E_TIMEOUT && !credit)
            return esp01_fail(err, rc, "the device stopped granting raw-paste "
                                       "credit after %zu of %zu bytes", sent, len);
        if (ended)
            break;
        size_t n = len - sent < credit ? len - sent : credit;
        if ((rc = write_all(r, code + sent, n, deadline, err)) < 0)
            return rc;
        sent += n;
        credit -= n;
    }
    *accepted = sent;
    if ((rc = write_all(r, "\x04", 1, deadline, err)) < 0)
        return rc;
    /* An early end is acknowledged by our 0x04 alone; no echo follows. */
    if (ended)
        return sent < len ? 1 : 0;
    /* The device confirms the end with 0x04; late credit bytes may precede it. */
    for (;;) {
        uint8_t b;
        if ((rc = get_byte(r, deadline, &b, err)) < 0)
            return rc;
        if (b == 0x04)
            break;
        if (b != 0x01) {
            char shown[8];
            escape_bytes(&b, 1, shown, sizeof shown);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "unexpected byte '%s' ending raw-paste", shown);
        }
    }
    return 0;
}

static int finish_exec(esp01_rawrepl *r, struct exec_sink *s,
                       uint64_t deadline, esp01_err *err)
{
    int rc = read_results(r, s, deadline, err);
    if (rc < 0)
        return rc;
    if (s->errlen) {
        char line[200];
        int code = esp01_rawrepl_classify_error(s->errtext, s->errlen, line,
                                                sizeof line);
        return esp01_fail(err, code, "%s", line);
    }
    return 0;
}

static void null_out(void *ctx, int stream, const uint8_t *b, size_t n)
{
    (void)ctx;
    (void)stream;
    (void)b;
    (void)n;
}

int esp01_rawrepl_exec(esp01_rawrepl *r, const uint8_t *code, size_t len,
                       esp01_rawrepl_output out, void *ctx,
                       uint32_t timeout_ms, esp01_err *err)
{
    esp01_err local;
    if (!err)
        err = &local;
    if (!r->in_raw)
        return esp01_fail(err, ESP01_E_INVAL, "not in the raw REPL");
    /* 0 means "as long as it runs", but sending code always has a bound. */
    uint64_t deadline = timeout_ms ? esp01_deadline_in(timeout_ms) : 0;
    uint64_t send_deadline =
        deadline ? deadline
                 : esp01_deadline_in(10000 + (uint32_t)(len * 1000u /
                                                        (r->line_bytes_per_s / 4 + 1)));
    struct exec_sink sink = {out ? out : null_out, ctx, {0}, 0, false, 0};
    int rc;

    if (r->paste_mode == ESP01_PASTE_AUTO && r->paste != 0) {
        if (memchr(code, 0x04, len))
            return esp01_fail(err, ESP01_E_INVAL,
                              "code contains a Ctrl-D byte (0x04)");
        if (r->paste < 0) {
            /* Probe with harmless code: some devices grant raw-paste and
             * then end it before reading anything. */
            rc = paste_request(r, send_deadline, err);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                size_t got;
                static const uint8_t probe[] = "pass";
                rc = send_paste(r, probe, 4, send_deadline, &got, err);
                if (rc < 0)
                    return rc;
                struct exec_sink ps = {null_out, NULL, {0}, 0, false, 0};
                int frc = finish_exec(r, &ps, send_deadline, err);
                if (frc < 0 && frc != ESP01_E_DEVICE)
                    return frc;
                r->paste = rc == 0 && frc == 0 ? 1 : 0;
            } else {
                r->paste = 0;
            }
        }
        if (r->paste == 1) {
            rc = paste_request(r, send_deadline, err);
            if (rc < 0)
                return rc;
            if (rc == 1) {
                size_t got;
                rc = send_paste(r, code, len, send_deadline, &got, err);
                if (rc < 0)
                    return rc;
                if (rc == 1) {
                    r->paste = 0;
                    struct exec_sink ps = {null_out, NULL, {0}, 0, false, 0};
                    finish_exec(r, &ps, send_deadline, NULL);
                    return esp01_fail(err, ESP01_E_PROTOCOL,
                                      "the device ended raw-paste after %zu of "
                                      "%zu bytes", got, len);
                }
                return finish_exec(r, &sink, deadline, err);
            }
            r->paste = 0;
        }
    }
    if (has_control(code, len, 0x05))
        return esp01_fail(err, ESP01_E_INVAL,
                          "code contains control bytes (0x01-0x05) that plain "
                          "raw mode cannot carry");
    for (int attempt = 0;; attempt++) {
        sink.errlen = 0;
        sink.out_seen = 0;
        sink.hold_err = attempt < PLAIN_RETRIES;
        rc = send_plain(r, code, len, send_deadline, err);
        if (rc < 0)
            return rc;
        rc = finish_exec(r, &sink, deadline, err);
        bool garbled = rc == ESP01_E_DEVICE && sink.out_seen == 0 &&
                       strstr(err ? err->msg : "", "SyntaxError") != NULL;
        if (garbled && attempt < PLAIN_RETRIES)
            continue;
        if (sink.hold_err && sink.errlen && sink.out)
            sink.out(sink.ctx, 2, sink.errtext, sink.errlen);
        return rc;
    }
}

struct capture {
    char *buf;
    size_t len, cap;
    bool overflow;
    bool nomem;
};

static void capture_out(void *ctx, int stream, const uint8_t *b, size_t n)
{
    struct capture *c = ctx;
    if (stream != 1 || c->nomem)
        return;
    if (c->len + n > c->cap) {
        c->overflow = true;
        n = c->cap - c->len;
    }
    if (n == 0)
        return;
    size_t want = c->len + n + 1;
    char *nb = realloc(c->buf, want);
    if (!nb) {
        c->nomem = true;
        return;
    }
    c->buf = nb;
    memcpy(c->buf + c->len, b, n);
    c->len += n;
    c->buf[c->len] = '\0';
}

int esp01_rawrepl_exec_capture(esp01_rawrepl *r, const char *code,
                               size_t cap, char **out, size_t *out_len,
                               uint32_t timeout_ms, esp01_err *err)
{
    struct capture c = {NULL, 0, cap, false, false};
    int rc = esp01_rawrepl_exec(r, (const uint8_t *)code, strlen(code),
                                capture_out, &c, timeout_ms, err);
    if (rc == 0 && c.nomem)
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    if (rc == 0 && c.overflow)
        rc = esp01_fail(err, ESP01_E_LIMIT,
                        "the device sent more than %zu bytes of output", cap);
    if (!c.buf && rc == 0) {
        c.buf = calloc(1, 1);
        if (!c.buf)
            rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    *out = c.buf;
    if (out_len)
        *out_len = c.len;
    return rc;
}

static bool contains(const char *hay, const char *needle)
{
    return strstr(hay, needle) != NULL;
}

int esp01_rawrepl_classify_error(const uint8_t *text, size_t len, char *line,
                                 size_t cap)
{
    /* Last non-empty line, printable bytes only. */
    size_t end = len;
    while (end > 0 && (text[end - 1] == '\n' || text[end - 1] == '\r' ||
                       text[end - 1] == ' '))
        end--;
    size_t start = end;
    while (start > 0 && text[start - 1] != '\n')
        start--;
    size_t o = 0;
    for (size_t i = start; i < end && cap && o + 1 < cap; i++)
        line[o++] = text[i] >= 0x20 && text[i] < 0x7f ? (char)text[i] : '?';
    if (cap)
        line[o] = '\0';
    if (!cap)
        return ESP01_E_DEVICE;
    static const struct {
        const char *name, *num;
        int code;
    } map[] = {
        {"ENOENT", "[Errno 2]", ESP01_E_NOTFOUND},
        {"file not found", "No such file", ESP01_E_NOTFOUND},
        {"EEXIST", "[Errno 17]", ESP01_E_EXISTS},
        {"ENOSPC", "[Errno 28]", ESP01_E_NOSPACE},
        {"ENODEV", "[Errno 19]", ESP01_E_UNSUPPORTED},
        {"EISDIR", "[Errno 21]", ESP01_E_INVAL},
        {"ENOTDIR", "[Errno 20]", ESP01_E_INVAL},
        {"ENOTEMPTY", "[Errno 39]", ESP01_E_EXISTS},
        {"MemoryError", "MemoryError", ESP01_E_NOMEM},
        {"KeyboardInterrupt", "KeyboardInterrupt", ESP01_E_INTERRUPTED},
    };
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (contains(line, map[i].name) || contains(line, map[i].num))
            return map[i].code;
    return ESP01_E_DEVICE;
}
