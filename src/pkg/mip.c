/*
 * mip.c - requests to files, as micropython-lib's mip/__init__.py does it
 * on a board (_install_package, _install_json), with what a board cannot
 * afford: every file's hash checked before anything is returned, deps
 * bounded and cycles named, unsafe targets refused.
 */
#include "esp01/hash.h"
#include "mip_int.h"
#include "mjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct mip_run {
    esp01_mip_options opt; /* the caller's, defaults filled in */
    esp01_mip_result *r;
    const char *chain[ESP01_MIP_MAX_DEPTH + 2]; /* the names being installed */
    size_t depth;
    esp01_err *err;
};

static int fetch(struct mip_run *m, const char *url, size_t max, uint8_t **body, size_t *len)
{
    *body = NULL;
    *len = 0;
    if (!m->opt.fetch)
        return esp01_fail(m->err, ESP01_E_IO, "'%.200s' is needed and nothing can fetch it", url);
    esp01_err fe;
    esp01_err_clear(&fe);
    int rc = m->opt.fetch(m->opt.fetch_ctx, url, max, body, len, &fe);
    if (rc >= 0 && *len > max) {
        rc = esp01_fail(&fe, ESP01_E_LIMIT, "'%.200s' is larger than %zu bytes", url, max);
        free(*body);
    }
    if (rc < 0) {
        *body = NULL;
        return esp01_fail(m->err, rc, "%s", fe.msg[0] ? fe.msg : url);
    }
    return 0;
}

static int take_file(struct mip_run *m, const char *target, const char *url,
                     const char *short_hash, const char *package)
{
    uint8_t *data, sha[32];
    size_t len;
    int rc = fetch(m, url, ESP01_MIP_MAX_FILE, &data, &len);
    if (rc < 0)
        return rc;
    esp01_sha256(data, len, sha);
    char hex[65];
    esp01_hex(sha, 32, hex);
    if (short_hash && !mip_hash_starts(sha, short_hash)) {
        free(data);
        return esp01_fail(m->err, ESP01_E_CHECKSUM,
                          "%s from %.200s: SHA-256 %.16s... does not start with %s", target, url,
                          hex, short_hash);
    }
    const esp01_mip_file *old = mip_find_file(m->r, target);
    if (old) {
        free(data);
        if (memcmp(old->sha256, sha, 32) == 0)
            return 0; /* two packages ship the same file (ssl.mpy) */
        return esp01_fail(m->err, ESP01_E_INVAL, "%s and %s both install %s, differently",
                          old->package, package, target);
    }
    if (m->opt.cache_put) {
        esp01_err ce;
        (void)m->opt.cache_put(m->opt.cache_ctx, sha, data, len, &ce); /* a cache is optional */
    }
    return mip_add_file(m->r, target, url, package, sha, data, len, m->err);
}

static bool is_frozen(const struct mip_run *m, const char *rel)
{
    char mod[256];
    if (!mip_module_name(rel, mod, sizeof mod))
        return false;
    for (size_t i = 0; i < m->opt.frozen_count; i++)
        if (m->opt.frozen[i] && strcmp(m->opt.frozen[i], mod) == 0)
            return true;
    return false;
}

/* [string, string] (or [string] when `one_ok`). */
static bool pair(const mj_doc *d, const mj_node *n, bool one_ok, const char **a, const char **b)
{
    if (!n || n->type != ESP01_JSON_ARRAY || n->count < (one_ok ? 1u : 2u) || n->count > 2)
        return false;
    const mj_node *x = mj_first(d, n), *y = mj_next(d, x);
    *a = mj_str(x);
    *b = y ? mj_str(y) : NULL;
    return *a && (*b || (one_ok && !y));
}

/* Every known key has mip's shape; true when all file targets are frozen
 * modules (and there is at least one). */
