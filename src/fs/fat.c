/*
 * fat.c - FAT12/16 writer and reader (see include/esp01/fat.h).
 *
 * The writer reproduces the volume parameters of FatFs f_mkfs as MicroPython
 * calls it (FM_FAT | FM_SFD, automatic cluster size, one FAT, 512 root
 * entries, erase block of one sector) and the directory entries FatFs
 * f_open/f_mkdir create, so the device sees a volume it could have written
 * itself.  The reader follows the same rules FatFs applies at mount time.
 */
#include "esp01/fat.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/bytes.h"

#define DIRENT 32
#define ATTR_VOLUME 0x08
#define ATTR_DIR 0x10
#define ATTR_ARCHIVE 0x20
#define ATTR_LFN 0x0F
#define NT_LOWER_BODY 0x08
#define NT_LOWER_EXT 0x10
#define LFN_CHARS 13
/* FatFs's limits: at most this many clusters for FAT12, FAT16. */
#define MAX_FAT12 0xFF5u
#define MAX_FAT16 0xFFF5u
#define ROOT_ENTRIES 512u
/* Issues reported one by one before check only counts them. */
#define MAX_REPORTED 200
/* Bound on the bytes of all paths a hostile image can make the reader build. */
#define MAX_PATH_BYTES (64u << 20)
/* 2000-01-01 00:00:00: the ESP8266's idea of "now" before anything sets it. */
#define DEFAULT_FAT_DATE ((20u << 9) | (1u << 5) | 1u)
#define DEFAULT_FAT_TIME 0u

/* ------------------------------------------------------------------ */
/* Dates                                                                */

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* FAT date/time of an mtime, clamped to the range FAT can hold. */
static void fat_time_of(const esp01_entry *e, uint16_t *date, uint16_t *time)
{
    if (!e || !e->has_mtime) {
        *date = DEFAULT_FAT_DATE;
        *time = DEFAULT_FAT_TIME;
        return;
    }
    int64_t secs = (int64_t)(e->mtime_ns / 1000000000u);
    int64_t days = secs / 86400, rem = secs % 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 1980) {
        *date = (1u << 5) | 1u;
        *time = 0;
        return;
    }
    if (y > 2107) {
        *date = (uint16_t)((127u << 9) | (12u << 5) | 31u);
        *time = (uint16_t)((23u << 11) | (59u << 5) | 29u);
        return;
    }
    *date = (uint16_t)(((unsigned)(y - 1980) << 9) | (m << 5) | d);
    unsigned hh = (unsigned)(rem / 3600), mm = (unsigned)(rem / 60 % 60),
             ss = (unsigned)(rem % 60);
    *time = (uint16_t)((hh << 11) | (mm << 5) | (ss / 2));
}

static uint64_t ns_of_fat_time(uint16_t date, uint16_t time)
{
    unsigned m = (date >> 5) & 15, d = date & 31;
    if (m < 1 || m > 12)
        m = 1;
    if (d < 1)
        d = 1;
    int64_t days = days_from_civil(1980 + (date >> 9), m, d);
    int64_t secs = days * 86400 + (int64_t)(time >> 11) * 3600 +
                   (int64_t)((time >> 5) & 63) * 60 + (int64_t)(time & 31) * 2;
    return (uint64_t)secs * 1000000000u;
}

/* ------------------------------------------------------------------ */
/* Geometry                                                             */

