/*
 * littlefs_int.h - internal: what the littlefs writer (littlefs_write.c),
 * on-disk reader (littlefs_disk.c), tree reader (littlefs_read.c) and
 * checker (littlefs_check.c) share.  Not installed.
 *
 * Written from littlefs's SPEC.md.  Terms used below:
 *  - metadata pair: two blocks holding a log of commits; the block with the
 *    newer revision count that has a valid commit is the current one.
 *  - tag: 32-bit big-endian word [invalid:1][type:11][id:10][length:10],
 *    stored XORed with the previous tag (0xFFFFFFFF before the first).
 *  - commit: tags ending in a CCRC tag whose CRC covers everything since
 *    the previous commit (the revision count for the first one).
 */
#ifndef ESP01_LITTLEFS_INT_H
#define ESP01_LITTLEFS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "esp01/hash.h"
#include "esp01/littlefs.h"

enum {
    T_NAME_MASK = 0x700,
    T_REG = 0x001,
    T_DIR = 0x002,
    T_SUPERBLOCK = 0x0ff,
    T_STRUCT = 0x200,
    T_DIRSTRUCT = 0x200,
    T_INLINE = 0x201,
    T_CTZ = 0x202,
    T_USERATTR = 0x300,
    T_MTIME = 0x301, /* MicroPython's user attribute 1 */
    T_SPLICE = 0x400,
    T_CREATE = 0x401,
    T_DELETE = 0x4ff,
    T_CRC = 0x500,
    T_CCRC = 0x500,
    T_FCRC = 0x5ff,
    T_TAIL = 0x600,
    T_SOFTTAIL = 0x600,
    T_HARDTAIL = 0x601,
    T_GSTATE = 0x700,
    T_MOVESTATE = 0x7ff
};

#define ID_NONE 0x3ffu
#define LEN_DELETED 0x3ffu
#define BLOCK_NULL 0xffffffffu
/* littlefs never puts 0xff or more ids in one pair. */
#define PAIR_IDS_MAX 0xffu
#define DEPTH_MAX 256
/* Most entries a read returns: far above what fits a real ESP8266
   partition, low enough that a crafted image cannot make it crawl. */
#define ENTRIES_MAX 20000

static inline uint32_t mktag(uint32_t type, uint32_t id, uint32_t len)
{
    return type << 20 | id << 10 | len;
}
static inline uint32_t tag_type(uint32_t t) { return (t >> 20) & 0x7ff; }
static inline uint32_t tag_type1(uint32_t t) { return (t >> 20) & 0x700; }
static inline uint32_t tag_id(uint32_t t) { return (t >> 10) & 0x3ff; }
static inline uint32_t tag_len(uint32_t t) { return t & 0x3ff; }
static inline uint32_t tag_dsize(uint32_t t)
{
    return 4 + (tag_len(t) == LEN_DELETED ? 0 : tag_len(t));
}

/* littlefs's CRC: CRC-32 polynomial, no final inversion. */
static inline uint32_t lcrc(uint32_t crc, const uint8_t *d, size_t n)
{
    return ~esp01_crc32(~crc, d, n);
}

static inline uint32_t popc(uint32_t x)
{
    uint32_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static inline uint32_t ctz(uint32_t x)
{
    uint32_t n = 0;
    while (!(x & 1) && n < 32) {
        x >>= 1;
        n++;
    }
    return n;
}

/* Pointers at the start of CTZ block `i`: none in block 0, else ctz(i)+1. */
static inline uint32_t ctz_ptrs(uint32_t i) { return i == 0 ? 0 : ctz(i) + 1; }

/*
 * Index of the CTZ block holding file byte `*off`, with *off turned into the
 * offset inside that block (SPEC.md, "CTZ skip-lists").
 */
static inline uint32_t ctz_index(uint32_t block_size, uint32_t *off)
{
    uint32_t size = *off;
    uint32_t b = block_size - 2 * 4;
    uint32_t i = size / b;
    if (i == 0)
        return 0;
    i = (size - 4 * (popc(i - 1) + 2)) / b;
    *off = size - b * i - 4 * popc(i);
    return i;
}

/* What the on-disk layer knows of one open partition. */
typedef struct lfsd_fs {
    const uint8_t *buf;
    uint32_t bs, count;
    esp01_lfs_super sb;
    /* global move state: the entry (move_pair, move_id) is already moved */
    bool move;
    uint32_t move_pair[2], move_id;
    uint32_t orphans;
    /* checker */
    esp01_lfs_report_fn report;
    void *ctx;
    int problems;
} lfsd_fs;

/* The current state of one id in a metadata pair. */
typedef struct lfsd_slot {
    uint16_t name_type; /* 0 = none */
    uint16_t name_len;
    uint32_t name_off;  /* offset in the block */
    uint16_t struct_type;
    uint16_t struct_len;
    uint32_t struct_off;
    bool has_mtime;
    uint64_t mtime;
} lfsd_slot;

typedef struct lfsd_mdir {
    uint32_t pair[2]; /* pair[0] is the block read */
    uint32_t rev;
    lfsd_slot slots[0x3ff];
    uint32_t count;
    uint32_t tail[2];
    bool has_tail, split;
    bool has_gstate;
    uint8_t gstate[12];
    bool bad_crc;      /* the newer block ends in a commit with a bad CRC */
    uint32_t bad_crc_block, bad_crc_off;
} lfsd_mdir;

/* Count a problem and pass it to f->report (if any). */
void lfsd_problem(lfsd_fs *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Probe the superblock and fill `f` for the partition at the start of buf. */
int lfsd_open(lfsd_fs *f, const uint8_t *buf, size_t len, esp01_err *err);

/*
 * Fetch a metadata pair as lfs_dir_fetch does.  ESP01_E_FORMAT if a block
 * is out of range or neither block has a valid commit.
 */
int lfsd_fetch(lfsd_fs *f, const uint32_t pair[2], lfsd_mdir *d,
               esp01_err *err);

/*
 * Walk the threaded list of metadata pairs from the root, once, calling
 * `visit` on each.  A visited-block bitmap bounds the walk, so cycles end
 * it.  Used both for the global state and for usage and checking.
 */
typedef int (*lfsd_pair_fn)(lfsd_fs *f, lfsd_mdir *d, void *arg,
                            esp01_err *err);
int lfsd_walk(lfsd_fs *f, lfsd_mdir *d, lfsd_pair_fn visit, void *arg,
              esp01_err *err);

/* XOR the global state of every pair into f (move and orphan count). */
int lfsd_load_gstate(lfsd_fs *f, lfsd_mdir *d, esp01_err *err);

/* A name from the image, made safe to print: at most 40 bytes, '?' for
   anything not printable ASCII. */
const char *lfsd_show_name(const uint8_t *name, size_t n, char out[48]);

/* 0 for an empty name, ".", "..", or one holding '/' or NUL. */
int lfsd_name_ok(const uint8_t *name, size_t n);

/* Read a CTZ file of `size` bytes whose last block is `head` (malloc'd). */
int lfsd_read_ctz(lfsd_fs *f, uint32_t head, uint32_t size, uint8_t **out,
                  const char *path, esp01_err *err);

#endif
