/*
 * layout.c - MicroPython's ESP8266 flash map, per build variant and release.
 *
 * Every number here is read from MicroPython's git history (docs/layouts.md
 * lists tag + file for each row).  The firmware computes its filesystem at
 * boot in modules/flashbdev.py from two inputs: esp.flash_size() (header
 * byte 3) and esp.flash_user_start(), which modesp.c returns as the linker
 * symbol _firmware_size = end of irom0_0_seg - 0x40200000 (esp8266_common.ld),
 * plus the ROMFS partition size in ROMFS builds (modesp.c, v1.25.0+).
 *
 * flashbdev.py, v1.9 to v1.12:
 *     START_SEC = flash_user_start // 4096 + 1        (RESERVED_SECS = 1)
 *     blocks = (size - 20480) // 4096 - START_SEC     (no FS if size < 1 MiB)
 * flashbdev.py, v1.13 to v1.28.0 and master:
 *     start_sec = flash_user_start // 4096; +1 if start_sec < 256
 *     blocks = (size - 20480) // 4096 - start_sec     (no FS if size < 1 MiB)
 */
#include "esp01/layout.h"

#include <stdio.h>
#include <string.h>

#include "util/bytes.h"

const uint32_t esp01_chip_sizes[ESP01_CHIP_SIZE_COUNT] = {
    512u * 1024, 1u << 20, 2u << 20, 4u << 20, 8u << 20, 16u << 20,
};

/*
 * A firmware's place in release history, as one comparable number: a
 * release R is 2*R; a build after R ("v1.12-340-gabc", "v1.22.1-dirty") is
 * 2*R + 1; a preview of R ("v1.23.0-preview.5.gabc") is 2*R - 1.  A table
 * row covers a closed range of these keys, so a development build is only
 * accepted when the releases on both sides of it share the layout.
 */
#define REL(maj, min, pat) (2u * ((uint32_t)(maj) << 16 | (uint32_t)(min) << 8 | (pat)))

typedef enum reserve_rule {
    RESERVE_NONE,      /* no filesystem code in this build */
    RESERVE_ALWAYS,    /* v1.9-v1.12: RESERVED_SECS = 1 */
    RESERVE_BELOW_256  /* v1.13+: one sector if start_sec < 256 */
} reserve_rule;

struct layout_row {
    esp01_variant variant;
    uint32_t first, last;   /* release keys, inclusive */
    uint32_t irom_end;      /* end of irom0_0_seg, as a flash offset */
    uint32_t romfs_size;    /* ROMFS partition right after irom0 */
    uint32_t min_chip;
    reserve_rule reserve;
    esp01_fs_kind fs_default;
    const char *build;
    const char *releases;
    const char *source;
};

/*
 * Sources (MicroPython git tags; "ld" = irom0_0_seg in that linker script):
 * - 512K: ld esp8266_512k.ld (v1.9-v1.20.0, len 0x72000 then
 *   512K - 36K - 20K) and esp8266_512kiB.ld (v1.21.0+): irom0 ends 0x7B000.
 *   v1.9-v1.11 built it with mpconfigport_512k.h (MICROPY_VFS 0); from
 *   v1.16 boards/.../_boot.py sets up no block device.  No filesystem.
 * - 2M+ before v1.13: one "ESP module" build for every chip of 1 MiB and
 *   up, ld esp8266.ld len 0x8f000 -> irom0 ends 0x98000; flashbdev.py with
 *   RESERVED_SECS = 1; inisetup.py formats VfsFat.
 * - 1M (v1.13+): ld esp8266_1m.ld / esp8266_1MiB.ld len 572K -> 0x98000;
 *   inisetup.py formats VfsLfs2.
 * - 2M+ (v1.13+): ld esp8266_2m.ld / esp8266_2MiB.ld len 1M - 36K ->
 *   0x100000; VfsLfs2 formatted, VfsFat built in.  Its code fits a 1 MiB
 *   chip and boots to the REPL there, but flashbdev.py's formula puts the
 *   filesystem at 0x100000, the chip's end: no filesystem (esp8266-facts
 *   3), the trap many ESP-01 owners fell into.
 * - 2M ROMFS (v1.25.0+): ld esp8266_2MiB_ROMFS.ld len 1M - 36K - 320K ->
 *   0xB0000, FLASH_ROMFS 320K at 0xB0000; flash_user_start 0x100000.
 * Checked up to master 1c3c201 (v1.29.0-preview, 2026-08-19).
 */