int esp01_fat_plan(uint32_t block_count, esp01_fat_geometry *geo,
                   esp01_err *err)
{
    /* f_mkfs with au = 0: cluster size from a table of volume sizes in
     * units of 4096 sectors, growing while FAT16 would get too few or too
     * many clusters. */
    static const uint32_t size_steps[] = {1, 4, 16, 64, 256, 512};
    const uint32_t ss = ESP01_FAT_SECTOR;
    if (block_count < 50)
        return esp01_fail(err, ESP01_E_NOSPACE,
                          "a FAT volume needs at least 50 blocks of 4096 "
                          "bytes, not %u", (unsigned)block_count);
    if (block_count > 0xFFFFu * 128u)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "%u blocks is too large for FAT12/16",
                          (unsigned)block_count);
    uint32_t au = 0;
    for (int attempt = 0; attempt < 16; attempt++) {
        uint32_t pau = au;
        if (pau == 0) {
            uint32_t units = block_count / 0x1000;
            pau = 1;
            for (size_t i = 0; i < sizeof size_steps / sizeof *size_steps &&
                               size_steps[i] <= units;
                 i++)
                pau <<= 1;
        }
        uint32_t nclst = block_count / pau, fat_bytes;
        int bits = 16;
        if (nclst > MAX_FAT12) {
            fat_bytes = nclst * 2 + 4;
        } else {
            bits = 12;
            fat_bytes = (nclst * 3 + 1) / 2 + 3;
        }
        uint32_t fat_sectors = (fat_bytes + ss - 1) / ss;
        uint32_t root_sectors = ROOT_ENTRIES * DIRENT / ss;
        uint32_t data_start = 1 + fat_sectors + root_sectors;
        if (block_count < data_start + pau * 16)
            return esp01_fail(err, ESP01_E_NOSPACE,
                              "%u blocks is too small for a FAT volume",
                              (unsigned)block_count);
        nclst = (block_count - data_start) / pau;
        if (bits == 16) {
            if (nclst > MAX_FAT16 || nclst <= MAX_FAT12) {
                if (au != 0 || pau * 2 > 128)
                    break;
                au = pau * 2;
                continue;
            }
        } else if (nclst > MAX_FAT12) {
            break;
        }
        memset(geo, 0, sizeof *geo);
        geo->sector_size = ss;
        geo->sectors_per_cluster = pau;
        geo->reserved_sectors = 1;
        geo->fat_count = 1;
        geo->fat_sectors = fat_sectors;
        geo->root_entries = ROOT_ENTRIES;
        geo->total_sectors = block_count;
        geo->data_start = data_start;
        geo->cluster_count = nclst;
        geo->fat_bits = bits;
        geo->media = 0xF8;
        geo->serial = ESP01_FAT_SERIAL;
        return 0;
    }
    return esp01_fail(err, ESP01_E_UNSUPPORTED,
                      "%u blocks cannot be formatted as FAT12/16",
                      (unsigned)block_count);
}

int esp01_fat_geometry_read(const uint8_t *buf, size_t len,
                            esp01_fat_geometry *geo, esp01_err *err)
{
    if (len < 512)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "%zu bytes is too short for a FAT boot sector", len);
    if (esp01_le16(buf + 510) != 0xAA55)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "no FAT boot sector (no 55 AA signature at 510)");
    uint32_t ss = esp01_le16(buf + 11);
    uint32_t spc = buf[13];
    uint32_t rsv = esp01_le16(buf + 14);
    uint32_t nfats = buf[16];
    uint32_t nroot = esp01_le16(buf + 17);
    uint32_t tot = esp01_le16(buf + 19);
    uint32_t fatsz = esp01_le16(buf + 22);
    if (tot == 0)
        tot = esp01_le32(buf + 32);
    if (ss != 512 && ss != 1024 && ss != 2048 && ss != 4096)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: bad sector size %u", (unsigned)ss);
    if (spc == 0 || (spc & (spc - 1)))
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: bad sectors per cluster %u",
                          (unsigned)spc);
    if (rsv == 0)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: no reserved sectors");
    if (nfats != 1 && nfats != 2)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: %u FATs (1 or 2 expected)",
                          (unsigned)nfats);
    if (fatsz == 0)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "FAT32 volume (only FAT12/16 are supported)");
    if (nroot == 0 || nroot % (ss / DIRENT))
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: bad root directory size %u",
                          (unsigned)nroot);
    uint64_t sys = (uint64_t)rsv + (uint64_t)fatsz * nfats + nroot * DIRENT / ss;
    if (tot < sys + spc)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: %u sectors leave no room for data",
                          (unsigned)tot);
    uint32_t nclst = (uint32_t)((tot - sys) / spc);
    if (nclst > MAX_FAT16)
        return esp01_fail(err, ESP01_E_UNSUPPORTED,
                          "%u clusters: a FAT32 volume (only FAT12/16 are "
                          "supported)", (unsigned)nclst);
    int bits = nclst <= MAX_FAT12 ? 12 : 16;
    uint64_t entries = (uint64_t)nclst + 2;
    uint64_t need = bits == 12 ? entries * 3 / 2 + (entries & 1) : entries * 2;
    if ((uint64_t)fatsz * ss < need)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "boot sector: FAT of %u sectors is too small for "
                          "%u clusters", (unsigned)fatsz, (unsigned)nclst);
    if ((uint64_t)tot * ss > len)
        return esp01_fail(err, ESP01_E_FORMAT,
                          "image is truncated: %zu bytes, the volume needs "
                          "%llu", len, (unsigned long long)tot * ss);
    memset(geo, 0, sizeof *geo);
    geo->sector_size = ss;
    geo->sectors_per_cluster = spc;
    geo->reserved_sectors = rsv;
    geo->fat_count = nfats;
    geo->fat_sectors = fatsz;
    geo->root_entries = nroot;
    geo->total_sectors = tot;
    geo->data_start = (uint32_t)sys;
    geo->cluster_count = nclst;
    geo->fat_bits = bits;
    geo->media = buf[21];
    geo->serial = buf[38] == 0x29 ? esp01_le32(buf + 39) : 0;
    return 0;
}

