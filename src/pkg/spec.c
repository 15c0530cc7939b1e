/*
 * spec.c - the rules of mip's names, URLs and paths (micropython-lib's
 * mip/__init__.py: _rewrite_url, _install_package), plus the path checks
 * a board's mip never makes: a package json names where its files go, and
 * a hostile one must not reach outside the package target.
 */
#include "mip_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

bool mip_fmt(char *out, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out, cap, fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < cap;
}

static bool starts(const char *s, const char *head)
{
    return strncmp(s, head, strlen(head)) == 0;
}

bool mip_ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), t = strlen(tail);
    return n >= t && strcmp(s + n - t, tail) == 0;
}

bool mip_is_remote(const char *s)
{
    return starts(s, "http://") || starts(s, "https://") || starts(s, "github:") ||
           starts(s, "gitlab:") || starts(s, "codeberg:");
}

bool mip_is_url(const char *s)
{
    return mip_is_remote(s) || starts(s, "file://");
}

int mip_rewrite(const char *url, const char *ref, char *out, size_t cap, esp01_err *err)
{
    static const char *const heads[] = {"github:", "gitlab:", "codeberg:"};
    if (!ref || !*ref)
        ref = "HEAD";
    int kind = -1;
    for (int i = 0; i < 3; i++)
        if (starts(url, heads[i]))
            kind = i;
    bool ok;
    if (kind < 0) {
        ok = mip_fmt(out, cap, "%s", url);
    } else {
        /* owner/repo/path: owner and repo must both be there */
        const char *o = url + strlen(heads[kind]);
        const char *s1 = strchr(o, '/');
        const char *s2 = s1 ? strchr(s1 + 1, '/') : NULL;
        if (!s1 || s1 == o || s1[1] == '/' || s1[1] == '\0')
            return esp01_fail(err, ESP01_E_INVAL, "'%s' names no owner/repository", url);
        int olen = (int)(s1 - o);
        int rlen = s2 ? (int)(s2 - s1 - 1) : (int)strlen(s1 + 1);
        const char *path = s2 ? s2 + 1 : "";
        if (kind == 0)
            ok = mip_fmt(out, cap, "https://raw.githubusercontent.com/%.*s/%.*s/%s/%s", olen, o,
                         rlen, s1 + 1, ref, path);
        else if (kind == 1)
            ok = mip_fmt(out, cap, "https://gitlab.com/%.*s/%.*s/-/raw/%s/%s", olen, o, rlen,
                         s1 + 1, ref, path);
        else
            ok = mip_fmt(out, cap, "https://codeberg.org/api/v1/repos/%.*s/%.*s/raw/%s?ref=%s",
                         olen, o, rlen, s1 + 1, path, ref);
    }
    if (!ok)
        return esp01_fail(err, ESP01_E_LIMIT, "URL too long: '%.200s'", url);
    return 0;
}

bool mip_safe_rel(const char *path)
{
    if (!path || !*path || path[0] == '/')
        return false;
    const char *c = path;
    for (;;) {
        const char *e = strchr(c, '/');
        size_t n = e ? (size_t)(e - c) : strlen(c);
        if (n == 0 || (n == 1 && c[0] == '.') || (n == 2 && c[0] == '.' && c[1] == '.'))
            return false;
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)c[i];
            if (ch < 0x20 || ch == 0x7f || ch == '\\' || ch == ':')
                return false;
        }
        if (!e)
            return true;
        c = e + 1;
    }
}

int mip_join_target(const char *target, const char *rel, char *out, size_t cap,
                    esp01_err *err)
{
    if (!mip_safe_rel(rel))
        return esp01_fail(err, ESP01_E_INVAL, "unsafe target path '%.200s'", rel);
    if (!mip_fmt(out, cap, "%s/%s", target, rel))
        return esp01_fail(err, ESP01_E_LIMIT, "target path too long: '%.200s'", rel);
    return 0;
}

static int hexdig(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

bool mip_short_hash_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 4 || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (hexdig(s[i]) < 0)
            return false;
    return true;
}

bool mip_hash_starts(const uint8_t sha[32], const char *short_hex)
{
    char hex[65];
    static const char digits[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        hex[2 * i] = digits[sha[i] >> 4];
        hex[2 * i + 1] = digits[sha[i] & 15];
    }
    hex[64] = '\0';
    size_t n = strlen(short_hex);
    return n <= 64 && memcmp(hex, short_hex, n) == 0;
}

bool mip_hex32(const char *s, uint8_t out[32])
{
    if (strlen(s) != 64)
        return false;
    for (int i = 0; i < 32; i++) {
        int h = hexdig(s[2 * i]), l = hexdig(s[2 * i + 1]);
        if (h < 0 || l < 0)
            return false;
        out[i] = (uint8_t)(h << 4 | l);
    }
    return true;
}

bool mip_name_ok(const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n == 0 || n >= max || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-' || c == '+';
        if (!ok)
            return false;
    }
    return strstr(s, "..") == NULL;
}

bool mip_module_name(const char *rel, char *out, size_t cap)
{
    size_t n = strlen(rel);
    size_t ext = mip_ends_with(rel, ".py") ? 3 : mip_ends_with(rel, ".mpy") ? 4 : 0;
    if (!ext || n - ext + 1 > cap)
        return false;
    n -= ext;
    memcpy(out, rel, n);
    out[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (out[i] == '/')
            out[i] = '.';
    if (mip_ends_with(out, ".__init__"))
        out[n - 9] = '\0';
    return out[0] != '\0';
}

size_t mip_edit_distance(const char *a, const char *b)
{
    /* Names are short (< 96): two rows on the stack. */
    size_t la = strlen(a), lb = strlen(b);
    if (la > 95 || lb > 95)
        return (size_t)-1;
    size_t prev[96], cur[96];
    for (size_t j = 0; j <= lb; j++)
        prev[j] = j;
    for (size_t i = 1; i <= la; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t sub = prev[j - 1] + (a[i - 1] != b[j - 1]);
            size_t del = prev[j] + 1, ins = cur[j - 1] + 1;
            cur[j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
        }
        memcpy(prev, cur, (lb + 1) * sizeof prev[0]);
    }
    return prev[lb];
}
