/*
 * fs.h - filesystem partitions, whichever format they are in.
 *
 * A thin layer over littlefs.h and fat.h so that `esp01 build` and
 * `esp01 fs` can write and read a partition without caring which of the two
 * formats MicroPython will mount.  Partition images are caller-owned
 * buffers of block_count * 4096 bytes.
 */
#ifndef ESP01_FS_H
#define ESP01_FS_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/layout.h"
#include "esp01/tree.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct esp01_fs_usage {
    uint32_t block_size;
    uint32_t blocks_total;
    uint32_t blocks_used;    /* what statvfs on the device would call used */
    uint32_t blocks_in_use;  /* blocks really taken: blocks_total minus this
                                is what the device can still allocate */
} esp01_fs_usage;

/* Which format the partition holds (by its superblock / boot sector). */
esp01_fs_kind esp01_fs_detect(const uint8_t *buf, size_t len);

/* Name for messages: "littlefs", "fat", "none". */
const char *esp01_fs_name(esp01_fs_kind kind);

/*
 * Write `tree` as a partition of `block_count` blocks into `out`
 * (out_len must be block_count * 4096), formatted as MicroPython's
 * VfsLfs2 / VfsFat.mkfs would.  `usage` may be NULL.
 */
int esp01_fs_write(esp01_fs_kind kind, const esp01_tree *tree,
                   uint32_t block_count, uint8_t *out, size_t out_len,
                   esp01_fs_usage *usage, esp01_err *err);

/*
 * Blocks a file of `size` bytes takes in a partition of this format, as the
 * device would allocate it (0 for littlefs files stored inline in their
 * directory's metadata).  For the per-file budget report.
 */
uint32_t esp01_fs_file_blocks(esp01_fs_kind kind, size_t size);

/*
 * Blocks in use in the partition in buf, whichever format: the one count
 * `esp01 fs df`, `fs check`, `fs mkfs` and `esp01 build` all report.  For
 * littlefs, blocks_used is what os.statvfs on the board says (each
 * directory's pair counted twice, see esp01_lfs_usage) and blocks_in_use
 * the blocks really taken; for FAT both are the clusters in use.
 */
int esp01_fs_usage_of(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                      esp01_err *err);

/* Read every entry of the partition in buf into `out` (an empty tree). */
int esp01_fs_read(const uint8_t *buf, size_t len, esp01_tree *out,
                  esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
