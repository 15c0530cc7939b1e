/*
 * fat_write.c - lays out a FAT12/16 volume the way MicroPython's VfsFat
 * would have written it (see include/esp01/fat.h).
 *
 * The volume parameters are those of FatFs f_mkfs as MicroPython calls it
 * (FM_FAT | FM_SFD, automatic cluster size, one FAT, 512 root entries, erase
 * block of one sector); names, short aliases and directory entries are the
 * ones FatFs f_open/f_mkdir create, so the device sees a volume it could
 * have written itself.
 */
#include "esp01/fat.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "fat_int.h"
#include "util/bytes.h"

/* ------------------------------------------------------------------ */
/* Names                                                                */

static uint8_t ascii_upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

/* What FatFs would refuse or silently change in a name. */
static int name_check(const char *name, size_t len, const char *path,
                      esp01_err *err)
{
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)name[i];
        if (c >= 0x80)
            return esp01_fail(err, ESP01_E_UNSUPPORTED,
                              "'%s': only ASCII names can be stored on FAT "
                              "(MicroPython reads FAT names as code page 437)",
                              path);
        if (c < 0x20 || c == 0x7F || strchr("\"*:<>?|\\", c))
            return esp01_fail(err, ESP01_E_INVAL,
                              "'%s': FAT names cannot contain '%c'", path,
                              c >= 0x20 && c < 0x7F ? c : '?');
    }
    if (name[len - 1] == '.' || name[len - 1] == ' ')
        return esp01_fail(err, ESP01_E_INVAL,
                          "'%s': FAT drops trailing dots and spaces from names",
                          path);
    return 0;
}

typedef struct short_name {
    uint8_t sfn[11];
    uint8_t nt_flags; /* lower-case body/extension, when no long name */
    bool lossy;       /* needs a ~N tail */
    bool needs_lfn;
} short_name;

/*
 * The 8.3 form FatFs derives from a long name: leading dots and spaces go,
 * inner dots and spaces go, "+,;=[]" become '_', letters go upper case, the
 * body keeps 8 characters and the part after the last dot 3.  Losing
 * anything marks the name lossy; mixing cases in a part means a long name
 * entry is needed to keep the case.
 */
static void make_short_name(const char *name, size_t len, short_name *out)
{
    memset(out->sfn, ' ', 11);
    out->lossy = false;
    size_t si = 0;
    while (si < len && (name[si] == ' ' || name[si] == '.'))
        si++;
    if (si > 0)
        out->lossy = true;
    size_t dot = len; /* index just past the last dot, or 0: no extension */
    while (dot > 0 && name[dot - 1] != '.')
        dot--;
    size_t i = 0, limit = 8;
    unsigned cases = 0; /* bit 0: lower seen, bit 1: upper seen, per part */
    while (si < len) {
        uint8_t c = (uint8_t)name[si++];
        if (c == ' ' || (c == '.' && si != dot)) {
            out->lossy = true;
            continue;
        }
        if (i >= limit || si == dot) {
            if (limit == 11) { /* extension longer than 3 */
                out->lossy = true;
                break;
            }
            if (si != dot) /* body longer than 8 */
                out->lossy = true;
            if (si > dot) /* no extension to move to */
                break;
            si = dot;
            i = 8;
            limit = 11;
            cases <<= 2;
            continue;
        }
        if (strchr("+,;=[]", c)) {
            c = '_';
            out->lossy = true;
        } else if (c >= 'A' && c <= 'Z') {
            cases |= 2;
        } else if (c >= 'a' && c <= 'z') {
            cases |= 1;
            c = (uint8_t)(c - 32);
        }
        out->sfn[i++] = c;
    }
    if (limit == 8)
        cases <<= 2;
    out->needs_lfn = out->lossy || (cases & 0x0C) == 0x0C ||
                     (cases & 0x03) == 0x03;
    out->nt_flags = 0;
    if (!out->needs_lfn) {
        if ((cases & 0x03) == 0x01)
            out->nt_flags |= NT_LOWER_EXT;
        if ((cases & 0x0C) == 0x04)
            out->nt_flags |= NT_LOWER_BODY;
    }
}

/*
 * The seq-th numbered alias of a lossy short name: "~1".."~5", then a
 * 16-bit hash of the long name mixed with seq, in hex, as FatFs does.
 */
