/*
 * http.h - one HTTP(S) GET into memory, through libcurl.
 *
 * libcurl is loaded when the first request is made (dlopen of
 * libcurl.so.4), not linked: it pulls in some thirty shared libraries
 * whose loading would cost every esp01 command, offline ones included,
 * tens of milliseconds at start-up (bench/RESULTS.md).
 *
 * libcurl's defaults are kept where they are right: the system CA store,
 * the proxy variables (http_proxy, https_proxy, no_proxy, all_proxy).
 * Redirects are followed (http and https only), and a transfer that
 * moves no byte for `stall_s` seconds is abandoned.
 *
 * On Windows the same function is WinHTTP's (src/os/win32/http.c): the
 * system's proxy settings and certificate store, no ca_bundle (setting
 * one fails with ESP01_E_UNSUPPORTED), and *cancel seen between reads.
 */
#ifndef ESP01_HTTP_H
#define ESP01_HTTP_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp01_http_opts {
    uint32_t connect_timeout_s; /* 0: 20 s */
    uint32_t stall_s;           /* no byte for this long: give up (0: 30 s) */
    size_t max_bytes;           /* bodies larger than this are refused */
    const char *ca_bundle;      /* a PEM file of CAs instead of the system's */
    /* Called as bytes arrive; total is 0 when the server did not say. */
    void (*progress)(void *ctx, uint64_t done, uint64_t total);
    void *ctx;
    /* Set (e.g. from SIGINT) to abandon the transfer. */
    volatile sig_atomic_t *cancel;
} esp01_http_opts;

typedef struct esp01_http_reply {
    long status;             /* HTTP status of the last response, 0 if none */
    uint8_t *body;           /* malloc'd; esp01_http_reply_free() */
    size_t len;
    int64_t content_length;  /* -1 when the server sent none */
    unsigned redirects;
    char url[512];           /* where the body came from, after redirects */
} esp01_http_reply;

/*
 * GET `url`.  Any complete response is returned, whatever its status (the
 * caller decides what a 404 means).  Fails with:
 *   ESP01_E_IO        the server could not be reached (name lookup,
 *                     connection, proxy): the caller may work offline
 *   ESP01_E_TIMEOUT   connected, then no data for stall_s seconds
 *   ESP01_E_PROTOCOL  TLS failure (an untrusted certificate, ...), a body
 *                     shorter than its Content-Length, too many redirects
 *   ESP01_E_LIMIT     the body is larger than max_bytes
 *   ESP01_E_INTERRUPTED  *cancel was set
 *   ESP01_E_UNSUPPORTED  libcurl is not installed
 * with the URL and libcurl's own words in `err`.
 */
int esp01_http_get(const char *url, const esp01_http_opts *opts, esp01_http_reply *reply,
                   esp01_err *err);
void esp01_http_reply_free(esp01_http_reply *reply);

/* "esp01/0.1.0 (libcurl/7.88.1)" once libcurl is loaded, else without
 * the part in brackets. */
const char *esp01_http_user_agent(void);

#ifdef __cplusplus
}
#endif

#endif
