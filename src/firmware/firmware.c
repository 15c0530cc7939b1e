/*
 * firmware.c - the board page, downloads and the checks a firmware file
 * passes before it is used or cached (firmware.h).
 */
#include "esp01/firmware.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "esp01/fwcache.h"
#include "os/os.h"

/* Where the OTA download puts the firmware, behind yaota8266. */
#define OTA_FIRMWARE_OFFSET 0x3C000u

static void hex16(const uint8_t *md5, char out[33])
{
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", md5[i]);
}

static const char *build_name(esp01_variant v)
{
    switch (v) {
    case ESP01_VARIANT_512K: return "the 512K build";
    case ESP01_VARIANT_1M: return "the 1M build";
    case ESP01_VARIANT_GENERIC: return "the generic (2 MiB+) build";
    case ESP01_VARIANT_2M_ROMFS: return "the 2M ROMFS build";
    default: return "no known build";
    }
}

int esp01_fw_verify(const uint8_t *buf, size_t len, const esp01_fw_file *want,
                    esp01_image_info *info, esp01_err *err)
{
    esp01_image_info local;
    if (!info)
        info = &local;
    const char *name = want->name;
    esp01_err perr;
    if (esp01_image_parse(buf, len, info, &perr) < 0)
        return esp01_fail(err, ESP01_E_FORMAT, "%s is not a MicroPython ESP8266 firmware: %s",
                          name, perr.msg);
    if (want->variant == ESP01_FW_OTA) {
        if (!info->ota_bundle || len <= OTA_FIRMWARE_OFFSET)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "%s is not an OTA download (no firmware at 0x3C000 behind a "
                              "boot loader)", name);
        buf += OTA_FIRMWARE_OFFSET;
        len -= OTA_FIRMWARE_OFFSET;
        if (esp01_image_parse(buf, len, info, &perr) < 0)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "%s: the firmware at 0x3C000 does not parse: %s", name, perr.msg);
    }
    if (!info->checksum_ok)
        return esp01_fail(err, ESP01_E_CHECKSUM,
                          "%s: the image checksum does not match (stored 0x%02X, computed "
                          "0x%02X): the file is damaged", name, info->checksum_stored,
                          info->checksum_computed);
    if (!info->has_md5)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "%s has no MD5 trailer: not a MicroPython firmware", name);
    if (!info->md5_ok) {
        char s[33], c[33];
        hex16(info->md5_stored, s);
        hex16(info->md5_computed, c);
        return esp01_fail(err, ESP01_E_CHECKSUM,
                          "%s: the MD5 trailer does not match the contents (stored %s, "
                          "computed %s): the file is damaged", name, s, c);
    }
    if (info->firmware_len != len)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "%s: %zu bytes after the firmware's MD5 trailer: not a file as "
                          "published", name, len - info->firmware_len);
    if (!info->has_version)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "%s: the firmware's banner names no MicroPython version", name);
    size_t tl = strcspn(info->version, " ");
    if (strlen(want->version.tag) != tl || memcmp(info->version, want->version.tag, tl) != 0)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "%s: the firmware's banner says %.*s, not %s", name, (int)tl,
                          info->version, want->version.tag);
    esp01_variant v = esp01_fw_variant_image(want->variant);
    if (info->variant != v)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "%s: the firmware is %s (banner \"%s\"), not %s", name,
                          build_name(info->variant), info->board, build_name(v));
    return 0;
}

static void join_url(char *out, size_t cap, const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        n--;
    snprintf(out, cap, "%.*s%s", (int)n, base, path);
}

static int check_status(const esp01_http_reply *r, const char *url, esp01_err *err)
{
    if (r->status == 200)
        return 0;
    return esp01_fail(err, r->status == 404 || r->status == 410 ? ESP01_E_NOTFOUND
                                                                : ESP01_E_PROTOCOL,
                      "%s: HTTP %ld%s", url, r->status,
                      r->status == 404 ? " (not found)"
                      : r->status == 410 ? " (gone)"
                      : r->status >= 500 ? " (server error)" : "");
}

