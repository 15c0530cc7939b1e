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

#include "util/bytes.h"
#include "littlefs_int.h"

static void say(esp01_lfs_report_fn cb, void *ctx, const char *fmt, va_list ap)
{
    char msg[320];
    vsnprintf(msg, sizeof msg, fmt, ap);
    cb(ctx, msg);
}

void lfsd_problem(lfsd_fs *f, const char *fmt, ...)
{
    f->problems++;
    if (!f->report)
        return;
    va_list ap;
    va_start(ap, fmt);
    say(f->report, f->ctx, fmt, ap);
    va_end(ap);
}

void lfsd_note(lfsd_fs *f, const char *fmt, ...)
{
    if (!f->note)
        return;
    va_list ap;
    va_start(ap, fmt);
    say(f->note, f->ctx, fmt, ap);
    va_end(ap);
}

/* How one block's log reads: where its last valid commit ends, and what
   follows it. */
typedef struct scan {
    uint32_t end;     /* end of the last valid commit; 0: none */
    uint32_t bad_off; /* first commit after `end` failing its CRC; 0: none */
    bool later_valid; /* ...and a commit after that one passes its CRC */
    bool has_fcrc;    /* the last valid commit's FCRC */
    uint32_t fcrc_size, fcrc;
} scan;

/*
 * Scan one block's commits as lfs_dir_fetchmatch does: tags XORed with the
 * previous one, the valid bit ending the log, each CRC tag (types
 * 0x500..0x57f) closing a commit and setting the valid bit expected next.
 * littlefs stops at the first failing CRC and uses what came before it;
 * the scan goes on past it only to tell a torn last commit (power cut:
 * nothing valid can follow, littlefs never appends after one) from damage
 * in the middle of the log (valid commits after it are lost).
 */
static void scan_block(const lfsd_fs *f, uint32_t block, scan *s)
{
    const uint8_t *b = f->buf + (size_t)block * f->bs;
    uint32_t off = 4, ptag = 0xffffffffu, crc = lcrc(0xffffffffu, b, 4);
    bool fcrc_here = false;
    uint32_t fcrc_size = 0, fcrc = 0;
    memset(s, 0, sizeof *s);
    while (off + 4 <= f->bs) {
        uint32_t tag = esp01_be32(b + off) ^ ptag;
        if (tag & 0x80000000u)
            break;
        uint32_t ds = tag_dsize(tag);
        if (ds > f->bs - off)
            break;
        crc = lcrc(crc, b + off, 4);
        ptag = tag;
        if (tag_is_crc(tag)) {
            bool ok = ds >= 8 && esp01_le32(b + off + 4) == crc;
            ptag ^= (tag_type(tag) & 1u) << 31;
            if (ok && s->bad_off) {
                s->later_valid = true;
                return;
            }
            if (ok) {
                s->end = off + ds;
                s->has_fcrc = fcrc_here;
                s->fcrc_size = fcrc_size;
                s->fcrc = fcrc;
            } else if (!s->bad_off) {
                s->bad_off = off;
            }
            off += ds;
            crc = 0xffffffffu;
            fcrc_here = false;
            continue;
        }
        if (tag_type(tag) == T_FCRC && tag_len(tag) == 8) {
            fcrc_here = true;
            fcrc_size = esp01_le32(b + off + 4);
            fcrc = esp01_le32(b + off + 8);
        }
        crc = lcrc(crc, b + off + 4, ds - 4);
        off += ds;
    }
}

/* Count a tag type littlefs 2.x never writes (for the checker). */
static void odd(lfsd_mdir *d, uint32_t type)
{
    if (d->odd_tags++ == 0)
        d->odd_type = type;
}

/*
 * Replay the valid commits of `block` into d, oldest first.  What the last
 * tag of each kind says for an id wins, as lfs_dir_get finds it searching
 * backwards; CREATE and DELETE insert and remove ids the way littlefs's
 * backward search shifts them.
 */
