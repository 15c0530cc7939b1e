/*
 * project.h - what build and flash add to a project's files: the settings
 * file (--config) and the shipped on-device modules its code imports.
 */
#ifndef ESP01_PROJECT_H
#define ESP01_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

#include "esp01/devmods.h"
#include "esp01/tree.h"

/*
 * Put `config` (a JSON object, checked here so a broken file shows on the
 * host and not at boot; its text is never shown) into `tree` as
 * /config.json, replacing the project's own.  0, or negative after the
 * message.
 */
int project_add_config(const char *config, const char *project, esp01_tree *tree,
                       size_t *len);

/*
 * Add the shipped modules the project imports, and those `with` names
 * (comma-separated, may be NULL), to /lib.  `device_dir` gets where they
 * came from ("" when none were found).  0, or negative after the message.
 */
int project_add_modules(const char *with, esp01_tree *tree, char *device_dir, size_t cap,
                        esp01_devmods_result *mods);

/*
 * Split --with's list: names the shipped modules' folder has go into
 * `shipped` (comma-separated, for project_add_modules), the others into
 * *pkgs (packages to resolve; malloc'd, mipcli_free_list) when they look
 * like package specs ("umqtt.simple", "github:o/r") or `index_given`.
 * 0, or an exit code after the message.
 */
int project_split_with(const char *with, bool index_given, char *shipped, size_t cap,
                       char ***pkgs, size_t *n);

#endif
