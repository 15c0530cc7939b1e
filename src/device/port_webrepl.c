/*
 * The port interface over a WebREPL connection: a TCP socket carrying
 * RFC 6455 frames (websocket.c), logged in by webrepl_login.c.  Text
 * frames are the REPL, binary frames the file protocol (webrepl.c).  The
 * socket itself is os.h's.
 */
#include "esp01/hash.h"
#include "esp01/webrepl.h"
#include "esp01/websocket.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/os.h"

/* Largest frame we send; the board streams payloads, so this only bounds
 * our own buffer. */
#define FRAME_OUT 4096

struct wsport {
    esp01_os_tcp *sock;
    char where[300]; /* "ws://host:port", for messages */
    esp01_ws_decoder dec;
    uint8_t in[8192];
    size_t in_pos, in_len;
    bool closed;
    int close_code;
    uint32_t rng;
};

static const struct esp01_port_ops ws_ops;

bool esp01_port_is_webrepl(const esp01_port *port)
{
    return port && port->ops == &ws_ops;
}

const char *esp01_webrepl_address(const esp01_port *port)
{
    if (!esp01_port_is_webrepl(port))
        return "?";
    const struct wsport *w = port->ctx;
    return w->where;
}

static uint32_t next_random(struct wsport *w)
{
    /* xorshift32: masks only have to vary, not to be secret, since the
     * board ignores them for security (RFC 6455 section 10.3 is about
     * browsers and proxies). */
    uint32_t x = w->rng;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return w->rng = x;
}

static int send_all(struct wsport *w, const uint8_t *buf, size_t len,
                    uint64_t deadline, esp01_err *err)
{
    esp01_err oe;
    int rc = esp01_os_tcp_send(w->sock, buf, len, deadline, &oe);
    if (rc == ESP01_E_TIMEOUT)
        return esp01_fail(err, rc,
                          "%s: the board takes no more data (connection "
                          "stalled)", w->where);
    if (rc < 0)
        return esp01_fail(err, ESP01_E_IO, "%s: connection lost: %s",
                          w->where, oe.msg);
    return 0;
}

static int send_frame(struct wsport *w, int opcode, const uint8_t *buf,
                      size_t len, uint64_t deadline, esp01_err *err)
{
    uint8_t frame[ESP01_WS_HEADER_MAX + FRAME_OUT];
    do {
        size_t n = len < FRAME_OUT ? len : FRAME_OUT;
        uint32_t r = next_random(w);
        uint8_t mask[4] = {(uint8_t)r, (uint8_t)(r >> 8), (uint8_t)(r >> 16),
                           (uint8_t)(r >> 24)};
        size_t h = esp01_ws_header(frame, opcode, n, mask);
        if (n)
            memcpy(frame + h, buf, n);
        esp01_ws_mask(frame + h, n, mask, 0);
        int rc = send_all(w, frame, h + n, deadline, err);
        if (rc < 0)
            return rc;
        buf += n;
        len -= n;
    } while (len > 0);
    return 0;
}

/* More bytes from the socket into w->in; 0, or a negative code. */
static int fill(struct wsport *w, uint64_t deadline, esp01_err *err)
{
    if (w->in_pos == w->in_len)
        w->in_pos = w->in_len = 0;
    else if (w->in_pos > 0) {
        memmove(w->in, w->in + w->in_pos, w->in_len - w->in_pos);
        w->in_len -= w->in_pos;
        w->in_pos = 0;
    }
    esp01_err oe;
    int n = esp01_os_tcp_recv(w->sock, w->in + w->in_len,
                              sizeof w->in - w->in_len, deadline, &oe);
    if (n > 0) {
        w->in_len += (size_t)n;
        return 0;
    }
    if (n == 0) {
        w->closed = true;
        return esp01_fail(err, ESP01_E_IO, "%s: the board closed the "
                                           "connection", w->where);
    }
    if (n == ESP01_E_TIMEOUT)
        return esp01_fail(err, n, "no reply from %s", w->where);
    return esp01_fail(err, ESP01_E_IO, "%s: connection lost: %s", w->where,
                      oe.msg);
}

