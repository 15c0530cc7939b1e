/*
 * fat_read.c - reads and checks FAT12/16 volumes (see include/esp01/fat.h).
 *
 * One walk over the directory tree serves both: reading turns the first
 * problem into an error, checking reports every problem and goes on.  It
 * follows the rules FatFs applies at mount time and treats the image as
 * hostile: every cluster is claimed once, paths and depth are bounded.
 */
#include "esp01/fat.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fat_int.h"
#include "util/bytes.h"

/* Issues reported one by one before check only counts them. */
#define MAX_REPORTED 200
/* Bound on the bytes of all paths a hostile image can make the reader build. */
#define MAX_PATH_BYTES (64u << 20)

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
    uint64_t mtime = fat_ns_of_time(esp01_le16(d + 24), esp01_le16(d + 22));
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
