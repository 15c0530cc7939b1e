/*
 * devfs_put.c - writing a file to the device: the data goes in pieces to a
 * temporary file next to the target, encoded as the firmware allows
 * (deflate, base64 or bytes literals); the device then checks the copy's
 * hash (or size) and renames it over the target, so an interrupted write
 * never leaves a half file under the real name.
 */
#include "esp01/devfs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "esp01/hash.h"

#include "devfs_int.h"

/* Raw deflate window the device's DeflateIO is told about (1 KiB). */
#define DEFLATE_WBITS 10

size_t esp01_devfs_bytes_literal(const uint8_t *data, size_t len, char *out,
                                 size_t cap)
{
    static const char hexd[] = "0123456789abcdef";
    size_t o = 0;
    if (cap < 4)
        return 0;
    out[o++] = 'b';
    out[o++] = '\'';
    for (size_t i = 0; i < len; i++) {
        uint8_t c = data[i];
        if (o + 6 > cap)
            return 0;
        if (c == '\\' || c == '\'') {
            out[o++] = '\\';
            out[o++] = (char)c;
        } else if (c == '\n') {
            out[o++] = '\\';
            out[o++] = 'n';
        } else if (c >= 0x20 && c < 0x7f) {
            out[o++] = (char)c;
        } else {
            out[o++] = '\\';
            out[o++] = 'x';
            out[o++] = hexd[c >> 4];
            out[o++] = hexd[c & 15];
        }
    }
    if (o + 2 > cap)
        return 0;
    out[o++] = '\'';
    out[o] = '\0';
    return o;
}

/* Raw deflate of one piece with the device's window; 0 if it does not
 * shrink (the caller then sends the piece uncompressed). */
static size_t deflate_piece(const uint8_t *in, size_t n, uint8_t *out,
                            size_t cap)
{
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 9, Z_DEFLATED, -DEFLATE_WBITS, 8,
                     Z_DEFAULT_STRATEGY) != Z_OK)
        return 0;
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    int zr = deflate(&z, Z_FINISH);
    size_t got = cap - z.avail_out;
    deflateEnd(&z);
    return zr == Z_STREAM_END && got < n ? got : 0;
}

/* Append one statement that writes `piece` to the open temporary file. */
/*
 * Append one statement that writes `piece` to the open temporary file.
 * With `best`, the shortest form the device can decode is used: text
 * often travels better as a bytes literal than as base64.
 */
static int add_piece(struct sbuf *code, esp01_devfs_encoding enc, bool best,
                     bool can_b64, const uint8_t *piece, size_t n,
                     esp01_err *err)
{
    size_t need = n * 4 + 64;
    char *lit = malloc(need), *alt = malloc(need);
    uint8_t *z = malloc(n + 64);
    if (!lit || !z || !alt) {
        free(lit);
        free(alt);
        free(z);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    const char *fn = NULL; /* decoder, NULL for a plain literal */
    size_t len = 0;
    if (enc != ESP01_ENC_REPR) {
        size_t zn = enc == ESP01_ENC_DEFLATE ? deflate_piece(piece, n, z, n + 64) : 0;
        len = esp01_base64_encode(zn ? z : piece, zn ? zn : n, lit);
        fn = zn ? "_ez" : "_ea";
    }
    if (enc == ESP01_ENC_REPR || (best && can_b64) || !can_b64) {
        size_t rl = esp01_devfs_bytes_literal(piece, n, alt, need);
        if (enc == ESP01_ENC_REPR || !fn || rl < len + 3) {
            memcpy(lit, alt, rl + 1);
            fn = NULL;
        }
    }
    if (fn) {
        devfs_sb_printf(code, "_ew(%s(b'", fn);
        devfs_sb_add(code, lit, strlen(lit));
        devfs_sb_add(code, "'))\n", 4);
    } else {
        devfs_sb_add(code, "_ew(", 4);
        devfs_sb_add(code, lit, strlen(lit));
        devfs_sb_add(code, ")\n", 2);
    }
    free(lit);
    free(alt);
    free(z);
    return code->failed ? esp01_fail(err, ESP01_E_NOMEM, "out of memory") : 0;
}

/* Temporary name next to the target: "dir/.name.part". */
static int temp_name(const char *path, char *out, size_t cap, esp01_err *err)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0;
    const char *base = slash ? slash + 1 : path;
    if (!*base)
        return esp01_fail(err, ESP01_E_INVAL, "':%s' names a directory", path);
    int n = snprintf(out, cap, "%.*s.%s.part", (int)dlen, path, base);
    if (n < 0 || (size_t)n >= cap)
        return esp01_fail(err, ESP01_E_LIMIT, "device path too long");
    return 0;
}

