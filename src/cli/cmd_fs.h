/*
 * cmd_fs.h - between the parts of `esp01 fs`: cmd_fs.c finds the partition
 * and reads its tree, cmd_fs_extract.c writes that tree to the host.
 */
#ifndef ESP01_CLI_CMD_FS_H
#define ESP01_CLI_CMD_FS_H

#include <stdbool.h>

#include "esp01/tree.h"

/* Write every entry of `tree` under `destdir` (created if missing);
   existing files only with `force`.  Returns an exit code. */
int cmd_fs_extract(const esp01_tree *tree, const char *destdir, bool force);

#endif
