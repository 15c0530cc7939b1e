#include "esp01/pyscan.h"

#include <stdbool.h>
#include <string.h>

/* Token kinds the import grammar needs; everything else is OTHER. */
enum tok { T_END, T_NAME, T_DOT, T_COMMA, T_LPAREN, T_RPAREN, T_STMT_END, T_OTHER };

struct lexer {
    const uint8_t *s;
    size_t len, pos;
    unsigned line;
    int depth;         /* bracket nesting: newlines inside do not end statements */
    const uint8_t *name;
    size_t name_len;
    esp01_err *err;
    int rc;            /* set on a lexing error */
};

static bool is_name_start(uint8_t c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c >= 0x80;
}

static bool is_name_char(uint8_t c)
{
    return is_name_start(c) || (c >= '0' && c <= '9');
}

/* Skip a string literal whose quote starts at lx->pos. */
static bool skip_string(struct lexer *lx)
{
    uint8_t q = lx->s[lx->pos];
    bool triple = lx->pos + 2 < lx->len && lx->s[lx->pos + 1] == q && lx->s[lx->pos + 2] == q;
    unsigned start = lx->line;
    lx->pos += triple ? 3 : 1;
    while (lx->pos < lx->len) {
        uint8_t c = lx->s[lx->pos];
        if (c == '\\') {
            /* Even in a raw string a backslash keeps the next quote in. */
            if (lx->pos + 1 < lx->len && lx->s[lx->pos + 1] == '\n')
                lx->line++;
            lx->pos += 2;
            continue;
        }
        if (c == '\n') {
            if (!triple)
                break;
            lx->line++;
        }
        if (c == q && (!triple || (lx->pos + 2 < lx->len && lx->s[lx->pos + 1] == q &&
                                   lx->s[lx->pos + 2] == q))) {
            lx->pos += triple ? 3 : 1;
            return true;
        }
        lx->pos++;
    }
    lx->rc = esp01_fail(lx->err, ESP01_E_FORMAT, "line %u: unterminated string", start);
    return false;
}

static enum tok next(struct lexer *lx)
{
    while (lx->pos < lx->len) {
        uint8_t c = lx->s[lx->pos];
        if (c == 0) {
            lx->rc = esp01_fail(lx->err, ESP01_E_FORMAT, "line %u: NUL byte in source",
                                lx->line);
            return T_END;
        }
        if (c == '\n') {
            lx->line++;
            lx->pos++;
            if (lx->depth == 0)
                return T_STMT_END;
            continue;
        }
        if (c == ' ' || c == '\t' || c == '\r' || c == '\f') {
            lx->pos++;
            continue;
        }
        if (c == '\\' && lx->pos + 1 < lx->len &&
            (lx->s[lx->pos + 1] == '\n' || lx->s[lx->pos + 1] == '\r')) {
            lx->pos += 2;
            if (lx->s[lx->pos - 1] == '\r' && lx->pos < lx->len && lx->s[lx->pos] == '\n')
                lx->pos++;
            lx->line++;
            continue;
        }
        if (c == '#') {
            while (lx->pos < lx->len && lx->s[lx->pos] != '\n')
                lx->pos++;
            continue;
        }
        if (c == '\'' || c == '"')
            return skip_string(lx) ? T_OTHER : T_END;
        if (is_name_start(c)) {
            size_t start = lx->pos;
            while (lx->pos < lx->len && is_name_char(lx->s[lx->pos]))
                lx->pos++;
            size_t n = lx->pos - start;
            /* A string prefix (r, b, f, u and pairs of them) glued to a quote. */
            if (n <= 2 && lx->pos < lx->len && (lx->s[lx->pos] == '\'' || lx->s[lx->pos] == '"')) {
                bool prefix = true;
                for (size_t i = start; i < lx->pos; i++) {
                    uint8_t p = lx->s[i] | 0x20;
                    prefix = prefix && (p == 'r' || p == 'b' || p == 'f' || p == 'u');
                }
                if (prefix)
                    return skip_string(lx) ? T_OTHER : T_END;
            }
            lx->name = lx->s + start;
            lx->name_len = n;
            return T_NAME;
        }
        lx->pos++;
        switch (c) {
        case '.': return T_DOT;
        case ',': return T_COMMA;
        case ';': return lx->depth == 0 ? T_STMT_END : T_OTHER;
        case '(': case '[': case '{':
            if (lx->depth < 1000)
                lx->depth++;
            return c == '(' ? T_LPAREN : T_OTHER;
        case ')': case ']': case '}':
            if (lx->depth > 0)
                lx->depth--;
            return c == ')' ? T_RPAREN : T_OTHER;
        case ':':
            /* "if x: import y": a block's colon starts a statement.  A colon
             * inside brackets (slices, dicts, lambdas) does not. */
            return lx->depth == 0 ? T_STMT_END : T_OTHER;
        default: return T_OTHER;
        }
    }
    return T_END;
}

static bool name_is(const struct lexer *lx, const char *word)
{
    size_t n = strlen(word);
    return lx->name_len == n && memcmp(lx->name, word, n) == 0;
}

/* Report the module whose first component is the current name. */
static int report(struct lexer *lx, esp01_py_import_fn fn, void *ctx)
{
    if (lx->name_len > ESP01_PY_NAME_MAX)
        return 0;
    char buf[ESP01_PY_NAME_MAX + 1];
    memcpy(buf, lx->name, lx->name_len);
    buf[lx->name_len] = '\0';
    return fn(buf, ctx);
}

/* Skip the rest of a dotted name: (. NAME)*.  Returns the token after it. */
static enum tok skip_dotted(struct lexer *lx)
{
    enum tok t = next(lx);
    while (t == T_DOT) {
        if (next(lx) != T_NAME)
            return T_OTHER;
        t = next(lx);
    }
    return t;
}

int esp01_py_imports(const uint8_t *src, size_t len, esp01_py_import_fn fn,
                     void *ctx, esp01_err *err)
{
    struct lexer lx = {src, len, 0, 1, 0, NULL, 0, err, 0};
    /* A UTF-8 byte order mark is not part of the first line's code. */
    if (len >= 3 && src[0] == 0xEF && src[1] == 0xBB && src[2] == 0xBF)
        lx.pos = 3;
    bool at_start = true;
    enum tok t = next(&lx);
    while (t != T_END) {
        if (t == T_STMT_END) {
            at_start = true;
            t = next(&lx);
            continue;
        }
        if (!at_start || t != T_NAME) {
            at_start = false;
            t = next(&lx);
            continue;
        }
        at_start = false;
        int rc = 0;
        if (name_is(&lx, "import")) {
            /* import a.b [as c] (, d [as e])* */
            t = next(&lx);
            while (t == T_NAME) {
                if ((rc = report(&lx, fn, ctx)) < 0)
                    return rc;
                t = skip_dotted(&lx);
                if (t == T_NAME && name_is(&lx, "as") && (t = next(&lx)) == T_NAME)
                    t = next(&lx);
                if (t != T_COMMA)
                    break;
                t = next(&lx);
            }
            continue;
        }
        if (name_is(&lx, "from")) {
            t = next(&lx);
            if (t == T_NAME) {
                if ((rc = report(&lx, fn, ctx)) < 0)
                    return rc;
            }
            continue;
        }
        t = next(&lx);
    }
    return lx.rc;
}