static void numbered_name(uint8_t dst[11], const uint8_t base[11],
                          const char *lfn, size_t lfn_len, unsigned seq)
{
    memcpy(dst, base, 11);
    uint32_t n = seq;
    if (seq > 5) {
        uint32_t sr = seq;
        for (size_t k = 0; k < lfn_len; k++) {
            uint32_t wc = (uint8_t)lfn[k];
            for (int b = 0; b < 16; b++) {
                sr = (sr << 1) + (wc & 1);
                wc >>= 1;
                if (sr & 0x10000)
                    sr ^= 0x11021;
            }
        }
        n = sr;
    }
    char tail[9];
    int t = 8;
    do {
        unsigned dgt = n % 16;
        tail[--t] = (char)(dgt < 10 ? '0' + dgt : 'A' + dgt - 10);
        n /= 16;
    } while (n && t > 1);
    tail[--t] = '~';
    int j = 0;
    while (j < t && dst[j] != ' ')
        j++;
    for (int k = t; k < 8; k++)
        dst[j++] = (uint8_t)tail[k];
    while (j < 8)
        dst[j++] = ' ';
}

/* ------------------------------------------------------------------ */
/* Writer                                                               */

typedef struct wnode {
    const char *path;
    char *owned;              /* path of an implied parent directory */
    const esp01_entry *entry; /* NULL for an implied directory */
    bool is_dir;
    size_t parent;            /* index in nodes, or SIZE_MAX for the root */
    const char *name;         /* last component */
    size_t name_len;
    short_name sn;
    uint32_t slots;           /* directory entries this node takes */
    uint32_t first_cluster;
    uint32_t clusters;
    uint32_t dir_entries;     /* for directories: entries inside */
} wnode;

typedef struct writer {
    wnode *nodes;
    size_t count, cap;
    size_t *child_index; /* children of each node, grouped per parent */
    size_t *child_start; /* count + 2 offsets; the root is slot `count` */
} writer;

static int cmp_wnode(const void *a, const void *b)
{
    return strcmp(((const wnode *)a)->path, ((const wnode *)b)->path);
}

static int wnode_push(writer *w, const char *path, char *owned,
                      const esp01_entry *e, esp01_err *err)
{
    if (w->count == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 64;
        wnode *n = realloc(w->nodes, cap * sizeof *n);
        if (!n) {
            free(owned);
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        }
        w->nodes = n;
        w->cap = cap;
    }
    wnode *n = &w->nodes[w->count++];
    memset(n, 0, sizeof *n);
    n->path = path;
    n->owned = owned;
    n->entry = e;
    n->is_dir = !e || e->type == ESP01_ENTRY_DIR;
    return 0;
}

static size_t wnode_find(const writer *w, const char *path, size_t len)
{
    size_t lo = 0, hi = w->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const char *p = w->nodes[mid].path;
        int c = strncmp(p, path, len);
        if (c == 0 && p[len] != '\0')
            c = 1;
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return SIZE_MAX;
}

static void writer_free(writer *w)
{
    for (size_t i = 0; i < w->count; i++)
        free(w->nodes[i].owned);
    free(w->nodes);
    free(w->child_index);
    free(w->child_start);
}

