/*
 * devfs_get.c - reading a file from the device: through the transport's
 * own file channel where it has one (fs->get_data), else the device prints
 * the file in base64 (or hex where the firmware has no binascii) in pieces
 * and the host decodes it and checks the length against a stat.
 */
#include "esp01/devfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "devfs_int.h"

/* Largest device read chunk; a multiple of 3 so base64 pieces join
 * without padding. */
#define READ_PIECE 768

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

/* Decode the device's base64 or hex dump (whitespace between pieces). */
static int decode_dump(const char *text, size_t tlen, bool base64,
                       uint8_t *out, size_t cap, size_t *out_len,
                       esp01_err *err)
{
    size_t o = 0;
    uint32_t acc = 0;
    int bits = 0, pad = 0;
    for (size_t i = 0; i < tlen; i++) {
        char c = text[i];
        if (c == '\n' || c == '\r' || c == ' ')
            continue;
        int v;
        if (base64) {
            if (c == '=') {
                pad++;
                continue;
            }
            v = b64val(c);
            if (v < 0 || pad)
                goto bad;
            acc = acc << 6 | (uint32_t)v;
            bits += 6;
        } else {
            v = hexval(c);
            if (v < 0)
                goto bad;
            acc = acc << 4 | (uint32_t)v;
            bits += 4;
        }
        if (bits >= 8) {
            bits -= 8;
            if (o == cap)
                return esp01_fail(err, ESP01_E_LIMIT,
                                  "the device sent more data than expected");
            out[o++] = (uint8_t)(acc >> bits);
            acc &= (1u << bits) - 1;
        }
    }
    *out_len = o;
    return 0;
bad:
    return esp01_fail(err, ESP01_E_PROTOCOL,
                      "malformed file data from the device");
}

int esp01_devfs_read(esp01_devfs *fs, const char *path, size_t max,
                     uint8_t **data, size_t *len, esp01_err *err)
{
    *data = NULL;
    *len = 0;
    esp01_dev_entry st;
    int rc = esp01_devfs_stat(fs, path, &st, err);
    if (rc < 0)
        return rc;
    if (st.is_dir)
        return esp01_fail(err, ESP01_E_INVAL, "':%s' is a directory", path);
    if (st.size > max)
        return esp01_fail(err, ESP01_E_LIMIT,
                          "':%s' is larger than %zu bytes", path, max);
    if (fs->get_data) {
        uint8_t *buf = malloc(st.size ? (size_t)st.size : 1);
        if (!buf)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        if ((rc = fs->get_data(fs, path, buf, (size_t)st.size, err)) < 0) {
            free(buf);
            return rc;
        }
        *data = buf;
        *len = (size_t)st.size;
        return 0;
    }
    char lit[LIT_MAX], code[LIT_MAX + 200];
    if ((rc = devfs_path_literal(path, lit, sizeof lit, err)) < 0)
        return rc;
    /* Hex-encoding a piece makes a small string per byte: keep it small
     * on a tiny heap. */
    size_t piece = fs->mem_free / 64;
    piece = piece < 48 ? 48 : piece > READ_PIECE ? READ_PIECE : piece;
    piece -= piece % 3;
    snprintf(code, sizeof code,
             "f=open(%s,'rb')\nwhile 1:\n b=f.read(%zu)\n if not b:break\n"
             " print(%s)\nf.close();del f,b\ngc.collect()\n",
             lit, piece, fs->has_base64 ? "_eb(b)[:-1].decode()" : "_eh(b)");
    /* Output grows by up to 2x (hex) plus line ends; a file that grew
     * since the stat is cut off by the cap and reported. */
    size_t cap = (size_t)st.size * 2 + (size_t)st.size / piece * 4 + 64;
    char *text = NULL;
    size_t tlen = 0;
    uint32_t timeout = fs->timeout_ms +
        (uint32_t)((uint64_t)cap * 1000 / (fs->repl->line_bytes_per_s / 2 + 1));
    rc = esp01_rawrepl_exec_capture(fs->repl, code, cap, &text, &tlen,
                                    timeout, err);
    if (rc < 0) {
        free(text);
        return explain(rc, path, err);
    }
    uint8_t *buf = malloc(st.size ? (size_t)st.size : 1);
    if (!buf) {
        free(text);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    size_t got = 0;
    rc = decode_dump(text, tlen, fs->has_base64, buf, (size_t)st.size, &got, err);
    free(text);
    if (rc == 0 && got != st.size)
        rc = esp01_fail(err, ESP01_E_PROTOCOL,
                        "':%s': got %zu of %llu bytes from the device", path,
                        got, (unsigned long long)st.size);
    if (rc < 0) {
        free(buf);
        return rc;
    }
    *data = buf;
    *len = got;
    return 0;
}
