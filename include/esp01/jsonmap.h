/*
 * jsonmap.h - a JSON object whose values are all strings, as a list of
 * key/value pairs: what a --board-config file is (port or USB serial
 * number -> the settings file that board gets).
 */
#ifndef ESP01_JSONMAP_H
#define ESP01_JSONMAP_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

#define ESP01_JSONMAP_MAX_PAIRS 4096u
#define ESP01_JSONMAP_MAX_STRING 4096u

typedef struct esp01_jsonmap_pair {
    char *key, *value; /* UTF-8, NUL-terminated, no NUL inside */
} esp01_jsonmap_pair;

typedef struct esp01_jsonmap {
    esp01_jsonmap_pair *pairs; /* malloc'd; esp01_jsonmap_free() */
    size_t count;
} esp01_jsonmap;

/*
 * Parse `buf`.  ESP01_E_FORMAT with "line L, column C: ..." for text that
 * is not JSON (esp01_json_check's words), and for a top-level value that
 * is not an object, a value that is not a string, a key given twice, or a
 * \u0000 escape; ESP01_E_LIMIT past the limits above.
 */
int esp01_jsonmap_parse(const uint8_t *buf, size_t len, esp01_jsonmap *out, esp01_err *err);
/* The value of `key`, or NULL. */
const char *esp01_jsonmap_get(const esp01_jsonmap *map, const char *key);
void esp01_jsonmap_free(esp01_jsonmap *map);

#ifdef __cplusplus
}
#endif

#endif
