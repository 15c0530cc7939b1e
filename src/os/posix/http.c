/*
 * http.c - GET into memory with libcurl, loaded on first use (http.h says
 * why it is not linked).
 */
#define CURL_DISABLE_TYPECHECK 1
#include "esp01/http.h"

#include <curl/curl.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "os/posix/sys.h"

static struct {
    bool tried, ok;
    char why[160];
    CURLcode (*global_init)(long);
    CURL *(*easy_init)(void);
    CURLcode (*setopt)(CURL *, CURLoption, ...);
    CURLcode (*perform)(CURL *);
    CURLcode (*getinfo)(CURL *, CURLINFO, ...);
    void (*cleanup)(CURL *);
    const char *(*strerror)(CURLcode);
    curl_version_info_data *(*version_info)(CURLversion);
} curl;

static char user_agent[96];

/* dlsym's object pointer into a function pointer without a cast ISO C
 * does not define. */
static bool sym(void *lib, const char *name, void *fn, size_t fn_size)
{
    void *p = dlsym(lib, name);
    if (!p)
        return false;
    memcpy(fn, &p, fn_size);
    return true;
}
#define SYM(lib, name, field) sym(lib, name, &curl.field, sizeof curl.field)

static bool load_curl(void)
{
    if (curl.tried)
        return curl.ok;
    curl.tried = true;
    void *lib = dlopen(esp01_posix_curl_lib, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(curl.why, sizeof curl.why, "%s", esp01_posix_curl_missing);
        return false;
    }
    if (!SYM(lib, "curl_global_init", global_init) || !SYM(lib, "curl_easy_init", easy_init) ||
        !SYM(lib, "curl_easy_setopt", setopt) || !SYM(lib, "curl_easy_perform", perform) ||
        !SYM(lib, "curl_easy_getinfo", getinfo) || !SYM(lib, "curl_easy_cleanup", cleanup) ||
        !SYM(lib, "curl_easy_strerror", strerror) ||
        !SYM(lib, "curl_version_info", version_info)) {
        snprintf(curl.why, sizeof curl.why, "%s lacks %s", esp01_posix_curl_lib, dlerror());
        return false;
    }
    if (curl.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(curl.why, sizeof curl.why, "libcurl did not initialise");
        return false;
    }
    curl_version_info_data *vi = curl.version_info(CURLVERSION_NOW);
    snprintf(user_agent, sizeof user_agent, "esp01/%s (libcurl/%s)", ESP01_VERSION,
             vi && vi->version ? vi->version : "?");
    curl.ok = true;
    return true;
}

const char *esp01_http_user_agent(void)
{
    if (!user_agent[0])
        snprintf(user_agent, sizeof user_agent, "esp01/%s", ESP01_VERSION);
    return user_agent;
}

struct sink {
    esp01_http_reply *reply;
    size_t cap, max;
    bool too_big;
    const esp01_http_opts *opts;
};

static size_t on_data(char *data, size_t size, size_t n, void *ctx)
{
    struct sink *s = ctx;
    size_t len = size * n;
    esp01_http_reply *r = s->reply;
    if (len > s->max - r->len) {
        s->too_big = true;
        return 0;
    }
    if (r->len + len > s->cap) {
        size_t cap = s->cap ? s->cap : 64 * 1024;
        while (cap < r->len + len)
            cap *= 2;
        uint8_t *p = realloc(r->body, cap);
        if (!p)
            return 0;
        r->body = p;
        s->cap = cap;
    }
    memcpy(r->body + r->len, data, len);
    r->len += len;
    return len;
}

static int on_progress(void *ctx, curl_off_t total, curl_off_t done, curl_off_t up_total,
                       curl_off_t up_done)
{
    (void)up_total;
    (void)up_done;
    struct sink *s = ctx;
    if (s->opts->cancel && *s->opts->cancel)
        return 1;
    if (s->opts->progress && done > 0)
        s->opts->progress(s->opts->ctx, (uint64_t)done, total > 0 ? (uint64_t)total : 0);
    return 0;
}

