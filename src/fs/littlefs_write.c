/*
 * littlefs_write.c - lays a file tree out as a littlefs v2 partition.
 */
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"
#include "littlefs_int.h"

void esp01_lfs_config_micropython(esp01_lfs_config *cfg, uint32_t block_count)
{
    cfg->block_size = 4096;
    cfg->block_count = block_count;
    cfg->read_size = 32;
    cfg->prog_size = 32;
    cfg->cache_size = 128;
    cfg->lookahead_size = 32;
    cfg->block_cycles = 100;
    cfg->name_max = 255;
    cfg->file_max = 0x7fffffff;
    cfg->attr_max = 1022;
}

uint32_t esp01_lfs_inline_max(const esp01_lfs_config *cfg)
{
    uint32_t m = cfg->cache_size;
    if (cfg->attr_max < m)
        m = cfg->attr_max;
    if (cfg->block_size / 8 < m)
        m = cfg->block_size / 8;
    return m;
}

static uint32_t align_up(uint32_t x, uint32_t a) { return (x + a - 1) / a * a; }

/* littlefs's name order: bytewise, and on a common prefix the longer first. */
static int name_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
    size_t n = alen < blen ? alen : blen;
    int r = memcmp(a, b, n);
    if (r)
        return r;
    if (alen == blen)
        return 0;
    return alen > blen ? -1 : 1;
}

/* One commit being built in a metadata block. */
typedef struct commit {
    uint8_t *blk;
    uint32_t block_size, prog_size;
    uint32_t off, ptag, crc;
} commit;

static void commit_begin(commit *c, uint8_t *blk, uint32_t bs, uint32_t prog,
                         uint32_t rev)
{
    c->blk = blk;
    c->block_size = bs;
    c->prog_size = prog;
    esp01_put_le32(blk, rev);
    c->crc = lcrc(0xffffffffu, blk, 4);
    c->off = 4;
    c->ptag = 0xffffffffu;
}

static void commit_tag(commit *c, uint32_t type, uint32_t id, uint32_t len,
                       const void *data)
{
    uint32_t tag = mktag(type, id, len);
    esp01_put_be32(c->blk + c->off, tag ^ c->ptag);
    if (len && len != LEN_DELETED)
        memcpy(c->blk + c->off + 4, data, len);
    c->crc = lcrc(c->crc, c->blk + c->off, tag_dsize(tag));
    c->ptag = tag;
    c->off += tag_dsize(tag);
}

/*
 * Close the commit as lfs_dir_commitcrc does: an FCRC over the next
 * prog_size erased bytes (so the device knows it may append there), then
 * the CCRC, padded to the program size.  Padding is left erased.
 */
static void commit_end(commit *c)
{
    uint32_t end = c->off + 5 * 4;
    if (end > c->block_size)
        end = c->block_size;
    end = align_up(end, c->prog_size);
    if (end <= c->block_size - c->prog_size) {
        uint8_t fcrc[8];
        uint8_t erased[64];
        uint32_t crc = 0xffffffffu;
        memset(erased, 0xff, sizeof erased);
        for (uint32_t left = c->prog_size; left;) {
            uint32_t n = left < sizeof erased ? left : (uint32_t)sizeof erased;
            crc = lcrc(crc, erased, n);
            left -= n;
        }
        esp01_put_le32(fcrc, c->prog_size);
        esp01_put_le32(fcrc + 4, crc);
        commit_tag(c, T_FCRC, ID_NONE, 8, fcrc);
    }
    uint32_t tag = mktag(T_CCRC, ID_NONE, end - (c->off + 4));
    esp01_put_be32(c->blk + c->off, tag ^ c->ptag);
    c->crc = lcrc(c->crc, c->blk + c->off, 4);
    esp01_put_le32(c->blk + c->off + 4, c->crc);
    c->off = end;
    c->ptag = tag;
    c->crc = 0xffffffffu;
}

/* A file or directory to write, implied parents included. */
typedef struct wnode {
    const char *path;
    size_t path_len;
    const char *name;
    size_t name_len;
    const esp01_entry *entry; /* NULL for an implied directory */
    bool is_dir;
    uint32_t parent;
    uint32_t first_child, child_count; /* into the children array */
    uint32_t first_pair, pair_count;   /* directories */
    uint32_t ctz_first, ctz_blocks;    /* files stored outside metadata */
} wnode;

