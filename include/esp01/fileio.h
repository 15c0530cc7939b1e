/*
 * fileio.h - host file helpers shared by the library and the tool: read a
 * whole file with a size cap, and write a file atomically (temporary file in
 * the same directory, then rename) so that a failed run never leaves a
 * half-written output behind.
 */
#ifndef ESP01_FILEIO_H
#define ESP01_FILEIO_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Read all of `path` into a malloc'd buffer (*out, freed by the caller with
 * free()).  Fails with ESP01_E_LIMIT if the file is larger than `max_size`.
 */
int esp01_read_file(const char *path, size_t max_size, uint8_t **out,
                    size_t *out_len, esp01_err *err);

/*
 * Write `len` bytes to `path` through a temporary file in the same directory
 * renamed into place.  On failure the temporary file is removed and `path`
 * is untouched.  Atomic against interruption, not synced to the disk.
 */
int esp01_write_file_atomic(const char *path, const uint8_t *data, size_t len,
                            esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
