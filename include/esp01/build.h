/*
 * build.h - stock firmware + file tree -> one flash image.
 *
 * The image is what gets written at flash offset 0: the firmware with
 * header bytes 2-3 set for the target chip, 0xFF up to the filesystem
 * start, then a filesystem partition of exactly the block count the
 * firmware will compute at boot on that chip.  It ends where the SDK's
 * last 20 KiB begin, which are never shipped.  With `fs_only` (or without
 * firmware) only the partition is produced, to be written at fs_start.
 */
#ifndef ESP01_BUILD_H
#define ESP01_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/fs.h"
#include "esp01/image.h"
#include "esp01/layout.h"
#include "esp01/tree.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp01_build_options {
    uint32_t chip_size;   /* bytes; the ESP-01's 1 MiB by default */
    int flash_mode;       /* esp01_flash_mode; DOUT by default */
    int flash_freq;       /* esp01_flash_freq; 40 MHz by default */
    esp01_fs_kind fs;     /* ESP01_FS_NONE: what the firmware formats itself */
    bool fs_only;         /* produce only the partition */
    /* Without firmware: which variant the partition is laid out for. */
    esp01_variant variant;
} esp01_build_options;

/* 1 MiB, DOUT, 40 MHz, firmware's own FS, whole image, 1M variant. */
void esp01_build_defaults(esp01_build_options *opt);

typedef struct esp01_build_result {
    bool have_firmware;
    esp01_image_info firmware; /* when have_firmware */
    esp01_layout layout;
    esp01_fs_kind fs;
    esp01_fs_usage usage;
    uint32_t write_offset;     /* where `image` goes in flash */
    uint8_t *image;            /* malloc'd; esp01_build_result_free() */
    size_t image_len;
} esp01_build_result;

/*
 * Build the image for `tree` (normalised inside on a private copy).
 * `firmware` may be NULL (then a partition for opt->variant is built and
 * result->write_offset says where it goes).  Fails, with the reason in
 * `err`, when the firmware is malformed or fails its checksum/MD5, has no
 * filesystem on this chip, cannot run on it, does not mount the asked FS,
 * or when the files do not fit.
 */
int esp01_build(const uint8_t *firmware, size_t firmware_len,
                const esp01_tree *tree, const esp01_build_options *opt,
                esp01_build_result *result, esp01_err *err);

void esp01_build_result_free(esp01_build_result *result);

/*
 * Largest .py source the ESP8266 can compile on its ~30 KB free heap
 * (about 3x the source size is needed): larger modules should ship as .mpy.
 */
#define ESP01_PY_COMPILE_LIMIT 8192u

#ifdef __cplusplus
}
#endif

#endif