int esp01_fw_fetch_list(const char *base, const esp01_http_opts *opts, esp01_fw_list *list,
                        esp01_err *err)
{
    char url[1024];
    join_url(url, sizeof url, base, ESP01_FW_PAGE_PATH);
    esp01_http_opts o = *opts;
    o.max_bytes = ESP01_FW_PAGE_MAX;
    o.progress = NULL;
    esp01_http_reply r;
    int rc = esp01_http_get(url, &o, &r, err);
    if (rc < 0)
        return rc;
    if ((rc = check_status(&r, url, err)) == 0) {
        rc = esp01_fw_page_parse(r.body, r.len, list, err);
        if (rc == 0 && list->count == 0)
            rc = esp01_fail(err, ESP01_E_FORMAT,
                            "%s links to no ESP8266 firmware file (no /resources/firmware/"
                            "ESP8266_GENERIC-...bin): has the page changed?", url);
    }
    esp01_http_reply_free(&r);
    return rc;
}

int esp01_fw_download(const char *base, const esp01_http_opts *opts, const esp01_fw_file *f,
                      uint8_t **buf, size_t *len, esp01_err *err)
{
    char url[1024];
    char path[sizeof ESP01_FW_FILES_PATH + sizeof f->name];
    snprintf(path, sizeof path, "%s%s", ESP01_FW_FILES_PATH, f->name);
    join_url(url, sizeof url, base, path);
    esp01_http_opts o = *opts;
    o.max_bytes = ESP01_FW_FILE_MAX;
    esp01_http_reply r;
    int rc = esp01_http_get(url, &o, &r, err);
    if (rc < 0)
        return rc;
    if ((rc = check_status(&r, url, err)) == 0 && r.content_length >= 0 &&
        (uint64_t)r.content_length != r.len)
        rc = esp01_fail(err, ESP01_E_PROTOCOL,
                        "%s: %zu bytes received, Content-Length said %lld (truncated)", url,
                        r.len, (long long)r.content_length);
    if (rc == 0)
        rc = esp01_fw_verify(r.body, r.len, f, NULL, err);
    if (rc < 0) {
        esp01_http_reply_free(&r);
        return rc;
    }
    *buf = r.body;
    *len = r.len;
    return 0;
}

int esp01_fw_load_cached(const char *dir, const esp01_fw_file *f, char *path, size_t cap,
                         esp01_err *err)
{
    if (!esp01_fw_cache_path(dir, f->name, path, cap))
        return esp01_fail(err, ESP01_E_LIMIT, "the cache path is too long");
    /* Mapped, not read: the check runs on every use of a cached file, and
     * copying it into fresh memory cost more than the MD5 over it. */
    esp01_os_map map;
    esp01_err oe;
    int rc = esp01_os_map_file(path, ESP01_FW_FILE_MAX, &map, &oe);
    if (rc == ESP01_E_NOTFOUND || rc == ESP01_E_IO)
        return esp01_fail(err, rc, "%s is not in the cache (%s): %s", f->name, dir, oe.msg);
    if (rc == ESP01_E_NOMEM)
        return esp01_fail(err, ESP01_E_IO, "cannot read %s: %s", path, oe.msg);
    if (rc < 0 || map.len == 0)
        return esp01_fail(err, ESP01_E_FORMAT, "%s in the cache is not a firmware file",
                          f->name);
    rc = esp01_fw_verify(map.data, map.len, f, NULL, err);
    esp01_os_unmap(&map);
    return rc;
}

int esp01_fw_fetch(const char *base, const esp01_http_opts *opts, const esp01_fw_file *f,
                   const char *dir, char *path, size_t cap, bool *downloaded, esp01_err *err)
{
    *downloaded = false;
    int lock = esp01_fw_cache_lock(dir, err);
    if (lock < 0)
        return lock;
    /* Another run may have fetched it while this one waited for the lock. */
    esp01_err cerr;
    int rc = esp01_fw_load_cached(dir, f, path, cap, &cerr);
    if (rc == ESP01_E_FORMAT || rc == ESP01_E_CHECKSUM)
        esp01_os_remove(path, NULL); /* damaged since it was stored: fetch it again */
    if (rc < 0) {
        uint8_t *buf = NULL;
        size_t len = 0;
        rc = esp01_fw_download(base, opts, f, &buf, &len, err);
        if (rc == 0)
            rc = esp01_fw_cache_store(dir, f->name, buf, len, err);
        free(buf);
        *downloaded = rc == 0;
    }
    esp01_fw_cache_unlock(lock);
    return rc;
}
