/*
 * http.c - GET into memory with WinHTTP, part of every Windows: no
 * library to ship, and the system's certificate store and proxy settings
 * (WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY from Windows 8.1, the static
 * WinHTTP proxy before) are the ones the user already set up.
 *
 * The same promises as the libcurl backend (http.h): redirects followed,
 * http and https only, at most 8; the connect timeout; a transfer that
 * moves no byte for stall_s given up; the same error codes and texts.
 * The request is synchronous, so *cancel is looked at between reads: a
 * stalled read ends at stall_s, not at once.
 */
#include "esp01/http.h"

#include "os/win32/win.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wchar.h>
#include <winhttp.h>

#define MAX_REDIRECTS 8

const char *esp01_http_user_agent(void)
{
    return "esp01/" ESP01_VERSION " (WinHTTP)";
}

struct get {
    const char *url;
    const esp01_http_opts *opts;
    esp01_http_reply *reply;
    size_t cap, max;
    bool connected;     /* the request went out: later timeouts are stalls */
    DWORD cert_flags;   /* WINHTTP_CALLBACK_STATUS_FLAG_CERT_* of a TLS failure */
    HINTERNET session, connection, request;
};

static void CALLBACK on_status(HINTERNET h, DWORD_PTR ctx, DWORD status, LPVOID info,
                               DWORD len)
{
    (void)h;
    struct get *g = (struct get *)ctx;
    if (!g)
        return;
    if (status == WINHTTP_CALLBACK_STATUS_REDIRECT)
        g->reply->redirects++;
    else if (status == WINHTTP_CALLBACK_STATUS_SECURE_FAILURE && info && len >= sizeof(DWORD))
        g->cert_flags = *(DWORD *)info;
    else if (status == WINHTTP_CALLBACK_STATUS_REQUEST_SENT)
        g->connected = true;
}

static const char *cert_problem(DWORD f)
{
    if (f & WINHTTP_CALLBACK_STATUS_FLAG_INVALID_CA)
        return "issued by an authority this machine does not trust";
    if (f & WINHTTP_CALLBACK_STATUS_FLAG_CERT_CN_INVALID)
        return "issued for another name";
    if (f & WINHTTP_CALLBACK_STATUS_FLAG_CERT_DATE_INVALID)
        return "expired or not yet valid";
    if (f & WINHTTP_CALLBACK_STATUS_FLAG_CERT_REVOKED)
        return "revoked";
    return NULL;
}

/* Words for WinHTTP's commonest errors where winhttp.dll has no message
 * table (Wine's has none). */
static const char *known_text(DWORD e)
{
    switch (e) {
    case ERROR_WINHTTP_TIMEOUT: return "timed out";
    case ERROR_WINHTTP_NAME_NOT_RESOLVED: return "could not resolve the host name";
    case ERROR_WINHTTP_CANNOT_CONNECT: return "could not connect to the server";
    case ERROR_WINHTTP_CONNECTION_ERROR: return "the connection was reset";
    case ERROR_WINHTTP_SECURE_CHANNEL_ERROR: return "the TLS handshake failed";
    case ERROR_WINHTTP_SECURE_FAILURE: return "the TLS certificate was refused";
    case ERROR_WINHTTP_INVALID_SERVER_RESPONSE: return "the server's reply is not HTTP";
    case ERROR_WINHTTP_INVALID_URL: return "not a valid URL";
    default: return NULL;
    }
}

