/*
 * lfs_craft KIND OUT - write a small littlefs image for the tests.
 *
 * Hostile images, patched from one our writer made (the commit CRC
 * re-sealed where the patch is inside one, so only the intended damage is
 * there):
 *   dotdot   an entry named ".."          slash    an entry named "a/b"
 *   cycle    the last soft tail points back at the root pair
 *   ctzpast  a CTZ skip-list pointer past the last block
 *   move     a rename of "xy" to "sub/xy" cut by a power loss after the
 *            destination commit: "sub/xy" exists and the global state
 *            says root's "xy" is moved (littlefs hides it, and deletes
 *            it at its next write)
 *
 * Images built tag by tag (8 blocks of 4096 bytes), each an on-disk form
 * littlefs 2.x writes that our writer never does; craft() says what each
 * holds and what a mount shows:
 *   nulltail expanded orphan halforphan torn tornfcrc fellback validbit
 *   v20 entries movemid
 * and forms the reader refuses or the checker reports:
 *   damaged nullhard oddtag oddtype orphanleak superstray
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "esp01/fileio.h"
#include "esp01/hash.h"
#include "esp01/littlefs.h"

#define BS 4096u
#define BLOCKS 16u

/* Offset of the first commit's CCRC tag in a block (our writer makes one). */
static size_t ccrc_off(const uint8_t *b)
{
    size_t off = 4;
    uint32_t ptag = 0xffffffffu;
    while (off + 4 <= BS) {
        uint32_t tag = esp01_be32(b + off) ^ ptag;
        uint32_t len = tag & 0x3ff;
        if (((tag >> 20) & 0x7ff) == 0x500)
            return off;
        ptag = tag;
        off += 4 + (len == 0x3ff ? 0 : len);
    }
    return 0;
}

/* Recompute littlefs's CRC (no final inversion) over the commit. */
static void reseal(uint8_t *b)
{
    size_t off = ccrc_off(b);
    esp01_put_le32(b + off + 4, ~esp01_crc32(0, b, off + 4));
}

/*
 * Append a second commit holding one MOVESTATE tag (global state delta:
 * entry `id` of pair {p0, p1} has moved) after the block's first commit.
 */
static void append_move(uint8_t *b, uint32_t id, uint32_t p0, uint32_t p1)
{
    size_t off = ccrc_off(b);
    uint32_t ptag = 0xffffffffu, tag;
    for (size_t o = 4;;) {
        tag = esp01_be32(b + o) ^ ptag;
        ptag = tag;
        if (o == off)
            break;
        o += 4 + ((tag & 0x3ff) == 0x3ff ? 0 : (tag & 0x3ff));
    }
    size_t start = off + 4 + (tag & 0x3ff);
    uint32_t move = 0x7ffu << 20 | 0x3ffu << 10 | 12;
    esp01_put_be32(b + start, move ^ ptag);
    esp01_put_le32(b + start + 4, 0x4ffu << 20 | id << 10);
    esp01_put_le32(b + start + 8, p0);
    esp01_put_le32(b + start + 12, p1);
    size_t end = (start + 16 + 8 + 31) / 32 * 32;
    uint32_t ccrc = 0x500u << 20 | 0x3ffu << 10 | (uint32_t)(end - (start + 20));
    esp01_put_be32(b + start + 16, ccrc ^ move);
    esp01_put_le32(b + start + 20, ~esp01_crc32(0, b + start, 20));
}

static uint8_t *find(uint8_t *img, size_t len, const char *s)
{
    size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(img + i, s, n) == 0)
            return img + i;
    return NULL;
}

/* ---- images built tag by tag, for what our writer never writes ---- */

#define NB 8u /* blocks in a tag-by-tag image */

/* One metadata block being written: the log of commits (SPEC.md). */
typedef struct mlog {
    uint8_t *b;
    uint32_t off, ptag, crc;
} mlog;

static uint32_t lcrc(uint32_t crc, const uint8_t *d, size_t n)
{
    return ~esp01_crc32(~crc, d, n);
}

static void log_begin(mlog *l, uint8_t *image, uint32_t block, uint32_t rev)
{
    l->b = image + (size_t)block * BS;
    esp01_put_le32(l->b, rev);
    l->crc = lcrc(0xffffffffu, l->b, 4);
    l->off = 4;
    l->ptag = 0xffffffffu;
}

