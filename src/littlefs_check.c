/*
 * littlefs_check.c - block usage (as os.statvfs on the device counts it)
 * and the consistency check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "littlefs_int.h"

typedef struct census {
    uint8_t *owner_count; /* per block, saturating */
    uint32_t used;      /* as statvfs counts */
    uint64_t walked;    /* CTZ blocks followed, all files together */
    uint32_t distinct;  /* blocks counted once */
    bool checking;
    /* pairs in the threaded list and pairs pointed to by directories */
    uint32_t *listed;
    size_t nlisted;
    uint32_t *linked;
    size_t nlinked, linked_cap;
    bool nomem;
} census;

static void link_block(census *c, uint32_t b)
{
    if (c->nlinked == c->linked_cap) {
        size_t cap = c->linked_cap ? 2 * c->linked_cap : 256;
        uint32_t *n = realloc(c->linked, cap * sizeof *n);
        if (!n) {
            c->nomem = true;
            return;
        }
        c->linked = n;
        c->linked_cap = cap;
    }
    c->linked[c->nlinked++] = b;
}

static void claim(lfsd_fs *f, census *c, uint32_t b, const char *what)
{
    if (b >= f->count) {
        lfsd_problem(f, "%s: block %u is past the end (%u blocks)", what,
                (unsigned)b, (unsigned)f->count);
        return;
    }
    c->used++;
    if (c->owner_count[b] == 0)
        c->distinct++;
    if (c->owner_count[b] < 255)
        c->owner_count[b]++;
    if (c->checking && c->owner_count[b] == 2)
        lfsd_problem(f, "block %u is used twice (second time by %s)", (unsigned)b,
                what);
}

static int census_visit(lfsd_fs *f, lfsd_mdir *d, void *arg, esp01_err *err)
{
    census *c = arg;
    char what[96];
    snprintf(what, sizeof what, "metadata pair {%u, %u}", (unsigned)d->pair[0],
             (unsigned)d->pair[1]);
    claim(f, c, d->pair[0], what);
    claim(f, c, d->pair[1], what);
    if (c->checking && d->bad_crc)
        lfsd_problem(f, "block %u: commit at offset %u has a bad CRC",
                (unsigned)d->bad_crc_block, (unsigned)d->bad_crc_off);
    if (c->listed) {
        c->listed[c->nlisted++] = d->pair[0];
        c->listed[c->nlisted++] = d->pair[1];
        if (d->has_tail && d->split) {
            link_block(c, d->tail[0]);
            link_block(c, d->tail[1]);
        }
    }
    const uint8_t *blk = f->buf + (size_t)d->pair[0] * f->bs;
    for (uint32_t id = 0; id < d->count; id++) {
        const lfsd_slot *s = &d->slots[id];
        if (s->name_type != T_REG && s->name_type != T_DIR)
            continue;
        const uint8_t *st = blk + s->struct_off;
        char shown[48];
        if (c->checking && !lfsd_name_ok(blk + s->name_off, s->name_len))
            lfsd_problem(f, "pair {%u, %u} id %u: bad name '%s' (empty, '.', "
                       "'..', '/' or NUL)",
                    (unsigned)d->pair[0], (unsigned)d->pair[1], (unsigned)id,
                    lfsd_show_name(blk + s->name_off, s->name_len, shown));
        snprintf(what, sizeof what, "pair {%u, %u} id %u",
                 (unsigned)d->pair[0], (unsigned)d->pair[1], (unsigned)id);
        if (s->name_type == T_DIR) {
            if (s->struct_type != T_DIRSTRUCT || s->struct_len != 8) {
                if (c->checking)
                    lfsd_problem(f, "%s: directory without a pair pointer", what);
                continue;
            }
            if (c->listed) {
                link_block(c, esp01_le32(st));
                link_block(c, esp01_le32(st + 4));
            }
            /* MicroPython's statvfs uses lfs_fs_traverse, which visits
               a directory's pair again through its parent's entry. */
            c->used += 2;
            continue;
        }
        if (s->struct_type == T_INLINE)
            continue;
        if (s->struct_type != T_CTZ || s->struct_len != 8) {
            if (c->checking)
                lfsd_problem(f, "%s: file without a data pointer", what);
            continue;
        }
        uint32_t head = esp01_le32(st), size = esp01_le32(st + 4);
        if (size == 0)
            continue;
        uint32_t last = size - 1;
        uint32_t index = ctz_index(f->bs, &last);
        if (index >= f->count) {
            lfsd_problem(f, "%s: CTZ size %u is larger than the partition", what,
                    (unsigned)size);
            continue;
        }
        /* Files that share blocks are reported once the total passes the
           partition; walking them all could take blocks^2 steps. */
        if (c->walked > f->count)
            continue;
        c->walked += index + 1;
        if (c->walked > f->count) {
            lfsd_problem(f, "%s: the files' CTZ lists add up to more blocks than "
                       "the partition has",
                    what);
            continue;
        }
        /* Follow pointer 0 down, checking every skip pointer on the way. */
        uint32_t *list = malloc(((size_t)index + 1) * sizeof *list);
        if (!list)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        uint32_t block = head;
        bool ok = true;
        for (uint32_t i = index;; i--) {
            if (block >= f->count) {
                lfsd_problem(f, "%s: CTZ pointer to block %u is past the end "
                           "(%u blocks)",
                        what, (unsigned)block, (unsigned)f->count);
                ok = false;
                break;
            }
            list[i] = block;
            claim(f, c, block, what);
            if (i == 0)
                break;
            block = esp01_le32(f->buf + (size_t)block * f->bs);
        }
        if (ok && c->checking) {
            for (uint32_t i = 1; i <= index; i++) {
                const uint8_t *b = f->buf + (size_t)list[i] * f->bs;
                for (uint32_t k = 1; k < ctz_ptrs(i); k++)
                    if (esp01_le32(b + 4 * k) != list[i - (1u << k)]) {
                        lfsd_problem(f, "%s: CTZ block %u skip pointer %u is %u, "
                                   "not %u",
                                what, (unsigned)list[i], (unsigned)k,
                                (unsigned)esp01_le32(b + 4 * k),
                                (unsigned)list[i - (1u << k)]);
                        break;
                    }
            }
        }
        free(list);
    }
    return 0;
}

