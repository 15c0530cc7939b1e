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

/* Tag types (SPEC.md "Metadata types"); type1 is the top 3 of 11 bits. */
enum {
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
/* The CRC tags are 0x500..0x57f (lfs_tag_type2 masks 0x780); 0x5ff (FCRC)
   is not one of them. */
static inline bool tag_is_crc(uint32_t t) { return ((t >> 20) & 0x780) == 0x500; }
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


/* Either block null: littlefs's "no pair" (lfs_pair_isnull). */
static inline bool pair_is_null(const uint32_t p[2])
{
    return p[0] == BLOCK_NULL || p[1] == BLOCK_NULL;
}

/* Pairs that share a block are the same pair to littlefs (lfs_pair_cmp):
   a relocation replaces one block of a pair at a time. */
static inline bool pair_same(const uint32_t a[2], const uint32_t b[2])
{
    return a[0] == b[0] || a[0] == b[1] || a[1] == b[0] || a[1] == b[1];
}

/* Both blocks equal, in either order (lfs_pair_issync). */
static inline bool pair_sync(const uint32_t a[2], const uint32_t b[2])
{
    return (a[0] == b[0] && a[1] == b[1]) || (a[0] == b[1] && a[1] == b[0]);
}

/* What the on-disk layer knows of one open partition. */
typedef struct lfsd_fs {
    const uint8_t *buf;
    uint32_t bs, count;
    esp01_lfs_super sb; /* from the superblock entry in block 0 or 1 */
    /* The global state (every pair's MOVESTATE delta XORed together). */
    bool move;          /* entry move_id of pair move_pair is moved away */
    uint32_t move_type, move_pair[2], move_id;
    uint32_t orphans;   /* orphan count in the state's tag */
    bool orphan_flag;   /* the tag's top bit: the thread may hold orphans */
    /* Found while walking the thread for the global state. */
    bool super_differs; /* a superblock copy with other geometry */
    bool super_stray;   /* a superblock entry outside the root's pairs */
    uint32_t stray_pair[2];
    /* checker */
    esp01_lfs_report_fn report, note;
    void *ctx;
    int problems;
} lfsd_fs;

/* Orphans may be in the thread: littlefs looks for them at its next write. */
static inline bool orphans_pending(const lfsd_fs *f)
{
    return f->orphans != 0 || f->orphan_flag;
}

/*
 * The current state of one id in a metadata pair.  Offsets are into the
 * block the commits were read from (blocks are at most 64 KiB).
 */
typedef struct lfsd_slot {
    uint16_t name_type; /* 0: no name (never named, deleted or moved) */
    uint16_t name_len, name_off;
    uint16_t struct_type; /* 0: none */
    uint16_t struct_len, struct_off;
    uint16_t mtime_off; /* 0: no 8-byte user attribute 1 */
    uint16_t moved;     /* hidden by the pending move in the global state */
} lfsd_slot;

/* How the thread walk reached a pair. */
enum { VIA_ROOT, VIA_SOFT, VIA_HARD };

typedef struct lfsd_mdir {
    uint32_t pair[2]; /* pair[0] is the block whose commits are used */
    uint32_t rev;
    uint32_t count;   /* ids, as littlefs counts them */
    uint32_t tail[2];
    bool has_tail;    /* a tail that is not null */
    bool split;       /* the last tail tag was a hard tail */
    bool bad_tail;    /* a tail tag whose length is not 8 (ignored) */
    bool has_gstate;
    uint8_t gstate[12];
    int via;          /* set by lfsd_walk */
    /* Traces of an interrupted write, or damage (for the checker). */
    bool fell_back;   /* the newer block has no valid commit */
    bool torn;        /* an incomplete commit follows the last valid one */
    bool damaged;     /* a commit fails its CRC but later ones pass */
    uint32_t trace_block, trace_off;
    uint32_t odd_tags, odd_type; /* tags littlefs 2.x never writes */
    lfsd_slot slots[0x3ff];
} lfsd_mdir;

/* Count a problem and pass it to f->report (if any). */
void lfsd_problem(lfsd_fs *f, const char *fmt, ...)
    __attribute__((format(ESP01_PRINTF_FORMAT, 2, 3)));

/* Pass a finding that is not damage to f->note (if any). */
void lfsd_note(lfsd_fs *f, const char *fmt, ...)
    __attribute__((format(ESP01_PRINTF_FORMAT, 2, 3)));

/* Probe the superblock and fill `f` for the partition at the start of buf. */
int lfsd_open(lfsd_fs *f, const uint8_t *buf, size_t len, esp01_err *err);

/*
 * Fetch a metadata pair as lfs_dir_fetch does: the block with the newer
 * revision that holds a valid commit, its commits up to the last valid CRC
 * replayed, the entry the global state says is moved hidden.
 * ESP01_E_FORMAT if a block is out of range or neither has a valid commit.
 */
int lfsd_fetch(lfsd_fs *f, const uint32_t pair[2], lfsd_mdir *d,
               esp01_err *err);

/*
 * Walk the threaded list of metadata pairs from {0, 1} to a null tail,
 * once, calling `visit` on each (d->via says how it was reached).  A
 * visited-block bitmap bounds the walk, so a cycle ends it with an error.
 */
typedef int (*lfsd_pair_fn)(lfsd_fs *f, lfsd_mdir *d, void *arg,
                            esp01_err *err);
int lfsd_walk(lfsd_fs *f, lfsd_mdir *d, lfsd_pair_fn visit, void *arg,
              esp01_err *err);

/*
 * Walk the thread as lfs_mount does: XOR the global state of every pair
 * into f, and compare every copy of the superblock entry with f->sb.
 */
int lfsd_load_state(lfsd_fs *f, lfsd_mdir *d, esp01_err *err);

/* A name from the image, made safe to print: at most 40 bytes, '?' for
   anything not printable ASCII. */
const char *lfsd_show_name(const uint8_t *name, size_t n, char out[48]);

/* 0 for an empty name, ".", "..", or one holding '/' or NUL. */
int lfsd_name_ok(const uint8_t *name, size_t n);

/*
 * Blocks of the CTZ skip-list of a `size`-byte file whose last block is
 * `head`, from block 0 up, following each block's first pointer (malloc'd
 * into *blocks, *n of them; none for size 0).
 */
int lfsd_ctz_blocks(lfsd_fs *f, uint32_t head, uint32_t size,
                    uint32_t **blocks, uint32_t *n, const char *path,
                    esp01_err *err);

/* Read a CTZ file of `size` bytes whose last block is `head` (malloc'd). */
int lfsd_read_ctz(lfsd_fs *f, uint32_t head, uint32_t size, uint8_t **out,
                  const char *path, esp01_err *err);

#endif
