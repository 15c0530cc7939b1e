/*
 * mipcli.h - what `esp01 build` and `esp01 mip` share about packages: the
 * index and cache settings, the fetch and cache callbacks the resolver is
 * given, and a project's package.json + esp01.lock.
 */
#ifndef ESP01_MIPCLI_H
#define ESP01_MIPCLI_H

#include <stdbool.h>
#include <stddef.h>

#include "esp01/http.h"
#include "esp01/mip.h"
#include "esp01/tree.h"

struct mipcli {
    esp01_mip_options opt;
    char index[1024];
    char cache[4200];       /* <the firmware cache>/mip */
    char mpy[8];
    bool mpy_given;         /* --no-mpy, or an explicit version */
    esp01_http_opts http;
    char **frozen;          /* names frozen into the firmware (owned) */
    size_t frozen_count;
};

/* Settings from `index` (--index, may be NULL), ESP01_MIP_INDEX and the
 * cache folder.  0, or an exit code after the message. */
int mipcli_init(struct mipcli *m, const char *cmd, const char *index);
void mipcli_done(struct mipcli *m);

/* The bytecode version for a firmware image (NULL: none given). */
void mipcli_mpy_for_firmware(struct mipcli *m, const uint8_t *fw, size_t len);

/* The modules frozen into a firmware image, so packages that only repeat
 * them are skipped. */
void mipcli_frozen_from(struct mipcli *m, const uint8_t *fw, size_t len);

/* Resolve requests, falling back to sources when the index has no build
 * for the bytecode version.  0, or an exit code after the message. */
int mipcli_resolve(struct mipcli *m, const char *const *req, size_t n,
                   esp01_mip_result *out);

/* A project folder's packages: package.json (+ `extra` requests, may be
 * empty), through esp01.lock when there is one and `update` is false; the
 * lock is written on the first resolution.  *found is false when the
 * project asks for no packages.  0, or an exit code after the message. */
int mipcli_project(struct mipcli *m, const char *project, char **extra, size_t n_extra,
                   bool update, esp01_mip_result *out, bool *found, bool *locked);

/* Put the files into `tree`; a file that is already there (the project's
 * own) fails with one message.  0, or an exit code. */
int mipcli_add_to_tree(const esp01_mip_result *r, esp01_tree *tree);

/* Drop package.json and esp01.lock from the tree (they are the host's). */
void mipcli_drop_project_files(esp01_tree *tree);

/* Split "a,b,c" into a malloc'd array; false when out of memory. */
bool mipcli_split(const char *list, char ***out, size_t *n);
void mipcli_free_list(char **list, size_t n);

#endif
