/*
 * lock.c - esp01.lock: what a resolution found, so that the next build
 * gets the same bytes (by SHA-256, from the cache) without the index.
 * A lock is edited by people and merged by git: it is read as hostile
 * input, and written in a stable order, one file a line, to diff well.
 */
#include "esp01/hash.h"
#include "mip_int.h"
#include "mjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct out {
    char *p;
    size_t len, cap;
    bool oom;
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->oom)
        return;
    if (o->len + n + 1 > o->cap) {
        size_t cap = o->cap ? o->cap : 1024;
        while (cap < o->len + n + 1)
            cap *= 2;
        char *p = realloc(o->p, cap);
        if (!p) {
            o->oom = true;
            return;
        }
        o->p = p;
        o->cap = cap;
    }
    memcpy(o->p + o->len, s, n);
    o->len += n;
    o->p[o->len] = '\0';
}

static void puts_raw(struct out *o, const char *s) { put(o, s, strlen(s)); }

/* "key":"value" with JSON escapes (names come from hostile package jsons). */
static void put_str(struct out *o, const char *key, const char *v, bool comma)
{
    char esc[8];
    puts_raw(o, comma ? ",\"" : "\"");
    puts_raw(o, key);
    puts_raw(o, "\":\"");
    for (const unsigned char *c = (const unsigned char *)v; *c; c++) {
        if (*c == '"' || *c == '\\') {
            esc[0] = '\\';
            esc[1] = (char)*c;
            put(o, esc, 2);
        } else if (*c < 0x20 || *c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", *c);
            puts_raw(o, esc);
        } else {
            put(o, (const char *)c, 1);
        }
    }
    puts_raw(o, "\"");
}

