/*
 * mip.h - MicroPython packages resolved on the host, as mip resolves them
 * on a board (micropython-lib's mip/__init__.py; facts section 11), so a
 * project's packages go into the image at build time, or onto a running
 * board in one all-or-nothing step.
 *
 * A resolution turns requests ("umqtt.simple", "github:org/repo@v1.2",
 * "https://host/pkg.json") into a flat list of files, each with its
 * target path under the package target (normally "lib"), its bytes and
 * its full SHA-256.  The index and the network are reached only through a
 * caller-given fetch function, so the resolver runs the same over HTTP,
 * from a local mirror folder, from the cache, or from a test's memory.
 *
 * The lock (esp01.lock, beside the project's package.json) records what a
 * resolution found: package names and versions, where each file came
 * from and its full SHA-256.  A locked build fetches by hash from the
 * cache only and is byte-identical from one run to the next.
 *
 * Memory: a resolution owns its files (esp01_mip_result_free).  Every
 * input (package json, lock text, index replies) is hostile: bounded
 * sizes, depth and counts below; nothing that fails a check is returned,
 * cached or written.
 */
#ifndef ESP01_MIP_H
#define ESP01_MIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Limits a resolution keeps to, whatever the index says. */
#define ESP01_MIP_MAX_DEPTH 8           /* deps of deps of ... */
#define ESP01_MIP_MAX_PACKAGES 64
#define ESP01_MIP_MAX_FILES 256
#define ESP01_MIP_MAX_JSON (256u * 1024u) /* one package json */
#define ESP01_MIP_MAX_FILE (1024u * 1024u) /* one file */
#define ESP01_MIP_MAX_TOTAL (4u * 1024u * 1024u) /* all files together */

/* An index's short hash ("hashes": [[target, short]]) is 4..64 lower-case
 * hex digits, the start of the file's SHA-256 (8 at micropython.org). */

/* The default index (the mip protocol's v2 layout). */
#define ESP01_MIP_INDEX "https://micropython.org/pi/v2"

/*
 * Fetch `url` into memory.  Returns 0 with *body (malloc'd, the caller
 * frees) and *len, ESP01_E_NOTFOUND for a 404 or a missing file, or
 * another negative code (ESP01_E_IO when the index cannot be reached).
 * max is the largest body accepted (ESP01_E_LIMIT above it).
 */
typedef int (*esp01_mip_fetch_fn)(void *ctx, const char *url, size_t max,
                                  uint8_t **body, size_t *len, esp01_err *err);

/* The cache of files by SHA-256: look up (0 and the bytes, or
 * ESP01_E_NOTFOUND), store (after the hash is checked).  Both optional. */
typedef int (*esp01_mip_cache_get_fn)(void *ctx, const uint8_t sha256[32],
                                      uint8_t **body, size_t *len, esp01_err *err);
typedef int (*esp01_mip_cache_put_fn)(void *ctx, const uint8_t sha256[32],
                                      const uint8_t *body, size_t len, esp01_err *err);

typedef struct esp01_mip_options {
    const char *index;        /* index URL or folder (no trailing slash); NULL: ESP01_MIP_INDEX */
    const char *mpy;          /* "6", "5" ... or "py" for sources; NULL: "py" */
    const char *target;       /* where files go, relative ("lib", "lib/x"); NULL: "lib" */
    esp01_mip_fetch_fn fetch; /* required unless every file is in the lock + cache */
    void *fetch_ctx;
    esp01_mip_cache_get_fn cache_get;
    esp01_mip_cache_put_fn cache_put;
    void *cache_ctx;
    /* Module names frozen into the firmware ("ntptime", "dht", ...): a
       package that only repeats them is skipped (reported in skipped[]). */
    const char *const *frozen;
    size_t frozen_count;
} esp01_mip_options;

void esp01_mip_defaults(esp01_mip_options *opt);

typedef struct esp01_mip_file {
    char target[256];     /* e.g. "lib/umqtt/simple.mpy" */
    char url[512];        /* where the bytes came from */
    char package[96];     /* the package it belongs to */
    uint8_t sha256[32];
    uint8_t *data;        /* owned by the result */
    size_t len;
} esp01_mip_file;

typedef struct esp01_mip_package {
    char name[96];        /* as requested or as a dep named it */
    char version[48];     /* what the package json said; "" if none */
    char source[512];     /* the package json's URL */
    size_t files;         /* how many of the result's files are its own */
    size_t bytes;
    bool skipped_frozen;  /* only repeats modules frozen into the firmware */
} esp01_mip_package;

typedef struct esp01_mip_result {
    esp01_mip_package *packages;
    size_t package_count;
    esp01_mip_file *files;
    size_t file_count;
    size_t total_bytes;
} esp01_mip_result;

