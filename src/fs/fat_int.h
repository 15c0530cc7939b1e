/*
 * fat_int.h - what the FAT files share: on-disk constants, cluster and FAT
 * entry arithmetic, and the FAT timestamp conversions.
 *
 * fat.c owns the boot sector (geometry) and timestamps, fat_write.c lays out
 * a new volume, fat_read.c walks and checks an existing one.  The helpers
 * here are small and hot, so they are inline rather than calls across files.
 */
#ifndef ESP01_FAT_INT_H
#define ESP01_FAT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "esp01/fat.h"
#include "util/bytes.h"

#define DIRENT 32
#define ATTR_VOLUME 0x08
#define ATTR_DIR 0x10
#define ATTR_ARCHIVE 0x20
#define ATTR_LFN 0x0F
#define NT_LOWER_BODY 0x08
#define NT_LOWER_EXT 0x10
#define LFN_CHARS 13

/* FAT date/time of an entry's mtime (2000-01-01 when it has none), clamped
   to the range FAT can hold. */
void fat_time_of(const esp01_entry *e, uint16_t *date, uint16_t *time);
/* Nanoseconds since 1970 of a FAT date/time, read as UTC. */
uint64_t fat_ns_of_time(uint16_t date, uint16_t time);

static inline size_t cluster_bytes(const esp01_fat_geometry *g)
{
    return (size_t)g->sector_size * g->sectors_per_cluster;
}

static inline size_t cluster_offset(const esp01_fat_geometry *g, uint32_t c)
{
    return ((size_t)g->data_start + (size_t)(c - 2) * g->sectors_per_cluster) *
           g->sector_size;
}

/* The geometry guarantees every entry 0..cluster_count+1 lies in the FAT. */
static inline uint32_t fat_get(const uint8_t *fat, int bits, uint32_t c)
{
    if (bits == 12) {
        uint32_t v = esp01_le16(fat + c + c / 2);
        return c & 1 ? v >> 4 : v & 0xFFF;
    }
    return esp01_le16(fat + 2 * (size_t)c);
}

static inline void fat_put(uint8_t *fat, int bits, uint32_t c, uint32_t v)
{
    if (bits == 12) {
        uint8_t *p = fat + c + c / 2;
        if (c & 1) {
            p[0] = (uint8_t)((p[0] & 0x0F) | (v << 4 & 0xF0));
            p[1] = (uint8_t)(v >> 4);
        } else {
            p[0] = (uint8_t)v;
            p[1] = (uint8_t)((p[1] & 0xF0) | (v >> 8 & 0x0F));
        }
        return;
    }
    esp01_put_le16(fat + 2 * (size_t)c, (uint16_t)v);
}

static inline uint32_t fat_eoc(int bits) { return bits == 12 ? 0xFFF : 0xFFFF; }
static inline uint32_t fat_bad(int bits) { return bits == 12 ? 0xFF7 : 0xFFF7; }

/* Long-name checksum of an 11-byte short name (rotate right, add). */
static inline uint8_t sfn_checksum(const uint8_t sfn[11])
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sfn[i]);
    return sum;
}

#endif
