/*
 * fwcache.h - the local cache of official firmware files.
 *
 * One directory of files under their published names.  A file is only
 * ever put there whole and checked (temporary file + rename), so a reader
 * sees a complete file or none; a lock file serialises downloads so two
 * runs do not fetch the same file twice.  Files that do not parse as a
 * published name (temporary files, the lock) are not part of the cache.
 */
#ifndef ESP01_FWCACHE_H
#define ESP01_FWCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/fwindex.h"

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The cache directory: $ESP01_CACHE_DIR, else $XDG_CACHE_HOME/esp01/firmware,
 * else $HOME/.cache/esp01/firmware.  Not created here.
 */
int esp01_fw_cache_dir(char *out, size_t cap, esp01_err *err);

/* Add the cached files to `list` (with their sizes).  A missing directory
 * is an empty cache.  Returns how many were added. */
int esp01_fw_cache_list(const char *dir, esp01_fw_list *list, esp01_err *err);

/* dir + "/" + name; false if it does not fit. */
bool esp01_fw_cache_path(const char *dir, const char *name, char *out, size_t cap);

/* Create the directory (and its parents), then write `name` atomically. */
int esp01_fw_cache_store(const char *dir, const char *name, const uint8_t *buf, size_t len,
                         esp01_err *err);

/* Take the cache's lock (blocking); returns a descriptor for
 * esp01_fw_cache_unlock(), or a negative code. */
int esp01_fw_cache_lock(const char *dir, esp01_err *err);
void esp01_fw_cache_unlock(int fd);

#ifdef __cplusplus
}
#endif

#endif