static size_t cluster_bytes(const esp01_fat_geometry *g)
{
    return (size_t)g->sector_size * g->sectors_per_cluster;
}

static size_t cluster_offset(const esp01_fat_geometry *g, uint32_t c)
{
    return ((size_t)g->data_start + (size_t)(c - 2) * g->sectors_per_cluster) *
           g->sector_size;
}

/* The geometry guarantees every entry 0..cluster_count+1 lies in the FAT. */
static uint32_t fat_get(const uint8_t *fat, int bits, uint32_t c)
{
    if (bits == 12) {
        uint32_t v = esp01_le16(fat + c + c / 2);
        return c & 1 ? v >> 4 : v & 0xFFF;
    }
    return esp01_le16(fat + 2 * (size_t)c);
}

static void fat_put(uint8_t *fat, int bits, uint32_t c, uint32_t v)
{
    if (bits == 12) {
        uint8_t *p = fat + c + c / 2;
        if (c & 1) {
            p[0] = (uint8_t)((p[0] & 0x0F) | (v << 4 & 0xF0));
            p[1] = (uint8_t)(v >> 4);
        } else {
            p[0] = (uint8_t)v;
            p[1] = (uint8_t)((p[1] & 0xF0) | (v >> 8 & 0x0F));
        }
        return;
    }
    esp01_put_le16(fat + 2 * (size_t)c, (uint16_t)v);
}

static uint32_t fat_eoc(int bits) { return bits == 12 ? 0xFFF : 0xFFFF; }
static uint32_t fat_bad(int bits) { return bits == 12 ? 0xFF7 : 0xFFF7; }

/* ------------------------------------------------------------------ */
/* Names                                                                */

static uint8_t ascii_upper(uint8_t c)
{
    return c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
}

