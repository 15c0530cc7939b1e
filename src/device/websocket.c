/* RFC 6455 client framing; see include/esp01/websocket.h. */
#include "esp01/websocket.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "esp01/hash.h"

static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

size_t esp01_ws_request(const char *host, const char *key, char *out,
                        size_t cap)
{
    for (const char *p = host; *p; p++)
        if ((unsigned char)*p <= 0x20 || *p == 0x7f)
            return 0;
    int n = snprintf(out, cap,
                     "GET / HTTP/1.1\r\n"
                     "Host: %s\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Key: %s\r\n"
                     "Sec-WebSocket-Version: 13\r\n"
                     "\r\n",
                     host, key);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

void esp01_ws_accept(const char *key, char out[ESP01_WS_ACCEPT_LEN + 1])
{
    uint8_t buf[128], sha[20];
    size_t kl = strnlen(key, sizeof buf - sizeof guid);
    memcpy(buf, key, kl);
    memcpy(buf + kl, guid, sizeof guid - 1);
    esp01_sha1(buf, kl + sizeof guid - 1, sha);
    esp01_base64_encode(sha, sizeof sha, out);
}

/* A status line fit for an error message: printable ASCII, cut short. */
static void shown_line(const uint8_t *b, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && b[i] != '\r' && b[i] != '\n' && o + 1 < cap; i++)
        out[o++] = b[i] >= 0x20 && b[i] < 0x7f ? (char)b[i] : '?';
    out[o] = '\0';
}

static bool ascii_ieq(const uint8_t *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        int x = a[i], y = (unsigned char)b[i];
        if (x >= 'A' && x <= 'Z')
            x += 32;
        if (y >= 'A' && y <= 'Z')
            y += 32;
        if (x != y)
            return false;
    }
    return true;
}

static const uint8_t *find(const uint8_t *b, size_t n, const char *s)
{
    size_t sl = strlen(s);
    for (size_t i = 0; i + sl <= n; i++)
        if (memcmp(b + i, s, sl) == 0)
            return b + i;
    return NULL;
}

int esp01_ws_check_response(const uint8_t *buf, size_t len,
                            const char *accept, size_t *used,
                            esp01_err *err)
{
    *used = 0;
    char line[64];
    /* Say "not HTTP" as soon as the first bytes show it, instead of
     * waiting for a blank line that may never come. */
    size_t pre = len < 5 ? len : 5;
    if (memcmp(buf, "HTTP/", pre) != 0) {
        shown_line(buf, len, line, sizeof line);
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "the server does not speak HTTP (it sent '%s')", line);
    }
    size_t scan = len < ESP01_WS_RESPONSE_MAX ? len : ESP01_WS_RESPONSE_MAX;
    const uint8_t *eol = find(buf, scan, "\r\n");
    if (eol) {
        /* "HTTP/1.1 101 Switching Protocols" */
        const uint8_t *sp = memchr(buf, ' ', (size_t)(eol - buf));
        bool ok = sp && eol - sp >= 4 && memcmp(sp + 1, "101", 3) == 0 &&
                  (eol - sp == 4 || sp[4] == ' ');
        if (!ok) {
            shown_line(buf, (size_t)(eol - buf), line, sizeof line);
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "the server answered '%s' instead of switching "
                              "to WebSocket", line);
        }
    }
    const uint8_t *end = find(buf, scan, "\r\n\r\n");
    if (!end) {
        if (len >= ESP01_WS_RESPONSE_MAX)
            return esp01_fail(err, ESP01_E_LIMIT,
                              "the server's HTTP header is longer than %d bytes",
                              ESP01_WS_RESPONSE_MAX);
        return ESP01_WS_MORE;
    }
    bool found = false, match = false;
    for (const uint8_t *l = eol + 2; l < end;) {
        const uint8_t *le = find(l, (size_t)(end + 2 - l), "\r\n");
        if (!le)
            break;
        const uint8_t *colon = memchr(l, ':', (size_t)(le - l));
        if (colon && ascii_ieq(l, (size_t)(colon - l), "Sec-WebSocket-Accept")) {
            const uint8_t *v = colon + 1, *ve = le;
            while (v < ve && (*v == ' ' || *v == '\t'))
                v++;
            while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
                ve--;
            found = true;
            match = (size_t)(ve - v) == strlen(accept) &&
                    memcmp(v, accept, (size_t)(ve - v)) == 0;
        }
        l = le + 2;
    }
    if (!found)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "the server switched protocols without a "
                          "Sec-WebSocket-Accept header");
    if (!match)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "the server's Sec-WebSocket-Accept does not match "
                          "our key");
    *used = (size_t)(end - buf) + 4;
    return 0;
}