static void write_cleanup(esp01_devfs *fs, const char *tlit)
{
    char code[LIT_MAX + 128];
    snprintf(code, sizeof code,
             "try:\n _ef.close()\nexcept:\n pass\n"
             "try:\n os.remove(%s)\nexcept:\n pass\n", tlit);
    char *text = NULL;
    esp01_rawrepl_exec_capture(fs->repl, code, SMALL_OUTPUT, &text, NULL,
                               fs->timeout_ms, NULL);
    free(text);
}

static int write_once(esp01_devfs *fs, const char *path, const uint8_t *data,
                      size_t len, esp01_err *err)
{
    char tmp[ESP01_DEVPATH_MAX + 16], tlit[LIT_MAX + 32], plit[LIT_MAX];
    int rc = temp_name(path, tmp, sizeof tmp, err);
    if (rc < 0)
        return rc;
    if ((rc = devfs_path_literal(tmp, tlit, sizeof tlit, err)) < 0 ||
        (rc = devfs_path_literal(path, plit, sizeof plit, err)) < 0)
        return rc;
    esp01_devfs_encoding enc = esp01_devfs_effective_encoding(fs);
    size_t budget = fs->exec_budget;
    /* Raw bytes per statement: small enough that one statement's literal
     * and its decoded bytes fit the budget many times over. */
    size_t piece = enc == ESP01_ENC_REPR ? budget / 3 : budget / 2;
    if (enc == ESP01_ENC_DEFLATE)
        piece = budget;
    if (piece > 4096)
        piece = 4096;
    if (piece < 64)
        piece = 64;

    /* The last exec checks the copy, then moves it into place: one exec
     * that the link cannot split. */
    uint8_t sha[32];
    char hex[65];
    esp01_sha256(data, len, sha);
    esp01_hex(sha, 32, hex);
    char vcode[3 * LIT_MAX + 200];
    snprintf(vcode, sizeof vcode, "_ef.close();del _ef,_ew\n_eV(%s,%s,'%s',%zu)",
             tlit, plit, hex, len);

    struct sbuf code = {0};
    devfs_sb_printf(&code, "_ef=open(%s,'wb');_ew=_ef.write\n", tlit);
    size_t done = 0;
    /* Where files can seek, each exec says where its data goes, so an exec
     * that failed half-way (bytes lost inside a literal) can simply be sent
     * again. */
    bool seekable = fs->has_stat;
    bool have_piece = false; /* the exec being built holds data */
    size_t head = 0;         /* where its data statements start */
    bool flush = len == 0;
    if (fs->progress)
        fs->progress(fs->progress_ctx, 0, len);
    while (done < len || flush) {
        if (!flush) {
            if (code.len == 0 && seekable)
                devfs_sb_printf(&code, "_ef.seek(%zu)\n", done);
            if (!have_piece)
                head = code.len;
            size_t mark = code.len;
            size_t n = len - done < piece ? len - done : piece;
            rc = add_piece(&code, enc, fs->encoding == ESP01_ENC_AUTO,
                           fs->has_base64, data + done, n, err);
            if (rc < 0)
                break;
            if (code.len > budget && mark > head) {
                code.len = mark; /* this piece opens the next exec */
                code.p[code.len] = '\0';
            } else {
                done += n;
                have_piece = true;
            }
            flush = code.len > budget || mark == code.len || done == len;
            if (!flush)
                continue;
        }
        bool last = done == len;
        if (last)
            devfs_sb_add(&code, vcode, strlen(vcode));
        if (code.failed) {
            rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
            break;
        }
        char *out = NULL;
        for (int again = 0; again < 3; again++) {
            free(out);
            out = NULL;
            rc = esp01_rawrepl_exec_capture(fs->repl, code.p, SMALL_OUTPUT,
                                            &out, NULL, fs->timeout_ms, err);
            /* ValueError from a2b_base64, TypeError, NameError: garbled
             * on the way.  Real device errors are classified otherwise. */
            if (rc != ESP01_E_DEVICE || !seekable || last)
                break;
        }
        if (rc == 0 && last && !strstr(out, "OK"))
            rc = esp01_fail(err, ESP01_E_CHECKSUM,
                            "':%s': the copy on the device does not match "
                            "(data lost on the line); the old file was kept",
                            path);
        free(out);
        if (rc < 0)
            break;
        code.len = 0;
        flush = false;
        have_piece = false;
        if (fs->progress)
            fs->progress(fs->progress_ctx, done, len);
    }
    free(code.p);
    if (rc < 0) {
        int saved = rc;
        if (rc != ESP01_E_IO && rc != ESP01_E_TIMEOUT && rc != ESP01_E_CHECKSUM)
            write_cleanup(fs, tlit);
        return explain(saved, path, err);
    }
    return 0;
}