typedef struct wpair {
    uint32_t block[2]; /* [0] holds the commit, [1] stays erased */
    uint32_t dir;      /* node index */
    uint32_t first, count; /* slice of the directory's children */
} wpair;

typedef struct writer {
    const esp01_lfs_config *cfg;
    uint32_t inline_max;
    wnode *nodes;
    size_t node_count;
    uint32_t *children; /* node indices, grouped by parent, in name order */
    wpair *pairs;
    size_t pair_count;
    uint32_t *dir_order; /* directories in the order the soft tails thread them */
    size_t dir_count;
    uint32_t next_block;
} writer;

typedef struct pathref {
    const char *p;
    size_t len;
    const esp01_entry *e;
} pathref;

static int pathref_cmp(const void *a, const void *b)
{
    const pathref *x = a, *y = b;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = memcmp(x->p, y->p, n);
    if (r)
        return r;
    return (x->len > y->len) - (x->len < y->len);
}

typedef struct childkey {
    uint32_t parent;
    const char *name;
    size_t name_len;
    uint32_t node;
} childkey;

static int childkey_cmp(const void *a, const void *b)
{
    const childkey *x = a, *y = b;
    if (x->parent != y->parent)
        return x->parent < y->parent ? -1 : 1;
    return name_cmp(x->name, x->name_len, y->name, y->name_len);
}

static uint32_t entry_dsize(const writer *w, const wnode *n)
{
    uint32_t size = 4 + (uint32_t)n->name_len + 4 + 8;
    if (!n->is_dir && n->entry->size <= w->inline_max)
        size = 4 + (uint32_t)n->name_len + 4 + (uint32_t)n->entry->size;
    if (n->entry && n->entry->has_mtime)
        size += 4 + 8;
    return size;
}

/* Blocks a CTZ list needs for `size` bytes. */
static uint32_t ctz_count(uint32_t bs, size_t size)
{
    uint32_t n = 0;
    uint64_t cap = 0;
    while (cap < size) {
        cap += bs - 4 * ctz_ptrs(n);
        n++;
    }
    return n;
}

