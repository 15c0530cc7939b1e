/*
 * A project's packages (mipcli.h): package.json in, esp01.lock beside it,
 * the files into the image's tree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "esp01/fileio.h"
#include "mipcli.h"
#include "os/os.h"

/* Every request's package name is in the locked result, and when every
 * request is an index name (micropython-lib flattens its deps, so only a
 * third-party package brings others) nothing else is: the lock still
 * answers package.json; a dep added or taken out re-resolves. */
static bool lock_matches(const esp01_mip_result *r, char **req, size_t n)
{
    bool third_party = false;
    for (size_t i = 0; i < n; i++)
        third_party |= strpbrk(req[i], ":/") != NULL;
    if (!third_party && r->package_count != n)
        return false;
    size_t named = 0;
    for (size_t i = 0; i < n; i++) {
        size_t k = strcspn(req[i], "@");
        bool found = false;
        for (size_t j = 0; j < r->package_count && !found; j++)
            found = strlen(r->packages[j].name) == k &&
                    strncmp(r->packages[j].name, req[i], k) == 0;
        if (!found)
            return false;
        named++;
    }
    return named == n;
}

static int read_requests(const char *project, char ***req, size_t *n, bool *have)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/package.json", project);
    *have = esp01_os_is_file(path);
    if (!*have)
        return 0;
    uint8_t *json = NULL;
    size_t len = 0;
    esp01_err err = {0};
    int rc = esp01_read_file(path, ESP01_MIP_MAX_JSON, &json, &len, &err);
    if (rc == ESP01_E_LIMIT)
        return cli_error("%s: larger than %u KiB: not a package list", path,
                         ESP01_MIP_MAX_JSON / 1024);
    if (rc < 0)
        return cli_lib_error(rc, &err);
    rc = esp01_mip_project_requests(json, len, req, n, &err);
    free(json);
    if (rc < 0)
        return cli_error("%s: %s", path, err.msg);
    return 0;
}

static int write_lock(struct mipcli *m, const char *path, const esp01_mip_result *r)
{
    char *text = NULL;
    size_t len = 0;
    esp01_err err = {0};
    int rc = esp01_mip_lock_write(r, &m->opt, &text, &len, &err);
    if (rc == 0)
        rc = esp01_write_file_atomic(path, (const uint8_t *)text, len, &err);
    free(text);
    if (rc < 0)
        return cli_error("%s: %s", path, err.msg);
    return 0;
}

/* The locked files, or 1 when the lock no longer answers the requests. */
static int from_lock(struct mipcli *m, const char *lock, char **req, size_t n,
                     esp01_mip_result *out)
{
    uint8_t *text = NULL;
    size_t len = 0;
    esp01_err err = {0};
    int rc = esp01_read_file(lock, ESP01_MIP_MAX_JSON, &text, &len, &err);
    if (rc < 0)
        return cli_error("%s: %s", lock, err.msg);
    m->opt.mpy = m->mpy;
    rc = esp01_mip_resolve_locked(text, len, &m->opt, out, &err);
    free(text);
    if (rc < 0)
        return cli_error("%s: %s", lock, err.msg);
    if (!lock_matches(out, req, n)) {
        esp01_mip_result_free(out);
        memset(out, 0, sizeof *out);
        printf("packages:   %s does not match package.json: resolving again\n", lock);
        return 1;
    }
    return 0;
}

int mipcli_project(struct mipcli *m, const char *project, char **extra, size_t n_extra,
                   bool update, esp01_mip_result *out, bool *found, bool *locked)
{
    char **req = NULL;
    size_t n = 0;
    bool have_json = false;
    *found = false;
    *locked = false;
    int rc = read_requests(project, &req, &n, &have_json);
    if (rc)
        return rc;
    size_t total = n + n_extra;
    char **all = calloc(total ? total : 1, sizeof *all);
    if (!all) {
        esp01_mip_requests_free(req, n);
        return cli_error("out of memory");
    }
    for (size_t i = 0; i < n; i++)
        all[i] = req[i];
    for (size_t i = 0; i < n_extra; i++)
        all[n + i] = extra[i];
    *found = have_json || n_extra;
    char lock[4200];
    snprintf(lock, sizeof lock, "%s/esp01.lock", project);
    rc = 1;
    if (have_json && !update && esp01_os_is_file(lock)) {
        rc = from_lock(m, lock, all, total, out);
        *locked = rc == 0;
    }
    if (rc == 1 && total)
        rc = mipcli_resolve(m, (const char *const *)all, total, out);
    else if (rc == 1)
        rc = 0;
    if (rc == 0 && have_json && !*locked && total)
        rc = write_lock(m, lock, out);
    free(all);
    esp01_mip_requests_free(req, n);
    return rc;
}

int mipcli_add_to_tree(const esp01_mip_result *r, esp01_tree *tree)
{
    esp01_err err = {0};
    for (size_t i = 0; i < r->file_count; i++) {
        const esp01_mip_file *f = &r->files[i];
        if (esp01_tree_find(tree, f->target))
            return cli_error("package %s: %s is already in the project (its own "
                             "file or a shipped module): remove one of them",
                             f->package, f->target);
        int rc = esp01_tree_add_file(tree, f->target, f->data, f->len, &err);
        if (rc < 0)
            return cli_error("package %s: %s: %s", f->package, f->target, err.msg);
    }
    return 0;
}

void mipcli_drop_project_files(esp01_tree *tree)
{
    size_t w = 0;
    for (size_t i = 0; i < tree->count; i++) {
        esp01_entry *e = &tree->entries[i];
        if (e->type == ESP01_ENTRY_FILE &&
            (strcmp(e->path, "package.json") == 0 || strcmp(e->path, "esp01.lock") == 0)) {
            free(e->path);
            free(e->data);
            continue;
        }
        tree->entries[w++] = *e;
    }
    tree->count = w;
}
