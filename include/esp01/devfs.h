/*
 * devfs.h - files on a MicroPython device, over the raw REPL.
 *
 * esp01_devfs_open() probes the device once (binascii, hashlib.sha256,
 * deflate, os.rename/stat/mkdir, free heap) and defines a few small helper
 * functions in the device's globals (all named _e*), so that later
 * operations send little code.  Payloads travel base64-encoded when the
 * device has binascii.a2b_base64, else as bytes literals; with the deflate
 * module (MicroPython >= 1.21) they are raw-deflate compressed on the host
 * with a 1 KiB window (wbits 10), small enough for the ESP8266 heap.
 *
 * Writes are atomic: data goes to a temporary name next to the target, is
 * checked (sha256 where hashlib has it, size otherwise) and only then
 * renamed over the target.  A lost connection leaves the old file intact
 * (and perhaps a stray ".NAME.part" next to it, removed by the next put).
 *
 * Device paths are used as given (relative to the device's current
 * directory unless they start with '/').  Names from the device are hostile
 * input: they arrive hex-encoded and are checked before use.
 */
#ifndef ESP01_DEVFS_H
#define ESP01_DEVFS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/rawrepl.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esp01_devfs_encoding {
    ESP01_ENC_AUTO = 0, /* the best the device supports */
    ESP01_ENC_DEFLATE,  /* raw deflate + base64 */
    ESP01_ENC_BASE64,
    ESP01_ENC_REPR      /* bytes literals: works on any MicroPython */
} esp01_devfs_encoding;

/* Longest device path we build or accept. */
#define ESP01_DEVPATH_MAX 256

/* Progress callback for transfers: bytes of file done out of total. */
typedef void (*esp01_devfs_progress)(void *ctx, size_t done, size_t total);

typedef struct esp01_devfs {
    esp01_rawrepl *repl;
    /* What the device has (filled by esp01_devfs_open). */
    bool has_base64, has_sha256, has_deflate, has_rename, has_stat,
        has_mkdir, has_statvfs;
    bool have_listing; /* listing helpers defined on the device */
    uint32_t mem_free;
    /* The device's errno numbers (not every port uses Linux's). */
    int errno_noent, errno_exist, errno_nospc, errno_nodev, errno_notempty;
    /* Caller settings (set after open to override). */
    esp01_devfs_encoding encoding;
    size_t exec_budget; /* most code bytes per exec (derived from mem_free) */
    uint32_t timeout_ms; /* per exec */
    esp01_devfs_progress progress;
    void *progress_ctx;
    /*
     * Optional second route for file data (WebREPL's file protocol,
     * webrepl.h).  The raw REPL still creates the temporary file, checks
     * it and renames it, and stats before a read; put_data writes `len`
     * bytes to `path`, get_data reads exactly `len` bytes of it.
     */
    int (*put_data)(struct esp01_devfs *fs, const char *path,
                    const uint8_t *data, size_t len, esp01_err *err);
    int (*get_data)(struct esp01_devfs *fs, const char *path, uint8_t *data,
                    size_t len, esp01_err *err);
    void *data_ctx;
} esp01_devfs;

typedef struct esp01_dev_entry {
    char name[ESP01_DEVPATH_MAX]; /* a name in a listing; a path in walks */
    bool is_dir;
    uint64_t size;
    bool has_sha;                 /* walks with hashes only */
    char sha256[65];
} esp01_dev_entry;

/*
 * Probe the device behind `repl` (which must be in the raw REPL) and set
 * up helpers.  `fs` is caller-owned.
 */
int esp01_devfs_open(esp01_devfs *fs, esp01_rawrepl *repl, esp01_err *err);

/* The encoding a transfer will actually use (AUTO resolved). */
esp01_devfs_encoding esp01_devfs_effective_encoding(const esp01_devfs *fs);

/*
 * List directory `dir` ("" for the current one).  *out is a malloc'd
 * array of *count entries sorted by name (free() it).
 */
int esp01_devfs_list(esp01_devfs *fs, const char *dir, esp01_dev_entry **out,
                     size_t *count, esp01_err *err);

/*
 * Every file and directory under `dir`, recursively, with paths relative
 * to `dir`; with `hashes`, files carry their sha256 when the device can
 * compute it.  At most `max` entries (ESP01_E_LIMIT beyond).
 */
int esp01_devfs_walk(esp01_devfs *fs, const char *dir, bool hashes,
                     size_t max, esp01_dev_entry **out, size_t *count,
                     esp01_err *err);

/* Type and size of `path`; ESP01_E_NOTFOUND when absent. */
int esp01_devfs_stat(esp01_devfs *fs, const char *path, esp01_dev_entry *out,
                     esp01_err *err);

/* Read a whole file (at most `max` bytes) into malloc'd *data. */
int esp01_devfs_read(esp01_devfs *fs, const char *path, size_t max,
                     uint8_t **data, size_t *len, esp01_err *err);

/* Write a whole file atomically (see above). */
int esp01_devfs_write(esp01_devfs *fs, const char *path, const uint8_t *data,
                      size_t len, esp01_err *err);

/* sha256 of a device file as 64 hex digits; ESP01_E_UNSUPPORTED without
 * hashlib.sha256 on the device. */
int esp01_devfs_sha256(esp01_devfs *fs, const char *path, char hex[65],
                       esp01_err *err);

int esp01_devfs_remove(esp01_devfs *fs, const char *path, esp01_err *err);
int esp01_devfs_mkdir(esp01_devfs *fs, const char *path, esp01_err *err);
int esp01_devfs_rmdir(esp01_devfs *fs, const char *path, esp01_err *err);

/* Filesystem size and free space in bytes for the filesystem holding
 * `path`, and its block size. */
int esp01_devfs_df(esp01_devfs *fs, const char *path, uint64_t *total,
                   uint64_t *avail, uint32_t *block_size, esp01_err *err);

/*
 * Parse listing lines as the device helpers print them: "T SIZE HEXNAME"
 * (and " SHA256|-" when `walk`), T being 'f' or 'd'.  Hostile input: any
 * malformed line, unsafe name ('/', "..", NUL; '/' allowed between
 * components only when `walk`) or more than `max` entries fails.  *out is
 * a malloc'd array sorted by name (free() it).  Exposed for fuzzing.
 */
int esp01_devfs_parse_listing(const uint8_t *buf, size_t len, bool walk,
                              size_t max, esp01_dev_entry **out, size_t *count,
                              esp01_err *err);

/*
 * Encode `len` bytes as a Python bytes literal (b'...') into `out`
 * (capacity `cap`); returns the literal's length, or 0 when it does not fit.
 * Never emits bytes 0x00-0x1f or 0x7f raw.
 */
size_t esp01_devfs_bytes_literal(const uint8_t *data, size_t len, char *out,
                                 size_t cap);

#ifdef __cplusplus
}
#endif

#endif
