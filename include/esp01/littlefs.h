/*
 * littlefs.h - littlefs v2 partitions (on-disk version 2.1), written and
 * read from memory buffers.
 *
 * The writer lays a file tree out the way littlefs itself would after
 * creating the files and letting each directory compact: one commit per
 * metadata block with a valid CRC, revision counts, FCRC (so the device can
 * keep appending to the block), hard tails between the blocks of a split
 * directory and soft tails threading every directory; small files inline,
 * larger ones in CTZ skip-lists.  MicroPython mounts the result as its own.
 *
 * The reader mounts a buffer read-only the way lfs_mount/lfs_dir_fetch do:
 * the metadata list followed to its null tail, the newest valid commit of
 * each metadata pair (a commit cut short by a power cut ignored), deleted
 * and moved entries skipped, a pending move (global state) honoured.  All
 * reads are bounded by the buffer; loops are bounded by the block count.
 * docs/filesystems.md lists every on-disk form accepted and refused.
 *
 * Every buffer is caller-owned.  Functions return 0 (or a count) on success
 * and a negative ESP01_E_* code with `err` filled on failure.
 */
#ifndef ESP01_LITTLEFS_H
#define ESP01_LITTLEFS_H

#include <stddef.h>
#include <stdint.h>

#include "esp01/esp01.h"
#include "esp01/fs.h"
#include "esp01/tree.h"