/*
 * Resolve `requests` (names as `mpremote mip install` takes them:
 * "name", "name@version", "github:o/r[/path][@ref]", "gitlab:...",
 * "codeberg:...", "http(s)://.../x.json" or ".../x.py").  Deps are
 * followed; a cycle is reported by name ("a -> b -> a").  Fails with:
 *   ESP01_E_NOTFOUND  no such package (err names it, and a close name
 *                     from the index if there is one: "did you mean
 *                     umqtt.simple?"), or no such version (err lists the
 *                     versions the index has: "; versions: 1.7.0 1.8.0");
 *                     {index}/index.json is fetched only then
 *   ESP01_E_CHECKSUM  a file whose SHA-256 does not start with its short
 *                     hash
 *   ESP01_E_FORMAT    a package json that is not JSON or not mip's; a
 *                     dependency cycle ("dependency cycle: a -> b -> a")
 *   ESP01_E_LIMIT     past a limit above (also: deps nested too deep)
 *   ESP01_E_INVAL     a target that leaves the package target ("..",
 *                     absolute, "." or empty components, '\\', ':'); a
 *                     bad name; two packages installing one target with
 *                     different bytes; a package fetched over the network
 *                     whose "urls" name a local file (file:// or a path)
 *   ESP01_E_IO        the index cannot be reached (err names what was
 *                     needed and is not cached)
 * A package already resolved (same request name) is not resolved twice;
 * a file two packages ship with the same bytes is kept once.  Files come
 * in resolution order (a package's hashes, its urls, then its deps').
 */
int esp01_mip_resolve(const char *const *requests, size_t count,
                      const esp01_mip_options *opt, esp01_mip_result *out,
                      esp01_err *err);

/* The same files again, from a lock: each fetched from the cache by
 * SHA-256 (or, when not cached and a fetch is given, from its URL, then
 * checked against the locked hash: ESP01_E_CHECKSUM if it differs;
 * ESP01_E_IO when neither has it).  opt's index, mpy and target are not
 * used (the lock has them); a lock's targets are taken as written (any
 * safe relative path); a lock that fails esp01_mip_lock_check fails the
 * same way here. */
int esp01_mip_resolve_locked(const uint8_t *lock, size_t lock_len,
                             const esp01_mip_options *opt,
                             esp01_mip_result *out, esp01_err *err);

void esp01_mip_result_free(esp01_mip_result *r);

/* The lock text for a result (malloc'd JSON, stable key order, one
 * package and one file a line):
 *   {"version":1,"index":"...","mpy":"6",
 *   "packages":[
 *   {"name":"...","version":"...","source":"..."[,"frozen":true]}],
 *   "files":[
 *   {"target":"lib/x.mpy","url":"...","sha256":"<64 hex>","package":"...","size":N}]}
 * and its parser's check (0, or ESP01_E_FORMAT with detail: not JSON, a
 * missing or mistyped key, an unsafe target, a file of no listed package,
 * a target given twice; ESP01_E_LIMIT past the limits). */
int esp01_mip_lock_write(const esp01_mip_result *r, const esp01_mip_options *opt,
                         char **text, size_t *len, esp01_err *err);
int esp01_mip_lock_check(const uint8_t *lock, size_t lock_len, esp01_err *err);

/* A project's package.json (mip's format: {"deps": [[name, version]...]},
 * "urls", "hashes" ignored here): its requests as "name@version" strings
 * (malloc'd array of malloc'd strings; esp01_mip_requests_free). */
int esp01_mip_project_requests(const uint8_t *json, size_t len, char ***requests,
                               size_t *count, esp01_err *err);
void esp01_mip_requests_free(char **requests, size_t count);

/*
 * The fetch a CLI passes: "http://" and "https://" through esp01_http_get
 * (ctx: NULL, or an esp01_http_opts * whose max_bytes is replaced by max;
 * 404 and 410 are ESP01_E_NOTFOUND, other non-200 ESP01_E_PROTOCOL), and
 * "file://..." or a plain path from the disk, so a local mirror of the
 * index works as `index = "/path/to/v2"`.
 */
int esp01_mip_fetch_default(void *ctx, const char *url, size_t max, uint8_t **body, size_t *len,
                            esp01_err *err);

/*
 * A cache in a folder (ctx: its path, a const char *; created on the
 * first put): {folder}/{hex[0:2]}/{hex}, hex the file's SHA-256, written
 * atomically.  get checks the hash again (ESP01_E_CHECKSUM for a damaged
 * entry, which the resolver then fetches again); put refuses bytes whose
 * hash is not sha256.
 */
int esp01_mip_cache_dir_get(void *ctx, const uint8_t sha256[32], uint8_t **body, size_t *len,
                            esp01_err *err);
int esp01_mip_cache_dir_put(void *ctx, const uint8_t sha256[32], const uint8_t *body, size_t len,
                            esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