static void log_tag(mlog *l, uint32_t type, uint32_t id, uint32_t len,
                    const void *data)
{
    uint32_t tag = type << 20 | id << 10 | len;
    uint32_t n = len == 0x3ff ? 0 : len;
    esp01_put_be32(l->b + l->off, tag ^ l->ptag);
    if (n)
        memcpy(l->b + l->off + 4, data, n);
    l->crc = lcrc(l->crc, l->b + l->off, 4 + n);
    l->ptag = tag;
    l->off += 4 + n;
}

/*
 * Close a commit as lfs_dir_commitcrc does: an FCRC over the next 32
 * (erased) bytes when `fcrc`, then a CRC tag of type `ccrc` (0x500, or
 * 0x501 to flip the valid bit expected next) padded to 32 bytes.
 */
static void log_commit(mlog *l, bool fcrc, uint32_t ccrc)
{
    uint32_t end = (l->off + (fcrc ? 12 : 0) + 8 + 31) / 32 * 32;
    if (fcrc) {
        uint8_t erased[32], d[8];
        memset(erased, 0xff, sizeof erased);
        esp01_put_le32(d, 32);
        esp01_put_le32(d + 4, lcrc(0xffffffffu, erased, 32));
        log_tag(l, 0x5ff, 0x3ff, 8, d);
    }
    uint32_t tag = ccrc << 20 | 0x3ffu << 10 | (end - l->off - 4);
    esp01_put_be32(l->b + l->off, tag ^ l->ptag);
    l->crc = lcrc(l->crc, l->b + l->off, 4);
    esp01_put_le32(l->b + l->off + 4, l->crc);
    l->off = end;
    l->ptag = tag ^ (ccrc & 1u) << 31;
    l->crc = 0xffffffffu;
}

static void log_super(mlog *l, uint32_t version)
{
    uint8_t s[24];
    esp01_put_le32(s, version);
    esp01_put_le32(s + 4, BS);
    esp01_put_le32(s + 8, NB);
    esp01_put_le32(s + 12, 255);
    esp01_put_le32(s + 16, 0x7fffffff);
    esp01_put_le32(s + 20, 1022);
    log_tag(l, 0x0ff, 0, 8, "littlefs");
    log_tag(l, 0x201, 0, 24, s);
}

static void log_pair(mlog *l, uint32_t type, uint32_t id, uint32_t a,
                     uint32_t b)
{
    uint8_t p[8];
    esp01_put_le32(p, a);
    esp01_put_le32(p + 4, b);
    log_tag(l, type, id, 8, p);
}

static void log_file(mlog *l, uint32_t id, const char *name, const char *text)
{
    log_tag(l, 0x401, id, 0, NULL);
    log_tag(l, 0x001, id, (uint32_t)strlen(name), name);
    log_tag(l, 0x201, id, (uint32_t)strlen(text), text);
}

static void log_dir(mlog *l, uint32_t id, const char *name, uint32_t a,
                    uint32_t b)
{
    log_tag(l, 0x401, id, 0, NULL);
    log_tag(l, 0x002, id, (uint32_t)strlen(name), name);
    log_pair(l, 0x200, id, a, b);
}

/* Global state delta: move/orphan tag word and a pair. */
static void log_gstate(mlog *l, uint32_t tag, uint32_t a, uint32_t b)
{
    uint8_t g[12];
    esp01_put_le32(g, tag);
    esp01_put_le32(g + 4, a);
    esp01_put_le32(g + 8, b);
    log_tag(l, 0x7ff, 0x3ff, 12, g);
}

/* What lfs_format leaves in block 0: rev 1, the superblock alone. */
static void format_block0(uint8_t *image, uint32_t version)
{
    mlog l;
    log_begin(&l, image, 0, 1);
    log_super(&l, version);
    log_commit(&l, version >= 0x00020001, 0x500);
}

/* A CTZ file of `size` bytes (byte i = 'a' + i % 26) in blocks first..;
   returns its head. */
