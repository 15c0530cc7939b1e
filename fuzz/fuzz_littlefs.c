/*
 * libFuzzer harness for the littlefs reader: mount + read everything,
 * usage, and the checker, on arbitrary bytes.  The reader probes block
 * sizes from 512 bytes up, so small inputs reach deep into the format.
 *
 * Random mutations almost never keep a commit's CRC valid, which would
 * stop the fuzzer at the CRC check.  So each input is also run with every
 * commit CRC recomputed (for 512- and 4096-byte blocks): the mutated tags
 * then reach the replay, directory and CTZ code as if littlefs had written
 * them.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "esp01/hash.h"
#include "esp01/littlefs.h"
#include "esp01/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void ignore(void *ctx, const char *msg)
{
    (void)ctx;
    (void)msg;
}

static void run(const uint8_t *data, size_t size)
{
    esp01_err err;
    esp01_tree t = ESP01_TREE_INIT;
    esp01_lfs_read(data, size, &t, &err);
    esp01_tree_free(&t);
    esp01_fs_usage u;
    uint32_t distinct;
    esp01_lfs_usage(data, size, &u, &distinct, &err);
    esp01_lfs_check(data, size, ignore, ignore, NULL, &err);
}

/* Rewrite every commit CRC in one block so that the commit is valid. */
static void reseal(uint8_t *b, size_t bs)
{
    size_t off = 4, start = 0;
    uint32_t ptag = 0xffffffffu;
    while (off + 4 <= bs) {
        uint32_t tag = esp01_be32(b + off) ^ ptag;
        if (tag & 0x80000000u)
            break;
        uint32_t len = tag & 0x3ff;
        size_t ds = 4 + (len == 0x3ff ? 0 : len);
        if (ds > bs - off)
            break;
        uint32_t type = (tag >> 20) & 0x7ff;
        ptag = tag;
        if ((type & 0x780) == 0x500) { /* CRC tags: 0x500..0x57f */
            if (ds < 8)
                break;
            esp01_put_le32(b + off + 4, ~esp01_crc32(0, b + start, off + 4 - start));
            ptag ^= (type & 1u) << 31;
            start = off + ds;
        }
        off += ds;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    run(data, size);
    static const size_t sizes[] = {512, 4096};
    for (size_t k = 0; k < 2; k++) {
        size_t bs = sizes[k];
        if (size < 2 * bs)
            continue;
        uint8_t *copy = malloc(size);
        if (!copy)
            return 0;
        memcpy(copy, data, size);
        for (size_t b = 0; b + bs <= size; b += bs)
            reseal(copy + b, bs);
        run(copy, size);
        free(copy);
    }
    return 0;
}
