/*
 * mjson.h - a small read-only JSON tree for package jsons and locks.
 * The bytes are checked first by esp01_json_check (RFC 8259, UTF-8,
 * depth), so the tree builder only decodes; it still never reads past
 * the buffer.  Internal to src/pkg/.
 */
#ifndef ESP01_PKG_MJSON_H
#define ESP01_PKG_MJSON_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/json.h"

#define MJ_NONE UINT32_MAX

typedef struct mj_node {
    uint8_t type;   /* esp01_json_type */
    uint32_t first; /* first child (arrays, objects), MJ_NONE */
    uint32_t next;  /* next sibling, MJ_NONE */
    uint32_t count; /* children */
    char *key;      /* member name inside an object, else NULL */
    char *str;      /* decoded string, or the raw number / literal text */
    size_t len;
} mj_node;

typedef struct mj_doc {
    mj_node *n; /* n[0] is the top-level value */
    size_t count, cap;
} mj_doc;

/* ESP01_E_FORMAT (not JSON, or a \u0000 inside a string), ESP01_E_LIMIT,
 * ESP01_E_NOMEM. */
int mj_parse(const uint8_t *buf, size_t len, mj_doc *doc, esp01_err *err);
void mj_free(mj_doc *doc);

/* The member `key` of object `obj`, or NULL (also when obj is no object). */
const mj_node *mj_get(const mj_doc *d, const mj_node *obj, const char *key);
/* First child / next sibling, or NULL. */
const mj_node *mj_first(const mj_doc *d, const mj_node *n);
const mj_node *mj_next(const mj_doc *d, const mj_node *n);
/* The string of n if it is a string, else NULL. */
const char *mj_str(const mj_node *n);

#endif
