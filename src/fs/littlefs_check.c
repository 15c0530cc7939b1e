/*
 * littlefs_check.c - block usage (as os.statvfs on the device counts it)
 * and the consistency check.
 *
 * The check tells damage (problems) from the traces a power cut leaves in
 * a healthy littlefs (notes): a commit cut short, a compaction cut short,
 * a rename whose old name the global state hides, an orphaned or
 * half-relocated pair the global state owns up to.  littlefs itself reads
 * past all of these and repairs them at its next write.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "littlefs_int.h"

enum { OWN_NONE, OWN_META, OWN_DATA };

/* A pair on the threaded list. */
typedef struct tpair {
    uint32_t pair[2];
    int via;
    uint32_t parents; /* directory entries naming it */
} tpair;

/* A directory entry's pair pointer. */
typedef struct dref {
    uint32_t pair[2];
    uint32_t from[2], id;
} dref;

typedef struct census {
    uint8_t *owner;     /* OWN_* per block */
    uint32_t *thread_of; /* per block: 1 + index into thread, or 0 */
    uint32_t used;      /* as statvfs counts */
    uint32_t distinct;  /* blocks in use, each once */
    uint64_t walked;    /* CTZ blocks followed, all files together */
    bool checking;
    tpair *thread;
    size_t nthread;
    dref *refs;
    size_t nrefs, refs_cap;
    bool move_found;
    bool nomem;
} census;

static void claim(lfsd_fs *f, census *c, uint32_t b, int kind,
                  const char *what)
{
    if (b >= f->count) {
        lfsd_problem(f, "%s: block %u is past the end (%u blocks)", what,
                     (unsigned)b, (unsigned)f->count);
        return;
    }
    if (c->owner[b] == OWN_NONE) {
        c->owner[b] = (uint8_t)kind;
        c->distinct++;
    } else if (c->checking && (kind == OWN_DATA || c->owner[b] == OWN_DATA)) {
        lfsd_problem(f, "block %u is used twice (second time by %s)",
                     (unsigned)b, what);
    }
}

static void add_ref(census *c, const uint8_t *st, const lfsd_mdir *d,
                    uint32_t id)
{
    if (c->nrefs == c->refs_cap) {
        size_t cap = c->refs_cap ? 2 * c->refs_cap : 64;
        dref *n = realloc(c->refs, cap * sizeof *n);
        if (!n) {
            c->nomem = true;
            return;
        }
        c->refs = n;
        c->refs_cap = cap;
    }
    dref *r = &c->refs[c->nrefs++];
    r->pair[0] = esp01_le32(st);
    r->pair[1] = esp01_le32(st + 4);
    r->from[0] = d->pair[0];
    r->from[1] = d->pair[1];
    r->id = id;
}

/* Blocks of a CTZ file: counted, and in a check every skip pointer
   compared with the block it should name. */
static int census_ctz(lfsd_fs *f, census *c, uint32_t head, uint32_t size,
                      bool statvfs_sees, const char *what, esp01_err *err)
{
    if (size == 0)
        return 0;
    uint32_t last = size - 1;
    uint32_t index = ctz_index(f->bs, &last);
    if (index >= f->count) {
        lfsd_problem(f, "%s: CTZ size %u is larger than the partition", what,
                     (unsigned)size);
        return 0;
    }
    /* Files that share blocks are reported once the total passes the
       partition; walking them all could take blocks^2 steps. */
    if (c->walked > f->count)
        return 0;
    c->walked += index + 1;
    if (c->walked > f->count) {
        lfsd_problem(f, "%s: the files' CTZ lists add up to more blocks than "
                        "the partition has", what);
        return 0;
    }
    /* lfs_ctz_traverse visits each block of the list once. */
    if (statvfs_sees)
        c->used += index + 1;
    uint32_t *list = malloc(((size_t)index + 1) * sizeof *list);
    if (!list)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    uint32_t block = head;
    bool ok = true;
    for (uint32_t i = index;; i--) {
        if (block >= f->count) {
            lfsd_problem(f, "%s: CTZ pointer to block %u is past the end "
                            "(%u blocks)", what, (unsigned)block,
                         (unsigned)f->count);
            ok = false;
            break;
        }
        list[i] = block;
        claim(f, c, block, OWN_DATA, what);
        if (i == 0)
            break;
        block = esp01_le32(f->buf + (size_t)block * f->bs);
    }
    for (uint32_t i = 1; ok && c->checking && i <= index; i++) {
        const uint8_t *b = f->buf + (size_t)list[i] * f->bs;
        for (uint32_t k = 1; k < ctz_ptrs(i); k++)
            if (esp01_le32(b + 4 * k) != list[i - (1u << k)]) {
                lfsd_problem(f, "%s: CTZ block %u skip pointer %u is %u, "
                                "not %u", what, (unsigned)list[i], (unsigned)k,
                             (unsigned)esp01_le32(b + 4 * k),
                             (unsigned)list[i - (1u << k)]);
                break;
            }
    }
    free(list);
    return 0;
}

