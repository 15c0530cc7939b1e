/*
 * manifest.h - the fixtures' manifest.json for the unit tests: every image
 * real MicroPython wrote, with each file's path, size and sha256, its
 * geometry and what os.statvfs said.  A small JSON reader (objects, arrays,
 * strings with escapes, numbers, literals); keys the tests do not use are
 * skipped, so new ones do not break them.
 */
#ifndef ESP01_TEST_MANIFEST_H
#define ESP01_TEST_MANIFEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "esp01/fileio.h"
#include "esp01/hash.h"
#include "esp01/tree.h"

typedef struct mf_entry {
    char *path;
    bool is_dir;
    unsigned long long size;
    char sha256[65];
} mf_entry;

typedef struct mf_image {
    char *image;
    char fs[16];
    unsigned long block_size, block_count, statvfs_free_blocks;
    mf_entry *entries;
    size_t nentries;
} mf_image;

typedef struct manifest {
    mf_image *images;
    size_t count;
} manifest;

typedef struct mf_cur {
    const char *p, *end;
    bool bad;
} mf_cur;

static void mf_ws(mf_cur *c)
{
    while (c->p < c->end && strchr(" \t\r\n", *c->p))
        c->p++;
}

static bool mf_eat(mf_cur *c, char ch)
{
    mf_ws(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return true;
    }
    return false;
}