static const struct layout_row rows[] = {
    {ESP01_VARIANT_512K, REL(1, 9, 0), REL(1, 29, 0) - 1, 0x7B000, 0,
     512u * 1024, RESERVE_NONE, ESP01_FS_NONE, "512K", "v1.9 to v1.29.0-preview",
     "ports/esp8266/esp8266_512k.ld, boards/esp8266_512kiB.ld"},
    {ESP01_VARIANT_GENERIC, REL(1, 9, 0), REL(1, 12, 0), 0x98000, 0, 1u << 20,
     RESERVE_ALWAYS, ESP01_FS_FAT, "generic 1M+", "v1.9 to v1.12",
     "esp8266.ld (irom0 0x8f000), modules/flashbdev.py, modules/inisetup.py"},
    {ESP01_VARIANT_1M, REL(1, 13, 0), REL(1, 29, 0) - 1, 0x98000, 0, 1u << 20,
     RESERVE_BELOW_256, ESP01_FS_LITTLEFS, "1M", "v1.13 to v1.29.0-preview",
     "boards/esp8266_1m.ld, esp8266_1MiB.ld (irom0 572K), modules/flashbdev.py"},
    {ESP01_VARIANT_GENERIC, REL(1, 13, 0), REL(1, 29, 0) - 1, 0x100000, 0,
     1u << 20, RESERVE_BELOW_256, ESP01_FS_LITTLEFS, "2M+", "v1.13 to v1.29.0-preview",
     "boards/esp8266_2m.ld, esp8266_2MiB.ld (irom0 1M-36K), modules/flashbdev.py"},
    {ESP01_VARIANT_2M_ROMFS, REL(1, 25, 0), REL(1, 29, 0) - 1, 0xB0000, 0x50000,
     2u << 20, RESERVE_BELOW_256, ESP01_FS_LITTLEFS, "2M-ROMFS", "v1.25.0 to v1.29.0-preview",
     "boards/esp8266_2MiB_ROMFS.ld (irom0 1M-36K-320K, ROMFS 320K), modesp.c"},
};
#define ROW_COUNT (sizeof rows / sizeof rows[0])

static const struct layout_row *newest_row(esp01_variant variant)
{
    const struct layout_row *best = NULL;
    for (size_t i = 0; i < ROW_COUNT; i++)
        if (rows[i].variant == variant && (!best || rows[i].last > best->last))
            best = &rows[i];
    return best;
}

static uint32_t release_key(const esp01_image_info *info)
{
    uint32_t k = REL(info->version_major, info->version_minor, info->version_patch);
    if (!info->version_dev)
        return k;
    return strstr(info->version, "-preview") ? k - 1 : k + 1;
}

static void size_text(uint32_t bytes, char *out, size_t n)
{
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
        snprintf(out, n, "%u MiB", (unsigned)(bytes >> 20));
    else
        snprintf(out, n, "%u KiB", (unsigned)(bytes >> 10));
}

static void compute(const struct layout_row *row, uint32_t firmware_end,
                    uint32_t chip_size, esp01_layout *l)
{
    memset(l, 0, sizeof *l);
    l->chip_size = chip_size;
    l->firmware_end = firmware_end;
    l->user_start = row->irom_end + row->romfs_size;
    l->sdk_start = chip_size > ESP01_SDK_RESERVED ? chip_size - ESP01_SDK_RESERVED : 0;
    l->fs_default = row->fs_default;
    l->build = row->build;
    l->releases = row->releases;
    l->source = row->source;
    if (row->romfs_size) {
        l->romfs_start = row->irom_end;
        l->romfs_size = row->romfs_size;
    }
    char need[16], have[16];
    size_text(row->min_chip, need, sizeof need);
    size_text(chip_size, have, sizeof have);
    if (chip_size < row->min_chip) {
        snprintf(l->why_not, sizeof l->why_not,
                 "the %s build needs at least %s of flash (its firmware region ends at 0x%X)",
                 row->build, need,
                 (unsigned)(row->irom_end + row->romfs_size));
        return;
    }
    if (firmware_end > l->sdk_start) {
        snprintf(l->why_not, sizeof l->why_not,
                 "the firmware (0x%X bytes) runs into the SDK area at 0x%X of a %s chip",
                 (unsigned)firmware_end, (unsigned)l->sdk_start, have);
        return;
    }
    l->runs = true;
    if (row->reserve == RESERVE_NONE) {
        snprintf(l->why_not, sizeof l->why_not,
                 "the %s build has no filesystem", row->build);
        return;
    }
    if (chip_size < (1u << 20)) {
        /* flashbdev.py: bdev = None when esp.flash_size() < 1 MiB */
        snprintf(l->why_not, sizeof l->why_not,
                 "MicroPython makes no filesystem on a chip under 1 MiB");
        return;
    }
    uint32_t start_sec = l->user_start / ESP01_SECTOR;
    if (row->reserve == RESERVE_ALWAYS ||
        (row->reserve == RESERVE_BELOW_256 && start_sec < 256)) {
        l->reserved_start = start_sec * ESP01_SECTOR;
        start_sec++;
    }
    uint32_t end_sec = l->sdk_start / ESP01_SECTOR;
    if (start_sec * ESP01_SECTOR >= chip_size) {
        snprintf(l->why_not, sizeof l->why_not,
                 "boots to the REPL, but MicroPython's layout puts the %s build's "
                 "filesystem at 0x%X, past the end of a %s chip: nothing saved "
                 "survives a reset",
                 row->build, (unsigned)(start_sec * ESP01_SECTOR), have);
        return;
    }
    if (end_sec <= start_sec) {
        snprintf(l->why_not, sizeof l->why_not,
                 "no room for a filesystem between 0x%X and the SDK area",
                 (unsigned)(start_sec * ESP01_SECTOR));
        return;
    }
    l->has_fs = true;
    l->fs_start = start_sec * ESP01_SECTOR;
    l->fs_blocks = end_sec - start_sec;
}