/* What a check says about one pair's log and tags. */
static void check_pair(lfsd_fs *f, const lfsd_mdir *d, const char *what)
{
    if (d->damaged)
        lfsd_problem(f, "block %u: commit at offset %u has a bad CRC, and "
                        "valid commits follow it: littlefs loses them",
                     (unsigned)d->trace_block, (unsigned)d->trace_off);
    else if (d->torn)
        lfsd_note(f, "block %u: the commit at offset %u was cut short (a "
                     "power cut during a write); littlefs ignores it",
                  (unsigned)d->trace_block, (unsigned)d->trace_off);
    if (d->fell_back)
        lfsd_note(f, "%s: block %u, the newer one, has no valid commit (a "
                     "compaction cut short); the older block %u is used",
                  what, (unsigned)d->pair[1], (unsigned)d->pair[0]);
    if (d->odd_tags)
        lfsd_problem(f, "%s: %u tag%s of a kind littlefs 2.x never writes "
                        "(first: type 0x%03x), ignored",
                     what, (unsigned)d->odd_tags, d->odd_tags == 1 ? "" : "s",
                     (unsigned)d->odd_type);
    if (d->bad_tail)
        lfsd_problem(f, "%s: a tail tag that is not 8 bytes, ignored", what);
    if (d->split && !d->has_tail)
        lfsd_problem(f, "%s: its directory continues at a null pair", what);
    if (f->move && pair_same(f->move_pair, d->pair) && f->move_id >= d->count)
        lfsd_problem(f, "the global state moves id %u of %s, which has %u "
                        "ids", (unsigned)f->move_id, what, (unsigned)d->count);
}

/* Names, types and the struct of one entry. */
static void check_entry(lfsd_fs *f, const lfsd_mdir *d, uint32_t id,
                        const char *what)
{
    const lfsd_slot *s = &d->slots[id];
    const uint8_t *blk = f->buf + (size_t)d->pair[0] * f->bs;
    char shown[48];
    if (s->name_type == T_SUPERBLOCK) {
        if (id != 0)
            lfsd_problem(f, "%s: a superblock entry not at id 0", what);
        return;
    }
    if (s->name_type == 0) {
        if (s->struct_type)
            lfsd_problem(f, "%s: data without a name", what);
        return;
    }
    if (s->name_type != T_REG && s->name_type != T_DIR) {
        lfsd_problem(f, "%s: entry type 0x%03x is neither file nor directory",
                     what, (unsigned)s->name_type);
        return;
    }
    if (!lfsd_name_ok(blk + s->name_off, s->name_len))
        lfsd_problem(f, "%s: bad name '%s' (empty, '.', '..', '/' or NUL)",
                     what, lfsd_show_name(blk + s->name_off, s->name_len,
                                          shown));
    else if (f->sb.name_max && s->name_len > f->sb.name_max)
        lfsd_problem(f, "%s: name '%s' is %u bytes, more than name_max %u",
                     what, lfsd_show_name(blk + s->name_off, s->name_len,
                                          shown),
                     (unsigned)s->name_len, (unsigned)f->sb.name_max);
    if (s->name_type == T_DIR &&
        (s->struct_type != T_DIRSTRUCT || s->struct_len != 8))
        lfsd_problem(f, "%s: directory without a pair pointer", what);
    if (s->name_type == T_REG && s->struct_type != T_INLINE &&
        (s->struct_type != T_CTZ || s->struct_len != 8))
        lfsd_problem(f, "%s: file without a data pointer", what);
}

