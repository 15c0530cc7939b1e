/*
 * devmods.h - the on-device modules esp01 ships (wifitools, thingspeak, ...)
 * added to a project's file tree for `esp01 build`.
 *
 * A shipped module is a file NAME.py in a directory (the source tree's
 * device/, or $(PREFIX)/share/esp01/device when installed).  It goes into
 * the image as lib/NAME.py, which is on MicroPython's default sys.path.
 */
#ifndef ESP01_DEVMODS_H
#define ESP01_DEVMODS_H

#include <stddef.h>

#include "esp01/esp01.h"
#include "esp01/pyscan.h"
#include "esp01/tree.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Most modules one build adds (a bound; we ship far fewer). */
#define ESP01_DEVMODS_MAX 32

typedef struct esp01_devmods_result {
    size_t added_count; /* added, in order */
    char added[ESP01_DEVMODS_MAX][ESP01_PY_NAME_MAX + 1];
    size_t own_count;   /* shipped and imported, but the project has its own */
    char own[ESP01_DEVMODS_MAX][ESP01_PY_NAME_MAX + 1];
    /* The first project .py that could not be scanned, and why ("" if none):
     * its imports are unknown, the device will fail to compile it too. */
    char scan_warning[ESP01_ERR_MAX];
} esp01_devmods_result;

/*
 * Add to `tree` as lib/NAME.py every module shipped in `dir` that a .py in
 * the tree imports, that `with` names (comma-separated; NULL or "" for
 * none), or that an added module imports in turn.  A module is not added
 * when the tree already has NAME.py or NAME.mpy at its root or in lib/
 * (listed in res->own instead).  A name in `with` that `dir` does not ship
 * fails with ESP01_E_NOTFOUND, naming what it does ship.
 */
int esp01_devmods_add(esp01_tree *tree, const char *dir, const char *with,
                      esp01_devmods_result *res, esp01_err *err);

/*
 * The names `dir` ships, comma-separated and sorted, into out[n]
 * ("" when none).  Fails with ESP01_E_NOTFOUND if `dir` cannot be read.
 */
int esp01_devmods_list(const char *dir, char *out, size_t n, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
