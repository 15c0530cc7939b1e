/*
 * tree.h - an in-memory file tree: what a filesystem writer puts into a
 * partition, and what a filesystem reader gets out of one.
 *
 * Paths are relative to the filesystem root, '/'-separated, with no leading
 * or trailing slash, no empty, "." or ".." components, and no NUL.  A file's
 * parent directories need not be added explicitly: writers create them.
 * The tree owns copies of every path and every data buffer.
 */
#ifndef ESP01_TREE_H
#define ESP01_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Longest name of one path component that MicroPython's littlefs accepts. */
#define ESP01_NAME_MAX 255
/* Longest whole path we accept (a bound for hostile images, not a FS rule). */
#define ESP01_PATH_MAX 4096

typedef enum esp01_entry_type {
    ESP01_ENTRY_FILE = 1,
    ESP01_ENTRY_DIR = 2
} esp01_entry_type;

typedef struct esp01_entry {
    char *path;
    esp01_entry_type type;
    uint8_t *data; /* files only; NULL when size == 0 */
    size_t size;
    bool has_mtime;
    uint64_t mtime_ns; /* nanoseconds since 1970-01-01 UTC */
} esp01_entry;

typedef struct esp01_tree {
    esp01_entry *entries;
    size_t count;
    size_t capacity;
} esp01_tree;

/* An empty tree (static initialiser style: esp01_tree t = ESP01_TREE_INIT;) */
#define ESP01_TREE_INIT {NULL, 0, 0}

void esp01_tree_init(esp01_tree *tree);
void esp01_tree_free(esp01_tree *tree);

/*
 * Check that `path` is a valid relative path as described above, with every
 * component at most ESP01_NAME_MAX bytes.
 */
int esp01_path_check(const char *path, esp01_err *err);

/* Add a file (data copied; data may be NULL when size is 0). */
int esp01_tree_add_file(esp01_tree *tree, const char *path,
                        const uint8_t *data, size_t size, esp01_err *err);
/* Add a directory. Adding one that exists is not an error. */
int esp01_tree_add_dir(esp01_tree *tree, const char *path, esp01_err *err);
/* Same, with a modification time attached. */
int esp01_tree_add_file_mtime(esp01_tree *tree, const char *path,
                              const uint8_t *data, size_t size,
                              uint64_t mtime_ns, esp01_err *err);

/* Entry with exactly this path, or NULL. */
const esp01_entry *esp01_tree_find(const esp01_tree *tree, const char *path);

/*
 * Sort entries by path (bytewise) and add every missing parent directory, so
 * that parents come before children.  Writers call this on a copy, or callers
 * do it once; it is idempotent.
 */
int esp01_tree_normalize(esp01_tree *tree, esp01_err *err);

/* Sum of file sizes, and counts. */
size_t esp01_tree_bytes(const esp01_tree *tree);

#ifdef __cplusplus
}
#endif

#endif
