/*
 * json_string.h - decoding one JSON string's escapes, shared by the readers
 * that build values from checked JSON (jsonmap.c, src/pkg/mjson.c).
 */
#ifndef ESP01_UTIL_JSON_STRING_H
#define ESP01_UTIL_JSON_STRING_H

#include <stddef.h>
#include <stdint.h>

/*
 * The body of a JSON string, s[0..len) (between its quotes), decoded into
 * out, which must hold len + 1 bytes: decoding never grows (\uXXXX, 6
 * bytes, is at most 3 of UTF-8; a surrogate pair, 12, is 4).  out is
 * terminated.  Returns the decoded length, or -1 for a bad or cut escape
 * and for \u0000, which would cut a C string short.  A lone surrogate
 * becomes U+FFFD, as it has no UTF-8.  Every read stays inside s[0..len).
 */
long esp01_json_unescape(const uint8_t *s, size_t len, char *out);

#endif