/*
 * The same atomic put with the data carried by fs->put_data: the raw REPL
 * creates the temporary file first (so a missing directory or a full
 * filesystem fails with the board's own error, not a dropped connection),
 * and _eV checks it (sha256, or its size) before the rename.
 */
static int write_via(esp01_devfs *fs, const char *path, const uint8_t *data,
                     size_t len, esp01_err *err)
{
    char tmp[ESP01_DEVPATH_MAX + 16], tlit[LIT_MAX + 32], plit[LIT_MAX];
    int rc = temp_name(path, tmp, sizeof tmp, err);
    if (rc < 0 || (rc = devfs_path_literal(tmp, tlit, sizeof tlit, err)) < 0 ||
        (rc = devfs_path_literal(path, plit, sizeof plit, err)) < 0)
        return rc;
    char code[3 * LIT_MAX + 200];
    snprintf(code, sizeof code, "open(%s,'wb').close()", tlit);
    char *out = NULL;
    rc = devfs_run_small(fs, code, &out, err);
    free(out);
    if (rc < 0)
        return explain(rc, path, err);
    if (fs->progress)
        fs->progress(fs->progress_ctx, 0, len);
    if ((rc = fs->put_data(fs, tmp, data, len, err)) < 0)
        return rc;
    if (fs->progress)
        fs->progress(fs->progress_ctx, len, len);
    uint8_t sha[32];
    char hex[65];
    esp01_sha256(data, len, sha);
    esp01_hex(sha, 32, hex);
    snprintf(code, sizeof code, "_eV(%s,%s,'%s',%zu)", tlit, plit, hex, len);
    out = NULL;
    rc = devfs_run_small(fs, code, &out, err);
    if (rc == 0 && !strstr(out, "OK"))
        rc = esp01_fail(err, ESP01_E_CHECKSUM,
                        "':%s': the copy on the device does not match (%s "
                        "check after the file transfer); the old file was kept",
                        path, fs->has_sha256 ? "sha256" : "size");
    free(out);
    return rc < 0 && rc != ESP01_E_CHECKSUM ? explain(rc, path, err) : rc;
}

int esp01_devfs_write(esp01_devfs *fs, const char *path, const uint8_t *data,
                      size_t len, esp01_err *err)
{
    if (fs->put_data)
        return write_via(fs, path, data, len, err);
    size_t budget = fs->exec_budget;
    int rc = 0;
    /* Lost bytes show up as a mismatch, a garbled statement or a garbled
     * reply; a heap too small as MemoryError.  All leave the old file in
     * place, so try again with smaller pieces.  A dead line or a full
     * filesystem will not get better. */
    for (int attempt = 0; attempt < 3; attempt++) {
        rc = write_once(fs, path, data, len, err);
        if (rc != ESP01_E_CHECKSUM && rc != ESP01_E_DEVICE &&
            rc != ESP01_E_PROTOCOL && rc != ESP01_E_NOMEM)
            break;
        fs->exec_budget = fs->exec_budget / 2 < 256 ? 256 : fs->exec_budget / 2;
        if (rc == ESP01_E_PROTOCOL &&
            esp01_rawrepl_enter(fs->repl, false, 3000, NULL) < 0)
            break;
    }
    fs->exec_budget = budget;
    return rc;
}