size_t esp01_ws_header(uint8_t out[ESP01_WS_HEADER_MAX], int opcode,
                       uint64_t len, const uint8_t mask[4])
{
    size_t n = 0;
    out[n++] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[n++] = (uint8_t)(0x80 | len);
    } else if (len <= 0xffff) {
        out[n++] = 0x80 | 126;
        out[n++] = (uint8_t)(len >> 8);
        out[n++] = (uint8_t)len;
    } else {
        out[n++] = 0x80 | 127;
        for (int s = 56; s >= 0; s -= 8)
            out[n++] = (uint8_t)(len >> s);
    }
    memcpy(out + n, mask, 4);
    return n + 4;
}

void esp01_ws_mask(uint8_t *buf, size_t len, const uint8_t mask[4],
                   uint64_t pos)
{
    for (size_t i = 0; i < len; i++)
        buf[i] ^= mask[(pos + i) & 3];
}

void esp01_ws_decoder_init(esp01_ws_decoder *d)
{
    memset(d, 0, sizeof *d);
    d->hneed = 2;
}

static void next_frame(esp01_ws_decoder *d)
{
    d->hlen = 0;
    d->hneed = 2;
    d->in_payload = false;
    d->ctl_len = 0;
}

/* The first two header bytes are in: check them, size the header. */
static int first_bytes(esp01_ws_decoder *d, esp01_err *err)
{
    uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
    int op = b0 & 0x0f;
    if (b0 & 0x70)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "WebSocket frame with reserved bits set (0x%02x)", b0);
    if (op != ESP01_WS_CONT && op != ESP01_WS_TEXT && op != ESP01_WS_BINARY &&
        op != ESP01_WS_CLOSE && op != ESP01_WS_PING && op != ESP01_WS_PONG)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "WebSocket frame with unknown opcode %d", op);
    if (b1 & 0x80)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "the server sent a masked WebSocket frame");
    d->opcode = op;
    d->fin = (b0 & 0x80) != 0;
    uint8_t l7 = b1 & 0x7f;
    d->hneed = 2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0);
    return 0;
}

/* The whole header is in: the payload length and the message rules. */
static int header_done(esp01_ws_decoder *d, esp01_err *err)
{
    uint8_t l7 = d->hdr[1] & 0x7f;
    uint64_t len = l7;
    if (l7 == 126)
        len = (uint64_t)d->hdr[2] << 8 | d->hdr[3];
    else if (l7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | d->hdr[2 + i];
        if (len >> 63)
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "WebSocket frame length has its top bit set");
    }
    if (d->opcode >= ESP01_WS_CLOSE) {
        if (!d->fin || len > 125)
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "WebSocket control frame %s",
                              d->fin ? "longer than 125 bytes" : "fragmented");
    } else if (d->opcode == ESP01_WS_CONT) {
        if (!d->message)
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "WebSocket continuation frame outside a message");
    } else if (d->message) {
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "new WebSocket message inside a fragmented one");
    }
    if (len > ESP01_WS_MAX_PAYLOAD)
        return esp01_fail(err, ESP01_E_LIMIT,
                          "WebSocket frame of %llu bytes (at most %u expected)",
                          (unsigned long long)len, ESP01_WS_MAX_PAYLOAD);
    if (d->opcode == ESP01_WS_TEXT || d->opcode == ESP01_WS_BINARY)
        d->message = d->opcode;
    d->left = len;
    d->in_payload = true;
    d->ctl_len = 0;
    return 0;
}

int esp01_ws_decode(esp01_ws_decoder *d, const uint8_t *buf, size_t len,
                    size_t max_data, esp01_ws_event *ev, esp01_err *err)
{
    memset(ev, 0, sizeof *ev);
    if (len > INT_MAX)
        len = INT_MAX;
    if (max_data == 0)
        max_data = SIZE_MAX;
    size_t used = 0;
    if (!d->in_payload) {
        while (used < len && d->hlen < d->hneed) {
            d->hdr[d->hlen++] = buf[used++];
            if (d->hlen == 2) {
                int rc = first_bytes(d, err);
                if (rc < 0)
                    return rc;
            }
        }
        if (d->hlen < d->hneed)
            return (int)used;
        int rc = header_done(d, err);
        if (rc < 0)
            return rc;
        if (d->left > 0)
            return (int)used;
        /* An empty frame ends here and still says something. */
    }
    bool control = d->opcode >= ESP01_WS_CLOSE;
    size_t n = len - used;
    if (n > d->left)
        n = (size_t)d->left;
    if (!control && n > max_data)
        n = max_data;
    if (control) {
        memcpy(d->ctl + d->ctl_len, buf + used, n);
        d->ctl_len += n;
    } else {
        ev->kind = ESP01_WS_DATA;
        ev->opcode = d->message;
        ev->data = buf + used;
        ev->len = n;
    }
    used += n;
    d->left -= n;
    if (d->left == 0) {
        if (control) {
            ev->kind = ESP01_WS_CONTROL;
            ev->opcode = d->opcode;
            ev->data = d->ctl;
            ev->len = d->ctl_len;
        } else if (d->fin) {
            ev->end = true;
            d->message = 0;
        }
        next_frame(d);
    }
    return (int)used;
}
