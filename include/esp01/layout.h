/*
 * layout.h - where MicroPython puts things in flash, per firmware variant
 * and release, on each chip size.
 *
 * The filesystem geometry is not stored anywhere in the firmware: the
 * firmware computes it at boot from esp.flash_size() (header byte 3) and
 * flash_user_start (the end of the irom0 region in the linker script of its
 * variant and release).  esp01 must compute exactly the same numbers, or
 * littlefs refuses the partition ("Invalid block count").
 */
#ifndef ESP01_LAYOUT_H
#define ESP01_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/image.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum esp01_fs_kind {
    ESP01_FS_NONE = 0,
    ESP01_FS_LITTLEFS = 1,
    ESP01_FS_FAT = 2
} esp01_fs_kind;

typedef struct esp01_layout {
    uint32_t chip_size;        /* bytes */
    bool runs;                 /* can this firmware run on this chip at all */
    char why_not[160];         /* when !runs */
    uint32_t firmware_end;     /* end of the firmware's bytes (file length) */
    uint32_t user_start;       /* flash_user_start: end of the irom0 region */
    uint32_t reserved_start;   /* sector kept free for native code, or 0 */
    bool has_fs;
    uint32_t fs_start;         /* byte offset of FS block 0 */
    uint32_t fs_blocks;        /* blocks of ESP01_SECTOR bytes */
    esp01_fs_kind fs_default;  /* what the firmware formats when blank */
    uint32_t romfs_start, romfs_size; /* 0 unless a ROMFS variant */
    uint32_t sdk_start;        /* chip_size - 20 KiB */
} esp01_layout;

/*
 * Compute the layout of the firmware described by `info` on a chip of
 * `chip_size` bytes.  Fails with ESP01_E_UNSUPPORTED (and a reason) when the
 * variant/release is not one whose layout we know: unknown is never guessed.
 * A known firmware that cannot run on this chip (too large, or no FS) gives
 * 0 with layout->runs / has_fs false and why_not set.
 */
int esp01_layout_for(const esp01_image_info *info, uint32_t chip_size,
                     esp01_layout *layout, esp01_err *err);

/*
 * The layout for a variant when there is no firmware file to look at
 * (`esp01 build` without --firmware): today's releases' numbers.
 */
int esp01_layout_for_variant(esp01_variant variant, uint32_t chip_size,
                             esp01_layout *layout, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
