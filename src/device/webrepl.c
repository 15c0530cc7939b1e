/*
 * WebREPL: URLs, passwords, the login dialogue and the "WA" file protocol;
 * see include/esp01/webrepl.h.  The socket side is port_webrepl.c.
 */
#include "esp01/webrepl.h"

#include <stdio.h>
#include <string.h>

bool esp01_webrepl_is_url(const char *port)
{
    return port && (strncmp(port, "ws://", 5) == 0 ||
                    strncmp(port, "wss://", 6) == 0);
}

static bool host_char(char c, bool v6)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_' ||
           (v6 && (c == ':' || c == '%'));
}

int esp01_webrepl_parse_url(const char *url, char *host, size_t cap,
                            uint16_t *port, esp01_err *err)
{
    if (strncmp(url, "wss://", 6) == 0)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "'%.80s': WebREPL on the board has no TLS; use ws://",
                          url);
    if (strncmp(url, "ws://", 5) != 0)
        return esp01_fail(err, ESP01_E_INVAL,
                          "'%.80s' is not a ws:// address", url);
    const char *p = url + 5, *h = p, *he;
    bool v6 = *p == '[';
    if (v6) {
        h = ++p;
        he = strchr(p, ']');
        if (!he)
            return esp01_fail(err, ESP01_E_INVAL, "'%.80s': no ']' after the "
                                                  "IPv6 address", url);
        p = he + 1;
    } else {
        while (*p && *p != ':' && *p != '/')
            p++;
        he = p;
    }
    size_t hl = (size_t)(he - h);
    if (hl == 0 || hl >= cap)
        return esp01_fail(err, ESP01_E_INVAL, "'%.80s': %s host name", url,
                          hl ? "too long a" : "no");
    for (size_t i = 0; i < hl; i++)
        if (!host_char(h[i], v6))
            return esp01_fail(err, ESP01_E_INVAL,
                              "'%.80s': unexpected character in the host name",
                              url);
    memcpy(host, h, hl);
    host[hl] = '\0';
    unsigned long pn = ESP01_WEBREPL_PORT;
    if (*p == ':') {
        p++;
        pn = 0;
        int digits = 0;
        while (*p >= '0' && *p <= '9' && digits < 6) {
            pn = pn * 10 + (unsigned long)(*p++ - '0');
            digits++;
        }
        if (!digits || pn == 0 || pn > 65535)
            return esp01_fail(err, ESP01_E_INVAL, "'%.80s': bad port number",
                              url);
    }
    if (*p == '/')
        p++;
    if (*p)
        return esp01_fail(err, ESP01_E_INVAL,
                          "'%.80s': expected ws://HOST[:PORT] (WebREPL has no "
                          "paths)", url);
    *port = (uint16_t)pn;
    return 0;
}

int esp01_webrepl_check_password(const char *password, esp01_err *err)
{
    if (!password)
        return esp01_fail(err, ESP01_E_INVAL, "no WebREPL password given");
    size_t n = strlen(password);
    if (n < ESP01_WEBREPL_PASS_MIN || n > ESP01_WEBREPL_PASS_MAX)
        return esp01_fail(err, ESP01_E_INVAL,
                          "a WebREPL password has %d to %d characters (this "
                          "one has %zu)", ESP01_WEBREPL_PASS_MIN,
                          ESP01_WEBREPL_PASS_MAX, n);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)password[i];
        /* The board ends the password at CR or LF; keep to what a
         * terminal can type and a Python literal can hold plainly. */
        if (c < 0x20 || c > 0x7e)
            return esp01_fail(err, ESP01_E_INVAL,
                              "a WebREPL password is printable ASCII "
                              "(character %zu is not)", i + 1);
    }
    return 0;
}

static bool seen_has(const char *seen, size_t n, const char *s)
{
    size_t sl = strlen(s);
    for (size_t i = 0; i + sl <= n; i++)
        if (memcmp(seen + i, s, sl) == 0)
            return true;
    return false;
}

