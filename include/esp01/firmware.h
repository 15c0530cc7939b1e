/*
 * firmware.h - official MicroPython ESP8266 firmware from micropython.org:
 * the list of published files, downloads, and the checks a file must pass
 * before esp01 uses or caches it.
 *
 * micropython.org publishes no checksums or signatures, so a download
 * counts only when it checks itself: HTTP 200, the whole Content-Length,
 * a v1 image whose checksum is right, MicroPython's MD5 trailer matching
 * (what esp.check_fw() computes on the board), nothing after it, and a
 * banner naming the version and build that were asked for.
 */
#ifndef ESP01_FIRMWARE_H
#define ESP01_FIRMWARE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/fwindex.h"
#include "esp01/http.h"
#include "esp01/image.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP01_FW_DEFAULT_BASE "https://micropython.org"
#define ESP01_FW_FILE_MAX (4u << 20)  /* real files are 0.5-1.1 MB */
#define ESP01_FW_PAGE_MAX (8u << 20)

/*
 * Is `buf` the firmware `want` names?  0, or ESP01_E_FORMAT (not a
 * MicroPython firmware, bytes after it, another version or build in the
 * banner) / ESP01_E_CHECKSUM (image checksum or MD5 trailer), with the
 * check that failed in `err`.  `info` (may be NULL) gets the parse.
 * An OTA download is checked on the firmware it carries at 0x3C000.
 */
int esp01_fw_verify(const uint8_t *buf, size_t len, const esp01_fw_file *want,
                    esp01_image_info *info, esp01_err *err);

/*
 * Read the board page at `base` + ESP01_FW_PAGE_PATH and add the files it
 * links to.  Besides esp01_http_get()'s failures: ESP01_E_NOTFOUND or
 * ESP01_E_PROTOCOL for an HTTP status other than 200, ESP01_E_FORMAT for
 * a page that links to no ESP8266 firmware file.
 */
int esp01_fw_fetch_list(const char *base, const esp01_http_opts *opts, esp01_fw_list *list,
                        esp01_err *err);

/*
 * Download `f` and check it (esp01_fw_verify).  On success *buf (malloc'd)
 * holds the file.  HTTP statuses and short bodies fail as for the list.
 */
int esp01_fw_download(const char *base, const esp01_http_opts *opts, const esp01_fw_file *f,
                      uint8_t **buf, size_t *len, esp01_err *err);

/*
 * `f` from the cache in `dir` when it is there and still passes the
 * checks, else downloaded, checked and stored there, under the cache's
 * lock.  `path` gets the cached file's path; *downloaded says which.
 */
int esp01_fw_fetch(const char *base, const esp01_http_opts *opts, const esp01_fw_file *f,
                   const char *dir, char *path, size_t cap, bool *downloaded, esp01_err *err);

/* Read `f` from the cache and check it; ESP01_E_NOTFOUND if absent. */
int esp01_fw_load_cached(const char *dir, const esp01_fw_file *f, char *path, size_t cap,
                         esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
