/*
 * WebREPL's "WA" file protocol over a WebREPL port, and the devfs hooks that
 * send file data through it; see include/esp01/webrepl.h.  The socket side
 * is port_webrepl.c, URLs and the login dialogue are webrepl_login.c.
 */
#include "esp01/webrepl.h"

#include <string.h>

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