static uint32_t put_ctz(uint8_t *image, uint32_t first, size_t size)
{
    size_t pos = 0;
    uint32_t i = 0;
    for (; pos < size; i++) {
        uint8_t *blk = image + (size_t)(first + i) * BS;
        uint32_t ptrs = 0;
        if (i)
            for (uint32_t x = i; !(x & 1) || !ptrs; x >>= 1) {
                esp01_put_le32(blk + 4 * ptrs, first + i - (1u << ptrs));
                ptrs++;
                if (x & 1)
                    break;
            }
        for (size_t k = 4 * ptrs; k < BS && pos < size; k++, pos++)
            blk[k] = (uint8_t)('a' + pos % 26);
    }
    return first + i - 1;
}

static void log_ctz(mlog *l, uint32_t id, uint32_t head, uint32_t size)
{
    log_pair(l, 0x202, id, head, size);
}

/*
 * The images: each is what littlefs itself leaves on a long-lived device
 * at one moment; the comment says which moment and what a mount shows.
 * Each builds into an image of NB blocks already erased (0xFF).
 */

/* rmdir of the last directory on the thread: its entry deleted
   (orphan count +1), then lfs_dir_drop gives root the removed
   pair's tail, {-1, -1}, and takes the count back.  Shows a.txt. */
static void craft_nulltail(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "a.txt", "kept\n");
    log_dir(&l, 2, "gone", 2, 3);
    log_pair(&l, 0x600, 0x3ff, 2, 3);
    log_commit(&l, true, 0x500);
    log_tag(&l, 0x4ff, 2, 0, NULL);
    log_gstate(&l, 0x80000001u, 0, 0);
    log_commit(&l, true, 0x500);
    log_pair(&l, 0x600, 0x3ff, 0xffffffffu, 0xffffffffu);
    log_gstate(&l, 0x00000000u, 0, 0); /* back to zero: XOR of both */
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 2, 1);
    log_file(&l, 0, "stale.txt", "left in the dropped pair\n");
    log_commit(&l, true, 0x500);
}

/* lfs_dir_splittingcompact expanded the superblock: {0, 1} keeps
   the superblock and a hard tail to {2, 3}, which holds a copy of
   the superblock and the root's entries (mount's root).  Shows
   main.py and lib/x.py. */
static void craft_expanded(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 102);
    log_super(&l, 0x00020001);
    log_pair(&l, 0x601, 0x3ff, 2, 3);
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 3, 1);
    log_super(&l, 0x00020001);
    log_dir(&l, 1, "lib", 4, 5);
    log_file(&l, 2, "main.py", "print('expanded')\n");
    log_pair(&l, 0x600, 0x3ff, 4, 5);
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 5, 1);
    log_file(&l, 0, "x.py", "x = 1\n");
    log_commit(&l, true, 0x500);
}

/* mkdir cut by a power cut: the new pair {2, 3} is on the thread
   but its parent entry was never committed; the global state
   counts one orphan.  Shows only keep.txt. */
static void craft_orphan(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "keep.txt", "k\n");
    log_commit(&l, true, 0x500);
    log_gstate(&l, 0x80000001u, 0, 0);
    log_pair(&l, 0x600, 0x3ff, 2, 3);
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 2, 1);
    log_commit(&l, true, 0x500);
}

/* Relocation cut short: directory d's pair {2, 3} was relocated
   to {2, 4} (block 3 worn out); its entry names {2, 4} but the
   thread still has {2, 3}; the global state counts an orphan.
   Shows d/new.txt (block 4, the newest), not d/old.txt. */
static void craft_halforphan(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_dir(&l, 1, "d", 2, 3);
    log_pair(&l, 0x600, 0x3ff, 2, 3);
    log_commit(&l, true, 0x500);
    log_pair(&l, 0x200, 1, 2, 4);
    log_gstate(&l, 0x80000001u, 0, 0);
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 2, 5);
    log_file(&l, 0, "old.txt", "old\n");
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 3, 4);
    log_file(&l, 0, "older.txt", "older\n");
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 4, 6);
    log_file(&l, 0, "new.txt", "new\n");
    log_commit(&l, true, 0x500);
}

/* A power cut during the third commit of the root: "torn" got as
   far as a CRC tag with the wrong CRC, "tornfcrc" stopped before
   any CRC tag (only the last valid commit's FCRC shows it).  Both
   show a.txt = "v2". */