static void replay(const lfsd_fs *f, uint32_t block, uint32_t end, lfsd_mdir *d)
{
    const uint8_t *b = f->buf + (size_t)block * f->bs;
    uint32_t off = 4, ptag = 0xffffffffu;
    d->count = 0;
    d->has_tail = d->split = d->bad_tail = false;
    d->has_gstate = false;
    d->odd_tags = 0;
    while (off + 4 <= end) {
        uint32_t tag = esp01_be32(b + off) ^ ptag;
        uint32_t ds = tag_dsize(tag);
        uint32_t type = tag_type(tag), id = tag_id(tag), len = tag_len(tag);
        bool deleted = len == LEN_DELETED;
        ptag = tag;
        uint32_t data = off + 4;
        off += ds;
        if (tag_is_crc(tag)) {
            ptag ^= (type & 1u) << 31;
            continue;
        }
        switch (tag_type1(tag)) {
        case T_SPLICE:
            if (type == T_CREATE && id <= d->count && d->count < ID_NONE) {
                memmove(&d->slots[id + 1], &d->slots[id],
                        (d->count - id) * sizeof(lfsd_slot));
                memset(&d->slots[id], 0, sizeof(lfsd_slot));
                d->count++;
            } else if (type == T_DELETE && id < d->count) {
                memmove(&d->slots[id], &d->slots[id + 1],
                        (d->count - id - 1) * sizeof(lfsd_slot));
                d->count--;
            } else {
                odd(d, type);
            }
            continue;
        case T_TAIL:
            if (len != 8 || type > T_HARDTAIL) {
                d->bad_tail = true;
                continue;
            }
            d->split = type == T_HARDTAIL;
            d->tail[0] = esp01_le32(b + data);
            d->tail[1] = esp01_le32(b + data + 4);
            /* lfs_dir_drop writes a null tail when the pair it unlinks
               was the last in the thread: the thread ends here. */
            d->has_tail = !pair_is_null(d->tail);
            continue;
        case T_GSTATE:
            if (type != T_MOVESTATE) {
                odd(d, type);
                continue;
            }
            /* lfs_dir_getgstate: the newest delta of the pair, short ones
               padded with zeros, a deleted one meaning none. */
            d->has_gstate = !deleted;
            memset(d->gstate, 0, sizeof d->gstate);
            if (!deleted)
                memcpy(d->gstate, b + data, len < 12 ? len : 12);
            continue;
        case T_CRC: /* FCRC and the unused 0x580..0x5fe: nothing to apply */
            if (type != T_FCRC)
                odd(d, type);
            continue;
        case 0x100:
            odd(d, type);
            continue;
        default:
            break;
        }
        /* name, struct and user attribute tags belong to an id */
        if (id >= ID_NONE) {
            odd(d, type);
            continue;
        }
        if (tag_type1(tag) == 0x000 && !deleted)
            while (d->count <= id) { /* a name names a new id (fetchmatch) */
                memset(&d->slots[d->count], 0, sizeof(lfsd_slot));
                d->count++;
            }
        if (id >= d->count)
            continue;
        lfsd_slot *s = &d->slots[id];
        if (tag_type1(tag) == 0x000) {
            s->name_type = deleted ? 0 : (uint16_t)type;
            s->name_off = (uint16_t)data;
            s->name_len = (uint16_t)(deleted ? 0 : len);
        } else if (tag_type1(tag) == T_STRUCT) {
            s->struct_type = deleted ? 0 : (uint16_t)type;
            s->struct_off = (uint16_t)data;
            s->struct_len = (uint16_t)(deleted ? 0 : len);
        } else if (type == T_MTIME) {
            s->mtime_off = len == 8 ? (uint16_t)data : 0;
        }
    }
}

