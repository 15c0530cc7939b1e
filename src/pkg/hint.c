/*
 * hint.c - what the index knows when a name or version is missing: the
 * closest name ("did you mean umqtt.simple?") or the versions there are.
 * index.json is fetched only then, on a miss, so a good request costs no
 * extra round trip.
 */
#include "mip_int.h"
#include "mjson.h"

#include <stdlib.h>
#include <string.h>

/* index.json is ~150 KiB at micropython.org today. */
#define MIP_MAX_INDEX (8u * 1024u * 1024u)

static size_t append(char *msg, size_t n, const char *s)
{
    size_t cap = ESP01_ERR_MAX;
    while (n + 1 < cap && *s)
        msg[n++] = *s++;
    msg[n] = '\0';
    return n;
}

static void list_versions(const mj_doc *d, const mj_node *pkg, const char *mpy, char *msg)
{
    size_t n = strlen(msg);
    const mj_node *vs = mj_get(d, mj_get(d, pkg, "versions"), mpy);
    if (!vs || vs->type != ESP01_JSON_ARRAY || !mj_first(d, vs)) {
        n = append(msg, n, "; no build for mpy ");
        append(msg, n, mpy);
        return;
    }
    n = append(msg, n, "; versions:");
    for (const mj_node *v = mj_first(d, vs); v; v = mj_next(d, v))
        if (mj_str(v)) {
            n = append(msg, n, " ");
            n = append(msg, n, v->str);
        }
}

void mip_not_found_hint(const esp01_mip_options *opt, const char *name, const char *version,
                        esp01_err *err)
{
    char url[MIP_URL_MAX];
    uint8_t *body = NULL;
    size_t len = 0;
    esp01_err fe;
    if (!err || !opt->fetch || !mip_fmt(url, sizeof url, "%s/index.json", opt->index) ||
        opt->fetch(opt->fetch_ctx, url, MIP_MAX_INDEX, &body, &len, &fe) < 0)
        return;
    mj_doc d;
    int rc = mj_parse(body, len, &d, &fe);
    free(body);
    if (rc < 0)
        return;
    const mj_node *pkgs = mj_get(&d, &d.n[0], "packages");
    const char *best = NULL;
    size_t best_dist = (size_t)-1;
    for (const mj_node *p = mj_first(&d, pkgs); p && pkgs->type == ESP01_JSON_ARRAY;
         p = mj_next(&d, p)) {
        const char *pn = mj_str(mj_get(&d, p, "name"));
        if (!pn)
            continue;
        if (strcmp(pn, name) == 0) {
            /* the name is there: the version (or this mpy's build) is not */
            (void)version;
            list_versions(&d, p, opt->mpy, err->msg);
            mj_free(&d);
            return;
        }
        size_t dist = mip_edit_distance(pn, name);
        if (dist < best_dist) {
            best_dist = dist;
            best = pn;
        }
    }
    size_t limit = strlen(name) / 3 > 2 ? strlen(name) / 3 : 2;
    if (best && best_dist <= limit) {
        size_t n = append(err->msg, strlen(err->msg), "; did you mean ");
        n = append(err->msg, n, best);
        append(err->msg, n, "?");
    }
    mj_free(&d);
}