static void craft_torn(uint8_t *image, const char *kind)
{
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "a.txt", "v1");
    log_commit(&l, true, 0x500);
    log_tag(&l, 0x201, 1, 2, "v2");
    log_commit(&l, true, 0x500);
    log_tag(&l, 0x201, 1, 2, "v3");
    log_file(&l, 2, "b.txt", "never\n");
    if (kind[4] == '\0') {
        uint32_t at = l.off;
        log_commit(&l, true, 0x500);
        l.b[at + 12 + 4] ^= 0x40; /* the CRC, after the FCRC tag */
    }
}

/* A compaction cut short: block 1 has the newer revision but the
   power went before its commit was whole.  lfs_dir_fetch uses
   block 0.  Shows old.txt. */
static void craft_fellback(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    mlog l0;
    log_begin(&l0, image, 0, 7);
    log_super(&l0, 0x00020001);
    log_file(&l0, 1, "old.txt", "from block 0\n");
    log_commit(&l0, true, 0x500);
    log_begin(&l, image, 1, 8);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "new.txt", "half written\n");
    uint32_t at = l.off;
    log_commit(&l, true, 0x500);
    l.b[at + 12 + 4] ^= 0x01; /* the CRC, after the FCRC tag */
}

/* Not a power cut: the middle commit of three fails its CRC, so
   littlefs stops there and loses the third.  Shows a.txt = "v1";
   check reports the damage. */
static void craft_damaged(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "a.txt", "v1");
    log_commit(&l, true, 0x500);
    log_tag(&l, 0x201, 1, 2, "v2");
    uint32_t at = l.off;
    log_commit(&l, true, 0x500);
    log_tag(&l, 0x201, 1, 2, "v3");
    log_commit(&l, true, 0x500);
    l.b[at - 1] ^= 0x01; /* the "2" of "v2" */
}

/* A commit closed with CRC type 0x501 (lfs_dir_commitcrc does so
   when the next word is not erased): the next commit's tags carry
   the valid bit inverted.  Also a revision count that wrapped
   ({2, 3}: block 3 rev 1 is newer than block 2 rev 0xfffffffe).
   Shows a.txt = "v2", sub/new.txt. */
static void craft_validbit(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "a.txt", "v1");
    log_dir(&l, 2, "sub", 2, 3);
    log_pair(&l, 0x600, 0x3ff, 2, 3);
    log_commit(&l, true, 0x501);
    log_tag(&l, 0x201, 1, 2, "v2");
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 2, 0xfffffffeu);
    log_file(&l, 0, "old.txt", "old\n");
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 3, 1);
    log_file(&l, 0, "new.txt", "new\n");
    log_commit(&l, true, 0x500);
}

/* On-disk version 2.0 (no FCRC tags), later upgraded in place:
   a newer commit rewrites the superblock's struct as 2.1.  Shows
   f.txt. */
static void craft_v20(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020000);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020000);
    log_file(&l, 1, "f.txt", "2.0\n");
    log_commit(&l, false, 0x500);
    uint8_t s[24];
    memcpy(s, l.b + 4 + 4 + 8 + 4, 24);
    esp01_put_le32(s, 0x00020001);
    log_tag(&l, 0x201, 0, 24, s);
    log_commit(&l, true, 0x500);
}

/* Entry histories: a rename in place (CREATE + DELETE in one
   commit), an inline file that grew into a CTZ list, a CTZ file
   cut back to inline, an empty file whose CTZ struct has size 0
   and a null head, mtime set then removed (lfs_removeattr writes
   length 0x3ff), user attributes other than mtime.  Shows
   grown.txt (5000 bytes), renamed.txt (with mtime), small.txt,
   zero.bin (0 bytes, no mtime). */
