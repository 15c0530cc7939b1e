/*
 * littlefs_disk.c - reading littlefs v2 metadata as lfs_mount and
 * lfs_dir_fetch do: superblock, metadata pairs and their commits, the
 * threaded list, global state, CTZ skip-lists.  Every read is bounded by
 * the buffer.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "littlefs_int.h"


void lfsd_problem(lfsd_fs *f, const char *fmt, ...)
{
    f->problems++;
    if (!f->report)
        return;
    char msg[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    f->report(f->ctx, msg);
}


/*
 * Scan one block: returns the end offset of the last valid commit (0 if
 * none), and whether scanning stopped on a CRC mismatch.
 */
static uint32_t scan_block(const lfsd_fs *f, uint32_t block, uint32_t *bad_off)
{
    const uint8_t *b = f->buf + (size_t)block * f->bs;
    uint32_t off = 4, ptag = 0xffffffffu, crc = lcrc(0xffffffffu, b, 4);
    uint32_t valid_end = 0;
    *bad_off = 0;
    while (off + 4 <= f->bs) {
        uint32_t tag = esp01_be32(b + off) ^ ptag;
        if (tag & 0x80000000u)
            break;
        uint32_t ds = tag_dsize(tag);
        if (ds > f->bs - off)
            break;
        crc = lcrc(crc, b + off, 4);
        ptag = tag;
        if (tag_type(tag) == T_CCRC || tag_type(tag) == T_CCRC + 1) {
            if (ds < 8 || esp01_le32(b + off + 4) != crc) {
                *bad_off = off;
                break;
            }
            ptag ^= (tag_type(tag) & 1u) << 31;
            off += ds;
            valid_end = off;
            crc = 0xffffffffu;
            continue;
        }
        crc = lcrc(crc, b + off + 4, ds - 4);
        off += ds;
    }
    return valid_end;
}

/* Replay the valid commits of `block` into d (forward, applying splices). */
static void replay(const lfsd_fs *f, uint32_t block, uint32_t end, lfsd_mdir *d)
{
    const uint8_t *b = f->buf + (size_t)block * f->bs;
    uint32_t off = 4, ptag = 0xffffffffu;
    d->count = 0;
    d->has_tail = d->split = false;
    d->has_gstate = false;
    while (off + 4 <= end) {
        uint32_t tag = esp01_be32(b + off) ^ ptag;
        uint32_t ds = tag_dsize(tag);
        uint32_t type = tag_type(tag), id = tag_id(tag), len = tag_len(tag);
        ptag = tag;
        if (type == T_CCRC || type == T_CCRC + 1) {
            ptag ^= (type & 1u) << 31;
            off += ds;
            continue;
        }
        uint32_t data = off + 4;
        off += ds;
        if (tag_type1(tag) == T_SPLICE) {
            if (id >= ID_NONE)
                continue;
            if (type == T_CREATE && id <= d->count && d->count < ID_NONE) {
                memmove(&d->slots[id + 1], &d->slots[id],
                        (d->count - id) * sizeof(lfsd_slot));
                memset(&d->slots[id], 0, sizeof(lfsd_slot));
                d->count++;
            } else if (type == T_DELETE && id < d->count) {
                memmove(&d->slots[id], &d->slots[id + 1],
                        (d->count - id - 1) * sizeof(lfsd_slot));
                d->count--;
            }
            continue;
        }
        if (tag_type1(tag) == T_TAIL) {
            if (len == 8) {
                d->has_tail = true;
                d->split = type & 1;
                d->tail[0] = esp01_le32(b + data);
                d->tail[1] = esp01_le32(b + data + 4);
            }
            continue;
        }
        if (type == T_MOVESTATE) {
            if (len == 12) {
                d->has_gstate = true;
                memcpy(d->gstate, b + data, 12);
            }
            continue;
        }
        if (id >= ID_NONE)
            continue;
        if (tag_type1(tag) == 0x000 && len != LEN_DELETED) {
            while (d->count <= id) {
                memset(&d->slots[d->count], 0, sizeof(lfsd_slot));
                d->count++;
            }
        }
        if (id >= d->count)
            continue;
        lfsd_slot *s = &d->slots[id];
        if (tag_type1(tag) == 0x000) {
            s->name_type = len == LEN_DELETED ? 0 : (uint16_t)type;
            s->name_off = data;
            s->name_len = (uint16_t)(len == LEN_DELETED ? 0 : len);
        } else if (tag_type1(tag) == T_STRUCT) {
            s->struct_type = len == LEN_DELETED ? 0 : (uint16_t)type;
            s->struct_off = data;
            s->struct_len = (uint16_t)(len == LEN_DELETED ? 0 : len);
        } else if (type == T_MTIME) {
            s->has_mtime = len == 8;
            if (len == 8)
                s->mtime = esp01_le64(b + data);
        }
    }
}

static bool pair_eq(const uint32_t a[2], const uint32_t b[2])
{
    return (a[0] == b[0] && a[1] == b[1]) || (a[0] == b[1] && a[1] == b[0]);
}

