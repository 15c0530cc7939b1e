#include "util/json_string.h"

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at s[i..i+4), or -1. */
static long hex4(const uint8_t *s, size_t len, size_t i)
{
    if (i > len || len - i < 4)
        return -1;
    long v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hexval(s[i + (size_t)k]);
        if (h < 0)
            return -1;
        v = v * 16 + h;
    }
    return v;
}

static size_t put_utf8(char *o, unsigned long cp)
{
    if (cp < 0x80) {
        o[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (char)(0xC0 | (cp >> 6));
        o[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | (cp >> 12));
        o[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | (cp >> 18));
    o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
    o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

static char simple_escape(uint8_t c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
    }
}

long esp01_json_unescape(const uint8_t *s, size_t len, char *out)
{
    size_t n = 0, i = 0;
    while (i < len) {
        if (s[i] != '\\') {
            out[n++] = (char)s[i++];
            continue;
        }
        if (len - i < 2)
            return -1;
        uint8_t c = s[i + 1];
        i += 2;
        if (c != 'u') {
            char u = simple_escape(c);
            if (!u)
                return -1;
            out[n++] = u;
            continue;
        }
        long cp = hex4(s, len, i);
        if (cp < 0)
            return -1;
        i += 4;
        if (cp >= 0xD800 && cp < 0xDC00 && len - i >= 6 && s[i] == '\\' && s[i + 1] == 'u') {
            long lo = hex4(s, len, i + 2);
            if (lo >= 0xDC00 && lo < 0xE000) {
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            }
        }
        if (cp == 0)
            return -1;
        if (cp >= 0xD800 && cp < 0xE000)
            cp = 0xFFFD;
        n += put_utf8(out + n, (unsigned long)cp);
    }
    out[n] = '\0';
    return (long)n;
}