static int fail_for(DWORD e, const struct get *g, esp01_err *err)
{
    char text[200];
    const char *why = esp01_win_strerror(e, GetModuleHandleW(L"winhttp.dll"), text, sizeof text);
    if (strncmp(why, "error ", 6) == 0 && known_text(e))
        why = known_text(e);
    const char *url = g->url;
    const esp01_http_opts *o = g->opts;
    size_t got = g->reply->len;
    int64_t cl = g->reply->content_length;
    switch (e) {
    case ERROR_WINHTTP_NAME_NOT_RESOLVED:
    case ERROR_WINHTTP_CANNOT_CONNECT:
    case ERROR_WINHTTP_AUTODETECTION_FAILED:
        return esp01_fail(err, ESP01_E_IO, "cannot reach %s: %s", url, why);
    case ERROR_WINHTTP_TIMEOUT:
    case WSAETIMEDOUT: /* what Wine reports for a stalled read */
        if (!g->connected && got == 0)
            return esp01_fail(err, ESP01_E_IO, "cannot reach %s: no connection within %u s", url,
                              o->connect_timeout_s ? o->connect_timeout_s : 20);
        return esp01_fail(err, ESP01_E_TIMEOUT, "%s stalled: no data for %u s (%zu bytes received)",
                          url, o->stall_s ? o->stall_s : 30, got);
    case ERROR_WINHTTP_SECURE_FAILURE:
    case ERROR_WINHTTP_SECURE_INVALID_CA:
    case ERROR_WINHTTP_SECURE_CERT_CN_INVALID:
    case ERROR_WINHTTP_SECURE_CERT_DATE_INVALID:
    case ERROR_WINHTTP_SECURE_CERT_REVOKED:
    case ERROR_WINHTTP_SECURE_INVALID_CERT:
        return esp01_fail(err, ESP01_E_PROTOCOL, "%s: the server's certificate is not trusted (%s)",
                          url, cert_problem(g->cert_flags) ? cert_problem(g->cert_flags) : why);
    case ERROR_WINHTTP_REDIRECT_FAILED:
        return esp01_fail(err, ESP01_E_PROTOCOL,
                          "%s: redirected more than %d times, or away from http and https", url,
                          MAX_REDIRECTS);
    case ERROR_WINHTTP_CONNECTION_ERROR:
        if (cl >= 0 && (uint64_t)cl > got)
            break;
        if (!g->connected && got == 0)
            return esp01_fail(err, ESP01_E_IO, "cannot reach %s: %s", url, why);
        return esp01_fail(err, ESP01_E_PROTOCOL, "%s: %s", url, why);
    case ERROR_WINHTTP_UNRECOGNIZED_SCHEME:
        return esp01_fail(err, ESP01_E_PROTOCOL, "%s: only http and https are supported", url);
    case ERROR_NOT_ENOUGH_MEMORY:
        return esp01_fail(err, ESP01_E_NOMEM, "%s: out of memory", url);
    default:
        return esp01_fail(err, ESP01_E_PROTOCOL, "%s: %s", url, why);
    }
    return esp01_fail(err, ESP01_E_PROTOCOL,
                      "%s: the server closed the connection after %zu bytes, before the end its "
                      "Content-Length announced (truncated)",
                      url, got);
}

/* The first of the environment variables set and not empty. */
static const char *env_first(const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *v = getenv(names[i]);
        if (v && *v)
            return v;
    }
    return NULL;
}

/*
 * A proxy named in the environment, as curl, git and esp01 on Linux take
 * it (https_proxy / http_proxy / all_proxy, no_proxy), wins over the
 * system's settings; without one, the system's (WinHTTP's automatic
 * proxy, or the static one before Windows 8.1).  WinHTTP wants the proxy
 * as "host:port" and the bypass list ';'-separated.
 */
static HINTERNET open_named_proxy(const wchar_t *ua, const char *proxy)
{
    char host[256], bypass[512];
    const char *p = strstr(proxy, "://") ? strstr(proxy, "://") + 3 : proxy;
    size_t n = strcspn(p, "/");
    if (n == 0 || n >= sizeof host)
        return NULL;
    memcpy(host, p, n);
    host[n] = '\0';
    static const char *const no_names[] = {"no_proxy", "NO_PROXY"};
    const char *no = env_first(no_names, 2);
    size_t b = 0;
    for (; no && no[b] && b + 1 < sizeof bypass; b++)
        bypass[b] = no[b] == ',' ? ';' : no[b];
    bypass[b] = '\0';
    wchar_t *wh = esp01_win_wide(host), *wb = b ? esp01_win_wide(bypass) : NULL;
    HINTERNET s = wh ? WinHttpOpen(ua, WINHTTP_ACCESS_TYPE_NAMED_PROXY, wh,
                                   wb ? wb : WINHTTP_NO_PROXY_BYPASS, 0)
                     : NULL;
    free(wh);
    free(wb);
    return s;
}

static HINTERNET open_session(const wchar_t *ua, bool https)
{
    static const char *const for_https[] = {"https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"};
    static const char *const for_http[] = {"http_proxy", "all_proxy", "ALL_PROXY"};
    const char *proxy = https ? env_first(for_https, 4) : env_first(for_http, 3);
    if (proxy)
        return open_named_proxy(ua, proxy);
    HINTERNET s = WinHttpOpen(ua, WINHTTP_ACCESS_TYPE_AUTOMATIC_PROXY, WINHTTP_NO_PROXY_NAME,
                              WINHTTP_NO_PROXY_BYPASS, 0);
    /* Before Windows 8.1 there is no automatic proxy type. */
    if (!s)
        s = WinHttpOpen(ua, WINHTTP_ACCESS_TYPE_DEFAULT_PROXY, WINHTTP_NO_PROXY_NAME,
                        WINHTTP_NO_PROXY_BYPASS, 0);
    return s;
}