static bool valid_chip(uint32_t chip_size)
{
    for (size_t i = 0; i < ESP01_CHIP_SIZE_COUNT; i++)
        if (esp01_chip_sizes[i] == chip_size)
            return true;
    return false;
}

int esp01_layout_for(const esp01_image_info *info, uint32_t chip_size,
                     esp01_layout *layout, esp01_err *err)
{
    memset(layout, 0, sizeof *layout);
    if (!valid_chip(chip_size))
        return esp01_fail(err, ESP01_E_INVAL,
                          "chip size %u is not one of 512K, 1M, 2M, 4M, 8M, 16M",
                          (unsigned)chip_size);
    if (info->ota_bundle)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "layout unknown: an OTA download (yaota8266 boot loader, firmware at 0x3C000); esp01 supports the plain builds");
    if (info->irom_link == 0x40245000u)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "layout unknown: irom0 is linked at 0x40245000, an OTA build (esp8266_ota.ld) meant to sit behind yaota8266");
    if (!info->has_irom)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "layout unknown: no MicroPython irom0 length word at 0x8FFC");
    if (!info->has_version)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "layout unknown: no MicroPython version text in the firmware");
    if (info->variant == ESP01_VARIANT_UNKNOWN)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "layout unknown: no \"ESP module\" board name in the firmware (%s)",
                          info->version);
    uint32_t key = release_key(info);
    const struct layout_row *row = NULL;
    for (size_t i = 0; i < ROW_COUNT && !row; i++)
        if (rows[i].variant == info->variant && key >= rows[i].first &&
            key <= rows[i].last)
            row = &rows[i];
    if (!row) {
        const struct layout_row *n = newest_row(info->variant);
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "layout unknown for the %s build of %s: esp01 knows this build from %s",
                          esp01_variant_name(info->variant), info->version,
                          n ? n->releases : "no release");
    }
    /* The linker script bounds irom0; a longer one is a custom build. */
    if (info->length_word > row->irom_end)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "layout unknown: irom0 ends at 0x%X, past the 0x%X its %s build allows (custom linker script?)",
                          (unsigned)info->length_word, (unsigned)row->irom_end,
                          esp01_variant_name(info->variant));
    compute(row, (uint32_t)info->firmware_len, chip_size, layout);
    return 0;
}

int esp01_layout_for_variant(esp01_variant variant, uint32_t chip_size,
                             esp01_layout *layout, esp01_err *err)
{
    memset(layout, 0, sizeof *layout);
    if (!valid_chip(chip_size))
        return esp01_fail(err, ESP01_E_INVAL,
                          "chip size %u is not one of 512K, 1M, 2M, 4M, 8M, 16M",
                          (unsigned)chip_size);
    const struct layout_row *row = newest_row(variant);
    if (!row)
        return esp01_fail(err, ESP01_E_UNSUPPORTED, "unknown firmware variant");
    /* No file: the firmware may fill its whole irom0 region. */
    compute(row, row->irom_end, chip_size, layout);
    return 0;
}

const char *esp01_fs_probe_name(esp01_fs_probe probe)
{
    switch (probe) {
    case ESP01_PROBE_ERASED: return "erased";
    case ESP01_PROBE_LITTLEFS: return "littlefs";
    case ESP01_PROBE_FAT: return "fat";
    case ESP01_PROBE_OTHER: return "other";
    default: return "past end";
    }
}

esp01_fs_probe esp01_fs_probe_at(const uint8_t *buf, size_t len, uint32_t offset)
{
    if (!esp01_in_range(len, offset, 512))
        return ESP01_PROBE_PAST_END;
    for (size_t b = 0; b < 2; b++) {
        size_t at = (size_t)offset + b * ESP01_SECTOR + 8;
        if (esp01_in_range(len, at, 8) && memcmp(buf + at, "littlefs", 8) == 0)
            return ESP01_PROBE_LITTLEFS;
    }
    const uint8_t *p = buf + offset;
    /* FAT boot sector: x86 jump, signature, and the type text of FAT12/16
     * (offset 54) or FAT32 (offset 82). */
    if ((p[0] == 0xEB || p[0] == 0xE9) && p[510] == 0x55 && p[511] == 0xAA &&
        (memcmp(p + 54, "FAT", 3) == 0 || memcmp(p + 82, "FAT", 3) == 0))
        return ESP01_PROBE_FAT;
    size_t n = esp01_in_range(len, offset, ESP01_SECTOR) ? ESP01_SECTOR : len - offset;
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0xFF)
            return ESP01_PROBE_OTHER;
    return ESP01_PROBE_ERASED;
}
