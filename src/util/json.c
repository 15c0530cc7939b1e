#include "esp01/json.h"

#include <stdbool.h>

struct parser {
    const uint8_t *s;
    size_t len, pos;
    esp01_err *err;
};

static int fail(struct parser *p, int code, const char *what)
{
    unsigned line = 1, col = 1;
    for (size_t i = 0; i < p->pos && i < p->len; i++) {
        if (p->s[i] == '\n') {
            line++;
            col = 1;
        } else if ((p->s[i] & 0xC0) != 0x80) {
            col++;
        }
    }
    return esp01_fail(p->err, code, "line %u, column %u: %s", line, col, what);
}

static void skip_ws(struct parser *p)
{
    while (p->pos < p->len && (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' ||
                               p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
        p->pos++;
}

static bool peek(const struct parser *p, uint8_t c)
{
    return p->pos < p->len && p->s[p->pos] == c;
}

static bool is_hex(uint8_t c)
{
    return (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'f');
}

/* Length of the UTF-8 sequence at s[0..n), or 0 if it is not valid. */
static size_t utf8_len(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    size_t k;
    uint32_t min, cp;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0) { k = 2; min = 0x80; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { k = 3; min = 0x800; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { k = 4; min = 0x10000; cp = c & 0x07; }
    else return 0;
    if (k > n)
        return 0;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return k;
}

static int string(struct parser *p)
{
    p->pos++; /* opening quote */
    while (p->pos < p->len) {
        uint8_t c = p->s[p->pos];
        if (c == '"') {
            p->pos++;
            return ESP01_JSON_STRING;
        }
        if (c < 0x20)
            return fail(p, ESP01_E_FORMAT, "control character in a string (use \\n, \\t, ...)");
        if (c == '\\') {
            if (p->pos + 1 >= p->len)
                break;
            uint8_t e = p->s[p->pos + 1];
            if (e == 'u') {
                for (size_t i = 2; i < 6; i++)
                    if (p->pos + i >= p->len || !is_hex(p->s[p->pos + i]))
                        return fail(p, ESP01_E_FORMAT, "\\u needs four hex digits");
                p->pos += 6;
                continue;
            }
            if (e != '"' && e != '\\' && e != '/' && e != 'b' && e != 'f' && e != 'n' &&
                e != 'r' && e != 't')
                return fail(p, ESP01_E_FORMAT, "unknown escape in a string");
            p->pos += 2;
            continue;
        }
        size_t k = utf8_len(p->s + p->pos, p->len - p->pos);
        if (!k)
            return fail(p, ESP01_E_FORMAT, "string is not valid UTF-8");
        p->pos += k;
    }
    return fail(p, ESP01_E_FORMAT, "string not closed");
}

static int number(struct parser *p)
{
    size_t start = p->pos;
    if (peek(p, '-'))
        p->pos++;
    if (peek(p, '0')) {
        p->pos++;
    } else if (p->pos < p->len && p->s[p->pos] >= '1' && p->s[p->pos] <= '9') {
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    } else {
        p->pos = start;
        return fail(p, ESP01_E_FORMAT, "expected a value");
    }
    if (peek(p, '.')) {
        p->pos++;
        if (!(p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
            return fail(p, ESP01_E_FORMAT, "expected digits after '.'");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    }
    if (peek(p, 'e') || peek(p, 'E')) {
        p->pos++;
        if (peek(p, '+') || peek(p, '-'))
            p->pos++;
        if (!(p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9'))
            return fail(p, ESP01_E_FORMAT, "expected digits in the exponent");
        while (p->pos < p->len && p->s[p->pos] >= '0' && p->s[p->pos] <= '9')
            p->pos++;
    }
    return ESP01_JSON_NUMBER;
}

static bool word(struct parser *p, const char *w)
{
    size_t i = 0;
    while (w[i] && p->pos + i < p->len && p->s[p->pos + i] == (uint8_t)w[i])
        i++;
    if (w[i])
        return false;
    p->pos += i;
    return true;
}

static int value(struct parser *p, int depth)
{
    skip_ws(p);
    if (p->pos >= p->len)
        return fail(p, ESP01_E_FORMAT, "expected a value, found the end");
    uint8_t c = p->s[p->pos];
    if (c == '"')
        return string(p);
    if (c == 't' || c == 'f' || c == 'n') {
        if (word(p, "true") || word(p, "false") || word(p, "null"))
            return ESP01_JSON_LITERAL;
        return fail(p, ESP01_E_FORMAT, "expected a value (strings need double quotes)");
    }
    if (c != '{' && c != '[')
        return number(p);
    if (depth >= ESP01_JSON_DEPTH_MAX)
        return fail(p, ESP01_E_LIMIT, "nested more than 64 deep");
    bool obj = c == '{';
    uint8_t close = obj ? '}' : ']';
    p->pos++;
    skip_ws(p);
    if (peek(p, close)) {
        p->pos++;
        return obj ? ESP01_JSON_OBJECT : ESP01_JSON_ARRAY;
    }
    for (;;) {
        int rc;
        if (obj) {
            skip_ws(p);
            if (!peek(p, '"'))
                return fail(p, ESP01_E_FORMAT, "expected a \"key\" (double quotes, no trailing comma)");
            if ((rc = string(p)) < 0)
                return rc;
            skip_ws(p);
            if (!peek(p, ':'))
                return fail(p, ESP01_E_FORMAT, "expected ':' after the key");
            p->pos++;
        }
        if ((rc = value(p, depth + 1)) < 0)
            return rc;
        skip_ws(p);
        if (peek(p, ',')) {
            p->pos++;
            continue;
        }
        if (peek(p, close)) {
            p->pos++;
            return obj ? ESP01_JSON_OBJECT : ESP01_JSON_ARRAY;
        }
        return fail(p, ESP01_E_FORMAT, obj ? "expected ',' or '}'" : "expected ',' or ']'");
    }
}

int esp01_json_check(const uint8_t *buf, size_t len, esp01_err *err)
{
    struct parser p = {buf, len, 0, err};
    /* A UTF-8 byte order mark, as some editors write, is not JSON. */
    if (len >= 3 && buf[0] == 0xEF && buf[1] == 0xBB && buf[2] == 0xBF)
        return fail(&p, ESP01_E_FORMAT, "starts with a byte order mark; save without one");
    int type = value(&p, 0);
    if (type < 0)
        return type;
    skip_ws(&p);
    if (p.pos != len)
        return fail(&p, ESP01_E_FORMAT, "text after the end of the value");
    return type;
}
