/*
 * lfs_craft KIND OUT - write a small hostile littlefs image for the tests:
 *   dotdot   an entry named ".."          slash    an entry named "a/b"
 *   cycle    the last soft tail points back at the root pair
 *   badcrc   the root's newest commit has a wrong CRC
 *   ctzpast  a CTZ skip-list pointer past the last block
 *   move     a rename of "xy" to "sub/xy" cut by a power loss after the
 *            destination commit: "sub/xy" exists and the global state
 *            says root's "xy" is moved (littlefs deletes it on mount)
 * Each starts from an image our writer made and patches it, re-sealing the
 * commit CRC where the patch is inside one, so only the intended damage is
 * there.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
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

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: lfs_craft dotdot|slash|cycle|badcrc|ctzpast|move OUT\n");
        return 2;
    }
    const char *kind = argv[1];
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
    } else if (strcmp(kind, "badcrc") == 0) {
        root[ccrc_off(root) + 4] ^= 0x01;
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