static int census_visit(lfsd_fs *f, lfsd_mdir *d, void *arg, esp01_err *err)
{
    census *c = arg;
    char what[96];
    snprintf(what, sizeof what, "metadata pair {%u, %u}", (unsigned)d->pair[0],
             (unsigned)d->pair[1]);
    claim(f, c, d->pair[0], OWN_META, what);
    claim(f, c, d->pair[1], OWN_META, what);
    c->used += 2;
    tpair *t = &c->thread[c->nthread++];
    t->pair[0] = d->pair[0];
    t->pair[1] = d->pair[1];
    t->via = d->via;
    t->parents = 0;
    c->thread_of[d->pair[0]] = c->thread_of[d->pair[1]] = (uint32_t)c->nthread;
    if (c->checking)
        check_pair(f, d, what);
    if (f->move && pair_same(f->move_pair, d->pair))
        c->move_found = true;
    /* While a move is pending, littlefs 2.9.1 and later (PR #937) map ids
       past the moved one one too far in lfs_dir_get: lfs_fs_traverse, so
       statvfs, misses the entry after it as well.  Its blocks are in use
       all the same, and lfs_fs_demove brings it back at the next write. */
    uint32_t unseen = ID_NONE;
    if (f->move && pair_same(f->move_pair, d->pair))
        unseen = f->move_id + 1;
    const uint8_t *blk = f->buf + (size_t)d->pair[0] * f->bs;
    for (uint32_t id = 0; id < d->count; id++) {
        const lfsd_slot *s = &d->slots[id];
        if (s->moved)
            continue;
        snprintf(what, sizeof what, "pair {%u, %u} id %u",
                 (unsigned)d->pair[0], (unsigned)d->pair[1], (unsigned)id);
        if (c->checking)
            check_entry(f, d, id, what);
        /* As lfs_fs_traverse: whatever the entry's name says, a CTZ struct
           is a file's blocks, and a directory struct is visited again
           (MicroPython's statvfs traverses with includeorphans). */
        const uint8_t *st = blk + s->struct_off;
        if (s->struct_type == T_DIRSTRUCT && s->struct_len == 8) {
            if (id != unseen)
                c->used += 2;
            add_ref(c, st, d, id);
        } else if (s->struct_type == T_CTZ && s->struct_len == 8) {
            int rc = census_ctz(f, c, esp01_le32(st), esp01_le32(st + 4),
                                id != unseen, what, err);
            if (rc < 0)
                return rc;
        }
    }
    return c->nomem ? esp01_fail(err, ESP01_E_NOMEM, "out of memory") : 0;
}

/* Index of a thread pair sharing a block with `p`, or -1. */
static long thread_find(const lfsd_fs *f, const census *c, const uint32_t p[2])
{
    for (int k = 0; k < 2; k++)
        if (p[k] < f->count && c->thread_of[p[k]])
            return (long)c->thread_of[p[k]] - 1;
    return -1;
}

/*
 * Tie directory entries to the thread as lfs_fs_deorphan does: every
 * directory's first pair is on the thread and named by exactly one entry,
 * with both of its blocks.  What a cut mkdir, rmdir or relocation leaves is
 * a note while the global state counts orphans (littlefs mends it at its
 * next write), damage otherwise (littlefs would never look).
 */
