/*
 * pyscan.h - the modules a Python source imports, found without running it.
 *
 * `esp01 build` uses this to decide which shipped on-device modules a
 * project needs.  The scanner tokenizes enough of Python to be right about
 * what is code: comments, every string form (prefixes, triple quotes,
 * escapes), line continuations and bracketed statements spanning lines.
 * It reports the first component of every absolute module named by
 * `import a.b as c, d` and `from a.b import x` at the start of a logical
 * line (or after ';' or a block's ':'), wherever it is nested.  Relative
 * imports (`from . import x`) name the project's own files and are skipped.
 */
#ifndef ESP01_PYSCAN_H
#define ESP01_PYSCAN_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest module name reported; longer names are skipped, not truncated. */
#define ESP01_PY_NAME_MAX 64

/*
 * Called once per imported module name (NUL-terminated, valid only during
 * the call; repeats are reported again).  Return 0 to go on, or a negative
 * ESP01_E_* code to stop the scan with that result.
 */
typedef int (*esp01_py_import_fn)(const char *module, void *ctx);

/*
 * Scan `len` bytes of Python source.  Returns 0, or the callback's negative
 * code, or ESP01_E_FORMAT (with the line in `err`) for source that cannot
 * be tokenized: an unterminated string or a NUL byte.
 */
int esp01_py_imports(const uint8_t *src, size_t len, esp01_py_import_fn fn,
                     void *ctx, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