int esp01_webrepl_login(esp01_port *port, const char *where,
                        const char *password, uint64_t deadline,
                        esp01_err *err)
{
    char seen[512];
    size_t n = 0;
    bool sent = false;
    /* Bounded by the deadline; the count only guards a peer that trickles
     * bytes forever without saying either thing. */
    for (int round = 0; round < 100000; round++) {
        uint8_t buf[256];
        int r = esp01_port_read(port, buf, sizeof buf, deadline, err);
        if (r == ESP01_E_TIMEOUT)
            return esp01_fail(err, r, sent
                ? "%s: no answer after the password"
                : "%s: no password prompt (not a WebREPL server?)", where);
        if (r < 0)
            return esp01_fail(err, ESP01_E_IO, sent
                ? "%s: the board closed the connection after the password "
                  "(wrong password?)"
                : "%s: the board closed the connection before asking for the "
                  "password", where);
        if (n + (size_t)r > sizeof seen) {
            /* Keep the tail: the words we look for are short. */
            size_t keep = 64 < n ? 64 : n;
            memmove(seen, seen + n - keep, keep);
            n = keep;
        }
        size_t take = (size_t)r < sizeof seen - n ? (size_t)r : sizeof seen - n;
        memcpy(seen + n, buf + (size_t)r - take, take);
        n += take;
        if (!sent) {
            if (seen_has(seen, n, "New password:"))
                return esp01_fail(err, ESP01_E_UNSUPPORTED,
                                  "%s: the board wants a WebREPL password set "
                                  "first; set one over serial with 'esp01 "
                                  "webrepl setup'", where);
            if (seen_has(seen, n, "Password: ")) {
                char line[ESP01_WEBREPL_PASS_MAX + 2];
                size_t pl = strlen(password);
                memcpy(line, password, pl);
                line[pl] = '\r';
                int rc = esp01_port_write(port, (const uint8_t *)line, pl + 1,
                                          deadline, err);
                memset(line, 0, sizeof line);
                if (rc < 0)
                    return rc;
                sent = true;
                n = 0;
            }
        } else {
            if (seen_has(seen, n, "WebREPL connected"))
                return 0;
            if (seen_has(seen, n, "Access denied"))
                return esp01_fail(err, ESP01_E_DEVICE,
                                  "%s: wrong WebREPL password (the board said "
                                  "Access denied)", where);
        }
    }
    return esp01_fail(err, ESP01_E_PROTOCOL,
                      "%s: endless text instead of a WebREPL login", where);
}

static void put_le(uint8_t *p, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

int esp01_webrepl_request(uint8_t out[ESP01_WEBREPL_REQ_LEN], int type,
                          uint32_t size, const char *name, esp01_err *err)
{
    size_t nl = strlen(name);
    if (nl > ESP01_WEBREPL_NAME_MAX)
        return esp01_fail(err, ESP01_E_LIMIT,
                          "':%.60s...' is too long for WebREPL's file protocol "
                          "(%d bytes at most)", name, ESP01_WEBREPL_NAME_MAX);
    memset(out, 0, ESP01_WEBREPL_REQ_LEN);
    out[0] = 'W';
    out[1] = 'A';
    out[2] = (uint8_t)type;
    out[3] = 0;            /* flags */
    put_le(out + 4, 0, 8); /* offset: the board ignores it */
    put_le(out + 12, size, 4);
    put_le(out + 16, nl, 2);
    memcpy(out + 18, name, nl);
    return 0;
}

int esp01_webrepl_reply(const uint8_t in[4])
{
    if (in[0] != 'W' || in[1] != 'B')
        return -1;
    return in[2] | in[3] << 8;
}

static int expect_ok(esp01_port *port, const char *what, const char *name,
                     uint64_t deadline, esp01_err *err)
{
    uint8_t r[4];
    int rc = esp01_webrepl_read_binary(port, r, 4, deadline, err);
    if (rc == ESP01_E_TIMEOUT)
        return esp01_fail(err, rc, "':%s': no answer to WebREPL's %s", name,
                          what);
    if (rc < 0)
        return rc;
    int code = esp01_webrepl_reply(r);
    if (code < 0)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "':%s': unexpected bytes instead of WebREPL's file "
                          "reply", name);
    if (code != 0)
        return esp01_fail(err, ESP01_E_DEVICE,
                          "':%s': the board refused the %s (code %d)", name,
                          what, code);
    return 0;
}