/* Session, connection and request for `wurl`, options set; false with the
 * error in GetLastError(). */
static bool open_request(struct get *g, const wchar_t *wurl)
{
    URL_COMPONENTS u;
    memset(&u, 0, sizeof u);
    u.dwStructSize = sizeof u;
    u.dwSchemeLength = u.dwHostNameLength = u.dwUrlPathLength = u.dwExtraInfoLength = (DWORD)-1;
    if (!WinHttpCrackUrl(wurl, 0, 0, &u))
        return false;
    if (u.nScheme != INTERNET_SCHEME_HTTP && u.nScheme != INTERNET_SCHEME_HTTPS) {
        SetLastError(ERROR_WINHTTP_UNRECOGNIZED_SCHEME);
        return false;
    }
    wchar_t host[256];
    if (u.dwHostNameLength == 0 || u.dwHostNameLength >= sizeof host / sizeof host[0]) {
        SetLastError(ERROR_WINHTTP_INVALID_URL);
        return false;
    }
    memcpy(host, u.lpszHostName, u.dwHostNameLength * sizeof host[0]);
    host[u.dwHostNameLength] = L'\0';
    wchar_t *ua = esp01_win_wide(esp01_http_user_agent());
    g->session = ua ? open_session(ua, u.nScheme == INTERNET_SCHEME_HTTPS) : NULL;
    free(ua);
    if (!g->session)
        return false;
    int connect_ms = (int)(g->opts->connect_timeout_s ? g->opts->connect_timeout_s : 20) * 1000;
    int stall_ms = (int)(g->opts->stall_s ? g->opts->stall_s : 30) * 1000;
    if (!WinHttpSetTimeouts(g->session, connect_ms, connect_ms, stall_ms, stall_ms))
        return false;
    g->connection = WinHttpConnect(g->session, host, u.nPort, 0);
    if (!g->connection)
        return false;
    /* The path and the query, as one string: the URL's own, unchanged. */
    const wchar_t *path = u.dwUrlPathLength ? u.lpszUrlPath : L"/";
    g->request = WinHttpOpenRequest(g->connection, L"GET", path, NULL, WINHTTP_NO_REFERER,
                                    WINHTTP_DEFAULT_ACCEPT_TYPES,
                                    u.nScheme == INTERNET_SCHEME_HTTPS ? WINHTTP_FLAG_SECURE : 0);
    if (!g->request)
        return false;
    DWORD policy = WINHTTP_OPTION_REDIRECT_POLICY_ALWAYS, max = MAX_REDIRECTS;
    DWORD_PTR ctx = (DWORD_PTR)g;
    WinHttpSetOption(g->request, WINHTTP_OPTION_REDIRECT_POLICY, &policy, sizeof policy);
    WinHttpSetOption(g->request, WINHTTP_OPTION_MAX_HTTP_AUTOMATIC_REDIRECTS, &max, sizeof max);
    WinHttpSetOption(g->request, WINHTTP_OPTION_CONTEXT_VALUE, &ctx, sizeof ctx);
    WinHttpSetStatusCallback(g->request, on_status,
                             WINHTTP_CALLBACK_FLAG_REDIRECT | WINHTTP_CALLBACK_FLAG_SECURE_FAILURE |
                                 WINHTTP_CALLBACK_FLAG_SEND_REQUEST,
                             0);
    return true;
}

