/*
 * result.c - a resolution's packages and files as they are found, with
 * the limits of mip.h kept as each one is added.
 */
#include "mip_int.h"

#include <stdlib.h>
#include <string.h>

void esp01_mip_defaults(esp01_mip_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->index = ESP01_MIP_INDEX;
    opt->mpy = "py";
    opt->target = "lib";
}

static bool copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return false;
    memcpy(dst, src, n + 1);
    return true;
}

int mip_add_package(esp01_mip_result *r, const char *name, const char *version,
                    const char *source, esp01_err *err)
{
    if (r->package_count >= ESP01_MIP_MAX_PACKAGES)
        return esp01_fail(err, ESP01_E_LIMIT, "more than %d packages", ESP01_MIP_MAX_PACKAGES);
    esp01_mip_package *p = realloc(r->packages, (r->package_count + 1) * sizeof *p);
    if (!p)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    r->packages = p;
    p += r->package_count;
    memset(p, 0, sizeof *p);
    if (!copy(p->name, sizeof p->name, name) || !copy(p->version, sizeof p->version, version) ||
        !copy(p->source, sizeof p->source, source))
        return esp01_fail(err, ESP01_E_LIMIT, "package name, version or source too long: '%.100s'",
                          name);
    r->package_count++;
    return 0;
}

const esp01_mip_package *mip_find_package(const esp01_mip_result *r, const char *name)
{
    for (size_t i = 0; i < r->package_count; i++)
        if (strcmp(r->packages[i].name, name) == 0)
            return &r->packages[i];
    return NULL;
}

const esp01_mip_file *mip_find_file(const esp01_mip_result *r, const char *target)
{
    for (size_t i = 0; i < r->file_count; i++)
        if (strcmp(r->files[i].target, target) == 0)
            return &r->files[i];
    return NULL;
}

/* Takes `data` (freed on failure too). */
int mip_add_file(esp01_mip_result *r, const char *target, const char *url,
                 const char *package, const uint8_t sha[32], uint8_t *data, size_t len,
                 esp01_err *err)
{
    int rc = 0;
    if (r->file_count >= ESP01_MIP_MAX_FILES)
        rc = esp01_fail(err, ESP01_E_LIMIT, "more than %d files", ESP01_MIP_MAX_FILES);
    else if (len > ESP01_MIP_MAX_FILE || r->total_bytes + len > ESP01_MIP_MAX_TOTAL)
        rc = esp01_fail(err, ESP01_E_LIMIT, "'%.200s' goes past the %u byte limit of all files",
                        target, ESP01_MIP_MAX_TOTAL);
    esp01_mip_file *f = NULL;
    if (rc == 0) {
        f = realloc(r->files, (r->file_count + 1) * sizeof *f);
        if (!f)
            rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    if (rc < 0) {
        free(data);
        return rc;
    }
    r->files = f;
    f += r->file_count;
    memset(f, 0, sizeof *f);
    if (!copy(f->target, sizeof f->target, target) || !copy(f->url, sizeof f->url, url) ||
        !copy(f->package, sizeof f->package, package)) {
        free(data);
        return esp01_fail(err, ESP01_E_LIMIT, "target or URL too long: '%.200s'", target);
    }
    memcpy(f->sha256, sha, 32);
    f->data = data;
    f->len = len;
    r->file_count++;
    r->total_bytes += len;
    for (size_t i = 0; i < r->package_count; i++)
        if (strcmp(r->packages[i].name, package) == 0) {
            r->packages[i].files++;
            r->packages[i].bytes += len;
        }
    return 0;
}

void esp01_mip_result_free(esp01_mip_result *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->file_count; i++)
        free(r->files[i].data);
    free(r->files);
    free(r->packages);
    memset(r, 0, sizeof *r);
}