static int check_shape(struct mip_run *m, const mj_doc *d, const char *url, bool *all_frozen)
{
    static const char *const keys[] = {"hashes", "urls", "deps"};
    const mj_node *root = &d->n[0];
    if (root->type != ESP01_JSON_OBJECT)
        return esp01_fail(m->err, ESP01_E_FORMAT, "%.200s: not a package json (no object)", url);
    size_t files = 0, frozen = 0;
    for (int k = 0; k < 3; k++) {
        const mj_node *arr = mj_get(d, root, keys[k]);
        if (arr && arr->type != ESP01_JSON_ARRAY)
            return esp01_fail(m->err, ESP01_E_FORMAT, "%.200s: \"%s\" is not a list", url, keys[k]);
        for (const mj_node *e = mj_first(d, arr); e; e = mj_next(d, e)) {
            const char *a, *b;
            if (!pair(d, e, k == 2, &a, &b))
                return esp01_fail(m->err, ESP01_E_FORMAT, "%.200s: \"%s\" holds a non-[string, string]",
                                  url, keys[k]);
            if (k < 2) {
                files++;
                frozen += is_frozen(m, a);
            }
        }
    }
    const mj_node *v = mj_get(d, root, "version");
    if (v && (!mj_str(v) || v->len >= sizeof m->r->packages[0].version))
        return esp01_fail(m->err, ESP01_E_FORMAT, "%.200s: a bad \"version\"", url);
    *all_frozen = files > 0 && frozen == files;
    return 0;
}

static int install_package(struct mip_run *m, const char *spec, const char *version);

/* The "hashes", "urls" and "deps" of a parsed package json. */
static int install_parts(struct mip_run *m, const mj_doc *d, const char *name, const char *base,
                         const char *source, const char *ref)
{
    const mj_node *root = &d->n[0];
    char target[256], url[MIP_URL_MAX], joined[MIP_URL_MAX];
    const char *a, *b;
    int rc = 0;
    for (const mj_node *e = mj_first(d, mj_get(d, root, "hashes")); e && rc == 0; e = mj_next(d, e)) {
        pair(d, e, false, &a, &b);
        if (!mip_short_hash_ok(b))
            return esp01_fail(m->err, ESP01_E_FORMAT, "%s: bad short hash '%.80s' for %.100s",
                              name, b, a);
        rc = mip_join_target(m->opt.target, a, target, sizeof target, m->err);
        if (rc == 0 && !mip_fmt(url, sizeof url, "%s/file/%.2s/%s", m->opt.index, b, b))
            rc = esp01_fail(m->err, ESP01_E_LIMIT, "the index URL is too long");
        if (rc == 0)
            rc = take_file(m, target, url, b, name);
    }
    for (const mj_node *e = mj_first(d, mj_get(d, root, "urls")); e && rc == 0; e = mj_next(d, e)) {
        pair(d, e, false, &a, &b);
        rc = mip_join_target(m->opt.target, a, target, sizeof target, m->err);
        if (rc < 0)
            break;
        bool relative = !mip_is_url(b) && base[0];
        if (!mip_fmt(joined, sizeof joined, relative ? "%s/%s" : "%.0s%s", base, b))
            return esp01_fail(m->err, ESP01_E_LIMIT, "URL too long: '%.200s'", b);
        /* A package from the network does not get to read local files. */
        if (mip_is_remote(source) && !mip_is_remote(joined))
            return esp01_fail(m->err, ESP01_E_INVAL, "%s: remote package names a local file '%.200s'",
                              name, joined);
        rc = mip_rewrite(joined, ref, url, sizeof url, m->err);
        if (rc == 0)
            rc = take_file(m, target, url, NULL, name);
    }
    for (const mj_node *e = mj_first(d, mj_get(d, root, "deps")); e && rc == 0; e = mj_next(d, e)) {
        pair(d, e, true, &a, &b);
        rc = install_package(m, a, b);
    }
    return rc;
}