static void check_links(lfsd_fs *f, census *c)
{
    bool pending = orphans_pending(f);
    for (size_t i = 0; i < c->nrefs; i++) {
        const dref *r = &c->refs[i];
        long t = thread_find(f, c, r->pair);
        if (t < 0) {
            lfsd_problem(f, "pair {%u, %u} id %u: a directory points at pair "
                            "{%u, %u}, which is not in the metadata list "
                            "(dangling)",
                         (unsigned)r->from[0], (unsigned)r->from[1],
                         (unsigned)r->id, (unsigned)r->pair[0],
                         (unsigned)r->pair[1]);
            continue;
        }
        c->thread[t].parents++;
        if (c->thread[t].via != VIA_SOFT)
            lfsd_problem(f, "pair {%u, %u} id %u: a directory points at pair "
                            "{%u, %u}, which is not a directory's first pair",
                         (unsigned)r->from[0], (unsigned)r->from[1],
                         (unsigned)r->id, (unsigned)r->pair[0],
                         (unsigned)r->pair[1]);
        else if (!pair_sync(r->pair, c->thread[t].pair)) {
            if (pending)
                lfsd_note(f, "pair {%u, %u} on the metadata list is the old "
                             "copy of pair {%u, %u}, which its directory "
                             "names (a relocation cut short); littlefs "
                             "relinks it at its next write",
                          (unsigned)c->thread[t].pair[0],
                          (unsigned)c->thread[t].pair[1], (unsigned)r->pair[0],
                          (unsigned)r->pair[1]);
            else
                lfsd_problem(f, "a directory names pair {%u, %u}, the "
                                "metadata list has {%u, %u}",
                             (unsigned)r->pair[0], (unsigned)r->pair[1],
                             (unsigned)c->thread[t].pair[0],
                             (unsigned)c->thread[t].pair[1]);
            /* its blocks are in use all the same */
            for (int k = 0; k < 2; k++)
                claim(f, c, r->pair[k], OWN_META, "a directory's pair");
        }
    }
    for (size_t i = 0; i < c->nthread; i++) {
        const tpair *t = &c->thread[i];
        if (t->via != VIA_SOFT || t->parents == 1)
            continue;
        if (t->parents > 1)
            lfsd_problem(f, "pair {%u, %u} is named by %u directory entries",
                         (unsigned)t->pair[0], (unsigned)t->pair[1],
                         (unsigned)t->parents);
        else if (pending)
            lfsd_note(f, "pair {%u, %u} is on the metadata list but in no "
                         "directory: an orphan of a cut mkdir, rmdir or "
                         "rename, which littlefs drops at its next write",
                      (unsigned)t->pair[0], (unsigned)t->pair[1]);
        else
            lfsd_problem(f, "metadata pair {%u, %u} is in the list but no "
                            "directory points to it (orphan)",
                         (unsigned)t->pair[0], (unsigned)t->pair[1]);
    }
}

static int census_run(lfsd_fs *f, census *c, esp01_err *err)
{
    c->owner = calloc(f->count, 1);
    c->thread_of = calloc(f->count, sizeof *c->thread_of);
    c->thread = malloc((f->count / 2 + 2) * sizeof *c->thread);
    lfsd_mdir *d = malloc(sizeof *d);
    int rc = 0;
    if (!c->owner || !c->thread_of || !c->thread || !d)
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = lfsd_walk(f, d, census_visit, c, err);
    free(d);
    return rc;
}

static void census_free(census *c)
{
    free(c->owner);
    free(c->thread_of);
    free(c->thread);
    free(c->refs);
}