#ifdef __cplusplus
extern "C" {
#endif

/* On-disk version written into the superblock: major 2, minor 1. */
#define ESP01_LFS_DISK_VERSION 0x00020001u

/*
 * Geometry and runtime settings of the littlefs instance that will mount
 * the partition.  Only block_size, block_count, name_max, file_max and
 * attr_max are stored on disk; prog_size and cache_size decide the commit
 * padding and the largest inline file, so they must match the device.
 */
typedef struct esp01_lfs_config {
    uint32_t block_size;     /* bytes per block (erase unit) */
    uint32_t block_count;    /* blocks in the partition */
    uint32_t read_size;
    uint32_t prog_size;      /* commits are padded to this */
    uint32_t cache_size;     /* files up to min(cache, attr_max, block/8) are inline */
    uint32_t lookahead_size;
    int32_t block_cycles;
    uint32_t name_max;       /* stored in the superblock; <= 1022 */
    uint32_t file_max;
    uint32_t attr_max;
} esp01_lfs_config;

/*
 * The settings MicroPython's VfsLfs2 uses on the ESP8266: block 4096,
 * read/prog 32, cache 128 (so files up to 128 bytes are inline), lookahead
 * 32, block_cycles 100, name_max 255, file_max 2^31-1, attr_max 1022.
 */
void esp01_lfs_config_micropython(esp01_lfs_config *cfg, uint32_t block_count);

/* Largest file stored inline in metadata under `cfg`. */
uint32_t esp01_lfs_inline_max(const esp01_lfs_config *cfg);

/*
 * Blocks a file of `size` bytes occupies outside its directory's metadata:
 * 0 when it is inline, else the length of its CTZ skip-list.
 */
uint32_t esp01_lfs_file_blocks(const esp01_lfs_config *cfg, size_t size);

/*
 * Write `tree` as a littlefs partition into `out` (out_len must be exactly
 * cfg->block_count * cfg->block_size).  Parent directories missing from the
 * tree are created.  An entry with has_mtime gets user attribute 1 (8-byte
 * little-endian nanoseconds), as MicroPython's VfsLfs2 stores it.  Every
 * block not used is left erased (0xFF).  The same tree and config always
 * give the same bytes.  `usage` (may be NULL) receives the blocks in use,
 * counted as statvfs on the device counts them (see esp01_lfs_usage).
 * Blocks are allocated from block 0 up, so the image's last used block is
 * at index (distinct blocks - 1).  Fails with ESP01_E_NOSPACE
 * when the tree does not fit, ESP01_E_INVAL / ESP01_E_LIMIT for a bad tree
 * or config.
 */
int esp01_lfs_write(const esp01_lfs_config *cfg, const esp01_tree *tree,
                    uint8_t *out, size_t out_len, esp01_fs_usage *usage,
                    esp01_err *err);

/* Superblock fields, as found by esp01_lfs_probe(). */
typedef struct esp01_lfs_super {
    uint32_t version;
    uint32_t block_size;
    uint32_t block_count;
    uint32_t name_max;
    uint32_t file_max;
    uint32_t attr_max;
} esp01_lfs_super;

/*
 * Look for a littlefs superblock at the start of `buf` (in block 0 or 1,
 * with a valid commit).  0 and *sb filled if found; ESP01_E_NOTFOUND if
 * there is none; ESP01_E_FORMAT / ESP01_E_UNSUPPORTED for a superblock
 * whose geometry does not fit `len` or whose version is not 2.0/2.1.
 * `buf` may be longer than the partition; it may not be shorter.
 */
int esp01_lfs_probe(const uint8_t *buf, size_t len, esp01_lfs_super *sb,
                    esp01_err *err);

/*
 * Read every file and directory of the partition at the start of `buf`
 * into `out` (an empty tree; the caller frees it with esp01_tree_free even
 * on failure).  Entries with a name containing '/' or NUL, an empty name,
 * "." or ".." make the read fail with ESP01_E_FORMAT, as does any structural
 * damage that stops a directory or file from being read.
 */
int esp01_lfs_read(const uint8_t *buf, size_t len, esp01_tree *out,
                   esp01_err *err);

/*
 * Who owns each block: called once per block of every metadata pair the
 * directory tree reaches (`metadata` true, `path` the directory, "" for
 * the root) and every block of every file stored outside its metadata
 * (`path` the file).  Blocks not reported are free (or hold orphans a
 * power cut left).  Fails as esp01_lfs_read does.
 */
typedef void (*esp01_lfs_owner_fn)(void *ctx, uint32_t block, bool metadata,
                                   const char *path);
int esp01_lfs_owners(const uint8_t *buf, size_t len, esp01_lfs_owner_fn fn,
                     void *ctx, esp01_err *err);

/*
 * Blocks in use as os.statvfs() on the device reports them: MicroPython
 * counts with lfs_fs_traverse(), which visits every metadata pair on the
 * metadata list (two blocks each) and CTZ block once, and each
 * subdirectory's pair a second time through its parent's entry.  So
 * blocks_used is the number of distinct blocks in use plus two per
 * subdirectory (orphans a power cut left count too, until littlefs drops
 * them).  blocks_in_use, and *distinct (may be NULL), receive the plain
 * count: block_count minus it is what the device can really allocate.
 */
int esp01_lfs_usage(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                    uint32_t *distinct, esp01_err *err);

/* Called once per finding of esp01_lfs_check(); msg is one line. */
typedef void (*esp01_lfs_report_fn)(void *ctx, const char *msg);

/*
 * Check the partition in `buf` and call `report` (may be NULL) once for
 * every inconsistency found: no valid commit in a pair, a commit that fails
 * its CRC with valid ones after it, a tail or directory pointer out of
 * range, a cycle in the metadata list, a pair reached twice, an orphaned,
 * dangling or desynchronised pair the global state does not account for,
 * a CTZ pointer past the end or pointing at the wrong block, a block used
 * twice, a bad name, tags littlefs 2.x never writes.
 *
 * `note` (may be NULL) receives what a power cut leaves in a healthy
 * littlefs, which littlefs reads past and repairs at its next write: a
 * last commit cut short, a compaction cut short, a pending rename, orphans
 * the global state counts.  These are not problems.
 *
 * Returns the number of problems (0 = clean), or a negative code only when
 * it could not run (no superblock, out of memory).
 */
int esp01_lfs_check(const uint8_t *buf, size_t len, esp01_lfs_report_fn report,
                    esp01_lfs_report_fn note, void *ctx, esp01_err *err);

#ifdef __cplusplus
}
#endif

#endif