/* Long-name checksum of an 11-byte short name (rotate right, add). */
static uint8_t sfn_checksum(const uint8_t sfn[11])
{
    uint8_t sum = 0;
    for (int i = 0; i < 11; i++)
        sum = (uint8_t)(((sum & 1) << 7) + (sum >> 1) + sfn[i]);
    return sum;
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
    /* Clusters are handed out in path order, each file in one run. */
    uint64_t next = 2;
    for (size_t i = 0; i < w.count; i++) {
        wnode *n = &w.nodes[i];
        uint64_t need;
        if (n->is_dir) {
            if ((rc = assign_names(&w, i, &n->dir_entries, err)) < 0)
                goto done;
            if (n->dir_entries + 2 > 65536) {
                /* FatFs stops at 2 MiB of directory entries */
                rc = esp01_fail(err, ESP01_E_NOSPACE,
                                "'%s' needs %u directory entries, FAT allows "
                                "65536", n->path, (unsigned)n->dir_entries + 2);
                goto done;
            }
            need = ((uint64_t)(n->dir_entries + 2) * DIRENT + csz - 1) / csz;
        } else {
            if (n->entry->size > 0xFFFFFFFFu) {
                rc = esp01_fail(err, ESP01_E_NOSPACE,
                                "'%s' is larger than FAT's 4 GiB limit",
                                n->path);
                goto done;
            }
            need = (n->entry->size + csz - 1) / csz;
        }
        n->clusters = (uint32_t)(need < 0xFFFFFFFFu ? need : 0xFFFFFFFFu);
        n->first_cluster = need ? (uint32_t)(next < 0xFFFFFFFFu ? next : 0) : 0;
        next += need;
    }
    uint64_t used = next - 2;
    if (used > g.cluster_count) {
        rc = esp01_fail(err, ESP01_E_NOSPACE,
                        "the files need %llu clusters of %zu bytes, the %u-block "
                        "FAT volume has %u",
                        (unsigned long long)used, csz, (unsigned)block_count,
                        (unsigned)g.cluster_count);
        goto done;
    }

    /* Boot sector, as f_mkfs writes it. */
    memset(out, 0, (size_t)g.data_start * g.sector_size);
    memset(out + (size_t)g.data_start * g.sector_size, 0xFF,
           out_len - (size_t)g.data_start * g.sector_size);
    memcpy(out, "\xEB\xFE\x90MSDOS5.0", 11);
    esp01_put_le16(out + 11, (uint16_t)g.sector_size);
    out[13] = (uint8_t)g.sectors_per_cluster;
    esp01_put_le16(out + 14, (uint16_t)g.reserved_sectors);
    out[16] = (uint8_t)g.fat_count;
    esp01_put_le16(out + 17, (uint16_t)g.root_entries);
    if (g.total_sectors < 0x10000)
        esp01_put_le16(out + 19, (uint16_t)g.total_sectors);
    else
        esp01_put_le32(out + 32, g.total_sectors);
    out[21] = g.media;
    esp01_put_le16(out + 22, (uint16_t)g.fat_sectors);
    esp01_put_le16(out + 24, 63);
    esp01_put_le16(out + 26, 255);
    out[36] = 0x80;
    out[38] = 0x29;
    esp01_put_le32(out + 39, g.serial);
    memcpy(out + 43, "NO NAME    FAT     ", 19);
    esp01_put_le16(out + 510, 0xAA55);

    uint8_t *fat = out + (size_t)g.reserved_sectors * g.sector_size;
    fat_put(fat, g.fat_bits, 0, 0xFF00u | g.media);
    fat_put(fat, g.fat_bits, 1, fat_eoc(g.fat_bits));
    uint8_t *root = fat + (size_t)g.fat_sectors * g.fat_count * g.sector_size;

    uint8_t *d = root;
    for (size_t k = w.child_start[w.count]; k < w.child_start[w.count + 1]; k++)
        d = put_node_entries(d, &w.nodes[w.child_index[k]]);
    for (size_t i = 0; i < w.count; i++) {
        const wnode *n = &w.nodes[i];
        if (!n->clusters)
            continue;
        chain_put(fat, g.fat_bits, n->first_cluster, n->clusters);
        uint8_t *data = out + cluster_offset(&g, n->first_cluster);
        size_t span = (size_t)n->clusters * csz;
        if (!n->is_dir) {
            memcpy(data, n->entry->data, n->entry->size);
            memset(data + n->entry->size, 0, span - n->entry->size);
            continue;
        }
        memset(data, 0, span);
        uint16_t date, time;
        fat_time_of(n->entry, &date, &time);
        static const uint8_t dot[11] = {'.', ' ', ' ', ' ', ' ', ' ',
                                        ' ', ' ', ' ', ' ', ' '};
        static const uint8_t dotdot[11] = {'.', '.', ' ', ' ', ' ', ' ',
                                           ' ', ' ', ' ', ' ', ' '};
        uint32_t up = n->parent == SIZE_MAX ? 0 : w.nodes[n->parent].first_cluster;
        put_dirent(data, dot, ATTR_DIR, 0, false, date, time, n->first_cluster, 0);
        put_dirent(data + DIRENT, dotdot, ATTR_DIR, 0, false, date, time, up, 0);
        d = data + 2 * DIRENT;
        for (size_t k = w.child_start[i]; k < w.child_start[i + 1]; k++)
            d = put_node_entries(d, &w.nodes[w.child_index[k]]);
    }
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

/* ------------------------------------------------------------------ */
/* Reader and checker                                                   */

/* A directory waiting to be listed. */
typedef struct pending_dir {
    uint32_t cluster; /* 0: the root directory */
    char *path;       /* "" for the root */
    size_t depth;
} pending_dir;

typedef struct walker {
    const uint8_t *buf;
    size_t len;
    esp01_fat_geometry g;
    const uint8_t *fat;
    uint32_t *owner;      /* per cluster: 1 + index of the object using it */
    uint32_t objects;     /* objects (files, directories) seen so far */
    bool checking;        /* report and go on, instead of failing */
    esp01_fat_issue_fn issue;
    void *ctx;
    int issues;
    esp01_tree *out;      /* NULL when checking */
    size_t path_bytes;
    pending_dir *queue;
    size_t qhead, qlen, qcap;
    esp01_err *err;
} walker;

/*
 * A problem with the volume.  While checking it is reported and the walk
 * goes on (returns 0); while reading it ends the read (returns the code).
 */
static int problem(walker *w, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(ESP01_PRINTF_FORMAT, 2, 3)))
#endif
    ;