/*
 * Fetch a metadata pair as lfs_dir_fetch does.  ESP01_E_FORMAT if a block
 * is out of range or neither block has a valid commit.
 */
int lfsd_fetch(lfsd_fs *f, const uint32_t pair[2], lfsd_mdir *d, esp01_err *err)
{
    if (pair[0] >= f->count || pair[1] >= f->count)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "metadata pair {%u, %u} is outside the %u blocks",
                          (unsigned)pair[0], (unsigned)pair[1],
                          (unsigned)f->count);
    uint32_t revs[2];
    for (int i = 0; i < 2; i++)
        revs[i] = esp01_le32(f->buf + (size_t)pair[i] * f->bs);
    int r = (int32_t)(revs[1] - revs[0]) > 0 ? 1 : 0;
    d->bad_crc = false;
    for (int k = 0; k < 2; k++) {
        int i = (r + k) % 2;
        uint32_t bad;
        uint32_t end = scan_block(f, pair[i], &bad);
        if (k == 0 && bad) {
            d->bad_crc = true;
            d->bad_crc_block = pair[i];
            d->bad_crc_off = bad;
        }
        if (end == 0)
            continue;
        d->pair[0] = pair[i];
        d->pair[1] = pair[1 - i];
        d->rev = revs[i];
        replay(f, pair[i], end, d);
        if (f->move && pair_eq(f->move_pair, pair) && f->move_id < d->count)
            d->slots[f->move_id].name_type = 0;
        return 0;
    }
    return esp01_fail(err, ESP01_E_FORMAT,
                      "metadata pair {%u, %u} has no valid commit",
                      (unsigned)pair[0], (unsigned)pair[1]);
}

static int probe_bs(const uint8_t *buf, size_t len, uint32_t bs,
                    esp01_lfs_super *sb)
{
    if (len / bs < 2)
        return -1;
    lfsd_fs f = {0};
    f.buf = buf;
    f.bs = bs;
    f.count = 2;
    lfsd_mdir *d = malloc(sizeof *d);
    if (!d)
        return -1;
    const uint32_t root[2] = {0, 1};
    int rc = -1;
    if (lfsd_fetch(&f, root, d, NULL) == 0 && d->count > 0 &&
        d->slots[0].name_type == T_SUPERBLOCK && d->slots[0].name_len == 8 &&
        memcmp(buf + (size_t)d->pair[0] * bs + d->slots[0].name_off,
               "littlefs", 8) == 0 &&
        d->slots[0].struct_type == T_INLINE && d->slots[0].struct_len >= 24) {
        const uint8_t *s = buf + (size_t)d->pair[0] * bs + d->slots[0].struct_off;
        sb->version = esp01_le32(s);
        sb->block_size = esp01_le32(s + 4);
        sb->block_count = esp01_le32(s + 8);
        sb->name_max = esp01_le32(s + 12);
        sb->file_max = esp01_le32(s + 16);
        sb->attr_max = esp01_le32(s + 20);
        if (sb->block_size == bs)
            rc = 0;
    }
    free(d);
    return rc;
}

int esp01_lfs_probe(const uint8_t *buf, size_t len, esp01_lfs_super *sb,
                    esp01_err *err)
{
    static const uint32_t sizes[] = {4096, 512, 1024, 2048, 8192, 16384,
                                     32768, 65536};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        if (probe_bs(buf, len, sizes[i], sb) < 0)
            continue;
        if ((sb->version >> 16) != 2 || (sb->version & 0xffff) > 1)
            return esp01_fail(err, ESP01_E_UNSUPPORTED,
                              "littlefs on-disk version %u.%u is not 2.0/2.1",
                              (unsigned)(sb->version >> 16),
                              (unsigned)(sb->version & 0xffff));
        if (sb->block_count < 2 || sb->block_count > len / sb->block_size)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "littlefs superblock says %u blocks of %u "
                              "bytes, but the image holds %zu bytes",
                              (unsigned)sb->block_count,
                              (unsigned)sb->block_size, len);
        return 0;
    }
    return esp01_fail(err, ESP01_E_NOTFOUND,
                      "no littlefs superblock in block 0 or 1");
}

int lfsd_open(lfsd_fs *f, const uint8_t *buf, size_t len, esp01_err *err)
{
    memset(f, 0, sizeof *f);
    int rc = esp01_lfs_probe(buf, len, &f->sb, err);
    if (rc < 0)
        return rc;
    f->buf = buf;
    f->bs = f->sb.block_size;
    f->count = f->sb.block_count;
    return 0;
}