/*
 * Payload of `want` frames (TEXT or BINARY) into buf: returns as soon as
 * at least one byte is there.  Frames of the other kind are dropped;
 * pings are answered; a close frame ends the connection.
 */
static int pull(struct wsport *w, int want, uint8_t *buf, size_t cap,
                uint64_t deadline, esp01_err *err)
{
    size_t got = 0;
    if (cap == 0)
        return 0;
    for (;;) {
        while (w->in_pos < w->in_len && got < cap) {
            esp01_ws_event ev;
            int n = esp01_ws_decode(&w->dec, w->in + w->in_pos,
                                    w->in_len - w->in_pos, cap - got, &ev, err);
            if (n < 0) {
                w->closed = true;
                char detail[ESP01_ERR_MAX];
                snprintf(detail, sizeof detail, "%s", err ? err->msg : "");
                return esp01_fail(err, n, "%s: %s", w->where, detail);
            }
            w->in_pos += (size_t)n;
            if (ev.kind == ESP01_WS_DATA && ev.opcode == want && ev.len) {
                memcpy(buf + got, ev.data, ev.len);
                got += ev.len;
            } else if (ev.kind == ESP01_WS_CONTROL) {
                if (ev.opcode == ESP01_WS_PING) {
                    int rc = send_frame(w, ESP01_WS_PONG, ev.data, ev.len,
                                        esp01_deadline_in(1000), err);
                    if (rc < 0)
                        return rc;
                } else if (ev.opcode == ESP01_WS_CLOSE) {
                    w->close_code = ev.len >= 2 ? ev.data[0] << 8 | ev.data[1] : 0;
                    uint8_t code[2] = {0x03, 0xe8}; /* 1000: normal closure */
                    send_frame(w, ESP01_WS_CLOSE, code, 2,
                               esp01_deadline_in(200), NULL);
                    w->closed = true;
                    break;
                }
            }
        }
        if (got > 0)
            return (int)got;
        if (w->closed)
            return esp01_fail(err, ESP01_E_IO,
                              "%s: the board closed the connection", w->where);
        int rc = fill(w, deadline, err);
        if (rc < 0)
            return rc;
    }
}

static int ws_read(esp01_port *port, uint8_t *buf, size_t len,
                   uint64_t deadline_ms, esp01_err *err)
{
    if (len > 0x7fffffff)
        len = 0x7fffffff;
    return pull(port->ctx, ESP01_WS_TEXT, buf, len, deadline_ms, err);
}

static int ws_write(esp01_port *port, const uint8_t *buf, size_t len,
                    uint64_t deadline_ms, esp01_err *err)
{
    struct wsport *w = port->ctx;
    if (w->closed)
        return esp01_fail(err, ESP01_E_IO,
                          "%s: the board closed the connection", w->where);
    if (len == 0)
        return 0;
    return send_frame(w, ESP01_WS_TEXT, buf, len, deadline_ms, err);
}

static int ws_drain(esp01_port *port, uint64_t deadline_ms, esp01_err *err)
{
    /* send() returned: the bytes are the kernel's to deliver. */
    (void)port;
    (void)deadline_ms;
    (void)err;
    return 0;
}

static int ws_set_baud(esp01_port *port, uint32_t baud, esp01_err *err)
{
    (void)err;
    port->baud = baud;
    return 0;
}

static int ws_set_dtr_rts(esp01_port *port, bool dtr, bool rts,
                          esp01_err *err)
{
    (void)dtr;
    (void)rts;
    struct wsport *w = port->ctx;
    return esp01_fail(err, ESP01_E_UNSUPPORTED,
                      "%s: a WebREPL connection has no DTR/RTS lines (the ROM "
                      "loader needs the serial port)", w->where);
}

