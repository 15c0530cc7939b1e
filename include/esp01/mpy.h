/*
 * mpy.h - MicroPython .mpy files: the header, which .mpy version a firmware
 * release loads, and compiling with an external mpy-cross.
 *
 * A firmware loads a bytecode .mpy only if the file's major version equals
 * its own (the minor version matters for native code only, which we never
 * emit): v1.19 and later load 6, v1.12-v1.18 load 5, and so on
 * (docs/reference/mpyfiles.rst in MicroPython).
 */
#ifndef ESP01_MPY_H
#define ESP01_MPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/tree.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp01_mpy_header {
    uint8_t version;        /* major: byte 1 */
    uint8_t sub_version;    /* bits 1..0 of byte 2 (version 6 on) */
    uint8_t arch;           /* bits 5..2 of byte 2: 0 = bytecode only */
    uint8_t small_int_bits; /* byte 3 */
} esp01_mpy_header;

/* Parse the 4-byte header ('M', version, flags, small-int bits). */
int esp01_mpy_header_parse(const uint8_t *buf, size_t len, esp01_mpy_header *h,
                           esp01_err *err);

/*
 * The .mpy major version MicroPython release major.minor.patch loads, or
 * ESP01_E_UNSUPPORTED for releases with no .mpy support we know of.
 */
int esp01_mpy_version_for_release(unsigned major, unsigned minor, unsigned patch,
                                  esp01_err *err);

/*
 * Parse `mpy-cross --version` output ("MicroPython v1.22.1 on 2024-01-05;
 * mpy-cross emitting mpy v6.2"); the minor part is 0 when absent.
 */
int esp01_mpy_cross_version_parse(const uint8_t *text, size_t len,
                                  unsigned *version, unsigned *sub_version,
                                  esp01_err *err);

/* Longest an mpy-cross run may take before it is killed. */
#define ESP01_MPY_CROSS_TIMEOUT_MS 60000

/*
 * Run `exe --version` (exe found on PATH when it has no '/') and parse it.
 * Fails with ESP01_E_NOTFOUND when it cannot be run.
 */
int esp01_mpy_cross_version(const char *exe, unsigned *version,
                            unsigned *sub_version, esp01_err *err);

/*
 * Compile `src` (named `source_name` in tracebacks, e.g. "lib/x.py") with
 * `exe` to bytecode; on success *out is malloc'd (caller frees) and holds
 * a .mpy whose header was checked.  mpy-cross's own error text goes into
 * `err`.  Works in a private temporary directory, removed afterwards.
 */
int esp01_mpy_cross_compile(const char *exe, const char *source_name,
                            const uint8_t *src, size_t len, uint8_t **out,
                            size_t *out_len, esp01_err *err);

/*
 * Replace every .py file in `tree` except boot.py and main.py at the root
 * (the firmware runs those by name, as source) with NAME.mpy compiled by
 * `exe`, keeping each file's mtime.  Returns how many were compiled; on
 * failure the tree is unchanged.
 */
int esp01_tree_compile_mpy(esp01_tree *tree, const char *exe, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