int esp01_lfs_usage(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                    uint32_t *distinct, esp01_err *err)
{
    lfsd_fs f;
    int rc = lfsd_open(&f, buf, len, err);
    if (rc < 0)
        return rc;
    lfsd_mdir *d = malloc(sizeof *d);
    if (!d)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    rc = lfsd_load_state(&f, d, err);
    free(d);
    census c;
    memset(&c, 0, sizeof c);
    if (rc == 0)
        rc = census_run(&f, &c, err);
    if (rc == 0) {
        /* blocks of pairs that only a directory entry names (the new
           copy in a relocation cut short) */
        for (size_t i = 0; i < c.nrefs; i++)
            for (int k = 0; k < 2; k++)
                if (c.refs[i].pair[k] < f.count)
                    claim(&f, &c, c.refs[i].pair[k], OWN_META, "");
        usage->block_size = f.bs;
        usage->blocks_total = f.count;
        usage->blocks_used = c.used;
        usage->blocks_in_use = c.distinct;
        if (distinct)
            *distinct = c.distinct;
    }
    census_free(&c);
    return rc;
}

int esp01_lfs_check(const uint8_t *buf, size_t len, esp01_lfs_report_fn report,
                    esp01_lfs_report_fn note, void *ctx, esp01_err *err)
{
    lfsd_fs f;
    int rc = lfsd_open(&f, buf, len, err);
    if (rc < 0)
        return rc;
    f.report = report;
    f.note = note;
    f.ctx = ctx;
    if (f.sb.name_max > 1022)
        lfsd_problem(&f, "superblock name_max %u is larger than 1022",
                     (unsigned)f.sb.name_max);
    lfsd_mdir *d = malloc(sizeof *d);
    if (!d)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    /* The walk for the global state repeats the one below: keep it quiet. */
    esp01_err e2;
    f.report = f.note = NULL;
    int problems = f.problems;
    rc = lfsd_load_state(&f, d, &e2);
    f.problems = problems;
    f.report = report;
    f.note = note;
    free(d);
    if (rc == ESP01_E_NOMEM) {
        *err = e2;
        return rc;
    }
    if (f.super_stray)
        lfsd_problem(&f, "pair {%u, %u} holds a superblock entry but is not "
                         "part of the root directory",
                     (unsigned)f.stray_pair[0], (unsigned)f.stray_pair[1]);
    if (f.super_differs)
        lfsd_problem(&f, "copies of the superblock disagree on the geometry "
                         "or version");
    if (orphans_pending(&f))
        lfsd_note(&f, "the global state says %u orphaned pair%s may be "
                      "left (a mkdir, rmdir, rename or relocation cut "
                      "short): littlefs looks for them at its next write",
                  (unsigned)(f.orphans ? f.orphans : 1),
                  f.orphans > 1 ? "s" : "");
    if (f.move && (f.move_pair[0] >= f.count || f.move_pair[1] >= f.count))
        lfsd_problem(&f, "pending move points at pair {%u, %u}, past the end",
                     (unsigned)f.move_pair[0], (unsigned)f.move_pair[1]);
    else if (f.move && f.move_type != T_DELETE)
        lfsd_problem(&f, "the global state holds a move of type 0x%03x, not "
                         "0x4ff", (unsigned)f.move_type);
    else if (f.move)
        lfsd_note(&f, "id %u of pair {%u, %u} is the old name of a renamed "
                      "entry (a rename cut short); littlefs hides it and "
                      "deletes it at its next write",
                  (unsigned)f.move_id, (unsigned)f.move_pair[0],
                  (unsigned)f.move_pair[1]);
    census c;
    memset(&c, 0, sizeof c);
    c.checking = true;
    rc = census_run(&f, &c, &e2);
    if (rc == ESP01_E_NOMEM) {
        *err = e2;
        census_free(&c);
        return rc;
    }
    /* a walk cut short by damage was reported as a problem */
    if (rc == 0) {
        check_links(&f, &c);
        if (f.move && !c.move_found && f.move_pair[0] < f.count &&
            f.move_pair[1] < f.count)
            lfsd_problem(&f, "pending move names pair {%u, %u}, which is not "
                             "in the metadata list",
                         (unsigned)f.move_pair[0], (unsigned)f.move_pair[1]);
    }
    census_free(&c);
    return f.problems;
}
