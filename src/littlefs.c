/*
 * littlefs.c - littlefs v2 (on-disk 2.1) writer, reader and checker.
 *
 * Written from littlefs's SPEC.md.  Terms used below:
 *  - metadata pair: two blocks holding a log of commits; the block with the
 *    newer revision count that has a valid commit is the current one.
 *  - tag: 32-bit big-endian word [invalid:1][type:11][id:10][length:10],
 *    stored XORed with the previous tag (0xFFFFFFFF before the first).
 *  - commit: tags ending in a CCRC tag whose CRC covers everything since
 *    the previous commit (the revision count for the first one).
 */
#include "esp01/littlefs.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bytes.h"
#include "esp01/hash.h"

enum {
    T_NAME_MASK = 0x700,
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

static uint32_t mktag(uint32_t type, uint32_t id, uint32_t len)
{
    return type << 20 | id << 10 | len;
}
static uint32_t tag_type(uint32_t t) { return (t >> 20) & 0x7ff; }
static uint32_t tag_type1(uint32_t t) { return (t >> 20) & 0x700; }
static uint32_t tag_id(uint32_t t) { return (t >> 10) & 0x3ff; }
static uint32_t tag_len(uint32_t t) { return t & 0x3ff; }
static uint32_t tag_dsize(uint32_t t)
{
    return 4 + (tag_len(t) == LEN_DELETED ? 0 : tag_len(t));
}

/* littlefs's CRC: CRC-32 polynomial, no final inversion. */
static uint32_t lcrc(uint32_t crc, const uint8_t *d, size_t n)
{
    return ~esp01_crc32(~crc, d, n);
}

static uint32_t popc(uint32_t x)
{
    uint32_t n = 0;
    for (; x; x &= x - 1)
        n++;
    return n;
}

static uint32_t ctz(uint32_t x)
{
    uint32_t n = 0;
    while (!(x & 1) && n < 32) {
        x >>= 1;
        n++;
    }
    return n;
}

/* Pointers at the start of CTZ block `i`: none in block 0, else ctz(i)+1. */
static uint32_t ctz_ptrs(uint32_t i) { return i == 0 ? 0 : ctz(i) + 1; }

/*
 * Index of the CTZ block holding file byte `*off`, with *off turned into the
 * offset inside that block (SPEC.md, "CTZ skip-lists").
 */
static uint32_t ctz_index(uint32_t block_size, uint32_t *off)
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

/* ------------------------------------------------------------------ */
/* Writer                                                               */
/* ------------------------------------------------------------------ */

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
        }
    }
    free(w.nodes);
    free(w.children);
    free(w.pairs);
    free(w.dir_order);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Reader                                                               */
/* ------------------------------------------------------------------ */

typedef struct fs {
    const uint8_t *buf;
    uint32_t bs, count;
    esp01_lfs_super sb;
    /* global move state: the entry (move_pair, move_id) is already moved */
    bool move;
    uint32_t move_pair[2], move_id;
    uint32_t orphans;
    /* checker */
    esp01_lfs_report_fn report;
    void *ctx;
    int problems;
} fs;