/* Nodes for every entry and every implied parent, sorted, parents linked. */
static int build_nodes(writer *w, const esp01_tree *tree, esp01_err *err)
{
    int rc;
    for (size_t i = 0; i < tree->count; i++) {
        const esp01_entry *e = &tree->entries[i];
        if ((rc = esp01_path_check(e->path, err)) < 0)
            return rc;
        if ((rc = wnode_push(w, e->path, NULL, e, err)) < 0)
            return rc;
    }
    if (w->count > 1)
        qsort(w->nodes, w->count, sizeof *w->nodes, cmp_wnode);
    size_t original = w->count;
    for (size_t i = 0; i < original; i++) {
        const char *p = w->nodes[i].path;
        for (const char *s = strchr(p, '/'); s; s = strchr(s + 1, '/')) {
            size_t n = (size_t)(s - p);
            size_t at = wnode_find(w, p, n);
            if (at != SIZE_MAX && at < original) {
                if (!w->nodes[at].is_dir)
                    return esp01_fail(err, ESP01_E_EXISTS,
                                      "'%s' is a file but '%s' needs it as a "
                                      "directory", w->nodes[at].path, p);
                continue;
            }
            char *dup = malloc(n + 1);
            if (!dup)
                return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
            memcpy(dup, p, n);
            dup[n] = '\0';
            if ((rc = wnode_push(w, dup, dup, NULL, err)) < 0)
                return rc;
        }
    }
    if (w->count > 1)
        qsort(w->nodes, w->count, sizeof *w->nodes, cmp_wnode);
    /* Drop repeats: implied directories found many times, or entries the
     * caller listed twice. */
    size_t out = 0;
    for (size_t i = 0; i < w->count; i++) {
        if (out > 0 && strcmp(w->nodes[out - 1].path, w->nodes[i].path) == 0) {
            wnode *prev = &w->nodes[out - 1];
            if (!prev->is_dir || !w->nodes[i].is_dir)
                return esp01_fail(err, ESP01_E_EXISTS, "'%s' appears twice",
                                  w->nodes[i].path);
            if (!prev->entry) { /* keep the caller's entry (its mtime) */
                free(prev->owned);
                *prev = w->nodes[i];
            } else {
                free(w->nodes[i].owned);
            }
            continue;
        }
        w->nodes[out++] = w->nodes[i];
    }
    w->count = out;
    for (size_t i = 0; i < w->count; i++) {
        wnode *n = &w->nodes[i];
        const char *slash = strrchr(n->path, '/');
        n->name = slash ? slash + 1 : n->path;
        n->name_len = strlen(n->name);
        n->parent = slash ? wnode_find(w, n->path, (size_t)(slash - n->path))
                          : SIZE_MAX;
    }
    /* Children grouped by parent, in path order within each group. */
    w->child_start = calloc(w->count + 2, sizeof *w->child_start);
    w->child_index = malloc((w->count ? w->count : 1) * sizeof *w->child_index);
    size_t *fill = calloc(w->count + 1, sizeof *fill);
    if (!w->child_start || !w->child_index || !fill) {
        free(fill);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < w->count; i++) {
        size_t p = w->nodes[i].parent == SIZE_MAX ? w->count : w->nodes[i].parent;
        w->child_start[p + 1]++;
    }
    for (size_t i = 0; i <= w->count; i++)
        w->child_start[i + 1] += w->child_start[i];
    for (size_t i = 0; i < w->count; i++) {
        size_t p = w->nodes[i].parent == SIZE_MAX ? w->count : w->nodes[i].parent;
        w->child_index[w->child_start[p] + fill[p]++] = i;
    }
    free(fill);
    return 0;
}

static int cmp_name_nocase(const void *a, const void *b)
{
    const wnode *x = *(const wnode *const *)a, *y = *(const wnode *const *)b;
    size_t n = x->name_len < y->name_len ? x->name_len : y->name_len;
    for (size_t i = 0; i < n; i++) {
        int d = ascii_upper((uint8_t)x->name[i]) - ascii_upper((uint8_t)y->name[i]);
        if (d)
            return d;
    }
    return (x->name_len > y->name_len) - (x->name_len < y->name_len);
}

/*
 * Short names already given out in one directory: an open-addressing set of
 * 11-byte keys, so that many similar long names stay cheap.
 */
typedef struct sfn_set {
    uint8_t (*keys)[11];
    bool *used;
    size_t mask;
} sfn_set;

static size_t sfn_hash(const uint8_t k[11])
{
    size_t h = 2166136261u;
    for (int i = 0; i < 11; i++)
        h = (h ^ k[i]) * 16777619u;
    return h;
}

