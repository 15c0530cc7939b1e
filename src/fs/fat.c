/*
 * fat.c - FAT12/16 volumes (see include/esp01/fat.h): the boot sector's
 * geometry, both as FatFs f_mkfs plans it and as read from an image, the
 * FAT timestamp conversions, and the usage count of an image.
 *
 * The writer (fat_write.c) and the reader/checker (fat_read.c) both build on
 * this; what they share beyond the public API is in fat_int.h.
 */
#include "esp01/fat.h"

#include <string.h>

#include "fat_int.h"

/* FatFs's limits: at most this many clusters for FAT12, FAT16. */
#define MAX_FAT12 0xFF5u
#define MAX_FAT16 0xFFF5u
#define ROOT_ENTRIES 512u
/* 2000-01-01 00:00:00: the ESP8266's idea of "now" before anything sets it. */
#define DEFAULT_FAT_DATE ((20u << 9) | (1u << 5) | 1u)
#define DEFAULT_FAT_TIME 0u

/* ------------------------------------------------------------------ */
/* Dates                                                                */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}
void fat_time_of(const esp01_entry *e, uint16_t *date, uint16_t *time)
{
    if (!e || !e->has_mtime) {
        *date = DEFAULT_FAT_DATE;
        *time = DEFAULT_FAT_TIME;
        return;
    }
    int64_t secs = (int64_t)(e->mtime_ns / 1000000000u);
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1980) {
        *date = (1u << 5) | 1u;
        *time = 0;
        return;
    }
    if (y > 2107) {
        *date = (uint16_t)((127u << 9) | (12u << 5) | 31u);
        *time = (uint16_t)((23u << 11) | (59u << 5) | 29u);
        return;
    }
    *date = (uint16_t)(((unsigned)(y - 1980) << 9) | (m << 5) | d);
    unsigned hh = (unsigned)(rem / 3600), mm = (unsigned)(rem / 60 % 60),
             ss = (unsigned)(rem % 60);
    *time = (uint16_t)((hh << 11) | (mm << 5) | (ss / 2));
}
uint64_t fat_ns_of_time(uint16_t date, uint16_t time)
{
    unsigned m = (date >> 5) & 15, d = date & 31;
    if (m < 1 || m > 12)
        m = 1;
    if (d < 1)
        d = 1;
    int64_t days = days_from_civil(1980 + (date >> 9), m, d);
    int64_t secs = days * 86400 + (int64_t)(time >> 11) * 3600 +
                   (int64_t)((time >> 5) & 63) * 60 + (int64_t)(time & 31) * 2;
    return (uint64_t)secs * 1000000000u;
}

/* ------------------------------------------------------------------ */
/* Geometry                                                             */

int esp01_fat_plan(uint32_t block_count, esp01_fat_geometry *geo,
                   esp01_err *err)
{
    /* f_mkfs with au = 0: cluster size from a table of volume sizes in
     * units of 4096 sectors, growing while FAT16 would get too few or too
     * many clusters. */
    static const uint32_t size_steps[] = {1, 4, 16, 64, 256, 512};
    const uint32_t ss = ESP01_FAT_SECTOR;
    if (block_count < 50)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "a FAT volume needs at least 50 blocks of 4096 "
                          "bytes, not %u", (unsigned)block_count);
    if (block_count > 0xFFFFu * 128u)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "%u blocks is too large for FAT12/16",
                          (unsigned)block_count);
    uint32_t au = 0;
    for (int attempt = 0; attempt < 16; attempt++) {
        uint32_t pau = au;
        if (pau == 0) {
            uint32_t units = block_count / 0x1000;
            pau = 1;
            for (size_t i = 0; i < sizeof size_steps / sizeof *size_steps &&
                               size_steps[i] <= units;
                 i++)
                pau <<= 1;
        }
        uint32_t nclst = block_count / pau, fat_bytes;
        int bits = 16;
        if (nclst > MAX_FAT12) {
            fat_bytes = nclst * 2 + 4;
        } else {
            bits = 12;
            fat_bytes = (nclst * 3 + 1) / 2 + 3;
        }
        uint32_t fat_sectors = (fat_bytes + ss - 1) / ss;
        uint32_t root_sectors = ROOT_ENTRIES * DIRENT / ss;
        uint32_t data_start = 1 + fat_sectors + root_sectors;
        if (block_count < data_start + pau * 16)
            return esp01_fail(err, ESP01_E_NOSPACE,
                              "%u blocks is too small for a FAT volume",
                              (unsigned)block_count);
        nclst = (block_count - data_start) / pau;
        if (bits == 16) {
            if (nclst > MAX_FAT16 || nclst <= MAX_FAT12) {
                if (au != 0 || pau * 2 > 128)
                    break;
                au = pau * 2;
                continue;
            }
        } else if (nclst > MAX_FAT12) {
            break;
        }
        memset(geo, 0, sizeof *geo);
        geo->sector_size = ss;
        geo->sectors_per_cluster = pau;
        geo->reserved_sectors = 1;
        geo->fat_count = 1;
        geo->fat_sectors = fat_sectors;
        geo->root_entries = ROOT_ENTRIES;
        geo->total_sectors = block_count;
        geo->data_start = data_start;
        geo->cluster_count = nclst;
        geo->fat_bits = bits;
        geo->media = 0xF8;
        geo->serial = ESP01_FAT_SERIAL;
        return 0;
    }
    return esp01_fail(err, ESP01_E_UNSUPPORTED,
                      "%u blocks cannot be formatted as FAT12/16",
                      (unsigned)block_count);
}