static int ws_discard_input(esp01_port *port, esp01_err *err)
{
    (void)err;
    struct wsport *w = port->ctx;
    uint8_t junk[512];
    /* What has arrived so far; nothing in flight can be recalled. */
    for (int i = 0; i < 64 && !w->closed; i++)
        if (pull(w, ESP01_WS_TEXT, junk, sizeof junk, esp01_now_ms(), NULL) <= 0)
            break;
    return 0;
}

static void ws_close(esp01_port *port)
{
    struct wsport *w = port->ctx;
    if (w) {
        if (!w->closed && w->sock) {
            uint8_t code[2] = {0x03, 0xe8};
            send_frame(w, ESP01_WS_CLOSE, code, 2, esp01_deadline_in(200), NULL);
            /* Wait briefly for the board to close: closing with its reply
             * unread would reset the connection and could discard our last
             * bytes (the Ctrl-B that leaves the raw REPL) on its side. */
            esp01_os_tcp_shutdown_send(w->sock);
            uint64_t until = esp01_deadline_in(500);
            uint8_t junk[512];
            for (int i = 0; i < 256; i++)
                if (esp01_os_tcp_recv(w->sock, junk, sizeof junk, until, NULL) <= 0)
                    break;
        }
        esp01_os_tcp_close(w->sock);
        free(w);
    }
    free(port);
}

static const struct esp01_port_ops ws_ops = {
    ws_read,        ws_write,         ws_drain, ws_set_baud,
    ws_set_dtr_rts, ws_discard_input, ws_close,
};

int esp01_webrepl_send_binary(esp01_port *port, const uint8_t *buf,
                              size_t len, uint64_t deadline, esp01_err *err)
{
    if (!esp01_port_is_webrepl(port))
        return esp01_fail(err, ESP01_E_INVAL, "not a WebREPL connection");
    struct wsport *w = port->ctx;
    if (w->closed)
        return esp01_fail(err, ESP01_E_IO,
                          "%s: the board closed the connection", w->where);
    return send_frame(w, ESP01_WS_BINARY, buf, len, deadline, err);
}

int esp01_webrepl_read_binary(esp01_port *port, uint8_t *buf, size_t len,
                              uint64_t deadline, esp01_err *err)
{
    if (!esp01_port_is_webrepl(port))
        return esp01_fail(err, ESP01_E_INVAL, "not a WebREPL connection");
    size_t got = 0;
    while (got < len) {
        size_t want = len - got > 0x7fffffff ? 0x7fffffff : len - got;
        int n = pull(port->ctx, ESP01_WS_BINARY, buf + got, want, deadline, err);
        if (n < 0)
            return n;
        got += (size_t)n;
    }
    return 0;
}

static int tcp_connect(struct wsport *w, const char *host, uint16_t port,
                       uint64_t deadline, esp01_err *err)
{
    esp01_err oe;
    esp01_os_addrs *addrs;
    int rc = esp01_os_tcp_lookup(host, port, deadline, &addrs, &oe);
    if (rc == ESP01_E_NOTFOUND)
        return esp01_fail(err, rc, "cannot find host '%s': %s", host, oe.msg);
    if (rc == ESP01_E_TIMEOUT)
        return esp01_fail(err, rc, "looking up '%s' took too long", host);
    if (rc < 0)
        return esp01_fail(err, rc, "cannot look up '%s'", host);
    rc = esp01_os_tcp_connect(addrs, deadline, &w->sock, &oe);
    esp01_os_tcp_free(addrs);
    if (rc == 0)
        return 0;
    if (rc == ESP01_E_TIMEOUT)
        return esp01_fail(err, ESP01_E_TIMEOUT,
                          "%s: no answer (is the board on this network, and "
                          "WebREPL started?)", w->where);
    if (rc == ESP01_E_EXISTS)
        return esp01_fail(err, ESP01_E_IO,
                          "%s: connection refused (WebREPL not running on the "
                          "board, or another port?)", w->where);
    return esp01_fail(err, ESP01_E_IO, "%s: cannot connect: %s", w->where,
                      oe.msg);
}