static void craft_entries(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    uint8_t mt[8];
    esp01_put_le64(mt, 1700000000000000000ull);
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "grown.txt", "tiny");
    log_file(&l, 2, "old-name.txt", "moving\n");
    log_file(&l, 3, "small.txt", "");
    log_commit(&l, true, 0x500);
    log_ctz(&l, 1, put_ctz(image, 2, 5000), 5000);
    log_tag(&l, 0x301, 2, 8, mt);
    log_tag(&l, 0x300, 2, 3, "abc");
    log_tag(&l, 0x3ff, 2, 1, "z");
    log_commit(&l, true, 0x500);
    /* old-name.txt -> renamed.txt, as lfs_rename in one pair */
    log_tag(&l, 0x401, 3, 0, NULL);
    log_tag(&l, 0x001, 3, 11, "renamed.txt");
    log_tag(&l, 0x201, 3, 7, "moving\n");
    log_tag(&l, 0x301, 3, 8, mt);
    log_tag(&l, 0x300, 3, 3, "abc");
    log_tag(&l, 0x4ff, 2, 0, NULL);
    log_commit(&l, true, 0x500);
    /* ids: 1 grown.txt, 2 renamed.txt, 3 small.txt */
    log_ctz(&l, 3, put_ctz(image, 4, 300), 300);
    log_commit(&l, true, 0x500);
    log_tag(&l, 0x201, 3, 6, "small\n");
    log_file(&l, 4, "zero.bin", "");
    log_tag(&l, 0x301, 4, 8, mt);
    log_commit(&l, true, 0x500);
    log_ctz(&l, 4, 0xffffffffu, 0);
    log_tag(&l, 0x301, 4, 0x3ff, NULL);
    log_commit(&l, true, 0x500);
}

/* A rename from the root into sub/ cut after the destination's
   commit, of an entry that is not the root's last: the global
   state marks root id 1 moved.  littlefs 2.9.1 and later also
   hide id 2 ("c.txt") from lfs_dir_read until the next write
   finishes the move; we list it, as littlefs does then.  Shows
   c.txt, sub/a.txt. */
static void craft_movemid(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "a.txt", "moving\n");
    log_file(&l, 2, "c.txt", "after\n");
    log_dir(&l, 3, "sub", 2, 3);
    log_pair(&l, 0x600, 0x3ff, 2, 3);
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 2, 1);
    log_file(&l, 0, "a.txt", "moving\n");
    log_gstate(&l, 0x4ffu << 20 | 1u << 10, 1, 0);
    log_commit(&l, true, 0x500);
}

/* Refused: a hard tail (the directory goes on) to the null pair. */
static void craft_nullhard(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "a.txt", "a\n");
    log_pair(&l, 0x601, 0x3ff, 0xffffffffu, 0xffffffffu);
    log_commit(&l, true, 0x500);
}

/* Read, but reported: a tag of type 0x100, which no littlefs 2.x
   writes to disk. */
static void craft_oddtag(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "a.txt", "a\n");
    log_tag(&l, 0x100, 1, 4, "from");
    log_commit(&l, true, 0x500);
}

/* Refused: an entry whose name tag says type 0x003. */
static void craft_oddtype(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_tag(&l, 0x401, 1, 0, NULL);
    log_tag(&l, 0x003, 1, 4, "link");
    log_tag(&l, 0x201, 1, 2, "/x");
    log_commit(&l, true, 0x500);
}

/* Read, but reported: the orphan of "orphan" with a global state
   that does not count it, so littlefs would never drop it. */
static void craft_orphanleak(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "keep.txt", "k\n");
    log_pair(&l, 0x600, 0x3ff, 2, 3);
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 2, 1);
    log_commit(&l, true, 0x500);
}

/* Refused: a superblock entry in a subdirectory's pair, which
   lfs_mount would take for the root. */
static void craft_superstray(uint8_t *image, const char *kind)
{
    (void)kind;
    mlog l;
    format_block0(image, 0x00020001);
    log_begin(&l, image, 1, 2);
    log_super(&l, 0x00020001);
    log_dir(&l, 1, "d", 2, 3);
    log_pair(&l, 0x600, 0x3ff, 2, 3);
    log_commit(&l, true, 0x500);
    log_begin(&l, image, 2, 1);
    log_super(&l, 0x00020001);
    log_file(&l, 1, "x", "x");
    log_commit(&l, true, 0x500);
}

