/*
 * hostdir.h - read a project folder on the host into an esp01_tree.
 *
 * Every regular file goes to the same relative path in the tree.  Skipped:
 * dotfiles and dot-directories (.git, .vscode, .esp01ignore itself) and
 * anything matching a pattern in the folder's `.esp01ignore`.  Symlinks are
 * refused rather than followed, so an image never silently picks up files
 * from outside the project.
 *
 * .esp01ignore: one fnmatch(3) pattern per line, '#' starts a comment.  A
 * pattern with no '/' matches a name at any depth ("*.pyc", "__pycache__");
 * one with a '/' matches the whole relative path ("tests/x.py"); a trailing '/'
 * matches directories only ("build/").
 */
#ifndef ESP01_HOSTDIR_H
#define ESP01_HOSTDIR_H

#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/tree.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp01_hostdir_options {
    /* Largest single file accepted (a bound, not a flash rule). */
    size_t max_file_size;
    /* Most entries accepted (files + directories). */
    size_t max_entries;
    /* Record each file's host mtime in the tree (has_mtime). */
    int keep_mtime;
} esp01_hostdir_options;

/* 16 MiB files, 10000 entries, mtimes kept. */
void esp01_hostdir_defaults(esp01_hostdir_options *opt);

/*
 * Add the contents of host directory `dir` to `tree` (normally empty),
 * under `prefix` ("" for the root, or e.g. "lib").  Directories are added
 * too, so empty ones survive.  `opt` may be NULL for the defaults.
 */
int esp01_hostdir_load(esp01_tree *tree, const char *dir, const char *prefix,
                       const esp01_hostdir_options *opt, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