static int upgrade(struct wsport *w, const char *hosthdr, uint64_t deadline,
                   esp01_err *err)
{
    uint8_t raw[16];
    for (int i = 0; i < 16; i += 4) {
        uint32_t r = next_random(w);
        memcpy(raw + i, &r, 4);
    }
    char key[ESP01_WS_KEY_LEN + 1], accept[ESP01_WS_ACCEPT_LEN + 1];
    esp01_base64_encode(raw, sizeof raw, key);
    esp01_ws_accept(key, accept);
    char req[600];
    size_t n = esp01_ws_request(hosthdr, key, req, sizeof req);
    if (n == 0)
        return esp01_fail(err, ESP01_E_INVAL, "bad host name in '%s'", w->where);
    int rc = send_all(w, (const uint8_t *)req, n, deadline, err);
    if (rc < 0)
        return rc;
    for (;;) {
        size_t used = 0;
        if (w->in_len > 0) {
            rc = esp01_ws_check_response(w->in, w->in_len, accept, &used, err);
            if (rc < 0) {
                char detail[ESP01_ERR_MAX];
                snprintf(detail, sizeof detail, "%s", err ? err->msg : "");
                return esp01_fail(err, rc, "%s is not a WebREPL server: %s",
                                  w->where, detail);
            }
            if (rc == 0) {
                w->in_pos = used; /* frames may follow at once */
                return 0;
            }
        }
        if (w->in_len == sizeof w->in)
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "%s is not a WebREPL server (endless HTTP header)",
                              w->where);
        rc = fill(w, deadline, err);
        if (rc == ESP01_E_TIMEOUT)
            return esp01_fail(err, rc, "%s: no answer to the WebSocket upgrade "
                                       "(not a WebREPL server, or it is stuck)",
                              w->where);
        /* The board closes (or resets) a second client's connection at
         * once. */
        if (rc == ESP01_E_IO)
            return esp01_fail(err, ESP01_E_IO,
                              "%s closed the connection during the WebSocket "
                              "upgrade (another WebREPL session open?)",
                              w->where);
        if (rc < 0)
            return rc;
    }
}

int esp01_port_open_webrepl(esp01_port **out, const char *url,
                            const char *password, uint32_t timeout_ms,
                            esp01_err *err)
{
    *out = NULL;
    char host[256];
    uint16_t tcp_port;
    int rc = esp01_webrepl_parse_url(url, host, sizeof host, &tcp_port, err);
    if (rc < 0)
        return rc;
    if (password && (rc = esp01_webrepl_check_password(password, err)) < 0)
        return rc;
    struct wsport *w = calloc(1, sizeof *w);
    esp01_port *p = calloc(1, sizeof *p);
    if (!w || !p) {
        free(w);
        free(p);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    bool v6 = strchr(host, ':') != NULL;
    snprintf(w->where, sizeof w->where, "ws://%s%s%s:%u", v6 ? "[" : "", host,
             v6 ? "]" : "", tcp_port);
    uint64_t seed = esp01_now_ms() ^ (uint64_t)(uintptr_t)w ^ (uint64_t)esp01_os_pid() << 16;
    w->rng = (uint32_t)(seed ^ seed >> 32) | 1u;
    esp01_ws_decoder_init(&w->dec);
    p->ops = &ws_ops;
    p->ctx = w;
    p->baud = 115200;
    rc = tcp_connect(w, host, tcp_port, esp01_deadline_in(timeout_ms), err);
    if (rc == 0)
        rc = upgrade(w, w->where + 5, esp01_deadline_in(timeout_ms), err);
    if (rc == 0 && password)
        rc = esp01_webrepl_login(p, w->where, password,
                                 esp01_deadline_in(timeout_ms), err);
    if (rc < 0) {
        w->closed = true;
        ws_close(p);
        return rc;
    }
    *out = p;
    return 0;
}
