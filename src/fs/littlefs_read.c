/*
 * littlefs_read.c - every file and directory of a littlefs partition into
 * an esp01_tree, following the directory tree from the root.
 */
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "littlefs_int.h"

typedef struct reader {
    lfsd_fs *f;
    esp01_tree *out;
    uint8_t *dirs_seen; /* metadata blocks already read as a directory */
    lfsd_mdir *dirs[DEPTH_MAX]; /* one per depth level, allocated on the way down */
    size_t entries;
    uint64_t ctz_bytes;    /* file data outside metadata, all files together */
    esp01_lfs_owner_fn owner; /* esp01_lfs_owners: who uses which block */
    void *owner_ctx;
    char path[ESP01_PATH_MAX + 1];
} reader;

/* A file's blocks, last to first: each block but the first starts with a
 * pointer to the one before it (SPEC.md, "CTZ skip-lists"). */
static void own_ctz(reader *r, uint32_t head, uint32_t size)
{
    if (!size)
        return;
    uint32_t last = size - 1;
    uint32_t i = ctz_index(r->f->bs, &last);
    uint32_t b = head;
    for (;;) {
        if (b >= r->f->count)
            return; /* the read itself reports the damage */
        r->owner(r->owner_ctx, b, false, r->path);
        if (i-- == 0)
            return;
        b = esp01_le32(r->f->buf + (size_t)b * r->f->bs);
    }
}

static bool mark_seen(uint8_t *seen, uint32_t b)
{
    if (seen[b / 8] >> (b % 8) & 1)
        return false;
    seen[b / 8] |= (uint8_t)(1u << (b % 8));
    return true;
}

/* The file in slot s of metadata block blk, at r->path, into r->out. */
static int read_file(reader *r, const uint8_t *blk, const lfsd_slot *s,
                     esp01_err *err)
{
    lfsd_fs *f = r->f;
    const uint8_t *st = blk + s->struct_off;
    uint8_t *data = NULL;
    size_t size = 0;
    int rc;
    if (s->struct_type == T_INLINE) {
        size = s->struct_len;
        if (size) {
            data = malloc(size);
            if (!data)
                return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
            memcpy(data, st, size);
        }
    } else if (s->struct_type == T_CTZ && s->struct_len == 8) {
        size = esp01_le32(st + 4);
        /* Blocks belong to one file each, so the files cannot hold more
           than the partition; sharing them would let a small image claim
           gigabytes. */
        r->ctz_bytes += size;
        if (r->ctz_bytes > (uint64_t)f->count * f->bs)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "'%s': the files claim more data than the "
                              "partition holds", r->path);
        rc = lfsd_read_ctz(f, esp01_le32(st), (uint32_t)size, &data, r->path,
                           err);
        if (rc < 0)
            return rc;
        if (r->owner)
            own_ctz(r, esp01_le32(st), (uint32_t)size);
    } else {
        return esp01_fail(err, ESP01_E_FORMAT,
                          "file '%s' has no data pointer", r->path);
    }
    if (s->mtime_off)
        rc = esp01_tree_add_file_mtime(r->out, r->path, data, size,
                                       esp01_le64(blk + s->mtime_off), err);
    else
        rc = esp01_tree_add_file(r->out, r->path, data, size, err);
    free(data);
    return rc;
}