static int problem(walker *w, const char *fmt, ...)
{
    char msg[ESP01_ERR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (!w->checking)
        return esp01_fail(w->err, ESP01_E_FORMAT, "%s", msg);
    if (w->issues < MAX_REPORTED && w->issue)
        w->issue(w->ctx, msg);
    else if (w->issues == MAX_REPORTED && w->issue)
        w->issue(w->ctx, "(further issues are counted, not listed)");
    w->issues++;
    return 0;
}

static const char *show(const char *path) { return *path ? path : "/"; }

static uint32_t next_cluster(const walker *w, uint32_t c)
{
    return fat_get(w->fat, w->g.fat_bits, c);
}

static bool cluster_ok(const walker *w, uint32_t c)
{
    return c >= 2 && c < w->g.cluster_count + 2;
}

/*
 * Follow the chain from `first`, claiming each cluster for object `id`.
 * Stops at end of chain, at a cluster already claimed (a loop when it is
 * ours, a cross-link otherwise), or at a bad link.  *count gets the
 * clusters claimed.  A negative return is a failed read.
 */
static int claim_chain(walker *w, uint32_t first, uint32_t id,
                       const char *path, uint32_t *count, bool *broken)
{
    *count = 0;
    *broken = false;
    uint32_t c = first;
    for (;;) {
        if (!cluster_ok(w, c)) {
            *broken = true;
            return problem(w, "'%s': chain points to cluster %u, outside the "
                              "volume (2..%u)", show(path), (unsigned)c,
                           (unsigned)(w->g.cluster_count + 1));
        }
        if (w->owner[c]) {
            *broken = true;
            if (w->owner[c] == id)
                return problem(w, "'%s': cluster chain loops back to cluster %u",
                               show(path), (unsigned)c);
            return problem(w, "'%s': cluster %u is also used by another file "
                              "or directory (cross-link, or a directory "
                              "loop)", show(path), (unsigned)c);
        }
        w->owner[c] = id;
        (*count)++;
        uint32_t n = next_cluster(w, c);
        if (n >= fat_eoc(w->g.fat_bits) - 7)
            return 0;
        if (n == fat_bad(w->g.fat_bits)) {
            *broken = true;
            return problem(w, "'%s': chain runs into bad cluster mark after "
                              "cluster %u", show(path), (unsigned)c);
        }
        if (n == 0) {
            *broken = true;
            return problem(w, "'%s': chain runs into free cluster after "
                              "cluster %u", show(path), (unsigned)c);
        }
        c = n;
    }
}

static int out_push(walker *w, char *path, esp01_entry_type type,
                    uint8_t *data, size_t size, uint64_t mtime)
{
    esp01_tree *t = w->out;
    if (t->count == t->capacity) {
        size_t cap = t->capacity ? t->capacity * 2 : 32;
        esp01_entry *n = realloc(t->entries, cap * sizeof *n);
        if (!n) {
            free(path);
            free(data);
            return esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
        }
        t->entries = n;
        t->capacity = cap;
    }
    esp01_entry *e = &t->entries[t->count++];
    memset(e, 0, sizeof *e);
    e->path = path;
    e->type = type;
    e->data = data;
    e->size = size;
    e->has_mtime = true;
    e->mtime_ns = mtime;
    return 0;
}

/* UTF-8 of one UTF-16 unit sequence; lone surrogates become U+FFFD. */
static size_t utf8_put(char *dst, uint32_t cp)
{
    if (cp < 0x80) {
        dst[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        dst[0] = (char)(0xC0 | cp >> 6);
        dst[1] = (char)(0x80 | (cp & 0x3F));
        return 2;
    }
    if (cp < 0x10000) {
        dst[0] = (char)(0xE0 | cp >> 12);
        dst[1] = (char)(0x80 | (cp >> 6 & 0x3F));
        dst[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    dst[0] = (char)(0xF0 | cp >> 18);
    dst[1] = (char)(0x80 | (cp >> 12 & 0x3F));
    dst[2] = (char)(0x80 | (cp >> 6 & 0x3F));
    dst[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Long name being collected from LFN entries (which come last part first). */
typedef struct lfn_state {
    uint16_t units[20 * LFN_CHARS];
    unsigned expect;   /* next part number expected, 0: none in progress */
    unsigned parts;
    uint8_t checksum;
    bool valid;        /* a complete set waits for its short entry */
} lfn_state;

/* Name of a directory entry as UTF-8 into name[] (>= 4*260+1 bytes). */
static size_t entry_name(const uint8_t *d, const lfn_state *lfn, bool use_lfn,
                         char *name)
{
    size_t n = 0;
    if (use_lfn) {
        size_t total = (size_t)lfn->parts * LFN_CHARS;
        for (size_t i = 0; i < total && lfn->units[i] != 0; i++) {
            uint32_t u = lfn->units[i];
            if (u >= 0xD800 && u < 0xDC00 && i + 1 < total &&
                lfn->units[i + 1] >= 0xDC00 && lfn->units[i + 1] < 0xE000) {
                u = 0x10000 + ((u - 0xD800) << 10) + (lfn->units[i + 1] - 0xDC00);
                i++;
            } else if (u >= 0xD800 && u < 0xE000) {
                u = 0xFFFD;
            }
            n += utf8_put(name + n, u);
        }
        name[n] = '\0';
        return n;
    }
    uint8_t nt = d[12];
    for (int i = 0; i < 8 && d[i] != ' '; i++) {
        uint8_t c = i == 0 && d[0] == 0x05 ? 0xE5 : d[i];
        if (nt & NT_LOWER_BODY && c >= 'A' && c <= 'Z')
            c = (uint8_t)(c + 32);
        n += utf8_put(name + n, c < 0x80 ? c : 0xFFFD);
    }
    if (d[8] != ' ') {
        name[n++] = '.';
        for (int i = 8; i < 11 && d[i] != ' '; i++) {
            uint8_t c = d[i];
            if (nt & NT_LOWER_EXT && c >= 'A' && c <= 'Z')
                c = (uint8_t)(c + 32);
            n += utf8_put(name + n, c < 0x80 ? c : 0xFFFD);
        }
    }
    name[n] = '\0';
    return n;
}

static bool name_is_safe(const char *name, size_t n)
{
    if (n == 0 || (n == 1 && name[0] == '.') ||
        (n == 2 && name[0] == '.' && name[1] == '.'))
        return false;
    return memchr(name, '/', n) == NULL && memchr(name, '\0', n) == NULL;
}

/*
 * A long name that cannot be used.  FatFs then falls back to the short name,
 * so reading goes on; only check reports it.
 */
static void lfn_problem(walker *w, const char *dir, const char *what)
{
    if (w->checking)
        problem(w, "'%s': %s", show(dir), what);
}

static void lfn_take(lfn_state *st, const uint8_t *d, walker *w,
                     const char *dir)
{
    static const uint8_t pos[LFN_CHARS] = {1, 3, 5, 7, 9, 14, 16, 18,
                                           20, 22, 24, 28, 30};
    unsigned ord = d[0] & 0x3F;
    bool last = d[0] & 0x40;
    if (last) {
        if (st->expect || st->valid)
            lfn_problem(w, dir, "long name entries without their short entry");
        st->valid = false;
        st->expect = 0;
        if (ord == 0 || ord > 20) {
            lfn_problem(w, dir, "long name entry with a bad sequence number");
            return;
        }
        st->parts = ord;
        st->checksum = d[13];
        memset(st->units, 0, sizeof st->units);
    } else if (!st->expect || ord != st->expect || d[13] != st->checksum) {
        lfn_problem(w, dir, "long name entry out of sequence");
        st->expect = 0;
        st->valid = false;
        return;
    }
    for (unsigned k = 0; k < LFN_CHARS; k++)
        st->units[(ord - 1) * LFN_CHARS + k] = esp01_le16(d + pos[k]);
    st->expect = ord - 1;
    st->valid = st->expect == 0;
}

static int visit_file(walker *w, const uint8_t *d, char *path, uint64_t mtime)
{
    uint32_t size = esp01_le32(d + 28);
    uint32_t first = esp01_le16(d + 26);
    uint32_t id = ++w->objects;
    size_t csz = cluster_bytes(&w->g);
    uint64_t need = ((uint64_t)size + csz - 1) / csz;
    uint32_t count = 0;
    bool broken = false;
    int rc = 0;
    if (first == 0) {
        if (size != 0)
            rc = problem(w, "'%s': %u bytes but no clusters", path,
                         (unsigned)size);
    } else {
        rc = claim_chain(w, first, id, path, &count, &broken);
        if (rc == 0 && !broken && count != need)
            rc = problem(w, "'%s': size %u needs %llu clusters, chain has %u",
                         path, (unsigned)size, (unsigned long long)need,
                         (unsigned)count);
    }
    if (rc < 0 || !w->out || (w->checking && (broken || count < need))) {
        free(path);
        return rc;
    }
    if (count < need) {
        rc = problem(w, "'%s': data missing", path);
        free(path);
        return rc;
    }
    uint8_t *data = NULL;
    if (size) {
        data = malloc(size);
        if (!data) {
            free(path);
            return esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
        }
        uint32_t c = first;
        for (size_t done = 0; done < size; done += csz) {
            size_t n = size - done < csz ? size - done : csz;
            memcpy(data + done, w->buf + cluster_offset(&w->g, c), n);
            c = next_cluster(w, c);
        }
    }
    return out_push(w, path, ESP01_ENTRY_FILE, data, size, mtime);
}

static int queue_dir(walker *w, uint32_t cluster, char *path, size_t depth)
{
    if (w->qlen == w->qcap) {
        size_t cap = w->qcap ? w->qcap * 2 : 16;
        pending_dir *q = realloc(w->queue, cap * sizeof *q);
        if (!q) {
            free(path);
            return esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
        }
        w->queue = q;
        w->qcap = cap;
    }
    w->queue[w->qlen].cluster = cluster;
    w->queue[w->qlen].path = path;
    w->queue[w->qlen].depth = depth;
    w->qlen++;
    return 0;
}

/* One 32-byte entry of directory `dir`.  Returns 1 at the end marker. */
static int visit_entry(walker *w, const pending_dir *dir, const uint8_t *d,
                       lfn_state *lfn, uint32_t dir_cluster,
                       uint32_t parent_cluster, size_t index)
{
    if (d[0] == 0x00)
        return 1;
    if (d[0] == 0xE5) {
        lfn->expect = 0;
        lfn->valid = false;
        return 0;
    }
    uint8_t attr = d[11];
    if ((attr & 0x3F) == ATTR_LFN) {
        lfn_take(lfn, d, w, dir->path);
        return 0;
    }
    bool use_lfn = lfn->valid && lfn->checksum == sfn_checksum(d);
    if ((lfn->valid || lfn->expect) && !use_lfn)
        lfn_problem(w, dir->path, "long name does not belong to the short "
                                  "entry that follows it");
    lfn->valid = false;
    lfn->expect = 0;
    if (attr & ATTR_VOLUME)
        return 0;
    if (d[0] == '.' && dir->cluster != 0 && index < 2) {
        uint32_t want = index == 0 ? dir_cluster : parent_cluster;
        uint32_t got = esp01_le16(d + 26);
        static const char *const which[2] = {".", ".."};
        if (memcmp(d + 1, index == 0 ? "          " : ".         ", 10) != 0 ||
            !(attr & ATTR_DIR) || got != want)
            return problem(w, "'%s': bad '%s' entry (cluster %u, expected %u)",
                           show(dir->path), which[index], (unsigned)got,
                           (unsigned)want);
        return 0;
    }
    if (dir->cluster != 0 && index < 2)
        return problem(w, "'%s': '%s' entry missing", show(dir->path),
                       index == 0 ? "." : "..");
    char name[20 * LFN_CHARS * 4 + 1];
    size_t n = entry_name(d, lfn, use_lfn, name);
    if (!name_is_safe(name, n))
        return problem(w, "'%s': unsafe or empty name in directory entry %zu",
                       show(dir->path), index);
    size_t plen = strlen(dir->path);
    size_t full = plen + (plen ? 1 : 0) + n;
    if (full > ESP01_PATH_MAX)
        return problem(w, "'%s/%s': path longer than %d bytes", dir->path,
                       name, ESP01_PATH_MAX);
    if (w->path_bytes + full > MAX_PATH_BYTES)
        return esp01_fail(w->err, ESP01_E_LIMIT,
                          "more than %u bytes of paths in one volume",
                          MAX_PATH_BYTES);
    w->path_bytes += full + 1;
    char *path = malloc(full + 1);
    if (!path)
        return esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
    memcpy(path, dir->path, plen);
    if (plen)
        path[plen] = '/';
    memcpy(path + full - n, name, n + 1);
    uint64_t mtime = ns_of_fat_time(esp01_le16(d + 24), esp01_le16(d + 22));
    if (!(attr & ATTR_DIR))
        return visit_file(w, d, path, mtime);

    uint32_t first = esp01_le16(d + 26);
    if (!cluster_ok(w, first)) {
        int rc = problem(w, "'%s': directory starts at cluster %u, outside "
                            "the volume", path, (unsigned)first);
        free(path);
        return rc;
    }
    if (w->out) {
        char *copy = strdup(path);
        if (!copy) {
            free(path);
            return esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
        }
        int rc = out_push(w, copy, ESP01_ENTRY_DIR, NULL, 0, mtime);
        if (rc < 0) {
            free(path);
            return rc;
        }
    }
    return queue_dir(w, first, path, dir->depth + 1);
}

static int walk_dir(walker *w, const pending_dir *dir)
{
    lfn_state lfn;
    memset(&lfn, 0, sizeof lfn);
    int rc;
    if (dir->cluster == 0) {
        size_t base = (size_t)(w->g.reserved_sectors +
                               w->g.fat_count * w->g.fat_sectors) *
                      w->g.sector_size;
        for (size_t i = 0; i < w->g.root_entries; i++) {
            rc = visit_entry(w, dir, w->buf + base + i * DIRENT, &lfn, 0, 0, i);
            if (rc)
                return rc < 0 ? rc : 0;
        }
        return 0;
    }
    /* The directory's own chain: claim it first so that a subdirectory
     * pointing back up is seen as a loop, not walked again. */
    uint32_t id = ++w->objects, count;
    bool broken;
    rc = claim_chain(w, dir->cluster, id, dir->path, &count, &broken);
    if (rc < 0)
        return rc;
    uint32_t parent = 0;
    size_t per = cluster_bytes(&w->g) / DIRENT, index = 0;
    uint32_t c = dir->cluster;
    for (uint32_t k = 0; k < count; k++) {
        const uint8_t *base = w->buf + cluster_offset(&w->g, c);
        if (k == 0 && base[DIRENT] == '.' && base[DIRENT + 1] == '.')
            parent = esp01_le16(base + DIRENT + 26);
        for (size_t i = 0; i < per; i++, index++) {
            rc = visit_entry(w, dir, base + i * DIRENT, &lfn, dir->cluster,
                             parent, index);
            if (rc)
                return rc < 0 ? rc : 0;
        }
        c = next_cluster(w, c);
    }
    return 0;
}

static int walk(walker *w)
{
    char *root = strdup("");
    if (!root)
        return esp01_fail(w->err, ESP01_E_NOMEM, "out of memory");
    int rc = queue_dir(w, 0, root, 0);
    while (rc >= 0 && w->qhead < w->qlen) {
        pending_dir dir = w->queue[w->qhead++];
        rc = walk_dir(w, &dir);
    }
    return rc;
}

static int walker_init(walker *w, const uint8_t *buf, size_t len,
                       esp01_err *err)
{
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->len = len;
    w->err = err;
    int rc = esp01_fat_geometry_read(buf, len, &w->g, err);
    if (rc < 0)
        return rc;
    w->fat = buf + (size_t)w->g.reserved_sectors * w->g.sector_size;
    w->owner = calloc((size_t)w->g.cluster_count + 2, sizeof *w->owner);
    if (!w->owner)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    return 0;
}

static void walker_free(walker *w)
{
    for (size_t i = w->qhead; i < w->qlen; i++)
        free(w->queue[i].path);
    for (size_t i = 0; i < w->qhead; i++)
        free(w->queue[i].path);
    free(w->queue);
    free(w->owner);
}

static int cmp_entry_path(const void *a, const void *b)
{
    return strcmp((*(const esp01_entry *const *)a)->path,
                  (*(const esp01_entry *const *)b)->path);
}

int esp01_fat_read(const uint8_t *buf, size_t len, esp01_tree *out,
                   esp01_err *err)
{
    walker w;
    int rc = walker_init(&w, buf, len, err);
    if (rc < 0) {
        walker_free(&w);
        return rc;
    }
    w.out = out;
    rc = walk(&w);
    if (rc >= 0 && out->count > 1) {
        /* Two entries with one name would overwrite each other on
         * extraction. */
        const esp01_entry **sorted = malloc(out->count * sizeof *sorted);
        if (!sorted) {
            rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
        } else {
            for (size_t i = 0; i < out->count; i++)
                sorted[i] = &out->entries[i];
            qsort(sorted, out->count, sizeof *sorted, cmp_entry_path);
            for (size_t i = 1; i < out->count && rc >= 0; i++)
                if (strcmp(sorted[i - 1]->path, sorted[i]->path) == 0)
                    rc = esp01_fail(err, ESP01_E_FORMAT,
                                    "'%s' appears twice in its directory",
                                    sorted[i]->path);
            free(sorted);
        }
    }
    walker_free(&w);
    if (rc < 0)
        esp01_tree_free(out);
    return rc < 0 ? rc : 0;
}

int esp01_fat_check(const uint8_t *buf, size_t len, esp01_fat_issue_fn issue,
                    void *ctx, esp01_err *err)
{
    walker w;
    int rc = walker_init(&w, buf, len, err);
    if (rc < 0) {
        walker_free(&w);
        return rc;
    }
    w.checking = true;
    w.issue = issue;
    w.ctx = ctx;
    const esp01_fat_geometry *g = &w.g;
    if ((fat_get(w.fat, g->fat_bits, 0) & 0xFF) != g->media)
        problem(&w, "FAT entry 0 (0x%X) does not carry the media byte 0x%02X",
                (unsigned)fat_get(w.fat, g->fat_bits, 0), g->media);
    size_t fat_len = (size_t)g->fat_sectors * g->sector_size;
    for (uint32_t k = 1; k < g->fat_count; k++)
        if (memcmp(w.fat, w.fat + k * fat_len, fat_len) != 0)
            problem(&w, "FAT copy %u differs from the first", (unsigned)k + 1);
    rc = walk(&w);
    if (rc >= 0) {
        uint32_t lost = 0, first_lost = 0;
        for (uint32_t c = 2; c < g->cluster_count + 2; c++) {
            uint32_t v = fat_get(w.fat, g->fat_bits, c);
            if (v != 0 && v != fat_bad(g->fat_bits) && !w.owner[c]) {
                if (!lost)
                    first_lost = c;
                lost++;
            }
        }
        if (lost)
            problem(&w, "%u allocated clusters belong to no file or directory "
                        "(first: %u)", (unsigned)lost, (unsigned)first_lost);
        rc = w.issues;
    }
    walker_free(&w);
    return rc;
}

int esp01_fat_usage(const uint8_t *buf, size_t len, esp01_fs_usage *usage,
                    esp01_err *err)
{
    esp01_fat_geometry g;
    int rc = esp01_fat_geometry_read(buf, len, &g, err);
    if (rc < 0)
        return rc;
    const uint8_t *fat = buf + (size_t)g.reserved_sectors * g.sector_size;
    uint32_t used = 0;
    for (uint32_t c = 2; c < g.cluster_count + 2; c++)
        if (fat_get(fat, g.fat_bits, c) != 0)
            used++;
    usage->block_size = (uint32_t)cluster_bytes(&g);
    usage->blocks_total = g.cluster_count;
    usage->blocks_used = used;
    usage->blocks_in_use = used;
    return 0;
}