static int fail_for(CURLcode rc, CURL *h, const char *url, const char *detail,
                    const struct sink *s, const esp01_http_opts *o, esp01_err *err)
{
    const char *why = detail[0] ? detail : curl.strerror(rc);
    curl_off_t connect_us = 0;
    curl.getinfo(h, CURLINFO_CONNECT_TIME_T, &connect_us);
    switch (rc) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_CONNECT:
        return esp01_fail(err, ESP01_E_IO, "cannot reach %s: %s", url, why);
    case CURLE_OPERATION_TIMEDOUT:
        if (connect_us == 0 && s->reply->len == 0)
            return esp01_fail(err, ESP01_E_IO, "cannot reach %s: no connection within %u s",
                              url, o->connect_timeout_s ? o->connect_timeout_s : 20);
        return esp01_fail(err, ESP01_E_TIMEOUT,
                          "%s stalled: no data for %u s (%zu bytes received)", url,
                          o->stall_s ? o->stall_s : 30, s->reply->len);
    case CURLE_PARTIAL_FILE:
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "%s: the server closed the connection after %zu bytes, before the "
                          "end its Content-Length announced (truncated)",
                          url, s->reply->len);
    case CURLE_WRITE_ERROR:
        if (s->too_big)
            return esp01_fail(err, ESP01_E_LIMIT, "%s: more than %zu bytes, refused", url,
                              s->max);
        return esp01_fail(err, ESP01_E_NOMEM, "%s: out of memory", url);
    case CURLE_ABORTED_BY_CALLBACK:
        return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted");
    case CURLE_PEER_FAILED_VERIFICATION:
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "%s: the server's certificate is not trusted (%s)", url, why);
    default:
        return esp01_fail(err, ESP01_E_PROTOCOL, "%s: %s", url, why);
    }
}

int esp01_http_get(const char *url, const esp01_http_opts *opts, esp01_http_reply *reply,
                   esp01_err *err)
{
    memset(reply, 0, sizeof *reply);
    reply->content_length = -1;
    if (!load_curl())
        return esp01_fail(err, ESP01_E_UNSUPPORTED, "%s", curl.why);
    CURL *h = curl.easy_init();
    if (!h)
        return esp01_fail(err, ESP01_E_NOMEM, "libcurl: cannot start a transfer");
    struct sink s = {reply, 0, opts->max_bytes ? opts->max_bytes : (64u << 20), false, opts};
    char detail[CURL_ERROR_SIZE];
    detail[0] = '\0';
    curl.setopt(h, CURLOPT_URL, url);
    curl.setopt(h, CURLOPT_ERRORBUFFER, detail);
    curl.setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl.setopt(h, CURLOPT_USERAGENT, esp01_http_user_agent());
    curl.setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl.setopt(h, CURLOPT_MAXREDIRS, 8L);
    curl.setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl.setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl.setopt(h, CURLOPT_CONNECTTIMEOUT, (long)(opts->connect_timeout_s ? opts->connect_timeout_s : 20));
    curl.setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl.setopt(h, CURLOPT_LOW_SPEED_TIME, (long)(opts->stall_s ? opts->stall_s : 30));
    curl.setopt(h, CURLOPT_WRITEFUNCTION, on_data);
    curl.setopt(h, CURLOPT_WRITEDATA, &s);
    curl.setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl.setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl.setopt(h, CURLOPT_XFERINFODATA, &s);
    if (opts->ca_bundle && *opts->ca_bundle)
        curl.setopt(h, CURLOPT_CAINFO, opts->ca_bundle);
    CURLcode rc = curl.perform(h);
    long status = 0, redirects = 0;
    curl_off_t cl = -1;
    char *final_url = NULL;
    curl.getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    curl.getinfo(h, CURLINFO_REDIRECT_COUNT, &redirects);
    curl.getinfo(h, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
    curl.getinfo(h, CURLINFO_EFFECTIVE_URL, &final_url);
    reply->status = status;
    reply->redirects = redirects > 0 ? (unsigned)redirects : 0;
    reply->content_length = cl >= 0 ? (int64_t)cl : -1;
    snprintf(reply->url, sizeof reply->url, "%s", final_url ? final_url : url);
    int result = 0;
    if (rc != CURLE_OK)
        result = fail_for(rc, h, url, detail, &s, opts, err);
    curl.cleanup(h);
    if (result < 0)
        esp01_http_reply_free(reply);
    return result;
}

void esp01_http_reply_free(esp01_http_reply *reply)
{
    free(reply->body);
    reply->body = NULL;
    reply->len = 0;
}