static int sfn_set_init(sfn_set *s, size_t n, esp01_err *err)
{
    size_t cap = 16;
    while (cap < n * 2 + 2)
        cap *= 2;
    s->keys = malloc(cap * sizeof *s->keys);
    s->used = calloc(cap, sizeof *s->used);
    s->mask = cap - 1;
    if (!s->keys || !s->used) {
        free(s->keys);
        free(s->used);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    return 0;
}

/* Adds k; false when it was there already. */
static bool sfn_set_add(sfn_set *s, const uint8_t k[11])
{
    size_t i = sfn_hash(k) & s->mask;
    while (s->used[i]) {
        if (memcmp(s->keys[i], k, 11) == 0)
            return false;
        i = (i + 1) & s->mask;
    }
    s->used[i] = true;
    memcpy(s->keys[i], k, 11);
    return true;
}

/*
 * Short names for the children of one directory, and the number of
 * directory entries they take.  Names that keep their 8.3 form exactly are
 * placed first so that a lossy name's ~N never takes a name a sibling
 * spells out literally.
 */
static int assign_names(writer *w, size_t dir, uint32_t *entries_out,
                        esp01_err *err)
{
    size_t *kids = w->child_index + w->child_start[dir];
    size_t nkids = w->child_start[dir + 1] - w->child_start[dir];
    const char *dir_path = dir == w->count ? "/" : w->nodes[dir].path;
    int rc;
    for (size_t k = 0; k < nkids; k++) {
        wnode *n = &w->nodes[kids[k]];
        if ((rc = name_check(n->name, n->name_len, n->path, err)) < 0)
            return rc;
        make_short_name(n->name, n->name_len, &n->sn);
    }
    if (nkids > 1) {
        const wnode **byname = malloc(nkids * sizeof *byname);
        if (!byname)
            return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        for (size_t k = 0; k < nkids; k++)
            byname[k] = &w->nodes[kids[k]];
        qsort(byname, nkids, sizeof *byname, cmp_name_nocase);
        for (size_t k = 1; k < nkids; k++)
            if (cmp_name_nocase(&byname[k - 1], &byname[k]) == 0) {
                rc = esp01_fail(err, ESP01_E_EXISTS,
                                "'%s' and '%s' are the same name on FAT "
                                "(names are not case-sensitive)",
                                byname[k - 1]->path, byname[k]->path);
                free(byname);
                return rc;
            }
        free(byname);
    }
    sfn_set taken;
    if ((rc = sfn_set_init(&taken, nkids, err)) < 0)
        return rc;
    uint64_t entries = 0;
    for (size_t k = 0; k < nkids; k++) {
        wnode *n = &w->nodes[kids[k]];
        if (!n->sn.lossy)
            sfn_set_add(&taken, n->sn.sfn);
    }
    for (size_t k = 0; k < nkids; k++) {
        wnode *n = &w->nodes[kids[k]];
        if (n->sn.lossy) {
            uint8_t cand[11];
            unsigned seq = 1;
            for (; seq < 100; seq++) {
                numbered_name(cand, n->sn.sfn, n->name, n->name_len, seq);
                if (sfn_set_add(&taken, cand))
                    break;
            }
            if (seq == 100) {
                free(taken.keys);
                free(taken.used);
                return esp01_fail(err, ESP01_E_EXISTS,
                                  "'%s': too many names in '%s' share its "
                                  "short form", n->path, dir_path);
            }
            memcpy(n->sn.sfn, cand, 11);
        }
        n->slots = n->sn.needs_lfn
                       ? (uint32_t)((n->name_len + LFN_CHARS - 1) / LFN_CHARS) + 1
                       : 1;
        entries += n->slots;
    }
    free(taken.keys);
    free(taken.used);
    *entries_out = (uint32_t)entries;
    return 0;
}

static void put_dirent(uint8_t *d, const uint8_t sfn[11], uint8_t attr,
                       uint8_t nt, bool created, uint16_t date, uint16_t time,
                       uint32_t cluster, uint32_t size)
{
    memset(d, 0, DIRENT);
    memcpy(d, sfn, 11);
    d[11] = attr;
    d[12] = nt;
    if (created) {
        esp01_put_le16(d + 14, time);
        esp01_put_le16(d + 16, date);
    }
    esp01_put_le16(d + 22, time);
    esp01_put_le16(d + 24, date);
    esp01_put_le16(d + 26, (uint16_t)cluster);
    esp01_put_le32(d + 28, size);
}

/* Long-name entries, last part first, then the short entry. */
static uint8_t *put_node_entries(uint8_t *d, const wnode *n)
{
    uint16_t date, time;
    fat_time_of(n->entry, &date, &time);
    if (n->sn.needs_lfn) {
        static const uint8_t pos[LFN_CHARS] = {1, 3, 5, 7, 9, 14, 16, 18,
                                               20, 22, 24, 28, 30};
        uint8_t sum = sfn_checksum(n->sn.sfn);
        uint32_t parts = n->slots - 1;
        for (uint32_t p = parts; p >= 1; p--, d += DIRENT) {
            memset(d, 0, DIRENT);
            d[0] = (uint8_t)(p | (p == parts ? 0x40 : 0));
            d[11] = ATTR_LFN;
            d[13] = sum;
            size_t base = (size_t)(p - 1) * LFN_CHARS;
            for (size_t k = 0; k < LFN_CHARS; k++) {
                size_t at = base + k;
                uint16_t ch = at < n->name_len ? (uint8_t)n->name[at]
                              : at == n->name_len ? 0x0000 : 0xFFFF;
                esp01_put_le16(d + pos[k], ch);
            }
        }
    }
    if (n->is_dir)
        put_dirent(d, n->sn.sfn, ATTR_DIR, n->sn.nt_flags, false, date, time,
                   n->first_cluster, 0);
    else
        put_dirent(d, n->sn.sfn, ATTR_ARCHIVE, n->sn.nt_flags, true, date,
                   time, n->first_cluster, (uint32_t)n->entry->size);
    return d + DIRENT;
}

static void chain_put(uint8_t *fat, int bits, uint32_t first, uint32_t count)
{
    for (uint32_t k = 0; k < count; k++)
        fat_put(fat, bits, first + k,
                k + 1 == count ? fat_eoc(bits) : first + k + 1);
}

/*
 * Clusters for every node, handed out in path order with each file in one
 * run; directories get their names assigned on the way.  *used receives the
 * clusters taken.
 */
static int place_clusters(writer *w, const esp01_fat_geometry *g,
                          uint64_t *used, esp01_err *err)
{
    const size_t csz = cluster_bytes(g);
    uint64_t next = 2;
    int rc;
    for (size_t i = 0; i < w->count; i++) {
        wnode *n = &w->nodes[i];
        uint64_t need;
        if (n->is_dir) {
            if ((rc = assign_names(w, i, &n->dir_entries, err)) < 0)
                return rc;
            if (n->dir_entries + 2 > 65536)
                /* FatFs stops at 2 MiB of directory entries */
                return esp01_fail(err, ESP01_E_NOSPACE,
                                  "'%s' needs %u directory entries, FAT "
                                  "allows 65536", n->path,
                                  (unsigned)n->dir_entries + 2);
            need = ((uint64_t)(n->dir_entries + 2) * DIRENT + csz - 1) / csz;
        } else {
            if (n->entry->size > 0xFFFFFFFFu)
                return esp01_fail(err, ESP01_E_NOSPACE,
                                  "'%s' is larger than FAT's 4 GiB limit",
                                  n->path);
            need = (n->entry->size + csz - 1) / csz;
        }
        n->clusters = (uint32_t)(need < 0xFFFFFFFFu ? need : 0xFFFFFFFFu);
        n->first_cluster = need ? (uint32_t)(next < 0xFFFFFFFFu ? next : 0) : 0;
        next += need;
    }
    *used = next - 2;
    return 0;
}

/* Boot sector, as f_mkfs writes it. */
static void put_boot_sector(uint8_t *out, const esp01_fat_geometry *g)
{
    memcpy(out, "\xEB\xFE\x90MSDOS5.0", 11);
    esp01_put_le16(out + 11, (uint16_t)g->sector_size);
    out[13] = (uint8_t)g->sectors_per_cluster;
    esp01_put_le16(out + 14, (uint16_t)g->reserved_sectors);
    out[16] = (uint8_t)g->fat_count;
    esp01_put_le16(out + 17, (uint16_t)g->root_entries);
    if (g->total_sectors < 0x10000)
        esp01_put_le16(out + 19, (uint16_t)g->total_sectors);
    else
        esp01_put_le32(out + 32, g->total_sectors);
    out[21] = g->media;
    esp01_put_le16(out + 22, (uint16_t)g->fat_sectors);
    esp01_put_le16(out + 24, 63);
    esp01_put_le16(out + 26, 255);
    out[36] = 0x80;
    out[38] = 0x29;
    esp01_put_le32(out + 39, g->serial);
    memcpy(out + 43, "NO NAME    FAT     ", 19);
    esp01_put_le16(out + 510, 0xAA55);
}

/* The clusters of directory node i: ".", ".." and its children. */
static void put_dir_clusters(uint8_t *data, const writer *w, size_t i)
{
    static const uint8_t dot[11] = {'.', ' ', ' ', ' ', ' ', ' ',
                                    ' ', ' ', ' ', ' ', ' '};
    static const uint8_t dotdot[11] = {'.', '.', ' ', ' ', ' ', ' ',
                                       ' ', ' ', ' ', ' ', ' '};
    const wnode *n = &w->nodes[i];
    uint16_t date, time;
    fat_time_of(n->entry, &date, &time);
    uint32_t up = n->parent == SIZE_MAX ? 0 : w->nodes[n->parent].first_cluster;
    put_dirent(data, dot, ATTR_DIR, 0, false, date, time, n->first_cluster, 0);
    put_dirent(data + DIRENT, dotdot, ATTR_DIR, 0, false, date, time, up, 0);
    uint8_t *d = data + 2 * DIRENT;
    for (size_t k = w->child_start[i]; k < w->child_start[i + 1]; k++)
        d = put_node_entries(d, &w->nodes[w->child_index[k]]);
}

/* Everything after the boot sector: FAT, root directory, data clusters. */
static void put_volume(uint8_t *out, const esp01_fat_geometry *g,
                       const writer *w)
{
    const size_t csz = cluster_bytes(g);
    uint8_t *fat = out + (size_t)g->reserved_sectors * g->sector_size;
    fat_put(fat, g->fat_bits, 0, 0xFF00u | g->media);
    fat_put(fat, g->fat_bits, 1, fat_eoc(g->fat_bits));
    uint8_t *d = fat + (size_t)g->fat_sectors * g->fat_count * g->sector_size;
    for (size_t k = w->child_start[w->count]; k < w->child_start[w->count + 1];
         k++)
        d = put_node_entries(d, &w->nodes[w->child_index[k]]);
    for (size_t i = 0; i < w->count; i++) {
        const wnode *n = &w->nodes[i];
        if (!n->clusters)
            continue;
        chain_put(fat, g->fat_bits, n->first_cluster, n->clusters);
        uint8_t *data = out + cluster_offset(g, n->first_cluster);
        size_t span = (size_t)n->clusters * csz;
        memset(data, 0, span);
        if (n->is_dir)
            put_dir_clusters(data, w, i);
        else
            memcpy(data, n->entry->data, n->entry->size);
    }
}

int esp01_fat_write(const esp01_tree *tree, uint32_t block_count, uint8_t *out,
                    size_t out_len, esp01_fs_usage *usage, esp01_err *err)
{
    esp01_fat_geometry g;
    int rc = esp01_fat_plan(block_count, &g, err);
    if (rc < 0)
        return rc;
    if (out_len != (size_t)block_count * ESP01_FAT_SECTOR)
        return esp01_fail(err, ESP01_E_INVAL,
                          "buffer is %zu bytes, %u blocks need %zu", out_len,
                          (unsigned)block_count,
                          (size_t)block_count * ESP01_FAT_SECTOR);
    writer w = {0};
    if ((rc = build_nodes(&w, tree, err)) < 0)
        goto done;
    const size_t csz = cluster_bytes(&g);
    uint32_t root_entries = 0;
    if ((rc = assign_names(&w, w.count, &root_entries, err)) < 0)
        goto done;
    if (root_entries > g.root_entries) {
        rc = esp01_fail(err, ESP01_E_NOSPACE,
                        "the root directory needs %u entries, FAT gives it %u "
                        "(long names take one entry per 13 characters)",
                        (unsigned)root_entries, (unsigned)g.root_entries);
        goto done;
    }
    uint64_t used = 0;
    if ((rc = place_clusters(&w, &g, &used, err)) < 0)
        goto done;
    if (used > g.cluster_count) {
        rc = esp01_fail(err, ESP01_E_NOSPACE,
                        "the files need %llu clusters of %zu bytes, the %u-block "
                        "FAT volume has %u",
                        (unsigned long long)used, csz, (unsigned)block_count,
                        (unsigned)g.cluster_count);
        goto done;
    }
    size_t sys_bytes = (size_t)g.data_start * g.sector_size;
    memset(out, 0, sys_bytes);
    memset(out + sys_bytes, 0xFF, out_len - sys_bytes);
    put_boot_sector(out, &g);
    put_volume(out, &g, &w);
    if (usage) {
        usage->block_size = (uint32_t)csz;
        usage->blocks_total = g.cluster_count;
        usage->blocks_used = (uint32_t)used;
        usage->blocks_in_use = (uint32_t)used;
    }
    rc = 0;
done:
    writer_free(&w);
    return rc;
}