int lfsd_fetch(lfsd_fs *f, const uint32_t pair[2], lfsd_mdir *d,
               esp01_err *err)
{
    if (pair[0] >= f->count || pair[1] >= f->count)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "metadata pair {%u, %u} is outside the %u blocks",
                          (unsigned)pair[0], (unsigned)pair[1],
                          (unsigned)f->count);
    uint32_t revs[2];
    for (int i = 0; i < 2; i++)
        revs[i] = esp01_le32(f->buf + (size_t)pair[i] * f->bs);
    /* sequence comparison, as revision counts wrap */
    int r = (int32_t)(revs[1] - revs[0]) > 0 ? 1 : 0;
    scan newer;
    for (int k = 0; k < 2; k++) {
        int i = (r + k) % 2;
        scan s;
        scan_block(f, pair[i], &s);
        if (k == 0)
            newer = s;
        if (s.end == 0)
            continue;
        d->pair[0] = pair[i];
        d->pair[1] = pair[1 - i];
        d->rev = revs[i];
        replay(f, pair[i], s.end, d);
        d->fell_back = k == 1;
        /* When the newer block is skipped, its own trace is the one that
           matters: a bad first commit with valid ones after it is damage
           that cost the whole block. */
        const scan *t = k == 1 && newer.later_valid ? &newer : &s;
        d->trace_block = t == &s ? pair[i] : pair[1 - i];
        d->trace_off = t->bad_off;
        d->damaged = t->bad_off && t->later_valid;
        d->torn = t->bad_off && !t->later_valid;
        /* Nothing failed a CRC, but the erased bytes the last commit's
           FCRC vouched for were written since: a commit was cut short
           before its CRC tag. */
        if (!t->bad_off && s.has_fcrc && s.fcrc_size <= f->bs - s.end &&
            lcrc(0xffffffffu, f->buf + (size_t)pair[i] * f->bs + s.end,
                 s.fcrc_size) != s.fcrc) {
            d->torn = true;
            d->trace_off = s.end;
        }
        /* The synthetic move of lfs_dir_getslice: while the global state
           names an entry as moved, it is gone from its old pair. */
        for (uint32_t id = 0; id < d->count; id++)
            d->slots[id].moved = 0;
        if (f->move && pair_same(f->move_pair, pair) && f->move_id < d->count) {
            d->slots[f->move_id].moved = 1;
            d->slots[f->move_id].name_type = 0;
        }
        return 0;
    }
    return esp01_fail(err, ESP01_E_FORMAT,
                      "metadata pair {%u, %u} has no valid commit",
                      (unsigned)pair[0], (unsigned)pair[1]);
}

