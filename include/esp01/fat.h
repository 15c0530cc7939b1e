/*
 * fat.h - FAT12/16 partitions as MicroPython's VfsFat makes and mounts them.
 *
 * MicroPython formats a FAT partition with oofatfs `f_mkfs(FM_FAT | FM_SFD)`
 * on a block device of 4096-byte sectors: no partition table, one reserved
 * sector, one FAT, 512 root directory entries, cluster size and FAT12/FAT16
 * chosen from the sector count.  esp01_fat_write() lays a partition out with
 * exactly those parameters and fills it with a tree; esp01_fat_read() and
 * esp01_fat_check() read any FAT12/16 volume (sector size 512..4096, any
 * cluster size, one or more FATs) without a partition table.
 *
 * Names: FAT stores names case-insensitively, so two names that differ only
 * in ASCII case are one name there; the writer refuses such a tree.  Names
 * that do not fit 8.3 (or mix cases) get VFAT long-name entries and a short
 * alias with a ~N tail generated the way FatFs generates it.  The writer
 * accepts printable ASCII names only: MicroPython's FatFs reads non-ASCII
 * bytes as code page 437, not UTF-8, so such a name would not survive the
 * trip.  The reader turns long names into UTF-8.
 *
 * Times: FAT keeps local time in 2-second steps from 1980 to 2107.  The
 * writer stores each entry's mtime (taken as UTC) when it has one, and
 * 2000-01-01 00:00:00 (the ESP8266's clock after boot) otherwise; the reader
 * reports the stored time as UTC.
 *
 * All functions work on caller-owned buffers; the reader allocates only the
 * entries of the tree it returns (free with esp01_tree_free()), bounded by
 * the image size.  Input is treated as hostile.
 */
#ifndef ESP01_FAT_H
#define ESP01_FAT_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/fs.h"
#include "esp01/tree.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sector size MicroPython's ESP8266 block device reports. */
#define ESP01_FAT_SECTOR 4096
/* Fixed volume serial written by esp01_fat_write() (FatFs uses the clock). */
#define ESP01_FAT_SERIAL 0x45303031u

/* Geometry of a FAT volume, from its boot sector. */
typedef struct esp01_fat_geometry {
    uint32_t sector_size;
    uint32_t sectors_per_cluster;
    uint32_t reserved_sectors;
    uint32_t fat_count;
    uint32_t fat_sectors;      /* of one FAT */
    uint32_t root_entries;
    uint32_t total_sectors;
    uint32_t data_start;       /* first sector of cluster 2 */
    uint32_t cluster_count;    /* data clusters (numbered 2..cluster_count+1) */
    int fat_bits;              /* 12 or 16 */
    uint8_t media;
    uint32_t serial;
} esp01_fat_geometry;

/*
 * Geometry MicroPython's VfsFat.mkfs gives a device of `block_count`
 * 4096-byte sectors.  Fails with ESP01_E_NOSPACE when FatFs would refuse to
 * format it (fewer than 50 sectors) and ESP01_E_UNSUPPORTED when it would
 * need FAT32.
 */
int esp01_fat_plan(uint32_t block_count, esp01_fat_geometry *geo,
                   esp01_err *err);

/*
 * Format `out` (out_len must be block_count * 4096) as VfsFat.mkfs does and
 * write `tree` into it.  The tree is not modified.  Unused data clusters are
 * left erased (0xFF), as on a freshly erased flash.  `usage` (may be NULL)
 * receives cluster size, data clusters and clusters in use, which is what
 * os.statvfs() on the device reports.  ESP01_E_NOSPACE when the tree does
 * not fit (more clusters than the volume has, or more than 512 entries in
 * the root directory); ESP01_E_EXISTS for names FAT cannot tell apart;
 * ESP01_E_INVAL / ESP01_E_UNSUPPORTED for names FAT cannot store.  On
 * failure `out` holds no usable image.
 */
int esp01_fat_write(const esp01_tree *tree, uint32_t block_count, uint8_t *out,
                    size_t out_len, esp01_fs_usage *usage, esp01_err *err);

/* Parse and sanity-check the boot sector of a FAT12/16 volume in buf. */
int esp01_fat_geometry_read(const uint8_t *buf, size_t len,
                            esp01_fat_geometry *geo, esp01_err *err);

/*
 * Read every file and directory of the volume in buf into `out` (an empty
 * tree; paths in on-disk order, parents before children).  Any
 * inconsistency that makes a file's contents uncertain (a chain that loops,
 * ends early or is shared with another file, a cluster out of range, a name
 * that could escape an extraction directory) fails with ESP01_E_FORMAT;
 * a longer-than-needed chain does not.  On failure `out` is emptied.
 */
int esp01_fat_read(const uint8_t *buf, size_t len, esp01_tree *out,
                   esp01_err *err);

/* Receives one line per inconsistency found by esp01_fat_check(). */
typedef void (*esp01_fat_issue_fn)(void *ctx, const char *msg);

/*
 * Walk the whole volume and report every inconsistency through `issue`
 * (may be NULL): bad boot sector fields, FAT entries pointing outside the
 * volume, chains that loop or are shared (cross-links), file sizes that do
 * not match their chains, bad directory entries and names, orphaned long
 * name entries, and allocated clusters nothing refers to.  Returns the
 * number of issues (0: clean), or a negative code when the volume cannot be
 * walked at all (not FAT12/16, truncated).
 */
int esp01_fat_check(const uint8_t *buf, size_t len, esp01_fat_issue_fn issue,
                    void *ctx, esp01_err *err);

/*
 * Clusters in use as statvfs on the device counts them: every FAT entry that
 * is not free, over the data clusters.
 */
int esp01_fat_usage(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                    esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