int esp01_webrepl_put_file(esp01_port *port, const char *name,
                           const uint8_t *data, size_t len,
                           uint32_t timeout_ms, esp01_err *err)
{
    if (len > UINT32_MAX)
        return esp01_fail(err, ESP01_E_LIMIT, "file too large");
    uint8_t req[ESP01_WEBREPL_REQ_LEN];
    int rc = esp01_webrepl_request(req, ESP01_WEBREPL_PUT, (uint32_t)len,
                                   name, err);
    if (rc < 0)
        return rc;
    uint64_t deadline = esp01_deadline_in(timeout_ms);
    if ((rc = esp01_webrepl_send_binary(port, req, sizeof req, deadline, err)) < 0 ||
        (rc = expect_ok(port, "file upload", name, deadline, err)) < 0)
        return rc;
    /* The board writes what arrives in pieces of up to 512 bytes; frames
     * of 1 KiB keep each one small, as webrepl_cli.py does. */
    for (size_t done = 0; done < len;) {
        size_t n = len - done < 1024 ? len - done : 1024;
        if ((rc = esp01_webrepl_send_binary(port, data + done, n, deadline,
                                            err)) < 0)
            return rc;
        done += n;
    }
    return expect_ok(port, "end of the upload", name, deadline, err);
}

int esp01_webrepl_get_file(esp01_port *port, const char *name,
                           uint8_t *data, size_t len, uint32_t timeout_ms,
                           esp01_err *err)
{
    uint8_t req[ESP01_WEBREPL_REQ_LEN];
    int rc = esp01_webrepl_request(req, ESP01_WEBREPL_GET, 0, name, err);
    if (rc < 0)
        return rc;
    uint64_t deadline = esp01_deadline_in(timeout_ms);
    if ((rc = esp01_webrepl_send_binary(port, req, sizeof req, deadline, err)) < 0 ||
        (rc = expect_ok(port, "file download", name, deadline, err)) < 0)
        return rc;
    size_t got = 0;
    /* Every chunk but the last has at least one byte, so a file of `len`
     * bytes takes at most len + 1 chunks. */
    for (size_t chunk = 0; chunk <= len + 1; chunk++) {
        static const uint8_t more = 0;
        uint8_t hdr[2];
        if ((rc = esp01_webrepl_send_binary(port, &more, 1, deadline, err)) < 0 ||
            (rc = esp01_webrepl_read_binary(port, hdr, 2, deadline, err)) < 0)
            return rc;
        size_t n = (size_t)(hdr[0] | hdr[1] << 8);
        if (n == 0)
            break;
        if (n > len - got)
            return esp01_fail(err, ESP01_E_PROTOCOL,
                              "':%s': size check failed: the board sent more "
                              "than the %zu bytes the file had", name, len);
        if ((rc = esp01_webrepl_read_binary(port, data + got, n, deadline,
                                            err)) < 0)
            return rc;
        got += n;
    }
    if ((rc = expect_ok(port, "end of the download", name, deadline, err)) < 0)
        return rc;
    if (got != len)
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "':%s': size check failed: got %zu of %zu bytes",
                          name, got, len);
    return 0;
}

int esp01_webrepl_version(esp01_port *port, uint8_t ver[3],
                          uint32_t timeout_ms, esp01_err *err)
{
    uint8_t req[ESP01_WEBREPL_REQ_LEN];
    int rc = esp01_webrepl_request(req, ESP01_WEBREPL_VER, 0, "", err);
    uint64_t deadline = esp01_deadline_in(timeout_ms);
    if (rc == 0)
        rc = esp01_webrepl_send_binary(port, req, sizeof req, deadline, err);
    if (rc == 0)
        rc = esp01_webrepl_read_binary(port, ver, 3, deadline, err);
    return rc;
}

/* At least 2 KB/s on top of the session's per-exec timeout. */
static uint32_t transfer_timeout(const esp01_devfs *fs, size_t len)
{
    uint64_t t = (uint64_t)fs->timeout_ms + len / 2;
    return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

static int put_hook(esp01_devfs *fs, const char *path, const uint8_t *data,
                    size_t len, esp01_err *err)
{
    return esp01_webrepl_put_file(fs->data_ctx, path, data, len,
                                  transfer_timeout(fs, len), err);
}

static int get_hook(esp01_devfs *fs, const char *path, uint8_t *data,
                    size_t len, esp01_err *err)
{
    return esp01_webrepl_get_file(fs->data_ctx, path, data, len,
                                  transfer_timeout(fs, len), err);
}

void esp01_webrepl_use_for_files(esp01_devfs *fs, esp01_port *port)
{
    fs->put_data = put_hook;
    fs->get_data = get_hook;
    fs->data_ctx = port;
}
