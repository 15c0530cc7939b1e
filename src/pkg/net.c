/*
 * net.c - the fetch and cache a CLI uses: HTTP(S) through esp01_http_get,
 * or a local mirror (a folder path or file:// URL, as `--index
 * /path/to/v2`); a cache folder of files named by their SHA-256.
 */
#include "esp01/fileio.h"
#include "esp01/hash.h"
#include "esp01/http.h"
#include "mip_int.h"
#include "os/os.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool starts(const char *s, const char *head)
{
    return strncmp(s, head, strlen(head)) == 0;
}

static int fetch_http(void *ctx, const char *url, size_t max, uint8_t **body, size_t *len,
                      esp01_err *err)
{
    esp01_http_opts opts = {0};
    if (ctx)
        opts = *(const esp01_http_opts *)ctx;
    opts.max_bytes = max;
    esp01_http_reply reply;
    memset(&reply, 0, sizeof reply);
    int rc = esp01_http_get(url, &opts, &reply, err);
    if (rc < 0)
        return rc;
    long status = reply.status;
    if (status == 404 || status == 410) {
        esp01_http_reply_free(&reply);
        return esp01_fail(err, ESP01_E_NOTFOUND, "%.200s: not found (HTTP %ld)", url, status);
    }
    if (status != 200) {
        esp01_http_reply_free(&reply);
        return esp01_fail(err, ESP01_E_PROTOCOL, "%.200s: HTTP %ld", url, status);
    }
    if (reply.len > max) {
        esp01_http_reply_free(&reply);
        return esp01_fail(err, ESP01_E_LIMIT, "%.200s: larger than %zu bytes", url, max);
    }
    *body = reply.body;
    *len = reply.len;
    reply.body = NULL;
    esp01_http_reply_free(&reply);
    return 0;
}

int esp01_mip_fetch_default(void *ctx, const char *url, size_t max, uint8_t **body, size_t *len,
                            esp01_err *err)
{
    *body = NULL;
    *len = 0;
    if (starts(url, "http://") || starts(url, "https://"))
        return fetch_http(ctx, url, max, body, len, err);
    const char *path = url;
    if (starts(url, "file://")) {
        path = url + 7;
        /* file:///C:/x is C:/x on Windows; a POSIX path keeps its slash */
        if (path[0] == '/' && path[1] && path[2] == ':')
            path++;
    }
    if (mip_is_remote(url) || !*path)
        return esp01_fail(err, ESP01_E_INVAL, "cannot fetch '%.200s'", url);
    int rc = esp01_read_file(path, max, body, len, err);
    if (rc == ESP01_E_NOTFOUND)
        return esp01_fail(err, rc, "%.200s: no such file", path);
    return rc;
}

static bool cache_path(const char *dir, const uint8_t sha[32], char *out, size_t cap, char *sub,
                       size_t subcap)
{
    char hex[65];
    esp01_hex(sha, 32, hex);
    return dir && *dir && mip_fmt(sub, subcap, "%s/%.2s", dir, hex) &&
           mip_fmt(out, cap, "%s/%s", sub, hex);
}

int esp01_mip_cache_dir_get(void *ctx, const uint8_t sha256[32], uint8_t **body, size_t *len,
                            esp01_err *err)
{
    char path[4096], sub[4096];
    uint8_t got[32];
    *body = NULL;
    *len = 0;
    if (!cache_path(ctx, sha256, path, sizeof path, sub, sizeof sub))
        return esp01_fail(err, ESP01_E_INVAL, "bad cache folder");
    int rc = esp01_read_file(path, ESP01_MIP_MAX_FILE, body, len, err);
    if (rc < 0)
        return rc;
    esp01_sha256(*body, *len, got);
    if (memcmp(got, sha256, 32) != 0) {
        free(*body);
        *body = NULL;
        *len = 0;
        return esp01_fail(err, ESP01_E_CHECKSUM, "%s: damaged (its SHA-256 is not its name)", path);
    }
    return 0;
}

static int mkdir_ok(const char *path, esp01_err *err)
{
    int rc = esp01_os_mkdir(path, err);
    return rc == ESP01_E_EXISTS ? 0 : rc;
}

int esp01_mip_cache_dir_put(void *ctx, const uint8_t sha256[32], const uint8_t *body, size_t len,
                            esp01_err *err)
{
    char path[4096], sub[4096];
    uint8_t got[32];
    if (!cache_path(ctx, sha256, path, sizeof path, sub, sizeof sub))
        return esp01_fail(err, ESP01_E_INVAL, "bad cache folder");
    esp01_sha256(body, len, got);
    if (memcmp(got, sha256, 32) != 0)
        return esp01_fail(err, ESP01_E_CHECKSUM, "not caching bytes under another SHA-256");
    int rc = mkdir_ok((const char *)ctx, err);
    if (rc == 0)
        rc = mkdir_ok(sub, err);
    if (rc == 0)
        rc = esp01_write_file_atomic(path, body, len, err);
    return rc;
}
