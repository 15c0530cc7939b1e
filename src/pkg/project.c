/*
 * project.c - a project's own package.json in mip's format: its "deps"
 * become requests ("name@version"; "latest" is just the name).
 */
#include "mip_int.h"
#include "mjson.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void esp01_mip_requests_free(char **requests, size_t count)
{
    for (size_t i = 0; requests && i < count; i++)
        free(requests[i]);
    free(requests);
}

static int one(const mj_doc *d, const mj_node *e, size_t i, char **out, esp01_err *err)
{
    const mj_node *n = mj_first(d, e), *v = mj_next(d, n);
    const char *name = mj_str(n), *ver = v ? mj_str(v) : "latest";
    if (e->type != ESP01_JSON_ARRAY || e->count < 1 || e->count > 2 || !name || !ver || !*name ||
        !*ver)
        return esp01_fail(err, ESP01_E_FORMAT, "package.json: dep %zu is not [name, version]", i + 1);
    if (strlen(name) >= MIP_URL_MAX || strlen(ver) >= 48 || strchr(ver, '@') || strchr(ver, '/'))
        return esp01_fail(err, ESP01_E_FORMAT, "package.json: dep %zu: bad name or version", i + 1);
    size_t cap = strlen(name) + strlen(ver) + 2;
    *out = malloc(cap);
    if (!*out)
        return esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    if (strcmp(ver, "latest") == 0)
        snprintf(*out, cap, "%s", name);
    else
        snprintf(*out, cap, "%s@%s", name, ver);
    return 0;
}

int esp01_mip_project_requests(const uint8_t *json, size_t len, char ***requests, size_t *count,
                               esp01_err *err)
{
    *requests = NULL;
    *count = 0;
    if (len > ESP01_MIP_MAX_JSON)
        return esp01_fail(err, ESP01_E_LIMIT, "package.json: larger than %u bytes", ESP01_MIP_MAX_JSON);
    mj_doc d;
    esp01_err je;
    int rc = mj_parse(json, len, &d, &je);
    if (rc < 0)
        return esp01_fail(err, ESP01_E_FORMAT, "package.json: %s", je.msg);
    const mj_node *deps = mj_get(&d, &d.n[0], "deps");
    if (d.n[0].type != ESP01_JSON_OBJECT)
        rc = esp01_fail(err, ESP01_E_FORMAT, "package.json: not an object");
    else if (deps && deps->type != ESP01_JSON_ARRAY)
        rc = esp01_fail(err, ESP01_E_FORMAT, "package.json: \"deps\" is not a list");
    else if (deps && deps->count > ESP01_MIP_MAX_PACKAGES)
        rc = esp01_fail(err, ESP01_E_LIMIT, "package.json: more than %d deps", ESP01_MIP_MAX_PACKAGES);
    char **list = NULL;
    if (rc == 0 && deps && deps->count) {
        list = calloc(deps->count, sizeof *list);
        if (!list)
            rc = esp01_fail(err, ESP01_E_NOMEM, "out of memory");
    }
    size_t n = 0;
    for (const mj_node *e = mj_first(&d, deps); rc == 0 && e; e = mj_next(&d, e), n++)
        rc = one(&d, e, n, &list[n], err);
    mj_free(&d);
    if (rc < 0) {
        esp01_mip_requests_free(list, n);
        return rc;
    }
    *requests = list;
    *count = n;
    return 0;
}