/* Status, Content-Length and where the body came from. */
static void read_headers(struct get *g)
{
    esp01_http_reply *r = g->reply;
    DWORD status = 0, size = sizeof status;
    if (WinHttpQueryHeaders(g->request, WINHTTP_QUERY_STATUS_CODE | WINHTTP_QUERY_FLAG_NUMBER,
                            WINHTTP_HEADER_NAME_BY_INDEX, &status, &size, WINHTTP_NO_HEADER_INDEX))
        r->status = (long)status;
    wchar_t w[1024];
    size = sizeof w - 2;
    if (WinHttpQueryHeaders(g->request, WINHTTP_QUERY_CONTENT_LENGTH, WINHTTP_HEADER_NAME_BY_INDEX,
                            w, &size, WINHTTP_NO_HEADER_INDEX)) {
        w[size / 2] = L'\0';
        wchar_t *end;
        long long v = wcstoll(w, &end, 10);
        if (end != w && !*end && v >= 0)
            r->content_length = v;
    }
    size = sizeof w - 2;
    if (WinHttpQueryOption(g->request, WINHTTP_OPTION_URL, w, &size)) {
        w[size / 2 < 1023 ? size / 2 : 1023] = L'\0';
        esp01_win_utf8(w, r->url, sizeof r->url);
    }
}

/* The body into reply->body; 0 or a negative code. */
static int read_body(struct get *g, esp01_err *err)
{
    esp01_http_reply *r = g->reply;
    const esp01_http_opts *o = g->opts;
    if (r->content_length >= 0 && (uint64_t)r->content_length > g->max)
        return esp01_fail(err, ESP01_E_LIMIT, "%s: more than %zu bytes, refused", g->url, g->max);
    for (;;) {
        if (o->cancel && *o->cancel)
            return esp01_fail(err, ESP01_E_INTERRUPTED, "interrupted");
        DWORD avail = 0;
        if (!WinHttpQueryDataAvailable(g->request, &avail))
            return fail_for(GetLastError(), g, err);
        if (avail == 0)
            break;
        if (avail > g->max - r->len)
            return esp01_fail(err, ESP01_E_LIMIT, "%s: more than %zu bytes, refused", g->url,
                              g->max);
        if (r->len + avail > g->cap) {
            size_t cap = g->cap ? g->cap : 64 * 1024;
            while (cap < r->len + avail)
                cap *= 2;
            uint8_t *p = realloc(r->body, cap);
            if (!p)
                return esp01_fail(err, ESP01_E_NOMEM, "%s: out of memory", g->url);
            r->body = p;
            g->cap = cap;
        }
        DWORD n = 0;
        if (!WinHttpReadData(g->request, r->body + r->len, avail, &n))
            return fail_for(GetLastError(), g, err);
        if (n == 0)
            break;
        r->len += n;
        if (o->progress)
            o->progress(o->ctx, r->len, r->content_length > 0 ? (uint64_t)r->content_length : 0);
    }
    if (r->content_length >= 0 && (uint64_t)r->content_length > r->len)
        return fail_for(ERROR_WINHTTP_CONNECTION_ERROR, g, err);
    return 0;
}

int esp01_http_get(const char *url, const esp01_http_opts *opts, esp01_http_reply *reply,
                   esp01_err *err)
{
    memset(reply, 0, sizeof *reply);
    reply->content_length = -1;
    snprintf(reply->url, sizeof reply->url, "%s", url);
    if (opts->ca_bundle && *opts->ca_bundle)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "cannot use the CA bundle '%s': on Windows the system's certificate "
                          "store decides which servers are trusted",
                          opts->ca_bundle);
    wchar_t *wurl = esp01_win_wide(url);
    if (!wurl)
        return esp01_fail(err, ESP01_E_INVAL, "%s: not a valid UTF-8 URL", url);
    struct get g = {url, opts, reply, 0, opts->max_bytes ? opts->max_bytes : (64u << 20), false,
                    0, NULL, NULL, NULL};
    int rc = 0;
    if (!open_request(&g, wurl) ||
        !WinHttpSendRequest(g.request, WINHTTP_NO_ADDITIONAL_HEADERS, 0, WINHTTP_NO_REQUEST_DATA,
                            0, 0, (DWORD_PTR)&g) ||
        !WinHttpReceiveResponse(g.request, NULL))
        rc = fail_for(GetLastError(), &g, err);
    if (rc == 0) {
        g.connected = true;
        read_headers(&g);
        rc = read_body(&g, err);
    }
    free(wurl);
    if (g.request) {
        WinHttpSetStatusCallback(g.request, NULL, 0, 0);
        WinHttpCloseHandle(g.request);
    }
    if (g.connection)
        WinHttpCloseHandle(g.connection);
    if (g.session)
        WinHttpCloseHandle(g.session);
    if (rc < 0)
        esp01_http_reply_free(reply);
    return rc;
}

void esp01_http_reply_free(esp01_http_reply *reply)
{
    free(reply->body);
    reply->body = NULL;
    reply->len = 0;
}
