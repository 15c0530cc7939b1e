/*
 * fwindex.h - MicroPython's official ESP8266 downloads: the firmware file
 * names micropython.org publishes and the board page that links them.
 *
 * There is no machine-readable release list: the board page
 * (/download/ESP8266_GENERIC/) is HTML whose links point at
 * /resources/firmware/NAME.bin.  Names follow two schemes:
 *
 *   ESP8266_GENERIC[-VARIANT]-YYYYMMDD-vX.Y[.Z][-preview.N.gHASH].bin
 *       VARIANT: FLASH_1M, FLASH_512K, FLASH_2M_ROMFS, OTA (v1.21 on, and
 *       older releases republished under these names)
 *   esp8266[-1m|-512k|-ota]-YYYYMMDD-[unstable-]vX.Y[.Z][-N-gHASH].bin
 *       (how builds before v1.21 were first published)
 *
 * The page is hostile input: only the file name is taken from a link, and
 * only when it is a well-formed name of the schemes above; the URL to
 * download is always rebuilt from the configured base and that name.
 */
#ifndef ESP01_FWINDEX_H
#define ESP01_FWINDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/image.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The board page, relative to the base URL. */
#define ESP01_FW_PAGE_PATH "/download/ESP8266_GENERIC/"
/* Where the files are, relative to the base URL. */
#define ESP01_FW_FILES_PATH "/resources/firmware/"
/* Links taken from one page at most (the real page has a few hundred). */
#define ESP01_FW_PAGE_MAX_LINKS 4096u

typedef enum esp01_fw_variant {
    ESP01_FW_GENERIC = 0, /* ESP8266_GENERIC: 2 MiB and up */
    ESP01_FW_1M,          /* -FLASH_1M */
    ESP01_FW_512K,        /* -FLASH_512K: no filesystem */
    ESP01_FW_2M_ROMFS,    /* -FLASH_2M_ROMFS (v1.25+) */
    ESP01_FW_OTA,         /* -OTA: yaota8266 + firmware (to v1.27) */
    ESP01_FW_VARIANT_COUNT
} esp01_fw_variant;

/* "generic", "1M", "512K", "2M-ROMFS", "OTA".  Never NULL. */
const char *esp01_fw_variant_name(esp01_fw_variant v);
/* "ESP8266_GENERIC", "ESP8266_GENERIC-FLASH_1M", ... Never NULL. */
const char *esp01_fw_variant_board(esp01_fw_variant v);
/* Any of the two names above, case-insensitive, or "2M", "2M+",
 * "FLASH_1M", "romfs"; negative if none. */
int esp01_fw_variant_parse(const char *s);
/* What esp01_image_parse() reports for a build of this variant (an OTA
 * download holds a generic build). */
esp01_variant esp01_fw_variant_image(esp01_fw_variant v);
/* The variant for a chip of `chip_size` bytes that has a filesystem:
 * 1 MiB -> 1M, 2 MiB and up -> generic; negative below 1 MiB. */
int esp01_fw_variant_for_chip(uint32_t chip_size);

typedef enum esp01_fw_kind {
    ESP01_FW_RELEASE = 0,
    ESP01_FW_PREVIEW = 1, /* -preview.N.gHASH: leads up to the release named */
    ESP01_FW_DEV = 2      /* -N-gHASH: N commits after the release named */
} esp01_fw_kind;

typedef struct esp01_fw_version {
    uint16_t major, minor, patch;
    esp01_fw_kind kind;
    uint32_t build;  /* N of a preview or dev build */
    char tag[64];    /* as published: "v1.24.1", "v1.25.0-preview.3.gab12cd3" */
} esp01_fw_version;

/* "v1.24.1", "1.24.1", "1.24", "v1.25.0-preview.3.gab12cd3",
 * "v1.17-333-gcb5d2136c".  0 or ESP01_E_FORMAT. */
int esp01_fw_version_parse(const char *s, size_t len, esp01_fw_version *out);
/* <0, 0, >0 as `a` is older, the same, newer than `b`. */
int esp01_fw_version_cmp(const esp01_fw_version *a, const esp01_fw_version *b);
/* Does `have` satisfy what a user asked for with `want`?  A release
 * number matches that release only (1.10 = 1.10.0); a preview or dev tag
 * matches that exact build. */
bool esp01_fw_version_matches(const esp01_fw_version *want,
                              const esp01_fw_version *have);

typedef struct esp01_fw_file {
    char name[128];         /* "ESP8266_GENERIC-FLASH_1M-20241129-v1.24.1.bin" */
    esp01_fw_variant variant;
    bool old_name;          /* the esp8266-... scheme */
    char date[11];          /* "2024-11-29", from the name */
    esp01_fw_version version;
    uint64_t size;          /* bytes when known (a cached file), else 0 */
} esp01_fw_file;

/* Parse one file name (not a path).  0 or ESP01_E_FORMAT. */
int esp01_fw_name_parse(const char *name, size_t len, esp01_fw_file *out);

typedef struct esp01_fw_list {
    esp01_fw_file *files;   /* malloc'd; esp01_fw_list_free() */
    size_t count, cap;
} esp01_fw_list;

/*
 * Add every firmware file the page links to (href values ending in
 * /resources/firmware/NAME with a valid NAME), once each; a release
 * published under both schemes is kept under its new name.  Returns how
 * many were added, or a negative code (ESP01_E_NOMEM).
 */
int esp01_fw_page_parse(const uint8_t *buf, size_t len, esp01_fw_list *list,
                        esp01_err *err);
/* Add one file unless the list has it (same variant and version tag);
 * 1 added, 0 already there, or a negative code. */
int esp01_fw_list_add(esp01_fw_list *list, const esp01_fw_file *f,
                      esp01_err *err);
/* Newest version first; within one version, variants in enum order. */
void esp01_fw_list_sort(esp01_fw_list *list);
/*
 * The file of `variant` that `want` names, or the newest release (not a
 * preview or dev build) when `want` is NULL.  NULL if there is none.
 */
const esp01_fw_file *esp01_fw_list_pick(const esp01_fw_list *list,
                                        esp01_fw_variant variant,
                                        const esp01_fw_version *want);
void esp01_fw_list_free(esp01_fw_list *list);

#ifdef __cplusplus
}
#endif

#endif