/* base: the folder of the json's URL before rewriting (mip's base_url). */
static int install_json(struct mip_run *m, const char *name, const char *json_url,
                        const char *version, bool from_index)
{
    char url[MIP_URL_MAX], base[MIP_URL_MAX];
    const char *ref = version && strcmp(version, "latest") != 0 ? version : NULL;
    int rc = mip_rewrite(json_url, ref, url, sizeof url, m->err);
    if (rc < 0)
        return rc;
    uint8_t *body;
    size_t len;
    rc = fetch(m, url, ESP01_MIP_MAX_JSON, &body, &len);
    if (rc == ESP01_E_NOTFOUND && from_index) {
        esp01_fail(m->err, rc, "no package '%s'%s%s for mpy %s in %s", name, version ? " version " : "",
                   version ? version : "", m->opt.mpy, m->opt.index);
        mip_not_found_hint(&m->opt, name, version, m->err);
    }
    if (rc < 0)
        return rc;
    mj_doc d;
    esp01_err je;
    rc = mj_parse(body, len, &d, &je);
    free(body);
    if (rc < 0)
        return esp01_fail(m->err, rc == ESP01_E_LIMIT ? rc : ESP01_E_FORMAT, "%.200s: %s", url, je.msg);
    bool frozen = false;
    rc = check_shape(m, &d, url, &frozen);
    if (rc == 0) {
        const char *ver = mj_str(mj_get(&d, &d.n[0], "version"));
        rc = mip_add_package(m->r, name, ver ? ver : "", url, m->err);
    }
    if (rc == 0 && frozen) {
        m->r->packages[m->r->package_count - 1].skipped_frozen = true;
    } else if (rc == 0) {
        size_t n = strlen(json_url);
        while (n && json_url[n - 1] != '/')
            n--;
        snprintf(base, sizeof base, "%.*s", n ? (int)n - 1 : 0, json_url);
        rc = install_parts(m, &d, name, base, url, ref);
    }
    mj_free(&d);
    return rc;
}

/* "https://.../x.py": one file, named after the URL's last part. */
static int install_one_file(struct mip_run *m, const char *spec, const char *version)
{
    char url[MIP_URL_MAX], target[256];
    const char *slash = strrchr(spec, '/');
    const char *file = slash ? slash + 1 : spec;
    int rc = mip_join_target(m->opt.target, file, target, sizeof target, m->err);
    if (rc == 0)
        rc = mip_rewrite(spec, version, url, sizeof url, m->err);
    if (rc == 0)
        rc = mip_add_package(m->r, spec, version ? version : "", url, m->err);
    if (rc < 0)
        return rc;
    if (is_frozen(m, file)) {
        m->r->packages[m->r->package_count - 1].skipped_frozen = true;
        return 0;
    }
    return take_file(m, target, url, NULL, spec);
}

static int chain_text(struct mip_run *m, int code, const char *what, const char *last)
{
    char msg[ESP01_ERR_MAX] = "";
    size_t n = 0;
    for (size_t i = 0; i < m->depth && n < sizeof msg; i++)
        n += (size_t)snprintf(msg + n, sizeof msg - n, "%s -> ", m->chain[i]);
    if (n < sizeof msg)
        snprintf(msg + n, sizeof msg - n, "%s", last);
    return esp01_fail(m->err, code, "%s: %s", what, msg);
}

