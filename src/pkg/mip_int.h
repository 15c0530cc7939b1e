/*
 * mip_int.h - what the files of src/pkg/ share: URL and path rules
 * (spec.c), the growing result (result.c), the index's hints (hint.c).
 */
#ifndef ESP01_PKG_MIP_INT_H
#define ESP01_PKG_MIP_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/mip.h"

/* Longest URL or path built here (the file record's url[] is smaller). */
#define MIP_URL_MAX 512

/* Starts with a scheme mip fetches itself (http(s), github:, gitlab:,
 * codeberg:) or file:// (a local mirror). */
bool mip_is_url(const char *s);
/* Reached over the network (not file:// nor a local path). */
bool mip_is_remote(const char *s);
bool mip_ends_with(const char *s, const char *tail);
/* github:/gitlab:/codeberg: to https, with ref (NULL or "": HEAD). */
int mip_rewrite(const char *url, const char *ref, char *out, size_t cap, esp01_err *err);
/* A relative path inside the package target: no "..", ".", empty, absolute,
 * backslash, drive colon or control characters. */
bool mip_safe_rel(const char *path);
/* target + "/" + rel into out[ESP01_MIP_FILE target size], checked. */
int mip_join_target(const char *target, const char *rel, char *out, size_t cap,
                    esp01_err *err);
/* 4..64 lower-case hex digits. */
bool mip_short_hash_ok(const char *s);
bool mip_hash_starts(const uint8_t sha[32], const char *short_hex);
/* 64 lower-case hex digits to bytes. */
bool mip_hex32(const char *s, uint8_t out[32]);
/* A package name or version that may go into an index URL. */
bool mip_name_ok(const char *s, size_t max);
/* A frozen module name for a .py/.mpy target ("umqtt/simple.mpy" ->
 * "umqtt.simple", "pkg/__init__.py" -> "pkg"); false for other files. */
bool mip_module_name(const char *rel, char *out, size_t cap);
size_t mip_edit_distance(const char *a, const char *b);
/* snprintf that reports truncation as false. */
bool mip_fmt(char *out, size_t cap, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(ESP01_PRINTF_FORMAT, 3, 4)))
#endif
    ;

/* opt with its defaults filled in, checked. */
int mip_fill_options(const esp01_mip_options *in, esp01_mip_options *out, esp01_err *err);

/* The result as it grows. */
int mip_add_package(esp01_mip_result *r, const char *name, const char *version,
                    const char *source, esp01_err *err);
int mip_add_file(esp01_mip_result *r, const char *target, const char *url,
                 const char *package, const uint8_t sha[32], uint8_t *data, size_t len,
                 esp01_err *err);
const esp01_mip_package *mip_find_package(const esp01_mip_result *r, const char *name);
const esp01_mip_file *mip_find_file(const esp01_mip_result *r, const char *target);

/* Why `name` (at `version`, NULL for latest) is not in the index: appends
 * "; did you mean X?" or "; versions: a, b" to err's message. */
void mip_not_found_hint(const esp01_mip_options *opt, const char *name, const char *version,
                        esp01_err *err);

#endif
