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

/* The chip sizes `esp01 info` shows a layout for: 512 KiB to 16 MiB. */
#define ESP01_CHIP_SIZE_COUNT 6
extern const uint32_t esp01_chip_sizes[ESP01_CHIP_SIZE_COUNT];

typedef struct esp01_layout {
    uint32_t chip_size;        /* bytes */
    bool runs;                 /* can this firmware run on this chip at all */
    char why_not[160];         /* when !runs, or when runs but !has_fs */
    uint32_t firmware_end;     /* end of the firmware's bytes (file length) */
    uint32_t user_start;       /* flash_user_start: end of the irom0 region */
    uint32_t reserved_start;   /* sector kept free for native code, or 0 */
    bool has_fs;
    uint32_t fs_start;         /* byte offset of FS block 0 */
    uint32_t fs_blocks;        /* blocks of ESP01_SECTOR bytes */
    esp01_fs_kind fs_default;  /* what the firmware formats when blank */
    uint32_t romfs_start, romfs_size; /* 0 unless a ROMFS variant */
    uint32_t sdk_start;        /* chip_size - 20 KiB */
    /* Where these numbers come from, for the user: the releases the table
     * row covers ("v1.13 to v1.29.0-preview") and the upstream files, and
     * the build's name ("1M"; v1.9-v1.12 had one "generic 1M+" build). */
    const char *build;
    const char *releases;
    const char *source;
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

/* What sits at an offset of a flash dump or build output. */
typedef enum esp01_fs_probe {
    ESP01_PROBE_PAST_END = 0, /* the file ends before the offset */
    ESP01_PROBE_ERASED,       /* first block all 0xFF: the firmware formats it */
    ESP01_PROBE_LITTLEFS,     /* "littlefs" at offset 8 of block 0 or 1 */
    ESP01_PROBE_FAT,          /* FAT boot sector (jump, 0x55AA, "FAT") */
    ESP01_PROBE_OTHER         /* something else: the firmware reports it corrupt */
} esp01_fs_probe;

/* "past end", "erased", "littlefs", "fat", "other".  Never NULL. */
const char *esp01_fs_probe_name(esp01_fs_probe probe);

/*
 * Look at the filesystem start `offset` in `buf` the way MicroPython's
 * vfs.mount() autodetection does (extmod/vfs.c): littlefs v2 by its
 * superblock text in block 0 or 1, else FAT.  Reads only inside `buf`.
 */
esp01_fs_probe esp01_fs_probe_at(const uint8_t *buf, size_t len, uint32_t offset);

#ifdef __cplusplus
}
#endif

#endif
