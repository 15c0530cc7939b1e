/*
 * mjson.c - the tree behind mjson.h.  Input has passed esp01_json_check,
 * so grammar errors cannot happen here; every read is still bounded by
 * the buffer's end, so a checker bug cannot turn into an overread.
 */
#include "mjson.h"

#include "util/json_string.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

struct mj_in {
    const uint8_t *p, *end;
    mj_doc *doc;
    esp01_err *err;
};

static void ws(struct mj_in *in)
{
    while (in->p < in->end && (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
        in->p++;
}

/* Decode the string at in->p (on its opening quote).  The decoded text is
 * never longer than the escaped one, so one allocation of that size fits. */
static int string(struct mj_in *in, char **out, size_t *outlen)
{
    const uint8_t *s = ++in->p;
    while (in->p < in->end && *in->p != '"')
        in->p += (*in->p == '\\' && in->end - in->p > 1) ? 2 : 1;
    if (in->p >= in->end)
        return esp01_fail(in->err, ESP01_E_FORMAT, "an unterminated string");
    const uint8_t *e = in->p++;
    char *o = malloc((size_t)(e - s) + 1);
    if (!o)
        return esp01_fail(in->err, ESP01_E_NOMEM, "out of memory");
    long n = esp01_json_unescape(s, (size_t)(e - s), o);
    if (n < 0)
        goto fail;
    *out = o;
    *outlen = (size_t)n;
    return 0;
fail:
    free(o);
    return esp01_fail(in->err, ESP01_E_FORMAT, "a string with a NUL or a bad escape");
}

static int add(struct mj_in *in, uint8_t type, uint32_t *idx)
{
    mj_doc *d = in->doc;
    if (d->count >= UINT32_MAX - 1)
        return esp01_fail(in->err, ESP01_E_LIMIT, "too many JSON values");
    if (d->count == d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 16;
        mj_node *n = realloc(d->n, cap * sizeof *n);
        if (!n)
            return esp01_fail(in->err, ESP01_E_NOMEM, "out of memory");
        d->n = n;
        d->cap = cap;
    }
    *idx = (uint32_t)d->count++;
    d->n[*idx] = (mj_node){type, MJ_NONE, MJ_NONE, 0, NULL, NULL, 0};
    return 0;
}

static int value(struct mj_in *in, uint32_t *idx, int depth);

static int members(struct mj_in *in, uint32_t parent, bool obj, int depth)
{
    uint32_t last = MJ_NONE;
    in->p++;
    ws(in);
    if (in->p < in->end && (*in->p == '}' || *in->p == ']')) {
        in->p++;
        return 0;
    }
    for (;;) {
        char *key = NULL;
        size_t klen = 0;
        ws(in);
        if (obj) {
            if (in->p >= in->end || *in->p != '"')
                return esp01_fail(in->err, ESP01_E_FORMAT, "expected a key");
            int rc = string(in, &key, &klen);
            if (rc < 0)
                return rc;
            ws(in);
            if (in->p >= in->end || *in->p != ':') {
                free(key);
                return esp01_fail(in->err, ESP01_E_FORMAT, "expected ':'");
            }
            in->p++;
        }
        uint32_t child;
        int rc = value(in, &child, depth + 1);
        if (rc < 0) {
            free(key);
            return rc;
        }
        in->doc->n[child].key = key;
        if (last == MJ_NONE)
            in->doc->n[parent].first = child;
        else
            in->doc->n[last].next = child;
        last = child;
        in->doc->n[parent].count++;
        ws(in);
        if (in->p >= in->end)
            return esp01_fail(in->err, ESP01_E_FORMAT, "unexpected end");
        uint8_t c = *in->p++;
        if (c == ',')
            continue;
        if (c == '}' || c == ']')
            return 0;
        return esp01_fail(in->err, ESP01_E_FORMAT, "expected ',' or a close");
    }
}

static int value(struct mj_in *in, uint32_t *idx, int depth)
{
    if (depth > ESP01_JSON_DEPTH_MAX)
        return esp01_fail(in->err, ESP01_E_LIMIT, "JSON nested too deep");
    ws(in);
    if (in->p >= in->end)
        return esp01_fail(in->err, ESP01_E_FORMAT, "unexpected end");
    uint8_t c = *in->p;
    uint8_t type = c == '{' ? ESP01_JSON_OBJECT : c == '[' ? ESP01_JSON_ARRAY
                 : c == '"' ? ESP01_JSON_STRING
                 : (c == '-' || (c >= '0' && c <= '9')) ? ESP01_JSON_NUMBER : ESP01_JSON_LITERAL;
    int rc = add(in, type, idx);
    if (rc < 0)
        return rc;
    if (type == ESP01_JSON_OBJECT || type == ESP01_JSON_ARRAY)
        return members(in, *idx, type == ESP01_JSON_OBJECT, depth);
    char *s;
    size_t n;
    if (type == ESP01_JSON_STRING) {
        rc = string(in, &s, &n);
        if (rc < 0)
            return rc;
    } else {
        const uint8_t *b = in->p;
        while (in->p < in->end && *in->p && strchr("+-.0123456789eEtruefalsn", *in->p))
            in->p++;
        n = (size_t)(in->p - b);
        s = malloc(n + 1);
        if (!s)
            return esp01_fail(in->err, ESP01_E_NOMEM, "out of memory");
        memcpy(s, b, n);
        s[n] = '\0';
    }
    in->doc->n[*idx].str = s;
    in->doc->n[*idx].len = n;
    return 0;
}

int mj_parse(const uint8_t *buf, size_t len, mj_doc *doc, esp01_err *err)
{
    memset(doc, 0, sizeof *doc);
    int rc = esp01_json_check(buf, len, err);
    if (rc < 0)
        return rc;
    struct mj_in in = {buf, buf + len, doc, err};
    uint32_t root;
    rc = value(&in, &root, 0);
    if (rc < 0)
        mj_free(doc);
    return rc < 0 ? rc : 0;
}

void mj_free(mj_doc *doc)
{
    for (size_t i = 0; doc->n && i < doc->count; i++) {
        free(doc->n[i].key);
        free(doc->n[i].str);
    }
    free(doc->n);
    memset(doc, 0, sizeof *doc);
}

const mj_node *mj_first(const mj_doc *d, const mj_node *n)
{
    return n && n->first != MJ_NONE ? &d->n[n->first] : NULL;
}

const mj_node *mj_next(const mj_doc *d, const mj_node *n)
{
    return n && n->next != MJ_NONE ? &d->n[n->next] : NULL;
}

const mj_node *mj_get(const mj_doc *d, const mj_node *obj, const char *key)
{
    if (!obj || obj->type != ESP01_JSON_OBJECT)
        return NULL;
    for (const mj_node *c = mj_first(d, obj); c; c = mj_next(d, c))
        if (c->key && strcmp(c->key, key) == 0)
            return c;
    return NULL;
}

const char *mj_str(const mj_node *n)
{
    return n && n->type == ESP01_JSON_STRING ? n->str : NULL;
}