int esp01_mip_lock_write(const esp01_mip_result *r, const esp01_mip_options *opt, char **text,
                         size_t *len, esp01_err *err)
{
    esp01_mip_options o;
    *text = NULL;
    *len = 0;
    int rc = mip_fill_options(opt, &o, err);
    if (rc < 0)
        return rc;
    struct out b = {0};
    puts_raw(&b, "{\"version\":1");
    put_str(&b, "index", o.index, true);
    put_str(&b, "mpy", o.mpy, true);
    puts_raw(&b, ",\n\"packages\":[");
    for (size_t i = 0; i < r->package_count; i++) {
        const esp01_mip_package *p = &r->packages[i];
        puts_raw(&b, i ? ",\n{" : "\n{");
        put_str(&b, "name", p->name, false);
        put_str(&b, "version", p->version, true);
        put_str(&b, "source", p->source, true);
        puts_raw(&b, p->skipped_frozen ? ",\"frozen\":true}" : "}");
    }
    puts_raw(&b, "],\n\"files\":[");
    for (size_t i = 0; i < r->file_count; i++) {
        const esp01_mip_file *f = &r->files[i];
        char hex[65], size[32];
        esp01_hex(f->sha256, 32, hex);
        puts_raw(&b, i ? ",\n{" : "\n{");
        put_str(&b, "target", f->target, false);
        put_str(&b, "url", f->url, true);
        put_str(&b, "sha256", hex, true);
        put_str(&b, "package", f->package, true);
        snprintf(size, sizeof size, ",\"size\":%zu}", f->len);
        puts_raw(&b, size);
    }
    puts_raw(&b, "]}\n");
    if (b.oom) {
        free(b.p);
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    *text = b.p;
    *len = b.len;
    return 0;
}

/* A string member no longer than max-1 bytes (empty allowed or not). */
static const char *member(const mj_doc *d, const mj_node *obj, const char *key, size_t max,
                          bool empty_ok)
{
    const char *s = mj_str(mj_get(d, obj, key));
    if (!s || strlen(s) >= max || (!empty_ok && !*s))
        return NULL;
    return s;
}

static int lock_size(const mj_node *n, size_t *size)
{
    if (!n || n->type != ESP01_JSON_NUMBER || n->len == 0 || n->len > 8)
        return -1;
    size_t v = 0;
    for (size_t i = 0; i < n->len; i++) {
        if (n->str[i] < '0' || n->str[i] > '9')
            return -1;
        v = v * 10 + (size_t)(n->str[i] - '0');
    }
    *size = v;
    return v <= ESP01_MIP_MAX_FILE ? 0 : -1;
}

static int check_packages(const mj_doc *d, const mj_node *pkgs, esp01_err *err)
{
    if (!pkgs || pkgs->type != ESP01_JSON_ARRAY || pkgs->count > ESP01_MIP_MAX_PACKAGES)
        return esp01_fail(err, ESP01_E_FORMAT, "lock: \"packages\" is not a list of at most %d",
                          ESP01_MIP_MAX_PACKAGES);
    size_t i = 0;
    for (const mj_node *p = mj_first(d, pkgs); p; p = mj_next(d, p), i++) {
        const mj_node *fz = mj_get(d, p, "frozen");
        if (!member(d, p, "name", 96, false) || !member(d, p, "version", 48, true) ||
            !member(d, p, "source", 512, true) || (fz && fz->type != ESP01_JSON_LITERAL))
            return esp01_fail(err, ESP01_E_FORMAT, "lock: package %zu is not {name, version, source}",
                              i + 1);
    }
    return 0;
}

static bool has_package(const mj_doc *d, const mj_node *pkgs, const char *name)
{
    for (const mj_node *p = mj_first(d, pkgs); p; p = mj_next(d, p))
        if (strcmp(mj_str(mj_get(d, p, "name")), name) == 0)
            return true;
    return false;
}

static int check_files(const mj_doc *d, const mj_node *pkgs, const mj_node *files, esp01_err *err)
{
    if (!files || files->type != ESP01_JSON_ARRAY || files->count > ESP01_MIP_MAX_FILES)
        return esp01_fail(err, ESP01_E_FORMAT, "lock: \"files\" is not a list of at most %d",
                          ESP01_MIP_MAX_FILES);
    size_t i = 0, total = 0;
    for (const mj_node *f = mj_first(d, files); f; f = mj_next(d, f), i++) {
        const char *target = member(d, f, "target", 256, false);
        const char *sha = member(d, f, "sha256", 65, false);
        const char *pkg = member(d, f, "package", 96, false);
        uint8_t bin[32];
        size_t size;
        if (!target || !member(d, f, "url", 512, false) || !sha || !pkg ||
            lock_size(mj_get(d, f, "size"), &size) < 0)
            return esp01_fail(err, ESP01_E_FORMAT,
                              "lock: file %zu is not {target, url, sha256, package, size}", i + 1);
        if (!mip_safe_rel(target))
            return esp01_fail(err, ESP01_E_FORMAT, "lock: unsafe target '%.200s'", target);
        if (!mip_hex32(sha, bin))
            return esp01_fail(err, ESP01_E_FORMAT, "lock: %s: bad sha256", target);
        if (!has_package(d, pkgs, pkg))
            return esp01_fail(err, ESP01_E_FORMAT, "lock: %s: no package '%.96s'", target, pkg);
        for (const mj_node *g = mj_first(d, files); g != f; g = mj_next(d, g))
            if (strcmp(mj_str(mj_get(d, g, "target")), target) == 0)
                return esp01_fail(err, ESP01_E_FORMAT, "lock: %s given twice", target);
        total += size;
        if (total > ESP01_MIP_MAX_TOTAL)
            return esp01_fail(err, ESP01_E_LIMIT, "lock: files over %u bytes", ESP01_MIP_MAX_TOTAL);
    }
    return 0;
}

static int lock_parse(const uint8_t *lock, size_t lock_len, mj_doc *d, esp01_err *err)
{
    esp01_err je;
    if (lock_len > ESP01_MIP_MAX_JSON)
        return esp01_fail(err, ESP01_E_LIMIT, "lock: larger than %u bytes", ESP01_MIP_MAX_JSON);
    int rc = mj_parse(lock, lock_len, d, &je);
    if (rc < 0)
        return esp01_fail(err, ESP01_E_FORMAT, "lock: %s", je.msg);
    const mj_node *root = &d->n[0];
    const mj_node *v = mj_get(d, root, "version");
    const mj_node *pkgs = mj_get(d, root, "packages");
    if (root->type != ESP01_JSON_OBJECT || !v || v->type != ESP01_JSON_NUMBER ||
        strcmp(v->str, "1") != 0)
        rc = esp01_fail(err, ESP01_E_FORMAT, "lock: not an esp01 lock of version 1");
    else if (!member(d, root, "index", MIP_URL_MAX - 128, false) ||
             !member(d, root, "mpy", 8, false))
        rc = esp01_fail(err, ESP01_E_FORMAT, "lock: no \"index\" or \"mpy\"");
    if (rc == 0)
        rc = check_packages(d, pkgs, err);
    if (rc == 0)
        rc = check_files(d, pkgs, mj_get(d, root, "files"), err);
    if (rc < 0)
        mj_free(d);
    return rc;
}

int esp01_mip_lock_check(const uint8_t *lock, size_t lock_len, esp01_err *err)
{
    mj_doc d;
    int rc = lock_parse(lock, lock_len, &d, err);
    if (rc == 0)
        mj_free(&d);
    return rc;
}

/* The bytes of a locked file: cache first, then its URL; hash checked. */
static int locked_bytes(const esp01_mip_options *o, const char *target, const char *url,
                        const uint8_t want[32], size_t size, uint8_t **data, esp01_err *err)
{
    uint8_t got[32];
    size_t len = 0;
    esp01_err fe;
    *data = NULL;
    if (o->cache_get && o->cache_get(o->cache_ctx, want, data, &len, &fe) == 0) {
        esp01_sha256(*data, len, got);
        if (memcmp(got, want, 32) == 0 && len == size)
            return 0;
        free(*data); /* a damaged cache entry: fetch it again */
        *data = NULL;
    }
    char hex[65];
    esp01_hex(want, 32, hex);
    if (!o->fetch)
        return esp01_fail(err, ESP01_E_IO, "%s (sha256 %.16s...) is not cached", target, hex);
    int rc = o->fetch(o->fetch_ctx, url, ESP01_MIP_MAX_FILE, data, &len, &fe);
    if (rc < 0)
        return esp01_fail(err, rc, "%s: %s", target, fe.msg);
    esp01_sha256(*data, len, got);
    if (memcmp(got, want, 32) != 0 || len != size) {
        free(*data);
        *data = NULL;
        return esp01_fail(err, ESP01_E_CHECKSUM, "%s from %.200s is not the locked file (sha256 %.16s...)",
                          target, url, hex);
    }
    if (o->cache_put)
        (void)o->cache_put(o->cache_ctx, want, *data, len, &fe);
    return 0;
}

static int locked_files(const mj_doc *d, const esp01_mip_options *o, esp01_mip_result *out,
                        esp01_err *err)
{
    const mj_node *root = &d->n[0];
    for (const mj_node *p = mj_first(d, mj_get(d, root, "packages")); p; p = mj_next(d, p)) {
        int rc = mip_add_package(out, mj_str(mj_get(d, p, "name")), mj_str(mj_get(d, p, "version")),
                                 mj_str(mj_get(d, p, "source")), err);
        if (rc < 0)
            return rc;
        const mj_node *fz = mj_get(d, p, "frozen");
        out->packages[out->package_count - 1].skipped_frozen = fz && strcmp(fz->str, "true") == 0;
    }
    for (const mj_node *f = mj_first(d, mj_get(d, root, "files")); f; f = mj_next(d, f)) {
        const char *target = mj_str(mj_get(d, f, "target"));
        const char *url = mj_str(mj_get(d, f, "url"));
        uint8_t sha[32], *data;
        size_t size = 0;
        mip_hex32(mj_str(mj_get(d, f, "sha256")), sha);
        lock_size(mj_get(d, f, "size"), &size);
        int rc = locked_bytes(o, target, url, sha, size, &data, err);
        if (rc == 0)
            rc = mip_add_file(out, target, url, mj_str(mj_get(d, f, "package")), sha, data, size, err);
        if (rc < 0)
            return rc;
    }
    return 0;
}

int esp01_mip_resolve_locked(const uint8_t *lock, size_t lock_len, const esp01_mip_options *opt,
                             esp01_mip_result *out, esp01_err *err)
{
    memset(out, 0, sizeof *out);
    esp01_mip_options o;
    mj_doc d;
    int rc = mip_fill_options(opt, &o, err);
    if (rc == 0)
        rc = lock_parse(lock, lock_len, &d, err);
    if (rc < 0)
        return rc;
    rc = locked_files(&d, &o, out, err);
    mj_free(&d);
    if (rc < 0)
        esp01_mip_result_free(out);
    return rc;
}