static void problem(fs *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void problem(fs *f, const char *fmt, ...)
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

/* The current state of one id in a metadata pair. */
typedef struct slot {
    uint16_t name_type; /* 0 = none */
    uint16_t name_len;
    uint32_t name_off;  /* offset in the block */
    uint16_t struct_type;
    uint16_t struct_len;
    uint32_t struct_off;
    bool has_mtime;
    uint64_t mtime;
} slot;

typedef struct mdir {
    uint32_t pair[2]; /* pair[0] is the block read */
    uint32_t rev;
    slot slots[0x3ff];
    uint32_t count;
    uint32_t tail[2];
    bool has_tail, split;
    bool has_gstate;
    uint8_t gstate[12];
    bool bad_crc;      /* the newer block ends in a commit with a bad CRC */
    uint32_t bad_crc_block, bad_crc_off;
} mdir;

/*
 * Scan one block: returns the end offset of the last valid commit (0 if
 * none), and whether scanning stopped on a CRC mismatch.
 */
static uint32_t scan_block(const fs *f, uint32_t block, uint32_t *bad_off)
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
static void replay(const fs *f, uint32_t block, uint32_t end, mdir *d)
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
                        (d->count - id) * sizeof(slot));
                memset(&d->slots[id], 0, sizeof(slot));
                d->count++;
            } else if (type == T_DELETE && id < d->count) {
                memmove(&d->slots[id], &d->slots[id + 1],
                        (d->count - id - 1) * sizeof(slot));
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
                memset(&d->slots[d->count], 0, sizeof(slot));
                d->count++;
            }
        }
        if (id >= d->count)
            continue;
        slot *s = &d->slots[id];
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
static int fetch(fs *f, const uint32_t pair[2], mdir *d, esp01_err *err)
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
    fs f = {0};
    f.buf = buf;
    f.bs = bs;
    f.count = 2;
    mdir *d = malloc(sizeof *d);
    if (!d)
        return -1;
    const uint32_t root[2] = {0, 1};
    int rc = -1;
    if (fetch(&f, root, d, NULL) == 0 && d->count > 0 &&
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

static int open_fs(fs *f, const uint8_t *buf, size_t len, esp01_err *err)
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

/*
 * Walk the threaded list of metadata pairs from the root, once, calling
 * `visit` on each.  A visited-block bitmap bounds the walk, so cycles end
 * it.  Used both for the global state and for usage and checking.
 */
typedef int (*pair_fn)(fs *f, mdir *d, void *arg, esp01_err *err);

static int walk_pairs(fs *f, mdir *d, pair_fn visit, void *arg, esp01_err *err)
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
            problem(f, "%s", err ? err->msg : "tail out of range");
            break;
        }
        if ((seen[pair[0] / 8] >> (pair[0] % 8) & 1) ||
            (seen[pair[1] / 8] >> (pair[1] % 8) & 1)) {
            rc = esp01_fail(err, ESP01_E_FORMAT,
                            "metadata list loops back to pair {%u, %u}",
                            (unsigned)pair[0], (unsigned)pair[1]);
            problem(f, "%s", err ? err->msg : "cycle");
            break;
        }
        seen[pair[0] / 8] |= (uint8_t)(1u << (pair[0] % 8));
        seen[pair[1] / 8] |= (uint8_t)(1u << (pair[1] % 8));
        rc = fetch(f, pair, d, err);
        if (rc < 0) {
            problem(f, "%s", err ? err->msg : "bad pair");
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

static int gstate_visit(fs *f, mdir *d, void *arg, esp01_err *err)
{
    (void)f;
    (void)err;
    uint8_t *g = arg;
    if (d->has_gstate)
        for (int i = 0; i < 12; i++)
            g[i] ^= d->gstate[i];
    return 0;
}

static int load_gstate(fs *f, mdir *d, esp01_err *err)
{
    uint8_t g[12] = {0};
    int rc = walk_pairs(f, d, gstate_visit, g, err);
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
static const char *show_name(const uint8_t *name, size_t n, char out[48])
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

static int name_ok(const uint8_t *name, size_t n)
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
static int ctz_blocks(fs *f, uint32_t head, uint32_t size, uint32_t **blocks,
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

static int read_ctz(fs *f, uint32_t head, uint32_t size, uint8_t **out,
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

typedef struct reader {
    fs *f;
    esp01_tree *out;
    uint8_t *dirs_seen; /* metadata blocks already read as a directory */
    mdir *dirs[DEPTH_MAX]; /* one per depth level, allocated on the way down */
    size_t entries;
    uint64_t ctz_bytes;    /* file data outside metadata, all files together */
    char path[ESP01_PATH_MAX + 1];
} reader;

static bool mark_seen(uint8_t *seen, uint32_t b)
{
    if (seen[b / 8] >> (b % 8) & 1)
        return false;
    seen[b / 8] |= (uint8_t)(1u << (b % 8));
    return true;
}

static int read_dir(reader *r, const uint32_t start[2], size_t plen,
                    int depth, esp01_err *err)
{
    fs *f = r->f;
    if (depth >= DEPTH_MAX)
        return esp01_fail(err, ESP01_E_LIMIT,
                          "directories nested deeper than %d", DEPTH_MAX);
    if (!r->dirs[depth] && !(r->dirs[depth] = malloc(sizeof(mdir))))
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    mdir *d = r->dirs[depth];
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
        int rc = fetch(f, pair, d, err);
        if (rc < 0)
            return rc;
        const uint8_t *blk = f->buf + (size_t)d->pair[0] * f->bs;
        for (uint32_t id = 0; id < d->count; id++) {
            const slot *s = &d->slots[id];
            if (s->name_type != T_REG && s->name_type != T_DIR)
                continue;
            const uint8_t *name = blk + s->name_off;
            char shown[48];
            if (!name_ok(name, s->name_len))
                return esp01_fail(err, ESP01_E_FORMAT,
                                  "directory '%s' has an entry named '%s': "
                                  "refused (empty, '.', '..', '/' or NUL)",
                                  plen ? r->path : "/",
                                  show_name(name, s->name_len, shown));
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
                uint8_t *data = NULL;
                size_t size = 0;
                if (s->struct_type == T_INLINE) {
                    size = s->struct_len;
                    if (size) {
                        data = malloc(size);
                        if (!data)
                            return esp01_fail(err, ESP01_E_NOMEM,
                                              "out of memory");
                        memcpy(data, st, size);
                    }
                } else if (s->struct_type == T_CTZ && s->struct_len == 8) {
                    size = esp01_le32(st + 4);
                    /* Blocks belong to one file each, so the files cannot
                       hold more than the partition; sharing them would let
                       a small image claim gigabytes. */
                    r->ctz_bytes += size;
                    if (r->ctz_bytes > (uint64_t)f->count * f->bs)
                        return esp01_fail(err, ESP01_E_FORMAT,
                                          "'%s': the files claim more data "
                                          "than the partition holds",
                                          r->path);
                    rc = read_ctz(f, esp01_le32(st), (uint32_t)size, &data,
                                  r->path, err);
                    if (rc < 0)
                        return rc;
                } else {
                    return esp01_fail(err, ESP01_E_FORMAT,
                                      "file '%s' has no data pointer",
                                      r->path);
                }
                if (s->has_mtime)
                    rc = esp01_tree_add_file_mtime(r->out, r->path, data,
                                                   size, s->mtime, err);
                else
                    rc = esp01_tree_add_file(r->out, r->path, data, size,
                                             err);
                free(data);
                if (rc < 0)
                    return rc;
            }
            r->path[plen] = '\0';
        }
        if (!d->has_tail || !d->split)
            return 0;
        pair[0] = d->tail[0];
        pair[1] = d->tail[1];
    }
}

int esp01_lfs_read(const uint8_t *buf, size_t len, esp01_tree *out,
                   esp01_err *err)
{
    fs f;
    int rc = open_fs(&f, buf, len, err);
    if (rc < 0)
        return rc;
    reader r;
    memset(&r, 0, sizeof r);
    r.f = &f;
    r.out = out;
    r.dirs_seen = calloc((f.count + 7) / 8, 1);
    r.dirs[0] = malloc(sizeof(mdir));
    if (!r.dirs_seen || !r.dirs[0])
        rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    if (rc == 0)
        rc = load_gstate(&f, r.dirs[0], err);
    if (rc == 0) {
        const uint32_t root[2] = {0, 1};
        rc = read_dir(&r, root, 0, 0, err);
    }
    free(r.dirs_seen);
    for (int i = 0; i < DEPTH_MAX; i++)
        free(r.dirs[i]);
    return rc;
}

/* ------------------------------------------------------------------ */
/* Usage and check                                                      */
/* ------------------------------------------------------------------ */

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

static void claim(fs *f, census *c, uint32_t b, const char *what)
{
    if (b >= f->count) {
        problem(f, "%s: block %u is past the end (%u blocks)", what,
                (unsigned)b, (unsigned)f->count);
        return;
    }
    c->used++;
    if (c->owner_count[b] == 0)
        c->distinct++;
    if (c->owner_count[b] < 255)
        c->owner_count[b]++;
    if (c->checking && c->owner_count[b] == 2)
        problem(f, "block %u is used twice (second time by %s)", (unsigned)b,
                what);
}

static int census_visit(fs *f, mdir *d, void *arg, esp01_err *err)
{
    census *c = arg;
    char what[96];
    snprintf(what, sizeof what, "metadata pair {%u, %u}", (unsigned)d->pair[0],
             (unsigned)d->pair[1]);
    claim(f, c, d->pair[0], what);
    claim(f, c, d->pair[1], what);
    if (c->checking && d->bad_crc)
        problem(f, "block %u: commit at offset %u has a bad CRC",
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
        const slot *s = &d->slots[id];
        if (s->name_type != T_REG && s->name_type != T_DIR)
            continue;
        const uint8_t *st = blk + s->struct_off;
        char shown[48];
        if (c->checking && !name_ok(blk + s->name_off, s->name_len))
            problem(f, "pair {%u, %u} id %u: bad name '%s' (empty, '.', "
                       "'..', '/' or NUL)",
                    (unsigned)d->pair[0], (unsigned)d->pair[1], (unsigned)id,
                    show_name(blk + s->name_off, s->name_len, shown));
        snprintf(what, sizeof what, "pair {%u, %u} id %u",
                 (unsigned)d->pair[0], (unsigned)d->pair[1], (unsigned)id);
        if (s->name_type == T_DIR) {
            if (s->struct_type != T_DIRSTRUCT || s->struct_len != 8) {
                if (c->checking)
                    problem(f, "%s: directory without a pair pointer", what);
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
                problem(f, "%s: file without a data pointer", what);
            continue;
        }
        uint32_t head = esp01_le32(st), size = esp01_le32(st + 4);
        if (size == 0)
            continue;
        uint32_t last = size - 1;
        uint32_t index = ctz_index(f->bs, &last);
        if (index >= f->count) {
            problem(f, "%s: CTZ size %u is larger than the partition", what,
                    (unsigned)size);
            continue;
        }
        /* Files that share blocks are reported once the total passes the
           partition; walking them all could take blocks^2 steps. */
        if (c->walked > f->count)
            continue;
        c->walked += index + 1;
        if (c->walked > f->count) {
            problem(f, "%s: the files' CTZ lists add up to more blocks than "
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
                problem(f, "%s: CTZ pointer to block %u is past the end "
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
                        problem(f, "%s: CTZ block %u skip pointer %u is %u, "
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
    fs f;
    int rc = open_fs(&f, buf, len, err);
    if (rc < 0)
        return rc;
    mdir *d = malloc(sizeof *d);
    census c = {0};
    c.owner_count = calloc(f.count, 1);
    if (!d || !c.owner_count) {
        free(d);
        free(c.owner_count);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    rc = load_gstate(&f, d, err);
    if (rc == 0)
        rc = walk_pairs(&f, d, census_visit, &c, err);
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
    fs f;
    int rc = open_fs(&f, buf, len, err);
    if (rc < 0)
        return rc;
    f.report = report;
    f.ctx = ctx;
    if (f.sb.name_max > 1022)
        problem(&f, "superblock name_max %u is larger than 1022",
                (unsigned)f.sb.name_max);
    mdir *d = malloc(sizeof *d);
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
    rc = load_gstate(&f, d, &e2);
    f.problems = problems;
    f.report = report;
    if (rc == ESP01_E_NOMEM) {
        *err = e2;
        goto out;
    }
    if (f.orphans)
        problem(&f, "global state records %u orphaned pair(s)",
                (unsigned)f.orphans);
    if (f.move && (f.move_pair[0] >= f.count || f.move_pair[1] >= f.count))
        problem(&f, "pending move points at pair {%u, %u}, past the end",
                (unsigned)f.move_pair[0], (unsigned)f.move_pair[1]);
    rc = walk_pairs(&f, d, census_visit, &c, &e2);
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
            problem(&f, "metadata block %u is in the list but no directory "
                        "points to it (orphan)", (unsigned)b);
    }
    for (size_t i = 0; i < c.nlinked; i++) {
        uint32_t b = c.linked[i];
        if (i > 0 && c.linked[i - 1] == b) {
            problem(&f, "metadata block %u is pointed to twice", (unsigned)b);
            continue;
        }
        if (b >= f.count)
            problem(&f, "a directory points at block %u, past the end",
                    (unsigned)b);
        else if (!bsearch(&b, c.listed, c.nlisted, sizeof b, cmp_u32))
            problem(&f, "a directory points at block %u, which is not in the "
                        "metadata list (dangling)", (unsigned)b);
    }
out:
    free(d);
    free(c.owner_count);
    free(c.listed);
    free(c.linked);
    return rc < 0 ? rc : f.problems;
}

uint32_t esp01_lfs_file_blocks(const esp01_lfs_config *cfg, size_t size)
{
    if (size <= esp01_lfs_inline_max(cfg))
        return 0;
    return ctz_count(cfg->block_size, size);
}
