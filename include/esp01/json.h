/*
 * json.h - check that bytes are exactly one JSON value (RFC 8259), so a
 * broken settings file is caught on the host, with its line and column,
 * instead of on the board at boot.  Nothing is built: a pure check.
 */
#ifndef ESP01_JSON_H
#define ESP01_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Deepest nesting of arrays and objects accepted. */
#define ESP01_JSON_DEPTH_MAX 64

typedef enum esp01_json_type {
    ESP01_JSON_OBJECT = 1,
    ESP01_JSON_ARRAY,
    ESP01_JSON_STRING,
    ESP01_JSON_NUMBER,
    ESP01_JSON_LITERAL /* true, false, null */
} esp01_json_type;

/*
 * Returns the type of the top-level value, or ESP01_E_FORMAT with
 * "line L, column C: what" in `err` (ESP01_E_LIMIT past the depth limit).
 * Strings must be valid UTF-8, as MicroPython's json module needs.
 */
int esp01_json_check(const uint8_t *buf, size_t len, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