static int build_nodes(writer *w, const esp01_tree *tree, esp01_err *err)
{
    size_t total = 1;
    for (size_t i = 0; i < tree->count; i++) {
        int rc = esp01_path_check(tree->entries[i].path, err);
        if (rc < 0)
            return rc;
        for (const char *p = tree->entries[i].path; *p; p++)
            total += *p == '/';
        total++;
    }
    pathref *refs = malloc(total * sizeof *refs);
    if (!refs)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    size_t nref = 0;
    refs[nref++] = (pathref){"", 0, NULL};
    for (size_t i = 0; i < tree->count; i++) {
        const char *path = tree->entries[i].path;
        for (const char *p = path; *p; p++)
            if (*p == '/')
                refs[nref++] = (pathref){path, (size_t)(p - path), NULL};
        refs[nref++] = (pathref){path, strlen(path), &tree->entries[i]};
    }
    qsort(refs, nref, sizeof *refs, pathref_cmp);

    w->nodes = calloc(nref, sizeof *w->nodes);
    if (!w->nodes) {
        free(refs);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    size_t n = 0;
    for (size_t i = 0; i < nref; i++) {
        if (n > 0 && pathref_cmp(&refs[i], &refs[i - 1]) == 0) {
            wnode *prev = &w->nodes[n - 1];
            const esp01_entry *e = refs[i].e;
            if (!e)
                continue;
            if (prev->entry || e->type != ESP01_ENTRY_DIR) {
                int rc = esp01_fail(err, ESP01_E_EXISTS,
                                    "'%.*s' is both a file and a directory",
                                    (int)refs[i].len, refs[i].p);
                free(refs);
                return rc;
            }
            prev->entry = e;
            continue;
        }
        wnode *node = &w->nodes[n++];
        node->path = refs[i].p;
        node->path_len = refs[i].len;
        node->entry = refs[i].e;
        node->is_dir = !node->entry || node->entry->type == ESP01_ENTRY_DIR;
        const char *slash = NULL;
        for (size_t k = node->path_len; k > 0; k--)
            if (node->path[k - 1] == '/') {
                slash = node->path + k - 1;
                break;
            }
        node->name = slash ? slash + 1 : node->path;
        node->name_len = node->path_len - (size_t)(node->name - node->path);
    }
    free(refs);
    w->node_count = n;

    /* Parents: binary search of the parent path among the sorted nodes. */
    for (size_t i = 1; i < n; i++) {
        wnode *node = &w->nodes[i];
        size_t plen = node->name == node->path
                          ? 0
                          : (size_t)(node->name - node->path) - 1;
        pathref key = {node->path, plen, NULL};
        size_t lo = 0, hi = i;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            pathref m = {w->nodes[mid].path, w->nodes[mid].path_len, NULL};
            if (pathref_cmp(&m, &key) < 0)
                lo = mid + 1;
            else
                hi = mid;
        }
        node->parent = (uint32_t)lo;
        if (!w->nodes[lo].is_dir)
            return esp01_fail(err, ESP01_E_EXISTS,
                              "'%.*s' is a file but '%.*s' needs it as a "
                              "directory",
                              (int)plen, node->path, (int)node->path_len,
                              node->path);
        if (node->name_len > w->cfg->name_max)
            return esp01_fail(err, ESP01_E_LIMIT,
                              "name '%.*s' is %zu bytes, more than %u",
                              (int)node->name_len, node->name, node->name_len,
                              (unsigned)w->cfg->name_max);
        if (!node->is_dir && node->entry->size > w->cfg->file_max)
            return esp01_fail(err, ESP01_E_LIMIT,
                              "'%.*s' is larger than littlefs's file_max",
                              (int)node->path_len, node->path);
    }

    childkey *keys = malloc((n ? n : 1) * sizeof *keys);
    w->children = malloc((n ? n : 1) * sizeof *w->children);
    if (!keys || !w->children) {
        free(keys);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    for (size_t i = 1; i < n; i++)
        keys[i - 1] = (childkey){w->nodes[i].parent, w->nodes[i].name,
                                 w->nodes[i].name_len, (uint32_t)i};
    if (n > 1)
        qsort(keys, n - 1, sizeof *keys, childkey_cmp);
    for (size_t i = 0; i + 1 < n; i++) {
        w->children[i] = keys[i].node;
        wnode *parent = &w->nodes[keys[i].parent];
        if (parent->child_count == 0)
            parent->first_child = (uint32_t)i;
        parent->child_count++;
    }
    free(keys);
    return 0;
}

/*
 * Split each directory into metadata pairs, fewer than 0xff ids each.  A
 * pair is filled to within an eighth of a block (plus 40 bytes) of full: denser
 * than littlefs's own compaction (half a block), as dense as a directory
 * MicroPython grew by appending, and still with room for a dozen small
 * commits before the device compacts it (and splits it, the way littlefs
 * always does once a pair is more than half full).
 */
static int plan_pairs(writer *w, esp01_err *err)
{
    const esp01_lfs_config *cfg = w->cfg;
    uint32_t limit = cfg->block_size - 40 - cfg->block_size / 8;
    size_t cap = 16;
    w->pairs = malloc(cap * sizeof *w->pairs);
    w->dir_order = malloc(w->node_count * sizeof *w->dir_order);
    uint32_t *stack = malloc(w->node_count * sizeof *stack);
    if (!w->pairs || !w->dir_order || !stack) {
        free(stack);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    /* Pre-order walk: each directory's pairs, then its files' CTZ blocks,
       then its subdirectories.  Block 0/1 is the root's first pair. */
    size_t sp = 0;
    stack[sp++] = 0;
    w->next_block = 2;
    while (sp > 0) {
        uint32_t d = stack[--sp];
        wnode *dir = &w->nodes[d];
        w->dir_order[w->dir_count++] = d;
        dir->first_pair = (uint32_t)w->pair_count;
        uint32_t used = d == 0 ? 4 + 8 + 4 + 24 : 0;
        uint32_t ids = d == 0 ? 1 : 0;
        uint32_t i = 0;
        do {
            if (w->pair_count == cap) {
                cap *= 2;
                wpair *np = realloc(w->pairs, cap * sizeof *np);
                if (!np) {
                    free(stack);
                    return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
                }
                w->pairs = np;
            }
            wpair *p = &w->pairs[w->pair_count++];
            p->dir = d;
            p->first = dir->first_child + i;
            p->count = 0;
            if (d == 0 && dir->pair_count == 0) {
                p->block[0] = 1;
                p->block[1] = 0;
            } else {
                p->block[0] = w->next_block++;
                p->block[1] = w->next_block++;
            }
            dir->pair_count++;
            while (i < dir->child_count) {
                uint32_t sz = entry_dsize(w, &w->nodes[w->children[dir->first_child + i]]);
                if (p->count > 0 && (used + sz > limit || ids + 1 >= PAIR_IDS_MAX))
                    break;
                used += sz;
                ids++;
                p->count++;
                i++;
            }
            used = 0;
            ids = 0;
        } while (i < dir->child_count);

        for (uint32_t k = 0; k < dir->child_count; k++) {
            wnode *c = &w->nodes[w->children[dir->first_child + k]];
            if (c->is_dir || c->entry->size <= w->inline_max)
                continue;
            c->ctz_first = w->next_block;
            c->ctz_blocks = ctz_count(w->cfg->block_size, c->entry->size);
            w->next_block += c->ctz_blocks;
        }
        for (uint32_t k = dir->child_count; k > 0; k--) {
            uint32_t c = w->children[dir->first_child + k - 1];
            if (w->nodes[c].is_dir)
                stack[sp++] = c;
        }
        if (w->next_block > w->cfg->block_count + 1u)
            break; /* reported by the caller; stop counting early */
    }
    free(stack);
    return 0;
}

static void write_ctz(const writer *w, const wnode *n, uint8_t *out)
{
    uint32_t bs = w->cfg->block_size;
    const uint8_t *data = n->entry->data;
    size_t left = n->entry->size;
    for (uint32_t i = 0; i < n->ctz_blocks; i++) {
        uint8_t *blk = out + (size_t)(n->ctz_first + i) * bs;
        uint32_t ptrs = ctz_ptrs(i);
        for (uint32_t k = 0; k < ptrs; k++)
            esp01_put_le32(blk + 4 * k, n->ctz_first + i - (1u << k));
        size_t room = bs - 4 * ptrs;
        size_t take = left < room ? left : room;
        memcpy(blk + 4 * ptrs, data, take);
        data += take;
        left -= take;
    }
}

static void write_pair(const writer *w, size_t pi, uint8_t *out)
{
    const esp01_lfs_config *cfg = w->cfg;
    const wpair *p = &w->pairs[pi];
    const wnode *dir = &w->nodes[p->dir];
    uint32_t bs = cfg->block_size;
    bool root_first = p->dir == 0 && pi == dir->first_pair;
    uint8_t super[24];
    esp01_put_le32(super, ESP01_LFS_DISK_VERSION);
    esp01_put_le32(super + 4, cfg->block_size);
    esp01_put_le32(super + 8, cfg->block_count);
    esp01_put_le32(super + 12, cfg->name_max);
    esp01_put_le32(super + 16, cfg->file_max);
    esp01_put_le32(super + 20, cfg->attr_max);

    commit c;
    uint32_t rev = 1;
    if (root_first) {
        /* What lfs_format leaves in block 0: the superblock alone, rev 1;
           the full root goes to block 1 as the newer revision. */
        commit_begin(&c, out, bs, cfg->prog_size, 1);
        commit_tag(&c, T_SUPERBLOCK, 0, 8, "littlefs");
        commit_tag(&c, T_INLINE, 0, 24, super);
        commit_end(&c);
        rev = 2;
    }
    commit_begin(&c, out + (size_t)p->block[0] * bs, bs, cfg->prog_size, rev);
    uint32_t id = 0;
    if (root_first) {
        commit_tag(&c, T_SUPERBLOCK, id, 8, "littlefs");
        commit_tag(&c, T_INLINE, id, 24, super);
        id++;
    }
    for (uint32_t k = 0; k < p->count; k++, id++) {
        const wnode *n = &w->nodes[w->children[p->first + k]];
        commit_tag(&c, n->is_dir ? T_DIR : T_REG, id, (uint32_t)n->name_len,
                   n->name);
        uint8_t st[8];
        if (n->is_dir) {
            const wpair *sub = &w->pairs[n->first_pair];
            esp01_put_le32(st, sub->block[0]);
            esp01_put_le32(st + 4, sub->block[1]);
            commit_tag(&c, T_DIRSTRUCT, id, 8, st);
        } else if (n->entry->size <= w->inline_max) {
            commit_tag(&c, T_INLINE, id, (uint32_t)n->entry->size,
                       n->entry->data);
        } else {
            esp01_put_le32(st, n->ctz_first + n->ctz_blocks - 1);
            esp01_put_le32(st + 4, (uint32_t)n->entry->size);
            commit_tag(&c, T_CTZ, id, 8, st);
        }
        if (n->entry && n->entry->has_mtime) {
            uint8_t mt[8];
            esp01_put_le64(mt, n->entry->mtime_ns);
            commit_tag(&c, T_MTIME, id, 8, mt);
        }
    }
    /* Hard tail to the directory's next pair, else soft tail to the next
       directory in the threaded list. */
    const wpair *next = NULL;
    uint32_t tail_type = T_HARDTAIL;
    if (pi + 1 < dir->first_pair + dir->pair_count) {
        next = &w->pairs[pi + 1];
    } else {
        size_t k = 0;
        while (k < w->dir_count && w->dir_order[k] != p->dir)
            k++;
        if (k + 1 < w->dir_count) {
            next = &w->pairs[w->nodes[w->dir_order[k + 1]].first_pair];
            tail_type = T_SOFTTAIL;
        }
    }
    if (next) {
        uint8_t tail[8];
        esp01_put_le32(tail, next->block[0]);
        esp01_put_le32(tail + 4, next->block[1]);
        commit_tag(&c, tail_type, ID_NONE, 8, tail);
    }
    commit_end(&c);
}

static int check_config(const esp01_lfs_config *cfg, esp01_err *err)
{
    if (cfg->block_size < 512 || cfg->block_size > (1u << 20) ||
        cfg->prog_size == 0 || cfg->prog_size > cfg->block_size / 4 ||
        cfg->block_size % cfg->prog_size)
        return esp01_fail(err, ESP01_E_INVAL,
                          "bad littlefs geometry (block %u, prog %u)",
                          (unsigned)cfg->block_size, (unsigned)cfg->prog_size);
    if (cfg->block_count < 2)
        return esp01_fail(err, ESP01_E_INVAL,
                          "a littlefs partition needs at least 2 blocks");
    if (cfg->name_max == 0 || cfg->name_max > 1022 || cfg->attr_max > 1022)
        return esp01_fail(err, ESP01_E_INVAL, "bad littlefs name/attr limits");
    return 0;
}

int esp01_lfs_write(const esp01_lfs_config *cfg, const esp01_tree *tree,
                    uint8_t *out, size_t out_len, esp01_fs_usage *usage,
                    esp01_err *err)
{
    int rc = check_config(cfg, err);
    if (rc < 0)
        return rc;
    if (out_len != (size_t)cfg->block_count * cfg->block_size)
        return esp01_fail(err, ESP01_E_INVAL,
                          "output buffer is %zu bytes, the partition %zu",
                          out_len, (size_t)cfg->block_count * cfg->block_size);
    writer w;
    memset(&w, 0, sizeof w);
    w.cfg = cfg;
    w.inline_max = esp01_lfs_inline_max(cfg);
    rc = build_nodes(&w, tree, err);
    if (rc == 0)
        rc = plan_pairs(&w, err);
    if (rc == 0 && w.next_block > cfg->block_count)
        rc = esp01_fail(err, ESP01_E_NOSPACE,
                        "the files need %s%u blocks of %u bytes, the "
                        "partition has %u",
                        w.next_block > cfg->block_count + 1u ? "more than " : "",
                        (unsigned)(w.next_block > cfg->block_count + 1u
                                       ? cfg->block_count
                                       : w.next_block),
                        (unsigned)cfg->block_size, (unsigned)cfg->block_count);
    if (rc == 0) {
        memset(out, 0xff, out_len);
        for (size_t i = 0; i < w.pair_count; i++)
            write_pair(&w, i, out);
        for (size_t i = 0; i < w.node_count; i++)
            if (!w.nodes[i].is_dir && w.nodes[i].ctz_blocks)
                write_ctz(&w, &w.nodes[i], out);
        if (usage) {
            usage->block_size = cfg->block_size;
            usage->blocks_total = cfg->block_count;
            /* statvfs counts each directory's pair twice (see
               esp01_lfs_usage); the root is not a directory entry. */
            usage->blocks_used = w.next_block + 2 * (uint32_t)(w.dir_count - 1);
            usage->blocks_in_use = w.next_block;
        }
    }
    free(w.nodes);
    free(w.children);
    free(w.pairs);
    free(w.dir_order);
    return rc;
}

uint32_t esp01_lfs_file_blocks(const esp01_lfs_config *cfg, size_t size)
{
    if (size <= esp01_lfs_inline_max(cfg))
        return 0;
    return ctz_count(cfg->block_size, size);
}
