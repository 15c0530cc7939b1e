/*
 * jsonmap.c - a JSON object of strings (jsonmap.h).  The text is checked
 * by esp01_json_check() first, so this walk only meets valid JSON and
 * keeps its own checks to what that one allows but a map does not.
 */
#include "esp01/jsonmap.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/json.h"
#include "util/json_string.h"

struct walk {
    const uint8_t *s;
    size_t len, pos;
};

static void skip_ws(struct walk *w)
{
    while (w->pos < w->len && (w->s[w->pos] == ' ' || w->s[w->pos] == '\t' ||
                               w->s[w->pos] == '\n' || w->s[w->pos] == '\r'))
        w->pos++;
}

/* The string at w->pos (a '"'), decoded into a malloc'd copy. */
static int string(struct walk *w, char **out, esp01_err *err)
{
    size_t start = ++w->pos, end = start;
    while (w->s[end] != '"')
        end += w->s[end] == '\\' ? 2 : 1;
    if (end - start > ESP01_JSONMAP_MAX_STRING)
        return esp01_fail(err, ESP01_E_LIMIT, "a string longer than %u bytes",
                          ESP01_JSONMAP_MAX_STRING);
    char *o = malloc(end - start + 1);
    if (!o)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    if (esp01_json_unescape(w->s + start, end - start, o) < 0) {
        free(o);
        return esp01_fail(err, ESP01_E_FORMAT, "a \\u0000 in a string");
    }
    w->pos = end + 1;
    *out = o;
    return 0;
}

int esp01_jsonmap_parse(const uint8_t *buf, size_t len, esp01_jsonmap *out, esp01_err *err)
{
    memset(out, 0, sizeof *out);
    int rc = esp01_json_check(buf, len, err);
    if (rc < 0)
        return rc;
    if (rc != ESP01_JSON_OBJECT)
        return esp01_fail(err, ESP01_E_FORMAT, "not a JSON object ({\"key\": \"value\", ...})");
    struct walk w = {buf, len, 0};
    skip_ws(&w);
    w.pos++; /* { */
    size_t cap = 0;
    for (;;) {
        skip_ws(&w);
        if (w.s[w.pos] == '}')
            return 0;
        if (w.s[w.pos] == ',') {
            w.pos++;
            skip_ws(&w);
        }
        if (out->count == ESP01_JSONMAP_MAX_PAIRS) {
            rc = esp01_fail(err, ESP01_E_LIMIT, "more than %u entries", ESP01_JSONMAP_MAX_PAIRS);
            break;
        }
        char *key = NULL, *value = NULL;
        if ((rc = string(&w, &key, err)) < 0)
            break;
        skip_ws(&w);
        w.pos++; /* : */
        skip_ws(&w);
        if (w.s[w.pos] != '"') {
            rc = esp01_fail(err, ESP01_E_FORMAT, "the value of \"%.64s\" is not a string", key);
            free(key);
            break;
        }
        if ((rc = string(&w, &value, err)) < 0) {
            free(key);
            break;
        }
        if (esp01_jsonmap_get(out, key)) {
            rc = esp01_fail(err, ESP01_E_FORMAT, "\"%.64s\" is given twice", key);
            free(key);
            free(value);
            break;
        }
        if (out->count == cap) {
            size_t ncap = cap ? cap * 2 : 8;
            esp01_jsonmap_pair *p = realloc(out->pairs, ncap * sizeof *p);
            if (!p) {
                free(key);
                free(value);
                rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
                break;
            }
            out->pairs = p;
            cap = ncap;
        }
        out->pairs[out->count].key = key;
        out->pairs[out->count].value = value;
        out->count++;
    }
    esp01_jsonmap_free(out);
    return rc;
}

const char *esp01_jsonmap_get(const esp01_jsonmap *map, const char *key)
{
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->pairs[i].key, key) == 0)
            return map->pairs[i].value;
    return NULL;
}

void esp01_jsonmap_free(esp01_jsonmap *map)
{
    for (size_t i = 0; i < map->count; i++) {
        free(map->pairs[i].key);
        free(map->pairs[i].value);
    }
    free(map->pairs);
    map->pairs = NULL;
    map->count = 0;
}