static int read_dir(reader *r, const uint32_t start[2], size_t plen,
                    int depth, esp01_err *err)
{
    lfsd_fs *f = r->f;
    if (depth >= DEPTH_MAX)
        return esp01_fail(err, ESP01_E_LIMIT,
                          "directories nested deeper than %d", DEPTH_MAX);
    if (!r->dirs[depth] && !(r->dirs[depth] = malloc(sizeof(lfsd_mdir))))
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    lfsd_mdir *d = r->dirs[depth];
    uint32_t pair[2] = {start[0], start[1]};
    for (;;) {
        if (pair[0] >= f->count || pair[1] >= f->count)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "directory '%s' points at pair {%u, %u}, past "
                              "the %u blocks", plen ? r->path : "/",
                              (unsigned)pair[0], (unsigned)pair[1],
                              (unsigned)f->count);
        if (!mark_seen(r->dirs_seen, pair[0]) ||
            !mark_seen(r->dirs_seen, pair[1]))
            return esp01_fail(err, ESP01_E_FORMAT,
                              "metadata pair {%u, %u} is reached twice (a "
                              "directory loop)", (unsigned)pair[0],
                              (unsigned)pair[1]);
        int rc = lfsd_fetch(f, pair, d, err);
        if (rc < 0)
            return rc;
        if (r->owner) {
            r->owner(r->owner_ctx, d->pair[0], true, plen ? r->path : "");
            r->owner(r->owner_ctx, d->pair[1], true, plen ? r->path : "");
        }
        const uint8_t *blk = f->buf + (size_t)d->pair[0] * f->bs;
        for (uint32_t id = 0; id < d->count; id++) {
            const lfsd_slot *s = &d->slots[id];
            /* lfs_dir_read hides superblock entries (and ids that have no
               name: deleted, or moved away). */
            if (s->name_type == 0 || s->name_type == T_SUPERBLOCK)
                continue;
            const uint8_t *name = blk + s->name_off;
            char shown[48];
            if (s->name_type != T_REG && s->name_type != T_DIR)
                return esp01_fail(err, ESP01_E_FORMAT,
                                  "directory '%s' has an entry '%s' of type "
                                  "0x%03x, neither file nor directory",
                                  plen ? r->path : "/",
                                  lfsd_show_name(name, s->name_len, shown),
                                  (unsigned)s->name_type);
            if (!lfsd_name_ok(name, s->name_len))
                return esp01_fail(err, ESP01_E_FORMAT,
                                  "directory '%s' has an entry named '%s': "
                                  "refused (empty, '.', '..', '/' or NUL)",
                                  plen ? r->path : "/",
                                  lfsd_show_name(name, s->name_len, shown));
            size_t nlen = plen + (plen ? 1 : 0) + s->name_len;
            if (nlen > ESP01_PATH_MAX)
                return esp01_fail(err, ESP01_E_LIMIT,
                                  "path under '%s' longer than %d bytes",
                                  r->path, ESP01_PATH_MAX);
            if (plen)
                r->path[plen] = '/';
            memcpy(r->path + plen + (plen ? 1 : 0), name, s->name_len);
            r->path[nlen] = '\0';
            const uint8_t *st = blk + s->struct_off;
            if (++r->entries > ENTRIES_MAX)
                return esp01_fail(err, ESP01_E_LIMIT,
                                  "more than %d files and directories",
                                  ENTRIES_MAX);
            if (s->name_type == T_DIR) {
                if (s->struct_type != T_DIRSTRUCT || s->struct_len != 8)
                    return esp01_fail(err, ESP01_E_FORMAT,
                                      "directory '%s' has no pair pointer",
                                      r->path);
                rc = esp01_tree_add_dir(r->out, r->path, err);
                if (rc < 0)
                    return rc;
                uint32_t sub[2] = {esp01_le32(st), esp01_le32(st + 4)};
                rc = read_dir(r, sub, nlen, depth + 1, err);
                if (rc < 0)
                    return rc;
                /* the recursion reused deeper mdirs only; d is intact */
            } else {
                rc = read_file(r, blk, s, err);
                if (rc < 0)
                    return rc;
            }
            r->path[plen] = '\0';
        }
        if (!d->split)
            return 0;
        if (!d->has_tail)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "directory '%s' continues at a null pair",
                              plen ? r->path : "/");
        pair[0] = d->tail[0];
        pair[1] = d->tail[1];
    }
}

static int read_tree(const uint8_t *buf, size_t len, esp01_tree *out,
                     esp01_lfs_owner_fn owner, void *owner_ctx,
                     esp01_err *err)
{
    lfsd_fs f;
    int rc = lfsd_open(&f, buf, len, err);
    if (rc < 0)
        return rc;
    reader r;
    memset(&r, 0, sizeof r);
    r.f = &f;
    r.out = out;
    r.owner = owner;
    r.owner_ctx = owner_ctx;
    r.dirs_seen = calloc((f.count + 7) / 8, 1);
    r.dirs[0] = malloc(sizeof(lfsd_mdir));
    if (!r.dirs_seen || !r.dirs[0])
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = lfsd_load_state(&f, r.dirs[0], err);
    /* lfs_mount would take these pairs' word for the root or the geometry,
       which littlefs itself never gives them reason to disagree on. */
    if (rc == 0 && f.super_stray)
        rc = esp01_fail(err, ESP01_E_FORMAT,
                        "pair {%u, %u} holds a superblock entry but is not "
                        "part of the root directory",
                        (unsigned)f.stray_pair[0], (unsigned)f.stray_pair[1]);
    if (rc == 0 && f.super_differs)
        rc = esp01_fail(err, ESP01_E_FORMAT,
                        "copies of the superblock disagree on the geometry "
                        "or version");
    if (rc == 0) {
        const uint32_t root[2] = {0, 1};
        rc = read_dir(&r, root, 0, 0, err);
    }
    free(r.dirs_seen);
    for (int i = 0; i < DEPTH_MAX; i++)
        free(r.dirs[i]);
    return rc;
}

int esp01_lfs_read(const uint8_t *buf, size_t len, esp01_tree *out,
                   esp01_err *err)
{
    return read_tree(buf, len, out, NULL, NULL, err);
}

int esp01_lfs_owners(const uint8_t *buf, size_t len, esp01_lfs_owner_fn fn,
                     void *ctx, esp01_err *err)
{
    esp01_tree t = ESP01_TREE_INIT;
    int rc = read_tree(buf, len, &t, fn, ctx, err);
    esp01_tree_free(&t);
    return rc;
}