int esp01_lfs_usage(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                    uint32_t *distinct, esp01_err *err)
{
    lfsd_fs f;
    int rc = lfsd_open(&f, buf, len, err);
    if (rc < 0)
        return rc;
    lfsd_mdir *d = malloc(sizeof *d);
    census c = {0};
    c.owner_count = calloc(f.count, 1);
    if (!d || !c.owner_count) {
        free(d);
        free(c.owner_count);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    rc = lfsd_load_gstate(&f, d, err);
    if (rc == 0)
        rc = lfsd_walk(&f, d, census_visit, &c, err);
    if (rc == 0) {
        usage->block_size = f.bs;
        usage->blocks_total = f.count;
        usage->blocks_used = c.used;
        if (distinct)
            *distinct = c.distinct;
    }
    free(d);
    free(c.owner_count);
    return rc;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int esp01_lfs_check(const uint8_t *buf, size_t len, esp01_lfs_report_fn report,
                    void *ctx, esp01_err *err)
{
    lfsd_fs f;
    int rc = lfsd_open(&f, buf, len, err);
    if (rc < 0)
        return rc;
    f.report = report;
    f.ctx = ctx;
    if (f.sb.name_max > 1022)
        lfsd_problem(&f, "superblock name_max %u is larger than 1022",
                (unsigned)f.sb.name_max);
    lfsd_mdir *d = malloc(sizeof *d);
    census c = {0};
    c.checking = true;
    c.owner_count = calloc(f.count, 1);
    c.listed = malloc((2 * (size_t)f.count + 2) * sizeof *c.listed);
    if (!d || !c.owner_count || !c.listed) {
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        goto out;
    }
    esp01_err e2;
    /* The gstate walk repeats the main walk below: keep it quiet. */
    f.report = NULL;
    int problems = f.problems;
    rc = lfsd_load_gstate(&f, d, &e2);
    f.problems = problems;
    f.report = report;
    if (rc == ESP01_E_NOMEM) {
        *err = e2;
        goto out;
    }
    if (f.orphans)
        lfsd_problem(&f, "global state records %u orphaned pair(s)",
                (unsigned)f.orphans);
    if (f.move && (f.move_pair[0] >= f.count || f.move_pair[1] >= f.count))
        lfsd_problem(&f, "pending move points at pair {%u, %u}, past the end",
                (unsigned)f.move_pair[0], (unsigned)f.move_pair[1]);
    rc = lfsd_walk(&f, d, census_visit, &c, &e2);
    if (rc == ESP01_E_NOMEM || c.nomem) {
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        goto out;
    }
    rc = 0;
    /* Every listed pair but the root must be reached from exactly one
       directory entry or hard tail; every pair those name must be listed. */
    qsort(c.listed, c.nlisted, sizeof *c.listed, cmp_u32);
    if (c.nlinked)
        qsort(c.linked, c.nlinked, sizeof *c.linked, cmp_u32);
    for (size_t i = 0; i < c.nlisted; i++) {
        uint32_t b = c.listed[i];
        if (b <= 1 || (i > 0 && c.listed[i - 1] == b))
            continue;
        if (!c.nlinked || !bsearch(&b, c.linked, c.nlinked, sizeof b, cmp_u32))
            lfsd_problem(&f, "metadata block %u is in the list but no directory "
                        "points to it (orphan)", (unsigned)b);
    }
    for (size_t i = 0; i < c.nlinked; i++) {
        uint32_t b = c.linked[i];
        if (i > 0 && c.linked[i - 1] == b) {
            lfsd_problem(&f, "metadata block %u is pointed to twice", (unsigned)b);
            continue;
        }
        if (b >= f.count)
            lfsd_problem(&f, "a directory points at block %u, past the end",
                    (unsigned)b);
        else if (!bsearch(&b, c.listed, c.nlisted, sizeof b, cmp_u32))
            lfsd_problem(&f, "a directory points at block %u, which is not in the "
                        "metadata list (dangling)", (unsigned)b);
    }
out:
    free(d);
    free(c.owner_count);
    free(c.listed);
    free(c.linked);
    return rc < 0 ? rc : f.problems;
}