static int install_package(struct mip_run *m, const char *spec, const char *version)
{
    for (size_t i = 0; i < m->depth; i++)
        if (strcmp(m->chain[i], spec) == 0)
            return chain_text(m, ESP01_E_FORMAT, "dependency cycle", spec);
    if (m->depth > ESP01_MIP_MAX_DEPTH)
        return chain_text(m, ESP01_E_LIMIT, "dependencies nested too deep", spec);
    if (mip_find_package(m->r, spec))
        return 0; /* already there through another package */
    if (strlen(spec) >= sizeof m->r->packages[0].name)
        return esp01_fail(m->err, ESP01_E_LIMIT, "package name too long: '%.100s'", spec);
    if (version && strlen(version) >= sizeof m->r->packages[0].version)
        return esp01_fail(m->err, ESP01_E_LIMIT, "version too long: '%.100s'", version);
    m->chain[m->depth++] = spec;
    int rc;
    char url[MIP_URL_MAX];
    if (mip_is_url(spec) && (mip_ends_with(spec, ".py") || mip_ends_with(spec, ".mpy"))) {
        rc = install_one_file(m, spec, version);
    } else if (mip_is_url(spec)) {
        /* "github:org" has no repository: refused before "/package.json" makes one */
        if (mip_rewrite(spec, version, url, sizeof url, m->err) < 0) {
            m->depth--;
            return ESP01_E_INVAL;
        }
        const char *tail = mip_ends_with(spec, ".json") ? "" : mip_ends_with(spec, "/") ? "package.json" : "/package.json";
        rc = mip_fmt(url, sizeof url, "%s%s", spec, tail) ? install_json(m, spec, url, version, false)
             : esp01_fail(m->err, ESP01_E_LIMIT, "URL too long: '%.200s'", spec);
    } else if (!mip_name_ok(spec, sizeof m->r->packages[0].name) ||
               (version && !mip_name_ok(version, sizeof m->r->packages[0].version))) {
        rc = esp01_fail(m->err, ESP01_E_INVAL, "'%.100s%s%.60s' is no package name", spec,
                        version ? "@" : "", version ? version : "");
    } else {
        rc = mip_fmt(url, sizeof url, "%s/package/%s/%s/%s.json", m->opt.index, m->opt.mpy, spec,
                     version ? version : "latest")
                 ? install_json(m, spec, url, version, true)
                 : esp01_fail(m->err, ESP01_E_LIMIT, "the index URL is too long");
    }
    m->depth--;
    return rc;
}

static int fill_options(const esp01_mip_options *in, esp01_mip_options *o, esp01_err *err)
{
    esp01_mip_defaults(o);
    if (in) {
        esp01_mip_options d = *o;
        *o = *in;
        o->index = in->index && in->index[0] ? in->index : d.index;
        o->mpy = in->mpy && in->mpy[0] ? in->mpy : d.mpy;
        o->target = in->target && in->target[0] ? in->target : d.target;
    }
    if (!mip_name_ok(o->mpy, 8))
        return esp01_fail(err, ESP01_E_INVAL, "bad mpy version '%.20s'", o->mpy);
    if (!mip_safe_rel(o->target) || strlen(o->target) > 128)
        return esp01_fail(err, ESP01_E_INVAL, "bad package target '%.100s'", o->target);
    if (strlen(o->index) >= MIP_URL_MAX - 128)
        return esp01_fail(err, ESP01_E_LIMIT, "the index URL is too long");
    return 0;
}

int mip_fill_options(const esp01_mip_options *in, esp01_mip_options *out, esp01_err *err)
{
    return fill_options(in, out, err);
}

int esp01_mip_resolve(const char *const *requests, size_t count, const esp01_mip_options *opt,
                      esp01_mip_result *out, esp01_err *err)
{
    memset(out, 0, sizeof *out);
    struct mip_run m = {.r = out, .err = err};
    int rc = fill_options(opt, &m.opt, err);
    for (size_t i = 0; rc == 0 && i < count; i++) {
        char spec[MIP_URL_MAX];
        if (!requests[i] || !mip_fmt(spec, sizeof spec, "%s", requests[i])) {
            rc = esp01_fail(err, ESP01_E_INVAL, "request %zu is empty or too long", i + 1);
            break;
        }
        /* name@version: the last '@', unless it belongs to a URL's path */
        char *at = strrchr(spec, '@');
        const char *version = NULL;
        if (at && !strchr(at, '/')) {
            *at = '\0';
            version = at + 1;
            if (!*version || !*spec) {
                rc = esp01_fail(err, ESP01_E_INVAL, "'%.200s': empty name or version", requests[i]);
                break;
            }
        }
        rc = install_package(&m, spec, version);
    }
    if (rc < 0)
        esp01_mip_result_free(out);
    return rc < 0 ? rc : 0;
}