static void mf_put_utf8(char *out, size_t *n, unsigned long cp)
{
    if (cp < 0x80) {
        out[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        out[(*n)++] = (char)(0xc0 | cp >> 6);
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out[(*n)++] = (char)(0xe0 | cp >> 12);
        out[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        out[(*n)++] = (char)(0xf0 | cp >> 18);
        out[(*n)++] = (char)(0x80 | (cp >> 12 & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
}

static unsigned long mf_hex4(mf_cur *c)
{
    unsigned long v = 0;
    for (int i = 0; i < 4; i++, c->p++) {
        if (c->p >= c->end) {
            c->bad = true;
            return 0;
        }
        char h = *c->p;
        v = v * 16 + (unsigned long)(h >= 'a' ? h - 'a' + 10
                                     : h >= 'A' ? h - 'A' + 10 : h - '0');
    }
    return v;
}

/* A string, malloc'd and NUL-terminated (escapes decoded). */
static char *mf_string(mf_cur *c)
{
    if (!mf_eat(c, '"')) {
        c->bad = true;
        return NULL;
    }
    char *out = malloc((size_t)(c->end - c->p) + 1);
    size_t n = 0;
    while (c->p < c->end && *c->p != '"') {
        char ch = *c->p++;
        if (ch != '\\') {
            out[n++] = ch;
            continue;
        }
        if (c->p >= c->end)
            break;
        ch = *c->p++;
        switch (ch) {
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'n': out[n++] = '\n'; break;
        case 'r': out[n++] = '\r'; break;
        case 't': out[n++] = '\t'; break;
        case 'u': {
            unsigned long cp = mf_hex4(c);
            if (cp >= 0xd800 && cp < 0xdc00 && c->p + 1 < c->end &&
                c->p[0] == '\\' && c->p[1] == 'u') {
                c->p += 2;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (mf_hex4(c) - 0xdc00);
            }
            mf_put_utf8(out, &n, cp);
            break;
        }
        default: out[n++] = ch; break; /* \" \\ \/ */
        }
    }
    if (!mf_eat(c, '"'))
        c->bad = true;
    out[n] = '\0';
    return out;
}

static unsigned long long mf_number(mf_cur *c)
{
    mf_ws(c);
    char *e;
    unsigned long long v = strtoull(c->p, &e, 10);
    if (e == c->p)
        c->bad = true;
    c->p = e;
    /* fractions and exponents are not used by the manifest's fields */
    while (c->p < c->end && strchr("0123456789.eE+-", *c->p))
        c->p++;
    return v;
}

static void mf_skip(mf_cur *c, int depth)
{
    mf_ws(c);
    if (c->p >= c->end || depth > 64) {
        c->bad = true;
        return;
    }
    if (*c->p == '"') {
        free(mf_string(c));
    } else if (*c->p == '{' || *c->p == '[') {
        char close = *c->p == '{' ? '}' : ']';
        c->p++;
        if (mf_eat(c, close))
            return;
        do {
            if (close == '}') {
                free(mf_string(c));
                if (!mf_eat(c, ':'))
                    c->bad = true;
            }
            mf_skip(c, depth + 1);
        } while (!c->bad && mf_eat(c, ','));
        if (!mf_eat(c, close))
            c->bad = true;
    } else {
        while (c->p < c->end && !strchr(",]} \t\r\n", *c->p))
            c->p++;
    }
}

static void mf_entry_obj(mf_cur *c, mf_entry *e)
{
    memset(e, 0, sizeof *e);
    if (!mf_eat(c, '{')) {
        c->bad = true;
        return;
    }
    do {
        char *key = mf_string(c);
        if (!key || !mf_eat(c, ':')) {
            free(key);
            c->bad = true;
            return;
        }
        if (strcmp(key, "path") == 0) {
            e->path = mf_string(c);
        } else if (strcmp(key, "type") == 0) {
            char *t = mf_string(c);
            e->is_dir = t && strcmp(t, "dir") == 0;
            free(t);
        } else if (strcmp(key, "size") == 0) {
            e->size = mf_number(c);
        } else if (strcmp(key, "sha256") == 0) {
            char *h = mf_string(c);
            if (h)
                snprintf(e->sha256, sizeof e->sha256, "%s", h);
            free(h);
        } else {
            mf_skip(c, 1);
        }
        free(key);
    } while (!c->bad && mf_eat(c, ','));
    if (!mf_eat(c, '}') || !e->path)
        c->bad = true;
}

static void mf_image_obj(mf_cur *c, mf_image *im)
{
    memset(im, 0, sizeof *im);
    if (!mf_eat(c, '{')) {
        c->bad = true;
        return;
    }
    do {
        char *key = mf_string(c);
        if (!key || !mf_eat(c, ':')) {
            free(key);
            c->bad = true;
            return;
        }
        if (strcmp(key, "image") == 0) {
            im->image = mf_string(c);
        } else if (strcmp(key, "fs") == 0) {
            char *f = mf_string(c);
            if (f)
                snprintf(im->fs, sizeof im->fs, "%s", f);
            free(f);
        } else if (strcmp(key, "block_size") == 0) {
            im->block_size = (unsigned long)mf_number(c);
        } else if (strcmp(key, "block_count") == 0) {
            im->block_count = (unsigned long)mf_number(c);
        } else if (strcmp(key, "statvfs_free_blocks") == 0) {
            im->statvfs_free_blocks = (unsigned long)mf_number(c);
        } else if (strcmp(key, "entries") == 0) {
            size_t cap = 16;
            im->entries = malloc(cap * sizeof *im->entries);
            if (!mf_eat(c, '[')) {
                c->bad = true;
            } else if (!mf_eat(c, ']')) {
                do {
                    if (im->nentries == cap) {
                        cap *= 2;
                        im->entries = realloc(im->entries,
                                              cap * sizeof *im->entries);
                    }
                    mf_entry_obj(c, &im->entries[im->nentries++]);
                } while (!c->bad && mf_eat(c, ','));
                if (!mf_eat(c, ']'))
                    c->bad = true;
            }
        } else {
            mf_skip(c, 1);
        }
        free(key);
    } while (!c->bad && mf_eat(c, ','));
    if (!mf_eat(c, '}') || !im->image)
        c->bad = true;
}

static void manifest_free(manifest *m)
{
    for (size_t i = 0; i < m->count; i++) {
        for (size_t k = 0; k < m->images[i].nentries; k++)
            free(m->images[i].entries[k].path);
        free(m->images[i].entries);
        free(m->images[i].image);
    }
    free(m->images);
    memset(m, 0, sizeof *m);
}

/* Read SHARED/fixtures/fs/manifest.json: 0, or -1 with a "#" line. */
static int manifest_load(manifest *m, const char *shared)
{
    memset(m, 0, sizeof *m);
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/fs/manifest.json", shared);
    uint8_t *buf = NULL;
    size_t len = 0;
    esp01_err e;
    if (esp01_read_file(path, (size_t)16 << 20, &buf, &len, &e) < 0) {
        printf("# %s\n", e.msg);
        return -1;
    }
    mf_cur c = {(const char *)buf, (const char *)buf + len, false};
    size_t cap = 16;
    m->images = malloc(cap * sizeof *m->images);
    if (!mf_eat(&c, '[')) {
        c.bad = true;
    } else if (!mf_eat(&c, ']')) {
        do {
            if (m->count == cap) {
                cap *= 2;
                m->images = realloc(m->images, cap * sizeof *m->images);
            }
            mf_image_obj(&c, &m->images[m->count++]);
        } while (!c.bad && mf_eat(&c, ','));
        if (!mf_eat(&c, ']'))
            c.bad = true;
    }
    free(buf);
    if (c.bad) {
        printf("# %s: not the JSON the tests expect\n", path);
        manifest_free(m);
        return -1;
    }
    return 0;
}

/*
 * Compare the tree read from an image with the image's manifest entries:
 * the same paths, types, sizes and sha256, nothing missing, nothing extra.
 * Returns the number of differences, each shown on a "#" line.
 */
static int manifest_compare(const mf_image *im, const esp01_tree *t)
{
    int diffs = 0;
    for (size_t k = 0; k < im->nentries; k++) {
        const mf_entry *me = &im->entries[k];
        const esp01_entry *x = esp01_tree_find(t, me->path);
        if (!x) {
            printf("# %s: '%s' missing\n", im->image, me->path);
            diffs++;
            continue;
        }
        if (me->is_dir != (x->type == ESP01_ENTRY_DIR)) {
            printf("# %s: '%s' has the wrong type\n", im->image, me->path);
            diffs++;
            continue;
        }
        if (me->is_dir)
            continue;
        uint8_t d[32];
        char hex[65];
        esp01_sha256(x->data, x->size, d);
        esp01_hex(d, 32, hex);
        if (x->size != me->size || strcmp(hex, me->sha256) != 0) {
            printf("# %s: '%s' is %zu bytes, sha256 %s\n", im->image,
                   me->path, x->size, hex);
            diffs++;
        }
    }
    for (size_t i = 0; i < t->count; i++) {
        bool listed = false;
        for (size_t k = 0; k < im->nentries && !listed; k++)
            listed = strcmp(im->entries[k].path, t->entries[i].path) == 0;
        if (!listed) {
            printf("# %s: '%s' is not in the manifest\n", im->image,
                   t->entries[i].path);
            diffs++;
        }
    }
    return diffs;
}

/* The image's bytes (malloc'd), or NULL with a "#" line. */
static uint8_t *manifest_image(const mf_image *im, const char *shared,
                               size_t *len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fixtures/fs/%s", shared, im->image);
    uint8_t *buf = NULL;
    esp01_err e;
    if (esp01_read_file(path, (size_t)64 << 20, &buf, len, &e) < 0) {
        printf("# %s\n", e.msg);
        return NULL;
    }
    return buf;
}

#endif