int esp01_fat_geometry_read(const uint8_t *buf, size_t len,
                            esp01_fat_geometry *geo, esp01_err *err)
{
    if (len < 512)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "%zu bytes is too short for a FAT boot sector", len);
    if (esp01_le16(buf + 510) != 0xAA55)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "no FAT boot sector (no 55 AA signature at 510)");
    uint32_t ss = esp01_le16(buf + 11);
    uint32_t spc = buf[13];
    uint32_t rsv = esp01_le16(buf + 14);
    uint32_t nfats = buf[16];
    uint32_t nroot = esp01_le16(buf + 17);
    uint32_t tot = esp01_le16(buf + 19);
    uint32_t fatsz = esp01_le16(buf + 22);
    if (tot == 0)
        tot = esp01_le32(buf + 32);
    if (ss != 512 && ss != 1024 && ss != 2048 && ss != 4096)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: bad sector size %u", (unsigned)ss);
    if (spc == 0 || (spc & (spc - 1)))
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: bad sectors per cluster %u",
                          (unsigned)spc);
    if (rsv == 0)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: no reserved sectors");
    if (nfats != 1 && nfats != 2)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: %u FATs (1 or 2 expected)",
                          (unsigned)nfats);
    if (fatsz == 0)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "FAT32 volume (only FAT12/16 are supported)");
    if (nroot == 0 || nroot % (ss / DIRENT))
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: bad root directory size %u",
                          (unsigned)nroot);
    uint64_t sys = (uint64_t)rsv + (uint64_t)fatsz * nfats + nroot * DIRENT / ss;
    if (tot < sys + spc)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: %u sectors leave no room for data",
                          (unsigned)tot);
    uint32_t nclst = (uint32_t)((tot - sys) / spc);
    if (nclst > MAX_FAT16)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "%u clusters: a FAT32 volume (only FAT12/16 are "
                          "supported)", (unsigned)nclst);
    int bits = nclst <= MAX_FAT12 ? 12 : 16;
    uint64_t entries = (uint64_t)nclst + 2;
    uint64_t need = bits == 12 ? entries * 3 / 2 + (entries & 1) : entries * 2;
    if ((uint64_t)fatsz * ss < need)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: FAT of %u sectors is too small for "
                          "%u clusters", (unsigned)fatsz, (unsigned)nclst);
    if ((uint64_t)tot * ss > len)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "image is truncated: %zu bytes, the volume needs "
                          "%llu", len, (unsigned long long)tot * ss);
    memset(geo, 0, sizeof *geo);
    geo->sector_size = ss;
    geo->sectors_per_cluster = spc;
    geo->reserved_sectors = rsv;
    geo->fat_count = nfats;
    geo->fat_sectors = fatsz;
    geo->root_entries = nroot;
    geo->total_sectors = tot;
    geo->data_start = (uint32_t)sys;
    geo->cluster_count = nclst;
    geo->fat_bits = bits;
    geo->media = buf[21];
    geo->serial = buf[38] == 0x29 ? esp01_le32(buf + 39) : 0;
    return 0;
}

int esp01_fat_usage(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                    esp01_err *err)
{
    esp01_fat_geometry g;
    int rc = esp01_fat_geometry_read(buf, len, &g, err);
    if (rc < 0)
        return rc;
    const uint8_t *fat = buf + (size_t)g.reserved_sectors * g.sector_size;
    uint32_t used = 0;
    for (uint32_t c = 2; c < g.cluster_count + 2; c++)
        if (fat_get(fat, g.fat_bits, c) != 0)
            used++;
    usage->block_size = (uint32_t)cluster_bytes(&g);
    usage->blocks_total = g.cluster_count;
    usage->blocks_used = used;
    usage->blocks_in_use = used;
    return 0;
}