int lfsd_walk(lfsd_fs *f, lfsd_mdir *d, lfsd_pair_fn visit, void *arg, esp01_err *err)
{
    uint8_t *seen = calloc((f->count + 7) / 8, 1);
    if (!seen)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    uint32_t pair[2] = {0, 1};
    int rc = 0;
    for (;;) {
        if (pair[0] >= f->count || pair[1] >= f->count) {
            rc = esp01_fail(err, ESP01_E_FORMAT,
                            "tail {%u, %u} points past the %u blocks",
                            (unsigned)pair[0], (unsigned)pair[1],
                            (unsigned)f->count);
            lfsd_problem(f, "%s", err ? err->msg : "tail out of range");
            break;
        }
        if ((seen[pair[0] / 8] >> (pair[0] % 8) & 1) ||
            (seen[pair[1] / 8] >> (pair[1] % 8) & 1)) {
            rc = esp01_fail(err, ESP01_E_FORMAT,
                            "metadata list loops back to pair {%u, %u}",
                            (unsigned)pair[0], (unsigned)pair[1]);
            lfsd_problem(f, "%s", err ? err->msg : "cycle");
            break;
        }
        seen[pair[0] / 8] |= (uint8_t)(1u << (pair[0] % 8));
        seen[pair[1] / 8] |= (uint8_t)(1u << (pair[1] % 8));
        rc = lfsd_fetch(f, pair, d, err);
        if (rc < 0) {
            lfsd_problem(f, "%s", err ? err->msg : "bad pair");
            break;
        }
        rc = visit(f, d, arg, err);
        if (rc < 0 || !d->has_tail)
            break;
        pair[0] = d->tail[0];
        pair[1] = d->tail[1];
    }
    free(seen);
    return rc;
}

static int gstate_visit(lfsd_fs *f, lfsd_mdir *d, void *arg, esp01_err *err)
{
    (void)f;
    (void)err;
    uint8_t *g = arg;
    if (d->has_gstate)
        for (int i = 0; i < 12; i++)
            g[i] ^= d->gstate[i];
    return 0;
}

int lfsd_load_gstate(lfsd_fs *f, lfsd_mdir *d, esp01_err *err)
{
    uint8_t g[12] = {0};
    int rc = lfsd_walk(f, d, gstate_visit, g, err);
    if (rc < 0)
        return rc;
    uint32_t tag = esp01_le32(g);
    f->orphans = tag_len(tag) & 0x1ff;
    f->move = tag_type1(tag) != 0;
    f->move_id = tag_id(tag);
    f->move_pair[0] = esp01_le32(g + 4);
    f->move_pair[1] = esp01_le32(g + 8);
    return 0;
}

/* A name from the image, made safe to print: at most 40 bytes, '?' for
   anything not printable ASCII. */
const char *lfsd_show_name(const uint8_t *name, size_t n, char out[48])
{
    size_t k = 0;
    for (size_t i = 0; i < n && k < 40; i++)
        out[k++] = name[i] >= 0x20 && name[i] < 0x7f ? (char)name[i] : '?';
    if (n > 40) {
        memcpy(out + k, "...", 3);
        k += 3;
    }
    out[k] = '\0';
    return out;
}

int lfsd_name_ok(const uint8_t *name, size_t n)
{
    if (n == 0 || (n == 1 && name[0] == '.') ||
        (n == 2 && name[0] == '.' && name[1] == '.'))
        return 0;
    for (size_t i = 0; i < n; i++)
        if (name[i] == '/' || name[i] == 0)
            return 0;
    return 1;
}

/* Blocks of a CTZ list from block 0 to the head, into `blocks`. */
static int ctz_blocks(lfsd_fs *f, uint32_t head, uint32_t size, uint32_t **blocks,
                      uint32_t *n, const char *path, esp01_err *err)
{
    *blocks = NULL;
    *n = 0;
    if (size == 0)
        return 0;
    uint32_t last = size - 1;
    uint32_t index = ctz_index(f->bs, &last);
    if (index >= f->count)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "'%s': size %u needs more blocks than the "
                          "partition has", path, (unsigned)size);
    uint32_t *list = malloc(((size_t)index + 1) * sizeof *list);
    if (!list)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    uint32_t block = head;
    for (uint32_t i = index;; i--) {
        if (block >= f->count) {
            free(list);
            return esp01_fail(err, ESP01_E_FORMAT,
                              "'%s': CTZ pointer to block %u is past the end "
                              "(%u blocks)", path, (unsigned)block,
                              (unsigned)f->count);
        }
        list[i] = block;
        if (i == 0)
            break;
        block = esp01_le32(f->buf + (size_t)block * f->bs);
    }
    *blocks = list;
    *n = index + 1;
    return 0;
}

int lfsd_read_ctz(lfsd_fs *f, uint32_t head, uint32_t size, uint8_t **out,
                    const char *path, esp01_err *err)
{
    uint32_t *list, n;
    *out = NULL;
    int rc = ctz_blocks(f, head, size, &list, &n, path, err);
    if (rc < 0 || size == 0)
        return rc;
    uint8_t *data = malloc(size);
    if (!data) {
        free(list);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    size_t pos = 0;
    for (uint32_t i = 0; i < n && pos < size; i++) {
        uint32_t skip = 4 * ctz_ptrs(i);
        size_t take = f->bs - skip;
        if (take > size - pos)
            take = size - pos;
        memcpy(data + pos, f->buf + (size_t)list[i] * f->bs + skip, take);
        pos += take;
    }
    free(list);
    *out = data;
    return 0;
}