/* The superblock entry (id 0 of a pair in the root's chain), if d has one. */
static bool super_entry(const lfsd_fs *f, const lfsd_mdir *d,
                        esp01_lfs_super *sb)
{
    if (d->count == 0)
        return false;
    const lfsd_slot *s = &d->slots[0];
    const uint8_t *blk = f->buf + (size_t)d->pair[0] * f->bs;
    if (s->name_type != T_SUPERBLOCK || s->name_len != 8 ||
        memcmp(blk + s->name_off, "littlefs", 8) != 0 ||
        s->struct_type != T_INLINE || s->struct_len < 24)
        return false;
    const uint8_t *p = blk + s->struct_off;
    sb->version = esp01_le32(p);
    sb->block_size = esp01_le32(p + 4);
    sb->block_count = esp01_le32(p + 8);
    sb->name_max = esp01_le32(p + 12);
    sb->file_max = esp01_le32(p + 16);
    sb->attr_max = esp01_le32(p + 20);
    return true;
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
    if (lfsd_fetch(&f, root, d, NULL) == 0 && super_entry(&f, d, sb) &&
        sb->block_size == bs)
        rc = 0;
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

static bool test_and_set(uint8_t *bits, uint32_t b)
{
    bool was = bits[b / 8] >> (b % 8) & 1;
    bits[b / 8] |= (uint8_t)(1u << (b % 8));
    return was;
}

int lfsd_walk(lfsd_fs *f, lfsd_mdir *d, lfsd_pair_fn visit, void *arg,
              esp01_err *err)
{
    uint8_t *seen = calloc((f->count + 7) / 8, 1);
    if (!seen)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    uint32_t pair[2] = {0, 1};
    int via = VIA_ROOT;
    int rc = 0;
    for (;;) {
        if (pair[0] >= f->count || pair[1] >= f->count) {
            rc = esp01_fail(err, ESP01_E_FORMAT,
                            "tail {%u, %u} points past the %u blocks",
                            (unsigned)pair[0], (unsigned)pair[1],
                            (unsigned)f->count);
            lfsd_problem(f, "tail {%u, %u} points past the %u blocks",
                         (unsigned)pair[0], (unsigned)pair[1],
                         (unsigned)f->count);
            break;
        }
        bool again = test_and_set(seen, pair[0]);
        again |= test_and_set(seen, pair[1]);
        if (again) {
            rc = esp01_fail(err, ESP01_E_FORMAT,
                            "metadata list loops back to pair {%u, %u}",
                            (unsigned)pair[0], (unsigned)pair[1]);
            lfsd_problem(f, "metadata list loops back to pair {%u, %u}",
                         (unsigned)pair[0], (unsigned)pair[1]);
            break;
        }
        esp01_err e2;
        rc = lfsd_fetch(f, pair, d, &e2);
        if (rc < 0) {
            lfsd_problem(f, "%s", e2.msg);
            if (err)
                *err = e2;
            break;
        }
        d->via = via;
        rc = visit(f, d, arg, err);
        if (rc < 0 || !d->has_tail)
            break;
        pair[0] = d->tail[0];
        pair[1] = d->tail[1];
        via = d->split ? VIA_HARD : VIA_SOFT;
    }
    free(seen);
    return rc;
}

typedef struct state_walk {
    uint8_t g[12];
    bool in_root; /* still in {0, 1} or the pairs its hard tails chain */
} state_walk;

static int state_visit(lfsd_fs *f, lfsd_mdir *d, void *arg, esp01_err *err)
{
    (void)err;
    state_walk *w = arg;
    if (d->via == VIA_SOFT)
        w->in_root = false;
    if (d->has_gstate)
        for (int i = 0; i < 12; i++)
            w->g[i] ^= d->gstate[i];
    /* lfs_mount takes the last superblock entry on the thread as the
       root.  littlefs only writes them into the root's own chain: {0, 1}
       and, after it expands the superblock, the pairs its hard tails lead
       to. */
    esp01_lfs_super sb;
    if (super_entry(f, d, &sb)) {
        if (!w->in_root && !f->super_stray) {
            f->super_stray = true;
            f->stray_pair[0] = d->pair[0];
            f->stray_pair[1] = d->pair[1];
        }
        /* Copies may differ in version and limits (lfs_fs_desuperblock
           updates only the newest), never in geometry. */
        if (sb.block_size != f->sb.block_size ||
            sb.block_count != f->sb.block_count ||
            (sb.version >> 16) != 2 || (sb.version & 0xffff) > 1)
            f->super_differs = true;
    }
    return 0;
}

int lfsd_load_state(lfsd_fs *f, lfsd_mdir *d, esp01_err *err)
{
    state_walk w;
    memset(&w, 0, sizeof w);
    w.in_root = true;
    f->move = false; /* lfs_mount reads the thread with no move applied */
    int rc = lfsd_walk(f, d, state_visit, &w, err);
    if (rc < 0)
        return rc;
    uint32_t tag = esp01_le32(w.g);
    /* lfs_gstate_*: orphans in the length's low 9 bits (bit 9 never on
       disk), the top bit set while any are pending, a move when type1 is
       set (it is always DELETE, 0x4ff). */
    f->orphans = tag_len(tag) & 0x1ff;
    f->orphan_flag = (tag & 0x80000000u) != 0;
    f->move = tag_type1(tag) != 0;
    f->move_type = tag_type(tag);
    f->move_id = tag_id(tag);
    f->move_pair[0] = esp01_le32(w.g + 4);
    f->move_pair[1] = esp01_le32(w.g + 8);
    return 0;
}

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

int lfsd_ctz_blocks(lfsd_fs *f, uint32_t head, uint32_t size,
                    uint32_t **blocks, uint32_t *n, const char *path,
                    esp01_err *err)
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
    int rc = lfsd_ctz_blocks(f, head, size, &list, &n, path, err);
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