static const struct {
    const char *name;
    void (*build)(uint8_t *image, const char *kind);
} kinds[] = {
    {"nulltail", craft_nulltail},
    {"expanded", craft_expanded},
    {"orphan", craft_orphan},
    {"halforphan", craft_halforphan},
    {"torn", craft_torn},
    {"tornfcrc", craft_torn},
    {"fellback", craft_fellback},
    {"damaged", craft_damaged},
    {"validbit", craft_validbit},
    {"v20", craft_v20},
    {"entries", craft_entries},
    {"movemid", craft_movemid},
    {"nullhard", craft_nullhard},
    {"oddtag", craft_oddtag},
    {"oddtype", craft_oddtype},
    {"orphanleak", craft_orphanleak},
    {"superstray", craft_superstray},
};

/* Build image `kind` into image (NB blocks).  Returns -1 for an unknown
 * kind. */
static int craft(const char *kind, uint8_t *image)
{
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
        if (strcmp(kinds[i].name, kind) == 0) {
            memset(image, 0xff, (size_t)NB * BS);
            kinds[i].build(image, kind);
            return 0;
        }
    return -1;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lfs_craft KIND OUT (see the source)\n");
        return 2;
    }
    const char *kind = argv[1];
    static uint8_t built[BS * NB];
    if (craft(kind, built) == 0) {
        esp01_err e;
        if (esp01_write_file_atomic(argv[2], built, sizeof built, &e) < 0) {
            fprintf(stderr, "lfs_craft: %s\n", e.msg);
            return 1;
        }
        return 0;
    }
    static uint8_t big[9000];
    memset(big, 'x', sizeof big);
    esp01_tree t = ESP01_TREE_INIT;
    esp01_err err;
    esp01_tree_add_file(&t, "xy", (const uint8_t *)"evil\n", 5, &err);
    esp01_tree_add_file(&t, "abc", (const uint8_t *)"evil\n", 5, &err);
    esp01_tree_add_file(&t, "sub/big.bin", big, sizeof big, &err);
    if (strcmp(kind, "move") == 0)
        esp01_tree_add_file(&t, "sub/xy", (const uint8_t *)"evil\n", 5, &err);
    esp01_lfs_config cfg;
    esp01_lfs_config_micropython(&cfg, BLOCKS);
    static uint8_t img[BS * BLOCKS];
    if (esp01_lfs_write(&cfg, &t, img, sizeof img, NULL, &err) < 0) {
        fprintf(stderr, "lfs_craft: %s\n", err.msg);
        return 1;
    }
    uint8_t *root = img + BS; /* block 1: the root's newest commit */
    if (strcmp(kind, "dotdot") == 0) {
        memcpy(find(root, BS, "xy"), "..", 2);
        reseal(root);
    } else if (strcmp(kind, "slash") == 0) {
        memcpy(find(root, BS, "abc"), "a/b", 3);
        reseal(root);
    } else if (strcmp(kind, "cycle") == 0) {
        /* "sub" is the last directory: its pair is blocks 2/3 and holds no
           tail; root's soft tail names it.  Point root's tail at itself. */
        size_t off = 4;
        uint32_t ptag = 0xffffffffu;
        for (;;) {
            uint32_t tag = esp01_be32(root + off) ^ ptag;
            uint32_t len = tag & 0x3ff;
            if (((tag >> 20) & 0x7ff) == 0x600) {
                esp01_put_le32(root + off + 4, 1);
                esp01_put_le32(root + off + 8, 0);
                break;
            }
            ptag = tag;
            off += 4 + (len == 0x3ff ? 0 : len);
        }
        reseal(root);
    } else if (strcmp(kind, "move") == 0) {
        /* root ids: 0 superblock, 1 "abc", 2 "sub", 3 "xy"; "sub" is the
           pair {2, 3} and was written in block 2 */
        append_move(img + 2 * BS, 3, 1, 0);
    } else if (strcmp(kind, "ctzpast") == 0) {
        /* big.bin takes blocks 4..6; block 6's first pointer -> block 999 */
        esp01_put_le32(img + 6 * BS, 999);
    } else {
        fprintf(stderr, "lfs_craft: unknown kind '%s'\n", kind);
        return 2;
    }
    esp01_tree_free(&t);
    if (esp01_write_file_atomic(argv[2], img, sizeof img, &err) < 0) {
        fprintf(stderr, "lfs_craft: %s\n", err.msg);
        return 1;
    }
    return 0;
}
